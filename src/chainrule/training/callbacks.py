"""Callbacks: code that ``fit`` runs at the start and end of training, epochs and batches.

A callback receives the :class:`~chainrule.training.loop.Trainer` running the loop, so it can read
the model and history and ask training to stop (``trainer.stop_training = True``). ``fit`` drives
all of them, its own progress display included, through one :class:`CallbackList`.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from chainrule.training.loop import Trainer


class Callback:
    """Base class: override the hooks you need. ``logs`` holds the epoch's values."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Called before each epoch (1-based)."""

    def on_batch_end(self, trainer: Trainer, batch: int, loss: float) -> None:
        """Called after each optimizer step with the batch's loss."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """Called after each epoch with its training and validation values."""

    def on_epoch_interrupted(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """Called instead of :meth:`on_epoch_end` when Ctrl-C or SIGTERM cut the epoch short;
        ``logs`` cover the batches done."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when training ends, however it ends."""


HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_batch_end",
    "on_epoch_end",
    "on_epoch_interrupted",
    "on_train_end",
)


class CallbackList(Callback):
    """Several callbacks run as one, in order: each hook calls the same hook of every callback.

    ``fit`` builds one from its progress display and the ``callbacks`` argument; the loop then
    calls ``callbacks.on_batch_end(...)`` once, whatever the number of callbacks.
    """

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks: list[Callback] = []
        self._batch_enders: list[Callable[..., Any]] = []
        for callback in callbacks:
            self.append(callback)

    def append(self, callback: Callback) -> None:
        """Add ``callback`` at the end; it must have the hooks (be a :class:`Callback`)."""
        missing = [h for h in HOOKS if not callable(getattr(callback, h, None))]
        # A callback written before on_epoch_interrupted existed may lack only that hook.
        if missing and missing != ["on_epoch_interrupted"]:
            raise TypeError(
                f"callbacks must be Callback instances; {type(callback).__name__} has no "
                f"{', '.join(missing)}"
            )
        self.callbacks.append(callback)
        # Per-batch calls go only to those that act on them: no cost for the others.
        self._batch_enders = [cb.on_batch_end for cb in self.callbacks if _overrides(cb)]

    @property
    def wants_batches(self) -> bool:
        """Whether any callback acts on ``on_batch_end`` (the loop skips the call otherwise)."""
        return bool(self._batch_enders)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def on_train_begin(self, trainer: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(trainer)

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(trainer, epoch)

    def on_batch_end(self, trainer: Trainer, batch: int, loss: float) -> None:
        for on_batch_end in self._batch_enders:
            on_batch_end(trainer, batch, loss)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(trainer, epoch, logs)

    def on_epoch_interrupted(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        for callback in self.callbacks:
            hook = getattr(callback, "on_epoch_interrupted", None)
            if hook is not None:
                hook(trainer, epoch, logs)

    def on_train_end(self, trainer: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_train_end(trainer)


def _overrides(callback: Callback) -> bool:
    """Whether ``callback.on_batch_end`` does anything (is not the base class's no-op)."""
    method = callback.on_batch_end
    return getattr(method, "__func__", method) is not Callback.on_batch_end


_PACKAGE = Path(__file__).resolve().parents[1]


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` pointing at the first frame outside chainrule (the user's ``fit``
    call), however deep in the loop the callback that warns runs."""
    level, frame = 1, sys._getframe(0)
    while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: print(epoch, logs))``."""

    def __init__(
        self,
        on_train_begin: Callable[..., Any] | None = None,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_batch_end: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_epoch_interrupted: Callable[..., Any] | None = None,
    ) -> None:
        for name, fn in [
            ("on_train_begin", on_train_begin),
            ("on_epoch_begin", on_epoch_begin),
            ("on_batch_end", on_batch_end),
            ("on_epoch_end", on_epoch_end),
            ("on_train_end", on_train_end),
            ("on_epoch_interrupted", on_epoch_interrupted),
        ]:
            if fn is not None:
                setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop when a monitored value has stopped improving.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, e.g. ``'val_loss'`` (default) or ``'val_accuracy'``.
    patience : int
        Epochs without improvement to wait before stopping.
    min_delta : float
        An improvement smaller than this does not count.
    mode : {'auto', 'min', 'max'}
        Whether lower or higher is better; ``'auto'`` means higher for names containing
        ``accuracy``, lower otherwise.
    restore_best_weights : bool
        When stopping (or at the end of training), load the weights of the best epoch;
        :attr:`restored_epoch` is then that epoch.

    With ``fit(verbose=1 or 2)`` it says in the log when it stops and which epoch's weights it
    restored.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be ≥ 0; got {patience}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max'; got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.higher_is_better = mode == "max" or (mode == "auto" and "accuracy" in monitor)
        self.restore_best_weights = restore_best_weights
        self.best = -math.inf if self.higher_is_better else math.inf
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None
        self.wait = 0
        self.restored_epoch: int | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self.best = -math.inf if self.higher_is_better else math.inf
        self.best_epoch, self.best_weights, self.wait = 0, None, 0
        self.restored_epoch = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which this run does not record; "
                f"available: {sorted(logs)}"
            )
        value = logs[self.monitor]
        improved = (
            value > self.best + self.min_delta
            if self.higher_is_better
            else value < self.best - self.min_delta
        )
        if improved:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop_training = True
            trainer.history.stopped_early = "early_stopping"
            _say(
                trainer,
                f"Early stopping after epoch {epoch}: {self.monitor} has not improved for "
                f"{self.wait} epoch(s); the best was {self.best:.4f} at epoch {self.best_epoch}",
            )

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
            self.restored_epoch = self.best_epoch
            _say(
                trainer,
                f"Restored the weights of epoch {self.best_epoch}, the best {self.monitor} "
                f"({self.best:.4f})",
            )


def _say(trainer: Any, line: str) -> None:
    """Print ``line`` in the log of a verbose ``fit`` (as its epoch lines are)."""
    if getattr(trainer, "verbose", 0):
        print(line, flush=True)
