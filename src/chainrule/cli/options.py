"""``chainrule train``'s options: filled from the dataset's defaults or read back from a run
folder's ``config.json``, then checked by one function, :func:`validate_options`.

A resumed run goes through exactly the checks a fresh one does, so a hand-edited or damaged
``config.json`` gets the same one-line message as the same mistake typed on the command line.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chainrule.cli import registry
from chainrule.cli.errors import UsageError

#: Keys of a resolved option set (and of ``config.json``), as the flag that sets each.
TRAINING_KEYS = {
    "data": "--data",
    "hidden": "--hidden",
    "activation": "--activation",
    "loss": "--loss",
    "optimizer": "--optimizer",
    "lr": "--lr",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "val_split": "--val-split",
    "seed": "--seed",
}
#: Keys that runs saved before they existed may lack, with the value those runs used.
OPTIONAL_KEYS: dict[str, Any] = {"model": registry.DEFAULT_MODEL, "monitor": False, "plots": None}
#: What ``chainrule train`` adds to ``config.json`` besides the options; ignored when read back.
RECORD_KEYS = ("results", "resume")
#: Options that may be given with ``--resume``: they change how long the run goes on or what it
#: reports, not what it computes. Every other training option comes from the run folder.
RESUME_OVERRIDES = ("epochs", "monitor", "plots")
#: ``--seed`` when not given, and the largest accepted (it stays an int64 wherever it is kept).
DEFAULT_SEED, MAX_SEED = 0, 2**63 - 1


def fresh_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a new run: the given ones, the rest from ``--data``'s defaults;
    validated."""
    if args.data is None:
        raise UsageError("the following arguments are required: --data (or --resume DIR)")
    if args.data not in registry.DATASETS:
        raise UsageError(_unknown("dataset", args.data, registry.DATASETS))
    raw = {**asdict(registry.DEFAULTS[args.data]), **OPTIONAL_KEYS, "seed": DEFAULT_SEED}
    raw.update(given_options(args))
    return validate_options(raw)


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options the user typed (parser defaults are None or False, so absent ones are left
    out and take the dataset's or the run folder's value)."""
    names = (*TRAINING_KEYS, *OPTIONAL_KEYS)
    # Identity, not equality: 0 and 0.0 compare equal to False but are values the user typed.
    given = {k: getattr(args, k, None) for k in names}
    given = {k: v for k, v in given.items() if v is not None and v is not False}
    if "plots" in given:
        given["plots"] = str(given["plots"])
    return given


def resumed_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of the run saved in ``args.resume``, to continue it from its checkpoint,
    validated as :func:`fresh_options` validates a new run's."""
    folder: Path = args.resume
    typed = given_options(args)
    fixed = [TRAINING_KEYS.get(k, f"--{k}") for k in typed if k not in RESUME_OVERRIDES]
    if args.out is not None:
        fixed.append("--out")
    if fixed:
        raise UsageError(
            f"--resume continues the run in {folder} with its own options; "
            f"{', '.join(fixed)} cannot be given with it (only "
            + ", ".join("--" + k for k in RESUME_OVERRIDES)
            + ")"
        )
    raw = read_config(folder)
    try:
        opts = validate_options({**raw, **typed})
    except UsageError as err:
        raise UsageError(f"--resume {folder}: {folder / 'config.json'}: {err}") from None
    opts["resume"] = True
    return opts


def read_config(folder: Path) -> dict[str, Any]:
    """``folder/config.json`` as a dict of options, without what ``train`` recorded beside
    them."""
    config = folder / "config.json"
    try:
        raw = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"--resume {folder}: no readable chainrule run there ({err})") from None
    if not isinstance(raw, dict):
        raise UsageError(
            f"--resume {folder}: {config} holds a JSON {type(raw).__name__}, not the options "
            "object chainrule train writes"
        )
    for key in RECORD_KEYS:
        raw.pop(key, None)
    return raw


