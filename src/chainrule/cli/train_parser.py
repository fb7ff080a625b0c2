"""The ``chainrule train`` parser: its options, and help that states every real default once.

Options whose default depends on ``--data`` default to None here (so that "not given" can be
told from "given") and their help points at one table of per-dataset defaults, built from the
registry, at the end of ``chainrule train --help``. Values are checked in
:mod:`chainrule.cli.options`, not here, so that a resumed run's ``config.json`` meets the same
checks.
"""

from __future__ import annotations

import argparse
import inspect
import textwrap
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from chainrule.cli import registry
from chainrule.cli.options import DEFAULT_SEED
from chainrule.cli.train_text import run_any_train
from chainrule.data import default_cache_dir

#: What ``add_argument_group`` returns (argparse keeps its class private).
Group = Any

PER_DATASET = "(default: per dataset, table below)"
PER_TEXT_MODEL = "(default: per language model, table below)"


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``chainrule train`` on an ``add_subparsers()`` object; returns its parser."""
    p = subparsers.add_parser(
        "train",
        help="train a multi-layer perceptron (or a CNN) on a built-in dataset",
        description=textwrap.fill(
            "Train an MLP (or a CNN) on a built-in dataset and save its weights, history and "
            "options. Options left out take per-dataset defaults (the table below; "
            "--data NAME --show-defaults prints the resolved options as JSON).",
            width=79,
        ),
        epilog=text_defaults_table() + "\n\n" + defaults_table(),
        # The table must keep its columns; the description is wrapped above instead.
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(p.add_argument_group("data"))
    _add_model_options(p.add_argument_group("model"))
    _add_training_options(p.add_argument_group("training"))
    _add_text_options(p.add_argument_group("language models (--data " + _corpora() + ")"))
    _add_output_options(p.add_argument_group("output and resuming"))
    p.set_defaults(run=run_any_train)
    return p


def _add_data_options(p: Group) -> None:
    p.add_argument(
        "--data",
        metavar="NAME",
        help=f"dataset: {', '.join(registry.DATASETS)}; or a text corpus for a language "
        f"model: {_corpora()} (required unless --resume)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder with the MNIST IDX files or the 5k CSV subset (mnist only; default: "
        + _escape(f"{default_cache_dir()}, where chainrule.data.download_mnist() puts them)"),
    )
    p.add_argument(
        "--val-split",
        type=float,
        metavar="F",
        help=f"fraction of the training data held out for validation {PER_DATASET}",
    )


def _add_model_options(p: Group) -> None:
    p.add_argument(
        "--model",
        metavar="NAME",
        help=f"{' or '.join(registry.MODELS)}; cnn is two conv/ReLU/max-pool stages for the "
        f"image datasets ({', '.join(registry.IMAGE_DATASETS)}) and ignores --hidden "
        f"(default: {registry.DEFAULT_MODEL}); the language models: "
        f"{registry.text_pairs_phrase()}",
    )
    p.add_argument(
        "--hidden",
        metavar="W,W",
        help="hidden layer widths, e.g. 64,32 (a language model: one width) " + PER_DATASET,
    )
    p.add_argument(
        "--activation",
        metavar="NAME",
        help=f"hidden activation: {', '.join(registry.ACTIVATIONS)} {PER_DATASET}",
    )


def _add_training_options(p: Group) -> None:
    for flag, names in (("--loss", registry.LOSSES), ("--optimizer", registry.OPTIMIZERS)):
        p.add_argument(flag, metavar="NAME", help=f"{', '.join(names)} {PER_DATASET}")
    p.add_argument("--lr", type=float, help=f"learning rate {PER_DATASET}")
    p.add_argument(
        "--epochs", type=int, metavar="N", help=f"passes over the training data {PER_DATASET}"
    )
    p.add_argument("--batch-size", type=int, metavar="N", help=f"samples per step {PER_DATASET}")
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help=f"seed for data, init and shuffling (default: {DEFAULT_SEED})",
    )
    p.add_argument(
        "--monitor",
        action="store_true",
        help="record gradient health per layer (norms, update ratios, dead and saturated "
        "units) and print a report in words",
    )


def _add_output_options(p: Group) -> None:
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for weights.npz, history.json, config.json and the checkpoint "
        "(a language model: runs/DATA-MODEL) (default: runs/DATA)",
    )
    p.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue the run saved in DIR from its last checkpoint, with its options; "
        "--epochs (--iters for a language model) may raise the total",
    )
    p.add_argument(
        "--plots",
        type=Path,
        metavar="DIR",
        help="write training curves and other pictures as PNGs to DIR (needs "
        f'{registry.MATPLOTLIB.package}: pip install "chainrule[{registry.MATPLOTLIB.extra}]")',
    )
    p.add_argument("--quiet", action="store_true", help="no progress output, only the result")
    p.add_argument(
        "--show-defaults", action="store_true", help="print the resolved options as JSON and exit"
    )


def _corpora() -> str:
    return " or ".join(registry.TEXT_DATASETS)


def _add_text_options(p: Group) -> None:
    for key, metavar, what in (
        ("iters", "N", "optimizer steps, each on a random batch"),
        ("eval_interval", "N", "iterations between loss estimates, progress lines and checkpoints"),
        ("eval_iters", "N", "batches of each split per loss estimate"),
        ("block_size", "T", "characters of context per sample"),
        ("n_layer", "N", "transformer blocks or LSTM layers"),
        ("n_head", "N", "attention heads"),
        ("n_embd", "N", "embedding width"),
    ):
        p.add_argument("--" + key.replace("_", "-"), type=int, metavar=metavar,
                       help=f"{what} {PER_TEXT_MODEL}")  # fmt: skip
    p.add_argument("--dropout", type=float, metavar="P", help=f"dropout rate {PER_TEXT_MODEL}")


def text_defaults_table() -> str:
    """The defaults of each (corpus, model) pair as a text table, from the registry ("-": an
    option the model does not take)."""
    columns = ["iters", "eval_interval", "eval_iters", "batch_size", "block_size", "lr",
               *registry.TEXT_MODEL_OPTIONS]  # fmt: skip
    rows = [["data", "model", *(c.replace("_", "-") for c in columns)]]
    recipes = []
    for (corpus, model), info in registry.TEXT_MODELS_INFO.items():
        values = asdict(info.defaults)
        rows.append([corpus, model, *("-" if values[c] is None else _cell(values[c])
                                      for c in columns)])  # fmt: skip
        recipes.append(f"  {corpus} {model}: {_recipe(info.defaults)}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    lines += recipes
    return "language-model defaults (--data CORPUS --model NAME):\n" + "\n".join(lines)


def _recipe(d: registry.TextDefaults) -> str:
    """The fixed part of a pair's training, in words."""
    text = d.optimizer
    if "betas" in inspect.signature(registry.OPTIMIZER_CLASSES[d.optimizer]).parameters:
        text += f" betas {d.betas[0]:g}, {d.betas[1]:g}" + (
            f", weight decay {d.weight_decay:g}" if d.weight_decay else ""
        )
    if d.schedule == "cosine":
        text += f"; lr cosine to lr*{d.lr_final:g} after {d.warmup} warmup iterations"
    elif d.schedule == "step":
        text += f"; lr*{d.lr_final:g} from half way"
    return text + (f"; gradient norm clipped to {d.clip:g}" if d.clip else "")


def defaults_table() -> str:
    """The per-dataset defaults as a text table, one row per dataset, from the registry."""
    columns = [f.name for f in fields(registry.Defaults)]
    rows = [["data", *(c.replace("_", "-") for c in columns)]]
    for name, defaults in registry.DEFAULTS.items():
        values = asdict(defaults)
        rows.append([name, *(_cell(values[c]) for c in columns)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    return "per-dataset defaults:\n" + "\n".join(lines)


def _cell(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _escape(text: str) -> str:
    """argparse %-formats help strings; a path with a % in it must not break ``--help``."""
    return text.replace("%", "%%")
