"""Callbacks: code that ``fit`` runs at the start and end of training, epochs and batches.

A callback receives the :class:`~chainrule.training.loop.Trainer` running the loop, so it can read
the model and history and ask training to stop (``trainer.stop_training = True``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when training ends, however it ends."""


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
    ) -> None:
        for name, fn in [
            ("on_train_begin", on_train_begin),
            ("on_epoch_begin", on_epoch_begin),
            ("on_batch_end", on_batch_end),
            ("on_epoch_end", on_epoch_end),
            ("on_train_end", on_train_end),
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
        When stopping (or at the end of training), load the weights of the best epoch.
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

    def on_train_begin(self, trainer: Trainer) -> None:
        self.best = -math.inf if self.higher_is_better else math.inf
        self.best_epoch, self.best_weights, self.wait = 0, None, 0

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

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