# ----- validation ----------------------------------------------------------------------------
def validate_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check every option, fresh or resumed, and return them with ``hidden`` as a list of ints.

    Raises :class:`UsageError` naming the first problem: a missing or unknown key, a value of
    the wrong type, a name not in the registry, a number out of range, or options that do not
    go together (a CNN on a non-image dataset, a classification loss on a regression).
    """
    opts = _complete(raw)
    _check_names(opts)
    _check_numbers(opts)
    opts["hidden"] = parse_hidden(opts["hidden"])
    _check_combination(opts)
    return opts


def _complete(raw: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(TRAINING_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise UsageError(f"unknown option(s) {', '.join(map(repr, unknown))}")
    missing = [k for k in TRAINING_KEYS if k not in raw]
    if missing:
        raise UsageError(f"option(s) {', '.join(map(repr, missing))} missing")
    return {**OPTIONAL_KEYS, **raw}


def _check_names(opts: dict[str, Any]) -> None:
    for key, valid in (
        ("data", registry.DATASETS),
        ("model", registry.MODELS),
        ("activation", registry.ACTIVATIONS),
        ("loss", registry.LOSSES),
        ("optimizer", registry.OPTIMIZERS),
    ):
        if not isinstance(opts[key], str) or opts[key] not in valid:
            raise UsageError(_unknown("dataset" if key == "data" else key, opts[key], valid))
    if not isinstance(opts["monitor"], bool):
        raise UsageError(f"monitor must be true or false; got {opts['monitor']!r}")
    if opts["plots"] is not None and not isinstance(opts["plots"], str):
        raise UsageError(f"--plots must be a folder name; got {opts['plots']!r}")


def _unknown(kind: str, value: Any, valid: tuple[str, ...]) -> str:
    return f"unknown {kind} {value!r}; choose one of: {', '.join(valid)}"


def _check_numbers(opts: dict[str, Any]) -> None:
    lr, split = _number(opts, "lr", float), _number(opts, "val_split", float)
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive number; got {lr}")
    if not 0.0 <= split < 1.0:
        raise UsageError(f"--val-split must be in [0, 1); got {split}")
    for key in ("epochs", "batch_size"):
        if _number(opts, key, int) <= 0:
            raise UsageError(f"{TRAINING_KEYS[key]} must be positive; got {opts[key]}")
    if not 0 <= _number(opts, "seed", int) <= MAX_SEED:
        raise UsageError(f"--seed must be an integer from 0 to 2**63 - 1; got {opts['seed']}")


def _number(opts: dict[str, Any], key: str, kind: type) -> Any:
    """``opts[key]`` if it is a number of ``kind`` (an int also passes as a float; a bool,
    which JSON and Python let pass as an int, does not)."""
    value = opts[key]
    kinds = (int, float) if kind is float else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "a number" if kind is float else "an integer"
        raise UsageError(f"{TRAINING_KEYS[key]} must be {what}; got {value!r}")
    return value


def parse_hidden(hidden: Any) -> list[int]:
    """Hidden widths from ``"64,32"`` (as typed) or ``[64, 32]`` (as ``config.json`` keeps
    them)."""
    given = hidden
    if isinstance(hidden, str):
        try:
            hidden = [int(w) for w in hidden.split(",") if w.strip()]
        except ValueError:
            raise UsageError(f"--hidden must be comma-separated integers; got {hidden!r}") from None
    if not isinstance(hidden, list) or any(
        isinstance(w, bool) or not isinstance(w, int) for w in hidden
    ):
        raise UsageError(f"--hidden must be comma-separated integers; got {hidden!r}")
    if any(w <= 0 for w in hidden):
        raise UsageError(f"--hidden widths must be positive; got {given!r}")
    return hidden


def _check_combination(opts: dict[str, Any]) -> None:
    if opts["model"] == registry.IMAGE_MODEL and opts["data"] not in registry.IMAGE_DATASETS:
        raise UsageError(
            f"--model {opts['model']} needs an image dataset "
            f"({', '.join(registry.IMAGE_DATASETS)}); {opts['data']} is not one "
            f"(use --model {registry.DEFAULT_MODEL})"
        )
    problem = registry.loss_mismatch(opts["loss"], opts["data"])
    if problem:
        raise UsageError(problem)
