"""The ``chainrule`` command: ``chainrule train --data digits`` trains an MLP and saves it.

Exit status: 0 on success, 2 on a usage error (one line, no traceback), 1 when training or
loading data fails (its message, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chainrule.cli.explain import add_explain_parser
from chainrule.cli.registry import (
    ACTIVATIONS,
    CLASSES,
    DATASETS,
    DEFAULTS,
    IMAGE_DATASETS,
    LOSSES,
    MODELS,
    OPTIMIZERS,
)


class UsageError(Exception):
    """A command-line mistake: reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of argparse's usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The full ``chainrule`` argument parser (``chainrule --help``)."""
    parser = _Parser(
        prog="chainrule",
        description="Train and inspect neural networks built on chainrule's autodiff engine.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    train = commands.add_parser(
        "train",
        help="train a multi-layer perceptron (or a CNN) on a built-in dataset",
        description=(
            "Train an MLP on a built-in dataset and save its weights and history. Options left "
            "out take per-dataset defaults (shown by --data NAME --show-defaults)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument(
        "--data",
        choices=DATASETS,
        metavar="NAME",
        help=f"dataset: {', '.join(DATASETS)}",
    )
    train.add_argument(
        "--data-dir", type=Path, default=None, help="folder with the MNIST IDX files (mnist only)"
    )
    train.add_argument(
        "--model",
        default="mlp",
        metavar="NAME",
        help="mlp, or cnn (two conv/ReLU/max-pool stages; image datasets "
        f"{', '.join(IMAGE_DATASETS)} only; ignores --hidden)",
    )
    train.add_argument(
        "--hidden", default=None, help="hidden layer widths, comma-separated, e.g. 64,32"
    )
    train.add_argument(
        "--activation",
        default=None,
        metavar="NAME",
        help=f"hidden activation: {', '.join(ACTIVATIONS)}",
    )
    train.add_argument("--loss", default=None, metavar="NAME", help=f"loss: {', '.join(LOSSES)}")
    train.add_argument(
        "--optimizer", default=None, metavar="NAME", help=f"optimizer: {', '.join(OPTIMIZERS)}"
    )
    train.add_argument("--lr", type=float, default=None, help="learning rate")
    train.add_argument("--epochs", type=int, default=None, help="passes over the training data")
    train.add_argument("--batch-size", type=int, default=None, help="samples per step")
    train.add_argument(
        "--val-split",
        type=float,
        default=None,
        help="fraction of the training data held out for validation",
    )
    train.add_argument("--seed", type=int, default=0, help="seed for data, init and shuffling")
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder for weights.npz and history.json (default runs/DATA)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar, only the result")
    train.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="DIR",
        help="continue the run saved in DIR (its options and last checkpoint); --epochs may "
        "raise the total",
    )
    train.add_argument(
        "--monitor",
        action="store_true",
        help="record gradient health per layer (norms, update ratios, dead and saturated "
        "units) and print a report in words",
    )
    train.add_argument(
        "--plots",
        type=Path,
        default=None,
        metavar="DIR",
        help="write training curves and other pictures as PNGs to DIR (needs chainrule[plot])",
    )
    train.add_argument(
        "--show-defaults", action="store_true", help="print the dataset's defaults and exit"
    )
    add_explain_parser(commands)
    return parser


def resume_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of the run saved in ``args.resume``, to continue it from its checkpoint."""
    config = args.resume / "config.json"
    try:
        opts = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(
            f"--resume {args.resume}: no readable chainrule run there ({err})"
        ) from None
    opts.pop("results", None)
    if args.epochs is not None:
        opts["epochs"] = args.epochs
    opts["resume"] = True
    return opts


def resolve_options(args: argparse.Namespace) -> dict[str, Any]:
    """Fill options the user left out from the dataset's defaults, and validate all of them."""
    if args.data is None:
        raise UsageError("the following arguments are required: --data (or --resume DIR)")
    d = DEFAULTS[args.data]
    opts = {
        "data": args.data,
        "model": args.model,
        "hidden": args.hidden if args.hidden is not None else d.hidden,
        "activation": args.activation or d.activation,
        "loss": args.loss or d.loss,
        "optimizer": args.optimizer or d.optimizer,
        "lr": args.lr if args.lr is not None else d.lr,
        "epochs": args.epochs if args.epochs is not None else d.epochs,
        "batch_size": args.batch_size if args.batch_size is not None else d.batch_size,
        "val_split": args.val_split if args.val_split is not None else d.val_split,
        "seed": args.seed,
        "monitor": args.monitor,
        "plots": str(args.plots) if args.plots is not None else None,
    }
    for key, valid in (("activation", ACTIVATIONS), ("loss", LOSSES), ("optimizer", OPTIMIZERS)):
        if opts[key] not in valid:
            raise UsageError(f"unknown {key} {opts[key]!r}; choose one of: {', '.join(valid)}")
    if opts["model"] not in MODELS:
        raise UsageError(f"unknown model {opts['model']!r}; choose one of: {', '.join(MODELS)}")
    if opts["model"] == "cnn" and opts["data"] not in IMAGE_DATASETS:
        raise UsageError(
            f"--model cnn needs an image dataset ({', '.join(IMAGE_DATASETS)}); "
            f"{opts['data']} is not one (use --model mlp)"
        )
    classes = CLASSES[opts["data"]]
    if classes == 0 and opts["loss"] in ("cross_entropy", "bce"):
        raise UsageError(
            f"--loss {opts['loss']} needs a classification dataset; "
            f"{opts['data']} is a regression (use mse, l1 or huber)"
        )
    if opts["loss"] == "bce" and classes != 2:
        raise UsageError(
            f"--loss bce needs two classes; {opts['data']} has {classes} (use cross_entropy)"
        )
    try:
        opts["hidden"] = [int(w) for w in str(opts["hidden"]).split(",") if w.strip()]
    except ValueError:
        raise UsageError(
            f"--hidden must be comma-separated integers; got {args.hidden!r}"
        ) from None
    if any(w <= 0 for w in opts["hidden"]):
        raise UsageError(f"--hidden widths must be positive; got {args.hidden!r}")
    if opts["lr"] <= 0:
        raise UsageError(f"--lr must be positive; got {opts['lr']}")
    if opts["epochs"] <= 0:
        raise UsageError(f"--epochs must be positive; got {opts['epochs']}")
    if opts["batch_size"] <= 0:
        raise UsageError(f"--batch-size must be positive; got {opts['batch_size']}")
    if not 0.0 <= opts["val_split"] < 1.0:
        raise UsageError(f"--val-split must be in [0, 1); got {opts['val_split']}")
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command == "explain":  # its own options and errors: see chainrule.cli.explain
            return args.run(args)
        opts = resume_options(args) if args.resume is not None else resolve_options(args)
    except UsageError as err:
        print(f"chainrule: error: {err}", file=sys.stderr)
        return 2
    if args.show_defaults:
        print(json.dumps(opts, indent=2))
        return 0
    from chainrule.cli.train import train_command

    out = args.resume or args.out or Path("runs") / opts["data"]
    try:
        start = time.perf_counter()
        train_command(opts, data_dir=args.data_dir, out=out, verbose=0 if args.quiet else 1)
        if not args.quiet:
            print(f"done in {time.perf_counter() - start:.1f}s; saved to {out}/")
    except UsageError as err:
        print(f"chainrule: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, RuntimeError, OSError, ImportError) as err:
        print(f"chainrule: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def entry() -> None:
    """The console script ``chainrule``."""
    sys.exit(main())
