"""``fit``, ``evaluate`` and ``predict``: the training loop written once, with its checks.

The loop is the article's, repeated: forward pass, loss, ``backward()``, optimizer step — per
batch, per epoch — plus what a practitioner needs around it: validation, metrics, a progress bar,
callbacks, a learning-rate schedule, a clear stop on a non-finite loss, Ctrl-C that ends the
run after the current batch instead of losing it, and checkpoints to resume from
(``checkpoint.py``).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.data import DataLoader, Dataset, TensorDataset
from chainrule.training import metrics as metrics_lib
from chainrule.training.callbacks import Callback
from chainrule.training.checkpoint import Checkpointer, skip_done_batches
from chainrule.training.history import History


class TrainingError(RuntimeError):
    """Training cannot go on (for example, the loss became NaN or inf)."""


def as_loader(
    data: Any, batch_size: int, shuffle: bool, name: str = "train", generator: Any = None
) -> DataLoader:
    """``data`` as a DataLoader: a DataLoader is used as is, a Dataset is batched, and an
    ``(X, y)`` pair of arrays is checked (same length, finite, not empty) and wrapped."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = (np.asarray(a.data if isinstance(a, Tensor) else a) for a in data)
        check_arrays(x, y, name)
        return DataLoader(
            TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=generator
        )
    raise TypeError(
        f"{name} data must be a Dataset, a DataLoader or an (X, y) pair of arrays; "
        f"got {type(data).__name__}"
    )


def check_arrays(x: np.ndarray, y: np.ndarray, name: str = "train") -> None:
    """Refuse inputs and targets that cannot be trained on, saying what is wrong."""
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{name} data: X and y must have a first (sample) axis")
    if len(x) != len(y):
        raise ValueError(f"{name} data: X has {len(x)} rows but y has {len(y)}; they must match")
    if len(x) == 0:
        raise ValueError(f"{name} data is empty: X and y have no rows")
    for label, array in (("X", x), ("y", y)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} data: {label} must be numeric; got dtype {array.dtype}")
        if array.dtype.kind == "f":
            bad_rows = int((~np.isfinite(array.reshape(len(array), -1))).any(axis=1).sum())
            if bad_rows:
                raise ValueError(
                    f"{name} data: {bad_rows} of {len(array)} rows of {label} contain NaN or "
                    "inf; drop or impute them before training"
                )


def _threshold(loss_fn: Any) -> float:
    """Where single-output scores split into classes: 0 for logits, 0.5 for probabilities."""
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__).lower()
    return 0.0 if "logits" in name else 0.5


def _current_lr(optimizer: Any) -> float:
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else math.nan


class _Interrupt:
    """Turn the first Ctrl-C (and, with ``sigterm``, SIGTERM) during training into a flag the
    loop checks after each batch; :attr:`signum` remembers which signal came."""

    def __init__(self, sigterm: bool = False) -> None:
        self.requested = False
        self.signum: int | None = None
        self._signals = [signal.SIGINT] + ([signal.SIGTERM] if sigterm else [])
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            for signum in self._signals:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:  # a second Ctrl-C means: stop now
            raise KeyboardInterrupt
        if not self.requested:
            self.requested, self.signum = True, signum

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


class Trainer:
    """The state of one ``fit`` run, handed to callbacks.

    Attributes: ``model``, ``loss_fn``, ``optimizer``, ``history``, ``epoch`` (current, 1-based),
    and ``stop_training`` (set it to True to end training after the current epoch).
    """

    def __init__(self, model: Any, loss_fn: Any, optimizer: Any, history: History) -> None:
        self.model, self.loss_fn, self.optimizer, self.history = model, loss_fn, optimizer, history
        self.epoch = 0
        self.stop_training = False


