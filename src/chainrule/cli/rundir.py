"""A run folder's checkpoint, checked before ``chainrule train --resume DIR`` continues from it.

``fit`` trusts the checkpoint it is given: a file with a key deleted or a value of another type
stops it with a bare ``KeyError`` or ``TypeError`` deep in the training loop. The command line
checks the file first, against the format :mod:`chainrule.training.checkpoint` documents, and
loads the saved states into the freshly built model and optimizer (their own
``load_state_dict`` checks every shape), so that a damaged folder is one ``chainrule: error:``
line naming the file and what is wrong with it.
"""

from __future__ import annotations

from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli.errors import UsageError
from chainrule.io import ChainruleFormatError, load
from chainrule.training.checkpoint import CHECKPOINT_VERSION, checkpoint_path
from chainrule.training.history import History

#: The checkpoint's top-level keys and the type each must hold (``checkpoint.py``'s format 1).
CHECKPOINT_KEYS: dict[str, type] = {
    "model": dict,
    "optimizer": dict,
    "history": dict,
    "epoch": int,
    "batch": int,
    "rng": dict,
}


def check_checkpoint(folder: Path, model: Any, optimizer: Any) -> int | None:
    """Check ``folder``'s checkpoint and load its model and optimizer states; return the epochs
    it has completed, or None when the folder has no checkpoint (the run starts afresh)."""
    path = checkpoint_path(folder)
    if not path.exists():
        return None
    try:
        ckpt = load(path)
    except (ChainruleFormatError, OSError) as err:
        raise UsageError(f"--resume {folder}: cannot read the checkpoint: {err}") from None
    problem = checkpoint_problem(ckpt) or _states_problem(ckpt, model, optimizer)
    if problem:
        raise UsageError(f"--resume {folder}: damaged checkpoint {path}: {problem}")
    return ckpt["epoch"]


def checkpoint_problem(ckpt: Any) -> str | None:
    """What is wrong with the structure of a loaded checkpoint, or None."""
    if not isinstance(ckpt, dict) or ckpt.get("chainrule_checkpoint") != CHECKPOINT_VERSION:
        return f"not a version-{CHECKPOINT_VERSION} fit checkpoint"
    for key, kind in CHECKPOINT_KEYS.items():
        if key not in ckpt:
            return f"key {key!r} is missing"
        if isinstance(ckpt[key], bool) or not isinstance(ckpt[key], kind):
            return f"{key!r} holds {type(ckpt[key]).__name__}, not {kind.__name__}"
    if ckpt.get("scheduler") is not None:
        return "it holds an lr scheduler's state, which chainrule train never saves"
    if ckpt["epoch"] < 0 or ckpt["batch"] < 0:
        return f"negative epoch or batch count ({ckpt['epoch']}, {ckpt['batch']})"
    return _rng_problem(ckpt["rng"]) or _partial_problem(ckpt) or _history_problem(ckpt)


def _rng_problem(rng: dict[str, Any]) -> str | None:
    for moment in ("epoch_start", "current"):
        state = rng.get(moment)
        if not isinstance(state, dict) or not {"global", "loader"} <= set(state):
            return f"'rng' lacks the generator states {moment!r} (keys 'global' and 'loader')"
        if not isinstance(state["global"], dict):
            return f"'rng.{moment}.global' holds {type(state['global']).__name__}, not dict"
    return None


def _partial_problem(ckpt: dict[str, Any]) -> str | None:
    """A mid-epoch checkpoint (``batch`` > 0) carries that epoch's running totals."""
    if ckpt["batch"] == 0:
        return None
    part = ckpt.get("partial")
    if not isinstance(part, dict):
        return f"'batch' is {ckpt['batch']} but 'partial' (the epoch's running totals) is absent"
    kinds = {"totals": dict, "seen": int, "lr": Real, "last_finite": (list, type(None))}
    for key, kind in kinds.items():
        if key not in part or isinstance(part[key], bool) or not isinstance(part[key], kind):
            return f"'partial.{key}' is missing or of the wrong type"
    return None


def _history_problem(ckpt: dict[str, Any]) -> str | None:
    try:
        History.from_dict(ckpt["history"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return f"'history' is not a training history ({type(err).__name__}: {err})"
    return None


def _states_problem(ckpt: dict[str, Any], model: Any, optimizer: Any) -> str | None:
    """Load the saved states; their own checks name every mismatch (shapes, dtypes, groups)."""
    bad = [k for k, v in ckpt["model"].items() if _has_nonfinite(v)]
    if bad:
        return f"non-finite weights in {', '.join(bad)}"
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, TypeError, ValueError) as err:
        return "its weights do not fit the model in config.json: " + _one_line(err)
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
    except (ValueError, KeyError, TypeError, IndexError) as err:
        return "its optimizer state does not fit the optimizer in config.json: " + _one_line(err)
    return None


def _has_nonfinite(value: Any) -> bool:
    array = np.asarray(value)
    return array.dtype.kind in "fc" and not np.isfinite(array).all()


def _one_line(err: Exception) -> str:
    """A multi-line message (``load_state_dict`` lists one problem per line) on one line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = ""
    for line in lines:
        text += ("" if not text else " " if text.endswith(":") else "; ") + line
    return text
