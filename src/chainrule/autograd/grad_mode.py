"""Switches that change what the engine records: ``no_grad`` and ``detect_anomaly``.

Both are thread-local, as in PyTorch, so a data-loading thread that turns gradients off does
not turn them off for the training thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    grad_enabled = True
    anomaly = False


state = _State()


class AnomalyError(RuntimeError):
    """Raised inside :func:`detect_anomaly` by the first op that produces NaN or inf."""


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backpropagation."""
    return state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets gradient recording to a fixed value."""

    enabled: bool

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Record nothing inside the block: results have ``requires_grad=False`` and no graph.

    Use it for evaluation and for updating parameters in place::

        with chainrule.no_grad():
            w -= lr * w.grad

    Also usable as a decorator.
    """

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a :class:`no_grad` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Set recording on or off: ``with set_grad_enabled(training): ...``."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)

    def __call__(self, func: F) -> F:
        mode = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class detect_anomaly:
    """Check every op's forward output and backward gradients for NaN and inf.

    Inside the block the first op that produces a non-finite value raises
    :class:`AnomalyError` naming the op and the pass (forward or backward). Checking costs one
    ``isfinite`` scan per array, so leave it off in normal training.
    """

    def __enter__(self) -> None:
        self._previous = state.anomaly
        state.anomaly = True

    def __exit__(self, *exc: object) -> None:
        state.anomaly = self._previous
