"""``chainrule train``'s options for a language model (``--data`` a text corpus): filled from
the (corpus, model) pair's defaults in the registry or read back from a run folder's
``config.json``, then checked by one function, :func:`validate_text_options`.

A resumed run meets exactly the checks a fresh one does, as with the tabular options
(:mod:`chainrule.cli.options`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chainrule.cli import registry
from chainrule.cli.errors import UsageError
from chainrule.cli.options import DEFAULT_SEED, MAX_SEED, read_config

#: The options of a language-model run (the keys of its ``config.json``), in help order.
TEXT_KEYS = (
    "data",
    "model",
    "iters",
    "eval_interval",
    "eval_iters",
    "batch_size",
    "block_size",
    "lr",
    *registry.TEXT_MODEL_OPTIONS,
    "seed",
)
#: Options only a language model takes; given with a tabular dataset they are a usage error.
TEXT_ONLY = ("iters", "eval_interval", "eval_iters", "block_size", "n_layer", "n_head",
             "n_embd", "dropout")  # fmt: skip
#: Options only the tabular datasets take.
TABULAR_ONLY = ("activation", "loss", "optimizer", "epochs", "val_split", "data_dir",
                "monitor", "plots")  # fmt: skip
#: What ``--resume`` may change: how long the run goes on, not what it computes.
TEXT_RESUME_OVERRIDES = ("iters",)
_POSITIVE_INTS = ("iters", "eval_interval", "eval_iters", "batch_size", "block_size",
                  "n_layer", "n_head", "n_embd", "hidden")  # fmt: skip


def flag(key: str) -> str:
    """The command-line flag of option ``key``: ``eval_interval`` → ``--eval-interval``."""
    return "--" + key.replace("_", "-")


def is_text_data(name: Any) -> bool:
    """Whether ``--data name`` is a text corpus (trained as a language model)."""
    return name in registry.TEXT_DATASETS


def typed(args: argparse.Namespace, keys: tuple[str, ...]) -> dict[str, Any]:
    """The options among ``keys`` the user typed (absent ones are None or False)."""
    given = {k: getattr(args, k, None) for k in keys}
    return {k: v for k, v in given.items() if v is not None and v is not False}


def refuse_text_options(args: argparse.Namespace) -> None:
    """For a tabular run: a usage error naming a language-model option that was given, and a
    language model given as ``--model``."""
    given = typed(args, TEXT_ONLY)
    if given:
        raise UsageError(
            f"{', '.join(map(flag, given))}: only for the language models "
            f"({registry.text_pairs_phrase()}); --data {args.data} trains for --epochs"
        )
    text_models = {m for _, m in registry.TEXT_PAIRS} - set(registry.MODELS)
    if args.model in text_models:
        raise UsageError(
            f"--data {args.data} --model {args.model}: no such combination; {args.data} "
            f"trains with --model {' or '.join(registry.MODELS)}, and the language models are "
            f"{registry.text_pairs_phrase()}"
        )


def fresh_text_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a new language-model run: the given ones, the rest from the pair's
    defaults; validated. ``--model`` defaults to the corpus's first model in the registry."""
    others = typed(args, TABULAR_ONLY)
    if others:
        raise UsageError(
            f"{', '.join(map(flag, others))}: not an option of the language models (--data "
            f"{args.data} trains for --iters; see chainrule train --help)"
        )
    model = args.model or next(m for c, m in registry.TEXT_PAIRS if c == args.data)
    pair = (args.data, model)
    if pair not in registry.TEXT_MODELS_INFO:
        raise UsageError(_unknown_pair(args.data, model))
    defaults = asdict(registry.TEXT_MODELS_INFO[pair].defaults)
    raw = {k: defaults[k] for k in TEXT_KEYS if k in defaults}
    raw.update(data=args.data, model=model, seed=DEFAULT_SEED)
    for key, value in typed(args, TEXT_KEYS).items():
        if key in registry.TEXT_MODEL_OPTIONS and raw[key] is None:
            raise UsageError(
                f"{flag(key)}: --model {model} does not take it (its model options: "
                f"{', '.join(_model_flags(raw))})"
            )
        raw[key] = _hidden_width(value) if key == "hidden" else value
    return validate_text_options(raw)


