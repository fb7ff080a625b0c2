"""A language-model run folder: what ``chainrule train --data CORPUS`` writes and what
``chainrule train --resume DIR`` and ``chainrule sample DIR`` read back, every file checked.

- ``config.json``: the training options (and, once finished, the final ``results``);
- ``model.json``: the model's class in :mod:`chainrule.models` and its constructor arguments;
- ``tokenizer.json``: the vocabulary (:meth:`chainrule.data.CharTokenizer.save`);
- ``checkpoint.npz``: weights, optimizer state, iterations done, both generators' states, the
  estimates so far and the seconds spent; written after each estimate and on Ctrl-C;
- ``weights.npz`` and ``history.json``: the final weights and estimates, once finished.

Every file is written atomically and read without pickle, so a folder is always a consistent
run; a damaged or foreign file is one ``chainrule: error:`` line naming it and what is wrong.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from chainrule.cli import registry
from chainrule.cli.errors import UsageError
from chainrule.cli.text_loop import HISTORY_KEYS, LoopState, TextRun, rng_state, set_rng_state
from chainrule.data import CharTokenizer, TokenizerFormatError
from chainrule.io import ChainruleFormatError, atomic, load, save

MODEL_FILE, TOKENIZER_FILE = "model.json", "tokenizer.json"
CHECKPOINT_FILE, WEIGHTS_FILE = "checkpoint.npz", "weights.npz"
#: The checkpoint's marker and format version, and its keys with the type each holds.
TEXT_CHECKPOINT, TEXT_CHECKPOINT_VERSION = "chainrule_text_checkpoint", 1
CHECKPOINT_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": dict,
    "optimizer": dict,
    "iteration": int,
    "rng": dict,
    "history": dict,
    "seconds": (int, float),
}


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented JSON, written atomically."""
    atomic.write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())


def write_run_files(out: Path, run: TextRun) -> None:
    """The options, the model's description and the vocabulary: written before training, so
    that a checkpoint always has them beside it."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", run.opts)
    write_json(out / MODEL_FILE, {"class": run.info.model_class, "kwargs": run.model_kwargs})
    run.data.tokenizer.save(out / TOKENIZER_FILE)


def read_model_file(folder: Path, where: str) -> tuple[str, dict[str, Any]]:
    """``model.json``'s class name (one of the registry's language models) and arguments."""
    path = folder / MODEL_FILE
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"{where}: no readable model description {path} ({err})") from None
    classes = sorted({info.model_class for info in registry.TEXT_MODELS_INFO.values()})
    if not isinstance(spec, dict) or set(spec) != {"class", "kwargs"}:
        raise UsageError(f"{where}: {path} is not a model description (keys class, kwargs)")
    if spec["class"] not in classes or not isinstance(spec["kwargs"], dict):
        raise UsageError(
            f"{where}: {path} names model {spec['class']!r}; expected one of {', '.join(classes)}"
            " with a kwargs object"
        )
    return spec["class"], spec["kwargs"]


def build_model(class_name: str, kwargs: dict[str, Any], where: str) -> Any:
    """``chainrule.models.<class_name>(**kwargs)``; bad arguments are a usage error."""
    models = importlib.import_module("chainrule.models")  # the models load only when used
    try:
        return getattr(models, class_name)(**kwargs)
    except (TypeError, ValueError) as err:
        raise UsageError(f"{where}: cannot build {class_name}({kwargs}): {err}") from None


def read_tokenizer(folder: Path, where: str) -> CharTokenizer:
    """The run's vocabulary from ``tokenizer.json``."""
    path = folder / TOKENIZER_FILE
    try:
        return CharTokenizer.load(path)
    except (OSError, TokenizerFormatError) as err:
        raise UsageError(f"{where}: cannot read the vocabulary {path}: {err}") from None


# ----- the checkpoint ------------------------------------------------------------------------
def save_checkpoint(out: Path, run: TextRun, state: LoopState) -> None:
    """Write ``checkpoint.npz`` for the run as it is now (atomic: the previous one stays whole
    until the new one is complete)."""
    save(
        {
            TEXT_CHECKPOINT: TEXT_CHECKPOINT_VERSION,
            "model": run.model.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "iteration": state.iteration,
            "rng": rng_state(state),
            "history": state.history,
            "seconds": state.seconds_before,
        },
        out / CHECKPOINT_FILE,
    )


def read_checkpoint(folder: Path, where: str) -> dict[str, Any] | None:
    """``checkpoint.npz`` checked against the format :func:`save_checkpoint` writes, or None
    when there is none."""
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        ckpt = load(path)
    except (ChainruleFormatError, OSError) as err:
        raise UsageError(f"{where}: cannot read the checkpoint: {err}") from None
    problem = _checkpoint_problem(ckpt)
    if problem:
        raise UsageError(f"{where}: damaged checkpoint {path}: {problem}")
    return ckpt


def _checkpoint_problem(ckpt: Any) -> str | None:
    if not isinstance(ckpt, dict) or ckpt.get(TEXT_CHECKPOINT) != TEXT_CHECKPOINT_VERSION:
        return f"not a version-{TEXT_CHECKPOINT_VERSION} language-model checkpoint"
    for key, kind in CHECKPOINT_KEYS.items():
        if key not in ckpt:
            return f"key {key!r} is missing"
        if isinstance(ckpt[key], bool) or not isinstance(ckpt[key], kind):
            return f"{key!r} holds {type(ckpt[key]).__name__}"
    if ckpt["iteration"] < 0:
        return f"negative iteration count {ckpt['iteration']}"
    if not {"global", "train"} <= set(ckpt["rng"]):
        return "'rng' lacks the generator states 'global' and 'train'"
    history = ckpt["history"]
    if set(history) != set(HISTORY_KEYS) or any(not isinstance(v, list) for v in history.values()):
        return f"'history' is not lists of {', '.join(HISTORY_KEYS)}"
    return None


def load_weights(model: Any, weights: Any, path: Path, where: str) -> None:
    """``model.load_state_dict(weights)``; a mismatch (another model's file) names both."""
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(
            f"{where}: the weights in {path} do not fit the model in {MODEL_FILE} ({first})"
        ) from None


def restore(run: TextRun, state: LoopState, ckpt: dict[str, Any], folder: Path) -> None:
    """Load a checked checkpoint into the run and the loop's state, generators included."""
    where, path = f"--resume {folder}", folder / CHECKPOINT_FILE
    load_weights(run.model, ckpt["model"], path, where)
    try:
        run.optimizer.load_state_dict(ckpt["optimizer"])
        set_rng_state(state, ckpt["rng"])
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise UsageError(f"{where}: damaged checkpoint {path}: {err}") from None
    state.iteration, state.seconds_before = ckpt["iteration"], float(ckpt["seconds"])
    state.history = {k: list(ckpt["history"][k]) for k in HISTORY_KEYS}
