"""What ``chainrule train`` does: load a built-in dataset, build an MLP or CNN, fit it, save it.

Each step is a plain function so that examples and tests can reuse it: :func:`load_dataset`,
:func:`build_mlp`, :func:`build_cnn`, :func:`build_loss`, :func:`build_optimizer`; then
:func:`prepare` (everything before the first step of training) and :func:`execute` (training
and its outputs), which :func:`train_command` runs in order and :func:`run_train` runs for the
command line, with options, prerequisites and Ctrl-C handled.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule import nn, optim
from chainrule.cli.errors import EXIT_FAILED, EXIT_OK, Interrupted, UsageError
from chainrule.cli.options import fresh_options, resumed_options
from chainrule.cli.prerequisites import check_prerequisites
from chainrule.cli.registry import (
    ACTIVATION_MODULES,
    DATASETS_INFO,
    IMAGE_MODEL,
    IMAGE_SHAPES,
    LOSSES_INFO,
    OPTIMIZER_CLASSES,
    loss_mismatch,
)
from chainrule.cli.rundir import check_checkpoint
from chainrule.io import atomic, save
from chainrule.random import manual_seed
from chainrule.training import History, evaluate, fit
from chainrule.training.checkpoint import checkpoint_path
from chainrule.training.monitor import GradientMonitor

#: What a started run may fail with; reported as its message, exit 1, never a traceback.
TRAINING_ERRORS = (ValueError, TypeError, RuntimeError, OSError, ImportError)


class Task:
    """A dataset ready to train on: arrays plus what kind of problem it is.

    ``x_*`` are float32 of shape (n, features); ``y_*`` are int64 class indices of shape (n,)
    for classification (``classes`` > 0) or float32 targets of shape (n, k) for regression.
    """

    def __init__(
        self,
        name: str,
        x: np.ndarray,
        y: np.ndarray,
        classes: int,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
    ) -> None:
        self.name, self.x, self.y, self.classes = name, x, y, classes
        self.x_test, self.y_test = x_test, y_test


def load_dataset(name: str, data_dir: Path | None = None, seed: int = 0) -> Task:
    """The built-in dataset ``name`` as a :class:`Task` (MNIST reads ``data_dir``)."""
    if name not in DATASETS_INFO:
        raise ValueError(f"unknown dataset {name!r}")
    info = DATASETS_INFO[name]
    loaded = info.load(seed, data_dir)
    return Task(name, loaded.x, loaded.y, info.classes, loaded.x_test, loaded.y_test)


def build_mlp(n_in: int, hidden: list[int], n_out: int, activation: str) -> nn.Sequential:
    """Linear → activation for each hidden width, then a final Linear to ``n_out`` outputs."""
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), ACTIVATION_MODULES[activation]()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def build_cnn(image_shape: tuple[int, int], n_out: int, activation: str) -> nn.Sequential:
    """Two stages of 3×3 conv (1→16, 16→32 channels, padding 1) → activation → 2×2 max-pool,
    then flatten and a Linear to ``n_out``: input ``(N, 1, H, W)``, H and W at least 4."""
    act = ACTIVATION_MODULES[activation]
    h, w = image_shape
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        act(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        act(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (h // 2 // 2) * (w // 2 // 2), n_out),
    )


def as_images(x: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Rows of ``H·W`` pixels as one-channel images ``(n, 1, H, W)`` (a view, no copy)."""
    return x.reshape(len(x), 1, *image_shape)


def build_loss(loss: str, task: Task) -> tuple[Any, int, np.ndarray]:
    """The loss module, the number of model outputs, and the targets shaped for that loss."""
    problem = loss_mismatch(loss, task.name) if task.name in DATASETS_INFO else None
    if problem:
        raise ValueError(problem)
    module, targets = LOSSES_INFO[loss].module, LOSSES_INFO[loss].targets
    if task.classes == 0:
        return module(), task.y.shape[1], task.y
    if targets == "index":
        return module(), task.classes, task.y
    if targets == "binary":
        return module(), 1, task.y.astype(np.float32).reshape(-1, 1)
    return module(), task.classes, np.eye(task.classes, dtype=np.float32)[task.y]


def build_optimizer(name: str, model: nn.Module, lr: float) -> optim.Optimizer:
    """The optimizer ``name`` over the model's parameters with learning rate ``lr``."""
    return OPTIMIZER_CLASSES[name](model.parameters(), lr=lr)


