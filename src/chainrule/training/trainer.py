"""The state of one ``fit`` run: the :class:`Trainer` handed to callbacks, and the
:class:`Interrupt` that turns Ctrl-C (and SIGTERM) into a flag the loop checks after each batch.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from chainrule.training.callbacks import CallbackList
from chainrule.training.checkpoint import NoCheckpoint
from chainrule.training.history import History
from chainrule.training.metrics import MetricAccumulator

__all__ = ["Interrupt", "Trainer"]


class Interrupt:
    """Turn the first Ctrl-C (and, with ``sigterm``, SIGTERM) during training into a flag the
    loop checks after each batch; :attr:`signum` remembers which signal came."""

    def __init__(self, sigterm: bool = False) -> None:
        self.requested = False
        self.signum: int | None = None
        self._signals = [signal.SIGINT] + ([signal.SIGTERM] if sigterm else [])
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupt:
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

    Attributes
    ----------
    model, loss_fn, optimizer : the run's objects.
    history : History
        The epochs so far.
    epoch : int
        The current epoch (1-based); ``epochs`` the last one.
    stop_training : bool
        Set it to True to end training after the current epoch.
    loader : DataLoader
        The training batches.
    metrics : MetricAccumulator
        The current epoch's running loss and metrics (``metrics.seen``, ``metrics.mean_loss()``).
    callbacks : CallbackList
        Every callback of the run, the progress display first.
    verbose : int
        ``fit``'s ``verbose``: callbacks that print do so when it is not 0.
    last_finite : tuple (loss, epoch, batch) or None
        The last batch whose loss was finite.
    """

    def __init__(
        self,
        model: Any,
        loss_fn: Any,
        optimizer: Any,
        history: History | None = None,
        **state: Any,
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.history = History() if history is None else history
        self.epoch, self.stop_training = 0, False
        self.epochs: int = state.pop("epochs", 0)
        self.loader: Any = state.pop("loader", None)
        self.metrics: MetricAccumulator = _given(state, "metrics", lambda: MetricAccumulator([]))
        self.callbacks: CallbackList = _given(state, "callbacks", CallbackList)
        self.verbose: int = state.pop("verbose", 0)
        self.scheduler: Any = state.pop("scheduler", None)
        self.validation: Any = state.pop("validation", None)
        self.checkpointer: Any = _given(state, "checkpointer", NoCheckpoint)
        self.interrupt: Any = _given(state, "interrupt", Interrupt)
        self.last_finite: tuple[float, int, int] | None = None
        if state:
            raise TypeError(f"Trainer got unexpected arguments {sorted(state)}")


def _given(state: dict[str, Any], key: str, default: Callable[[], Any]) -> Any:
    value = state.pop(key, None)
    return default() if value is None else value