def resumed_text_options(args: argparse.Namespace, raw: dict[str, Any]) -> dict[str, Any]:
    """The options of the language-model run saved in ``args.resume`` (its ``config.json``
    read as ``raw``), with ``--iters`` if given; validated as a fresh run's."""
    folder: Path = args.resume
    fixed = [flag(k) for k in typed(args, (*TEXT_KEYS, *TABULAR_ONLY, "hidden", "out"))
             if k not in TEXT_RESUME_OVERRIDES]  # fmt: skip
    if fixed:
        raise UsageError(
            f"--resume continues the run in {folder} with its own options; {', '.join(fixed)} "
            "cannot be given with it (only --iters)"
        )
    try:
        return validate_text_options({**raw, **typed(args, TEXT_RESUME_OVERRIDES)})
    except UsageError as err:
        raise UsageError(f"--resume {folder}: {folder / 'config.json'}: {err}") from None


def read_text_config(folder: Path) -> dict[str, Any] | None:
    """``folder/config.json``'s options if they are a language-model run's, else None."""
    raw = read_config(folder)
    return raw if is_text_data(raw.get("data")) else None


def _unknown_pair(data: str, model: str) -> str:
    return (
        f"--data {data} --model {model}: no such language model; choose one of: "
        f"{registry.text_pairs_phrase()}"
    )


def _model_flags(opts: Mapping[str, Any]) -> list[str]:
    return [flag(k) for k in registry.TEXT_MODEL_OPTIONS if opts.get(k) is not None]


def _hidden_width(value: Any) -> Any:
    """``--hidden`` is typed as text; a language model takes one width."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"--hidden must be one integer width for a language model; got {value!r}"
        ) from None


# ----- validation ----------------------------------------------------------------------------
def validate_text_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check every option of a language-model run, fresh or resumed, and return them.

    Raises :class:`UsageError` naming the first problem: a missing or unknown key, a
    (corpus, model) pair not in the registry, a model option the pair does not take, or a
    value of the wrong type or out of range.
    """
    unknown = sorted(set(raw) - set(TEXT_KEYS))
    missing = [k for k in TEXT_KEYS if k not in raw]
    if unknown or missing:
        what = f"unknown option(s) {', '.join(map(repr, unknown))}" if unknown else ""
        what += ("; " if unknown and missing else "") + (
            f"option(s) {', '.join(map(repr, missing))} missing" if missing else ""
        )
        raise UsageError(what)
    opts = dict(raw)
    pair = (opts["data"], opts["model"])
    if pair not in registry.TEXT_MODELS_INFO:
        raise UsageError(_unknown_pair(*map(str, pair)))
    _check_model_options(opts, registry.TEXT_MODELS_INFO[pair].defaults)
    _check_numbers(opts)
    return opts


def _check_model_options(opts: dict[str, Any], defaults: registry.TextDefaults) -> None:
    for key in registry.TEXT_MODEL_OPTIONS:
        takes = getattr(defaults, key) is not None
        if takes != (opts[key] is not None):
            need = "needs" if takes else "does not take"
            raise UsageError(f"--model {opts['model']} {need} {flag(key)}; got {opts[key]!r}")


def _check_numbers(opts: dict[str, Any]) -> None:
    for key in _POSITIVE_INTS:
        value = opts[key]
        if value is not None and (not _is_int(value) or value <= 0):
            raise UsageError(f"{flag(key)} must be a positive integer; got {value!r}")
    lr = opts["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise UsageError(f"--lr must be a positive number; got {lr!r}")
    dropout = opts["dropout"]
    if dropout is not None and (
        isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1
    ):
        raise UsageError(f"--dropout must be in [0, 1); got {dropout!r}")
    if not _is_int(opts["seed"]) or not 0 <= opts["seed"] <= MAX_SEED:
        raise UsageError(f"--seed must be an integer from 0 to 2**63 - 1; got {opts['seed']!r}")
    if opts["n_head"] is not None and opts["n_embd"] % opts["n_head"]:
        raise UsageError(
            f"--n-embd {opts['n_embd']} must be a multiple of --n-head {opts['n_head']} (each "
            "head attends over n_embd / n_head dimensions)"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