def split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Shuffle and hold out ``fraction`` of the rows: ((x_train, y_train), (x_val, y_val) or
    None)."""
    n_val = int(round(len(x) * fraction))
    if n_val == 0:
        return (x, y), None
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


@dataclass
class Run:
    """Everything :func:`prepare` builds and :func:`execute` trains: the options, the data
    (``train`` and ``val`` as ``(x, targets)`` pairs), the model and what trains it."""

    opts: dict[str, Any]
    task: Task
    model: nn.Module
    loss_fn: Any
    optimizer: optim.Optimizer
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray] | None
    description: str

    @property
    def metrics(self) -> tuple[str, ...]:
        return ("accuracy",) if self.task.classes else ("mae",)


def prepare(opts: dict[str, Any], data_dir: Path | None) -> Run:
    """Load the data and build the model, loss and optimizer for validated ``opts``."""
    manual_seed(opts["seed"])
    task = load_dataset(opts["data"], data_dir, opts["seed"])
    loss_fn, n_out, targets = build_loss(opts["loss"], task)
    model, description = _build_model(opts, task, n_out)
    optimizer = build_optimizer(opts["optimizer"], model, opts["lr"])
    train, val = split(task.x, targets, opts["val_split"], opts["seed"])
    return Run(opts, task, model, loss_fn, optimizer, train, val, description)


def _build_model(opts: dict[str, Any], task: Task, n_out: int) -> tuple[nn.Sequential, str]:
    """The MLP or CNN, and how the header line names it; a CNN reshapes the rows to images."""
    if opts.get("model") != IMAGE_MODEL:
        model = build_mlp(task.x.shape[1], opts["hidden"], n_out, opts["activation"])
        return model, f"{task.x.shape[1]}-{'-'.join(map(str, opts['hidden']))}-{n_out}"
    if task.name not in IMAGE_SHAPES:
        raise ValueError(f"--model {IMAGE_MODEL} needs an image dataset; {task.name} is not one")
    shape = IMAGE_SHAPES[task.name]
    task.x = as_images(task.x, shape)
    if task.x_test is not None:
        task.x_test = as_images(task.x_test, shape)
    model = build_cnn(shape, n_out, opts["activation"])
    return model, f"CNN 1x{shape[0]}x{shape[1]} conv16-conv32-{n_out}"


def train_command(opts: dict[str, Any], data_dir: Path | None, out: Path, verbose: int = 1) -> dict:
    """Run ``chainrule train`` with resolved options; returns the final metrics per split.

    Raises :class:`Interrupted` when Ctrl-C stopped training (the checkpoint in ``out`` is
    saved; the final weights, history and results are not written).
    """
    return execute(prepare(opts, data_dir), out, verbose)


def execute(run: Run, out: Path, verbose: int = 1) -> dict:
    """Train a prepared run, checkpointing into ``out``, then evaluate and save it."""
    opts = run.opts
    if opts.get("resume") and _check_resumable(run, out) is None and verbose:
        print(f"chainrule train: no checkpoint in {out} yet; starting from epoch 1")
    if verbose:
        print(_header(run))
    # The options first, so that `chainrule train --resume OUT` can rebuild the same run.
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", _config(opts))
    monitor = GradientMonitor(warn=False) if opts.get("monitor") else None
    history = fit(
        run.model,
        run.loss_fn,
        run.optimizer,
        run.train,
        epochs=opts["epochs"],
        batch_size=opts["batch_size"],
        validation=run.val,
        metrics=run.metrics,
        callbacks=[monitor] if monitor is not None else (),
        checkpoint=out,
        resume=bool(opts.get("resume")),
        verbose=2 if verbose and opts["epochs"] > 100 else verbose,
    )
    if history.stopped_early == "interrupted":
        raise Interrupted(interrupted_message(history, opts["epochs"], out))
    return _finish(run, history, monitor, out)


def _check_resumable(run: Run, out: Path) -> int | None:
    """Check ``out``'s checkpoint against the run (see :func:`check_checkpoint`); the epochs it
    has done, or None without one."""
    done = check_checkpoint(out, run.model, run.optimizer)
    if done is not None and done > run.opts["epochs"]:
        raise UsageError(
            f"--resume {out}: the run has done {done} epochs already; --epochs {run.opts['epochs']}"
            f" would end it before that (give --epochs {done} or more)"
        )
    return done


def interrupted_message(history: History, epochs: int, out: Path) -> str:
    """What Ctrl-C left: where training stopped and how to go on."""
    epoch = history.epoch[-1] if history.epoch else 0
    return (
        f"interrupted at epoch {epoch}/{epochs}; checkpoint saved; continue with "
        f"`chainrule train --resume {shlex.quote(str(out))}`"
    )


def _header(run: Run) -> str:
    opts, task = run.opts, run.task
    return (
        f"chainrule train: {task.name}, {len(run.train[0])} training samples"
        + (f", {len(run.val[0])} validation" if run.val else "")
        + f"; model {run.description} "
        f"{opts['activation']}, {opts['loss']}, {opts['optimizer']} lr={opts['lr']}"
    )


def _finish(run: Run, history: History, monitor: Any, out: Path) -> dict:
    """After the last epoch: the report, the results table, the pictures and the files."""
    if monitor is not None:
        print("gradient health per layer (last epoch):\n" + monitor.report())
    results = _evaluate(run)
    print(_table(results))
    if run.opts.get("plots"):
        _save_plots(run, history, monitor)
    save(run.model.state_dict(), out / "weights.npz")
    _write_json(out / "history.json", history.to_dict())
    _write_json(out / "config.json", {**_config(run.opts), "results": results})
    return results


def _evaluate(run: Run) -> dict[str, dict[str, float]]:
    task, metrics = run.task, run.metrics
    results = {"train": evaluate(run.model, run.loss_fn, run.train, metrics=metrics)}
    if run.val is not None:
        results["validation"] = evaluate(run.model, run.loss_fn, run.val, metrics=metrics)
    if task.x_test is not None:
        test = Task(task.name, task.x_test, task.y_test, task.classes)
        _, _, targets = build_loss(run.opts["loss"], test)
        results["test"] = evaluate(run.model, run.loss_fn, (task.x_test, targets), metrics=metrics)
    return results


def _save_plots(run: Run, history: History, monitor: Any) -> None:
    from chainrule.learn.plots import save_all  # matplotlib only when pictures are asked for

    name = run.task.name
    is_image_mlp = name in IMAGE_SHAPES and run.opts.get("model") != IMAGE_MODEL
    paths = save_all(
        run.opts["plots"],
        history=history,
        model=run.model,
        x=run.train[0][:2000],
        y=run.train[1][:2000] if run.task.classes else None,
        monitor=monitor,
        image_shape=IMAGE_SHAPES[name] if is_image_mlp else None,
    )
    print("pictures: " + ", ".join(str(p) for p in paths))


# ----- the command line ----------------------------------------------------------------------
def run_train(args: argparse.Namespace) -> int:
    """``chainrule train`` with parsed arguments; returns the exit status.

    Usage errors and missing prerequisites raise :class:`UsageError`, Ctrl-C raises
    :class:`Interrupted`; :func:`chainrule.cli.command.main` reports both in one line.
    """
    opts = resumed_options(args) if args.resume is not None else fresh_options(args)
    if args.show_defaults:
        print(json.dumps(opts, indent=2))
        return EXIT_OK
    out = args.resume or args.out or Path("runs") / opts["data"]
    check_prerequisites(opts, out)
    verbose = 0 if args.quiet else 1
    start = time.perf_counter()
    try:
        run = prepare(opts, args.data_dir)
    except KeyboardInterrupt:
        raise Interrupted("interrupted before training started; nothing was written") from None
    except TRAINING_ERRORS as err:
        return _failed(err)
    return _train_and_report(run, out, verbose, start)


def _train_and_report(run: Run, out: Path, verbose: int, start: float) -> int:
    before = _mtime(checkpoint_path(out))
    try:
        execute(run, out, verbose)
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside the training loop
        raise Interrupted(_stopped_at_once(out, before, bool(run.opts.get("resume")))) from None
    except TRAINING_ERRORS as err:
        return _failed(err)
    if verbose:
        print(f"done in {time.perf_counter() - start:.1f}s; saved to {out}/")
    return EXIT_OK


def _stopped_at_once(out: Path, before: int | None, resumed: bool) -> str:
    """After a Ctrl-C that training could not finish its batch for: is there a checkpoint of
    this run to go on from (one written now, or the one a resumed run started from)?"""
    now = _mtime(checkpoint_path(out))
    if now is not None and (resumed or now != before):
        return (
            f"interrupted; stopped at once; the last checkpoint in {out} is kept; continue "
            f"with `chainrule train --resume {shlex.quote(str(out))}`"
        )
    return f"interrupted; stopped at once, before the first checkpoint; nothing to resume in {out}"


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _failed(err: Exception) -> int:
    print(f"chainrule: {type(err).__name__}: {err}", file=sys.stderr)
    return EXIT_FAILED


def _config(opts: dict[str, Any]) -> dict[str, Any]:
    """The options as ``config.json`` keeps them (whether this run was resumed is not one)."""
    return {k: v for k, v in opts.items() if k != "resume"}


def _table(results: dict[str, dict[str, float]]) -> str:
    names = list(next(iter(results.values())))
    lines = [f"{'':12}" + "".join(f"{n:>12}" for n in names)]
    for split_name, values in results.items():
        lines.append(f"{split_name:12}" + "".join(f"{values[n]:>12.4f}" for n in names))
    return "\n".join(lines)


def _write_json(path: Path, value: Any) -> None:
    atomic.write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())
