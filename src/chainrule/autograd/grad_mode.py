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
    # True while a create_graph=True backward pass runs (see higher_order): converting a tensor
    # that requires grad to an array then raises instead of silently dropping its graph.
    graph_backward = False


state = _State()


class WriteClock:
    """Counts in-place writes to any tensor, in every thread.

    A node remembers the count when it is recorded; while the count has not moved, no tensor
    was written since, so the backward pass can skip comparing the node's input versions (one
    comparison per node instead of one per input on the common path).
    """

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


write_clock = WriteClock()


class AnomalyError(RuntimeError):
    """Raised inside :func:`detect_anomaly` by the first op that produces NaN or inf."""


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backpropagation."""
    return state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets gradient recording to a fixed value.

    Usable bare as a decorator (``@no_grad``) as well as called (``@no_grad()``), as in PyTorch.
    """

    enabled: bool

    def __new__(cls, func: Any = None) -> Any:
        if func is not None and callable(func) and cls is not set_grad_enabled:
            return cls()(func)  # @no_grad without parentheses: decorate func at once
        return super().__new__(cls)

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

    def clone(self) -> _GradMode:
        """A fresh manager with the same setting (PyTorch's ``clone``)."""
        return type(self)()


class no_grad(_GradMode):
    """Record nothing inside the block: results have ``requires_grad=False`` and no graph.

    Use it for evaluation and for updating parameters in place::

        with chainrule.no_grad():
            w -= lr * w.grad

    Also usable as a decorator, bare (``@no_grad``) or called (``@no_grad()``).
    """

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a :class:`no_grad` block."""

    enabled = True


class inference_mode(_GradMode):
    """:class:`no_grad` under PyTorch's name for inference (``inference_mode(False)``: a no-op).

    chainrule has no separate inference tensors: inside the block nothing is recorded, exactly
    as under ``no_grad``.
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self.enabled = False if self.mode else state.grad_enabled

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        if self.mode:
            state.grad_enabled = False

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)


def is_inference_mode_enabled() -> bool:
    """True inside :class:`inference_mode` (in chainrule: whenever recording is off)."""
    return not state.grad_enabled


class set_grad_enabled(_GradMode):
    """Set recording on or off: ``with set_grad_enabled(training): ...``.

    As in PyTorch, the call itself switches the mode (``set_grad_enabled(False)`` as a plain
    statement turns recording off until switched back); used with ``with`` or as a decorator,
    the previous mode is restored afterwards.
    """

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass  # the mode was set by the call; _previous is the mode before it

    def __call__(self, func: F) -> F:
        state.grad_enabled = self._previous  # decorating does not switch the mode
        mode = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.enabled)


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
