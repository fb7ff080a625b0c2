"""``chainrule sample RUN_DIR``: write text (or names) with a language model that ``chainrule
train --data CORPUS`` saved.

The run is rebuilt from its folder alone (``model.json``, ``tokenizer.json``, and the final
``weights.npz`` or, for a run not finished yet, the last checkpoint's weights); nothing is
unpickled and the corpus is not read. The same ``--seed`` always gives the same text.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from chainrule import Generator, int64, tensor
from chainrule.cli import registry
from chainrule.cli.errors import EXIT_OK, UsageError
from chainrule.cli.text_rundir import (
    CHECKPOINT_FILE,
    WEIGHTS_FILE,
    build_model,
    load_weights,
    read_checkpoint,
    read_model_file,
    read_tokenizer,
)
from chainrule.data import CharTokenizer
from chainrule.io import ChainruleFormatError, load


def add_sample_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``chainrule sample`` on an ``add_subparsers()`` object; returns its parser."""
    p = subparsers.add_parser(
        "sample",
        help="write text (or names) with a language model chainrule train saved",
        description="Generate text with the language model saved in RUN_DIR by chainrule train "
        f"--data {' or '.join(registry.TEXT_DATASETS)}, and print it.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run folder")
    p.add_argument("--tokens", type=int, default=500, metavar="N",
                   help="characters to generate (default: 500)")  # fmt: skip
    p.add_argument("--num", type=int, default=20, metavar="N",
                   help="names to generate, for a names model (default: 20)")  # fmt: skip
    p.add_argument("--temperature", type=float, default=0.8, metavar="T",
                   help="below 1 safer text, above 1 wilder (default: 0.8)")  # fmt: skip
    p.add_argument("--top-k", type=int, metavar="K",
                   help="sample among the K likeliest characters only (default: all)")  # fmt: skip
    p.add_argument("--prompt", metavar="TEXT",
                   help="text to continue (default: a newline)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, metavar="N", help="(default: 0)")
    p.set_defaults(run=run_sample)
    return p


def run_sample(args: argparse.Namespace) -> int:
    """``chainrule sample`` with parsed arguments; prints the text, returns the exit status."""
    _check_numbers(args)
    folder, where = args.run_dir, f"sample {args.run_dir}"
    if not folder.is_dir():
        raise UsageError(f"{where}: no such run folder (give a folder chainrule train wrote)")
    class_name, kwargs = read_model_file(folder, where)
    tokenizer = read_tokenizer(folder, where)
    model = build_model(class_name, kwargs, where)
    path, weights = _weights(folder, where)
    load_weights(model, weights, path, where)
    words = any(i.samples_words for i in registry.TEXT_MODELS_INFO.values()
                if i.model_class == class_name)  # fmt: skip
    generator = Generator().manual_seed(args.seed)
    if words:
        if args.prompt is not None or args.top_k is not None:
            raise UsageError(f"{where}: a names model takes --num, not --prompt or --top-k")
        print(
            "\n".join(
                model.generate(
                    tokenizer, args.num, generator=generator, temperature=args.temperature
                )
            )
        )
        return EXIT_OK
    ids = tensor([_encode(tokenizer, args.prompt, where)], dtype=int64)
    out = model.generate(
        ids, args.tokens, temperature=args.temperature, top_k=args.top_k, generator=generator
    )
    print(tokenizer.decode(out[0]))
    return EXIT_OK


def _check_numbers(args: argparse.Namespace) -> None:
    for flag, value in (("--tokens", args.tokens), ("--num", args.num)):
        if value < 0:
            raise UsageError(f"{flag} must be 0 or more; got {value}")
    if not args.temperature > 0:
        raise UsageError(f"--temperature must be positive; got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise UsageError(f"--top-k must be positive; got {args.top_k}")
    if not 0 <= args.seed < 2**63:
        raise UsageError(f"--seed must be an integer from 0 to 2**63 - 1; got {args.seed}")


def _weights(folder: Path, where: str) -> tuple[Path, Any]:
    """The finished run's weights, or the last checkpoint's."""
    path = folder / WEIGHTS_FILE
    if path.exists():
        try:
            return path, load(path)
        except (ChainruleFormatError, OSError) as err:
            raise UsageError(f"{where}: cannot read the weights: {err}") from None
    ckpt = read_checkpoint(folder, where)
    if ckpt is None:
        raise UsageError(f"{where}: no {WEIGHTS_FILE} or {CHECKPOINT_FILE}: nothing trained yet")
    return folder / CHECKPOINT_FILE, ckpt["model"]


def _encode(tokenizer: CharTokenizer, prompt: str | None, where: str) -> list[int]:
    text = "\n" if prompt is None else prompt
    if not text:
        raise UsageError("--prompt must have at least one character")
    try:
        return tokenizer.encode(text)
    except ValueError as err:
        raise UsageError(
            f"{where}: --prompt {text!r} has characters outside the run's vocabulary: {err}"
        ) from None