def fit(
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    train: Any,
    *,
    epochs: int,
    batch_size: int = 32,
    validation: Any = None,
    metrics: Sequence[str] = ("accuracy",),
    scheduler: Any = None,
    callbacks: Iterable[Callback] = (),
    verbose: int = 1,
    shuffle: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 1,
) -> History:
    """Train ``model`` by minibatch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : Module
        Called on a batch of inputs; returns outputs for ``loss_fn``.
    loss_fn : callable
        ``loss_fn(output, target)`` returning a scalar tensor, e.g. ``nn.CrossEntropyLoss()``.
    optimizer : Optimizer
        Updates the model's parameters from their gradients.
    train, validation : Dataset, DataLoader or (X, y)
        Training data (shuffled each epoch unless ``shuffle=False`` or a DataLoader is given)
        and optional validation data, evaluated after every epoch.
    epochs : int
        Passes over the training data.
    batch_size : int
        Samples per step when ``train`` is not already a DataLoader.
    metrics : sequence of str
        Reported next to the loss: ``'accuracy'``, ``'mae'``, ``'mse'``.
    scheduler : LRScheduler or ReduceLROnPlateau, optional
        Stepped once per epoch (ReduceLROnPlateau with the validation loss if there is one).
    callbacks : iterable of Callback
        E.g. ``EarlyStopping``.
    verbose : int
        0 silent; 1 a progress bar with throughput and ETA during each epoch (on a terminal)
        and one line per epoch; 2 only the line per epoch.
    checkpoint : path, optional
        A directory (created if missing) for ``checkpoint.npz``: model, optimizer and scheduler
        state, the random generators, the epoch and batch counters and the History. It is
        written atomically every ``checkpoint_every`` epochs, at the last epoch, when training
        stops early, and on Ctrl-C or SIGTERM (mid-epoch). Without ``resume`` an existing
        checkpoint there is overwritten.
    resume : bool
        Continue from the checkpoint in ``checkpoint`` (start afresh if there is none yet):
        training k epochs, stopping, and resuming to ``epochs`` gives the same weights, bit for
        bit, as one run of ``epochs`` (same seed, data and settings). The returned History
        includes the epochs run before.
    checkpoint_every : int
        Epochs between checkpoints.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or inf; the message names the epoch and batch and the last
        finite loss. The model keeps the weights of the last update, which came from a finite
        loss.

    Ctrl-C ends training after the current batch; the History so far is returned with
    ``stopped_early='interrupted'``. With ``checkpoint``, a checkpoint is written first, and
    SIGTERM does the same, after which the signal is delivered again (the process ends as
    SIGTERM asked, its work saved).
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer; got {epochs!r}")
    if not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be a positive integer; got {checkpoint_every!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=DIR, the directory to resume from")
    loader = as_loader(train, batch_size, shuffle, "train")
    val_loader = (
        None if validation is None else as_loader(validation, batch_size, False, "validation")
    )
    metric_fns = metrics_lib.resolve(tuple(metrics), _threshold(loss_fn))
    history = History()
    saver = (
        None
        if checkpoint is None
        else Checkpointer(checkpoint, model, optimizer, scheduler, loader)
    )
    resumed = saver.restore() if saver is not None and resume else None
    if resumed is not None:
        history = resumed["history"]
        if history.stopped_early == "interrupted":
            history.stopped_early = None
        # A run that early stopping ended stays ended.
        if history.stopped_early == "early_stopping":
            epochs = resumed["epoch"]
    trainer = Trainer(model, loss_fn, optimizer, history)
    callbacks = list(callbacks)
    last_finite: tuple[float, int, int] | None = None
    # A diverging run overflows inside NumPy; the loss check below reports it in words instead.
    interrupt = _Interrupt(sigterm=saver is not None)
    with interrupt, np.errstate(over="ignore", invalid="ignore"):
        for cb in callbacks:
            cb.on_train_begin(trainer)
        try:
            first = 1 if resumed is None else resumed["epoch"] + 1
            for epoch in range(first, epochs + 1):
                trainer.epoch = epoch
                for cb in callbacks:
                    cb.on_epoch_begin(trainer, epoch)
                lr = _current_lr(optimizer)
                start = time.perf_counter()
                model.train()
                totals = dict.fromkeys(["loss", *metric_fns], 0.0)
                seen = done = 0
                batches: Iterable[Any] = loader
                if saver is not None and resumed is not None and epoch == first:
                    saver.set_rng_state(resumed["rng"]["epoch_start"])
                    if resumed["batch"]:
                        part, done = resumed["partial"], resumed["batch"]
                        totals, seen, lr = dict(part["totals"]), part["seen"], part["lr"]
                        last_finite = part["last_finite"] and tuple(part["last_finite"])
                        batches = skip_done_batches(loader, done, saver, resumed["rng"]["current"])
                epoch_rng = None if saver is None else saver.rng_state()
                bar = _progress(len(loader.dataset), epoch, epochs, verbose)
                if bar is not None and seen:
                    bar.update(seen)
                for batch, (x, y) in enumerate(batches, start=done + 1):
                    optimizer.zero_grad()
                    output = model(x)
                    loss = loss_fn(output, y)
                    value = loss.item()
                    if not math.isfinite(value):
                        raise TrainingError(_non_finite_message(value, epoch, batch, last_finite))
                    loss.backward()
                    optimizer.step()
                    last_finite = (value, epoch, batch)
                    n = len(x.data)
                    seen += n
                    totals["loss"] += value * n
                    for name, fn in metric_fns.items():
                        totals[name] += fn(output.data, y.data)
                    for cb in callbacks:
                        cb.on_batch_end(trainer, batch, value)
                    if bar is not None:
                        bar.update(n)
                        bar.set_postfix(loss=f"{totals['loss'] / seen:.4f}", refresh=False)
                    done = batch
                    if interrupt.requested:
                        break
                if bar is not None:
                    bar.close()
                if seen == 0:
                    break
                logs = {name: total / seen for name, total in totals.items()}
                if val_loader is not None:
                    scores = _run_eval(model, loss_fn, val_loader, metric_fns)
                    logs.update({f"val_{k}": v for k, v in scores.items()})
                logs["lr"] = lr
                logs["seconds"] = time.perf_counter() - start
                before = None if saver is None else history.to_dict()
                history.record(epoch, logs)
                if verbose:
                    _print_epoch(epoch, epochs, logs)
                if interrupt.requested:
                    history.stopped_early = "interrupted"
                    if saver is not None:
                        # Mid-epoch: the epoch's partial sums go along so its logs resume whole.
                        partial = {"totals": totals, "seen": seen, "lr": lr}
                        partial["last_finite"] = None if last_finite is None else list(last_finite)
                        saver.save(before, epoch - 1, done, epoch_rng, partial)
                    break
                for cb in callbacks:
                    cb.on_epoch_end(trainer, epoch, logs)
                if scheduler is not None:
                    _step_scheduler(scheduler, logs)
                if saver is not None and (
                    epoch % checkpoint_every == 0 or epoch == epochs or trainer.stop_training
                ):
                    saver.save(history.to_dict(), epoch)
                if trainer.stop_training:
                    break
        finally:
            for cb in callbacks:
                cb.on_train_end(trainer)
    if interrupt.signum == signal.SIGTERM:
        # Deliver it again, now that the checkpoint is written and the old handler is back.
        signal.raise_signal(signal.SIGTERM)
    return history


def _non_finite_message(value: float, epoch: int, batch: int, last: tuple | None) -> str:
    before = (
        f"the last finite loss was {last[0]:.6g} (epoch {last[1]}, batch {last[2]})"
        if last
        else "no batch had a finite loss yet"
    )
    return (
        f"the loss became {value} at epoch {epoch}, batch {batch}; {before}. Usual causes: a "
        "learning rate too high for this model (try one 10 times smaller), inputs that are not "
        "scaled (standardize features to mean 0 and standard deviation 1), or NaN/inf in the "
        "data. The model keeps the weights of the last update, which came from a finite loss."
    )


def _step_scheduler(scheduler: Any, logs: dict[str, float]) -> None:
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


def _progress(total: int, epoch: int, epochs: int, verbose: int) -> Any:
    if verbose != 1 or not sys.stderr.isatty():
        return None  # a bar redrawn in a log file is noise; the epoch lines say enough
    from tqdm.auto import tqdm

    width = len(str(epochs))
    return tqdm(
        total=total,
        desc=f"Epoch {epoch:>{width}}/{epochs}",
        unit="sample",
        unit_scale=True,
        leave=False,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _print_epoch(epoch: int, epochs: int, logs: dict[str, float]) -> None:
    width = len(str(epochs))
    parts = [f"Epoch {epoch:>{width}}/{epochs}", f"{logs['seconds']:.2f}s"]
    parts += [f"{k}: {v:.4f}" for k, v in logs.items() if k not in ("seconds", "lr")]
    parts.append(f"lr: {logs['lr']:.3g}")
    print(" - ".join(parts), flush=True)


def _run_eval(model: Any, loss_fn: Any, loader: DataLoader, metric_fns: dict) -> dict[str, float]:
    was_training = getattr(model, "training", False)
    model.eval()
    totals = dict.fromkeys(["loss", *metric_fns], 0.0)
    seen = 0
    try:
        with no_grad():
            for x, y in loader:
                output = model(x)
                n = len(x.data)
                seen += n
                totals["loss"] += loss_fn(output, y).item() * n
                for name, fn in metric_fns.items():
                    totals[name] += fn(output.data, y.data)
    finally:
        model.train(was_training)
    return {name: total / max(seen, 1) for name, total in totals.items()}


def evaluate(
    model: Any,
    loss_fn: Any,
    data: Any,
    *,
    batch_size: int = 256,
    metrics: Sequence[str] = ("accuracy",),
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on ``data`` (Dataset, DataLoader or (X, y)), in eval
    mode and without recording gradients. Returns e.g. ``{'loss': 0.08, 'accuracy': 0.975}``."""
    loader = as_loader(data, batch_size, False, "evaluation")
    return _run_eval(
        model, loss_fn, loader, metrics_lib.resolve(tuple(metrics), _threshold(loss_fn))
    )


def predict(model: Any, x: Any, *, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for inputs ``x`` (array or tensor of shape (N, ...)), computed in
    batches in eval mode without gradients. Returns an ndarray of shape (N, ...)."""
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(
            f"predict: expected inputs of shape (N, ...) with N > 0; got {array.shape}"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            outputs = [
                model(Tensor(array[i : i + batch_size])).data
                for i in range(0, len(array), batch_size)
            ]
    finally:
        model.train(was_training)
    return np.concatenate(outputs)
