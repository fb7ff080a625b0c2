"""Rounding and integer-style division: floor, ceil, round, trunc, frac, sign, fmod, remainder,
floor division (``//``), ``%`` and the rounding modes of ``div``.

floor, ceil, round, trunc and sign are steps: their derivative is 0 almost everywhere, and, as in
PyTorch, they are recorded ops whose gradient is 0 (so a graph through them still backpropagates).
Floor division ``//`` has no derivative in PyTorch: its result never requires grad. On integer
tensors these ops keep the integer dtype, and an integer division by zero raises
``ZeroDivisionError`` (as PyTorch does) instead of NumPy's silent 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import refuse_out
from chainrule.ops.arithmetic import operands

_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


class _Step(Function, register=False):
    """A piecewise-constant op: the gradient is 0 everywhere."""

    def backward(self, grad):
        return (np.zeros_like(grad),)


class Floor(_Step):
    """d⌊x⌋/dx = 0 (almost everywhere; PyTorch's convention everywhere)."""

    def forward(self, x):
        return np.floor(x)


class Ceil(_Step):
    """d⌈x⌉/dx = 0 (almost everywhere; PyTorch's convention everywhere)."""

    def forward(self, x):
        return np.ceil(x)


class Trunc(_Step):
    """d trunc(x)/dx = 0 (almost everywhere; PyTorch's convention everywhere)."""

    def forward(self, x):
        return np.trunc(x)


class Sign(_Step):
    """d sign(x)/dx = 0 (almost everywhere; PyTorch's convention everywhere)."""

    def forward(self, x):
        # (x > 0) − (x < 0) rather than np.sign: PyTorch's sign(NaN) is 0, NumPy's NaN.
        return (x > 0).astype(x.dtype) - (x < 0)


class Round(_Step):
    """d round(x, decimals)/dx = 0 (almost everywhere; PyTorch's convention everywhere)."""

    def forward(self, x, decimals):
        if decimals == 0:
            return np.rint(x)
        with np.errstate(over="ignore", invalid="ignore"):
            if decimals > 0:
                scale = x.dtype.type(10.0**decimals)
                return np.rint(x * scale) / scale
            scale = x.dtype.type(10.0**-decimals)
            return np.rint(x / scale) * scale


class Frac(Function):
    """d frac(x)/dx = 1, frac(x) = x − trunc(x)."""

    def forward(self, x):
        return x - np.trunc(x)

    def backward(self, grad):
        return (grad,)


class Fmod(Function):
    """d fmod(a, b)/da = 1,  d fmod(a, b)/db = −trunc(a/b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(**_QUIET):
            return np.fmod(a, b)

    def backward(self, grad):
        gb = None
        if self.needs_input_grad[1]:
            with np.errstate(**_QUIET):
                gb = -grad * np.trunc(self.a / self.b)
        return grad, gb


class Remainder(Function):
    """d remainder(a, b)/da = 1,  d remainder(a, b)/db = −⌊a/b⌋."""

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(**_QUIET):
            return np.remainder(a, b)

    def backward(self, grad):
        gb = None
        if self.needs_input_grad[1]:
            with np.errstate(**_QUIET):
                gb = -grad * np.floor(self.a / self.b)
        return grad, gb


class RoundedDiv(Function):
    """d div(a, b, rounding_mode)/da = 0,  …/db = 0 (a step function of both, as in PyTorch)."""

    def forward(self, a, b, mode):
        with np.errstate(**_QUIET):
            return np.floor_divide(a, b) if mode == "floor" else np.trunc(a / b)

    def backward(self, grad):
        zero = np.zeros_like(grad)
        return zero, zero


def _integer_division(a: np.ndarray, b: np.ndarray, mode: str, name: str) -> np.ndarray:
    """Floor or truncating division of integer arrays; refuses a zero divisor."""
    if a.dtype == bool:
        a, b = a.astype(np.int64), b.astype(np.int64)
    if not np.all(b):
        raise ZeroDivisionError(f"chainrule.{name}: integer division by zero")
    if mode == "floor":
        return np.floor_divide(a, b)
    if mode == "trunc":
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
    return np.fmod(a, b) if mode == "fmod" else np.remainder(a, b)


def _step(cls: type[Function], input: Any, name: str, out: Any, **params: Any) -> Tensor:
    if out is not None:
        refuse_out(name, out)
    x = as_tensor(input)
    if x._data.dtype.kind != "f":  # integers and bools are already whole numbers
        return Tensor._wrap(np.sign(x._data) if cls is Sign else x._data.copy())
    return cls.apply(x, **params)


def floor(input: Tensor, *, out: None = None) -> Tensor:
    """The largest whole number ≤ x, elementwise; integer tensors are returned as they are."""
    return _step(Floor, input, "floor", out)


def ceil(input: Tensor, *, out: None = None) -> Tensor:
    """The smallest whole number ≥ x, elementwise; integer tensors are returned as they are."""
    return _step(Ceil, input, "ceil", out)


def trunc(input: Tensor, *, out: None = None) -> Tensor:
    """x rounded toward zero, elementwise. Also ``fix``."""
    return _step(Trunc, input, "trunc", out)


def sign(input: Tensor, *, out: None = None) -> Tensor:
    """−1, 0 or 1 by the sign of x (NaN gives 0, as in PyTorch); integers stay integers."""
    return _step(Sign, input, "sign", out)


def round(input: Tensor, *, decimals: int = 0, out: None = None) -> Tensor:
    """x rounded to ``decimals`` decimal places (negative: to tens, hundreds…), halves to even
    as in PyTorch: round(2.5) = 2, round(-0.5) = -0. Computed as rint(x·10ᵈ)/10ᵈ."""
    if not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an int; got {type(decimals).__name__}")
    return _step(Round, input, "round", out, decimals=int(decimals))


def frac(input: Tensor, *, out: None = None) -> Tensor:
    """The fractional part x − trunc(x) (with x's sign), elementwise; float tensors only."""
    if out is not None:
        refuse_out("frac", out)
    x = as_tensor(input)
    if x._data.dtype.kind != "f":
        raise TypeError(f"frac is only defined for floating-point tensors; got {x._data.dtype}")
    return Frac.apply(x)


def _binary(cls: type[Function], input: Any, other: Any, name: str, out: Any) -> Tensor:
    if out is not None:
        refuse_out(name, out)
    a, b = operands(input, other)
    if a._data.dtype.kind != "f":
        mode = "fmod" if cls is Fmod else "remainder"
        return Tensor._wrap(_integer_division(a._data, b._data, mode, name))
    return cls.apply(a, b)


def fmod(input: Any, other: Any, *, out: None = None) -> Tensor:
    """The remainder of a/b with the sign of ``a`` (C's fmod): a − trunc(a/b)·b. Broadcasts."""
    return _binary(Fmod, input, other, "fmod", out)


def remainder(input: Any, other: Any, *, out: None = None) -> Tensor:
    """The remainder of a/b with the sign of ``b`` (Python's ``%``): a − ⌊a/b⌋·b. Broadcasts."""
    return _binary(Remainder, input, other, "remainder", out)


def floor_divide(input: Any, other: Any, *, out: None = None) -> Tensor:
    """⌊a/b⌋ elementwise (Python's ``//``), broadcast. Not differentiable (as in PyTorch): the
    result never requires grad. Integer tensors stay integer; an integer 0 divisor raises."""
    if out is not None:
        refuse_out("floor_divide", out)
    a, b = operands(input, other)
    if a._data.dtype.kind != "f":
        return Tensor._wrap(_integer_division(a._data, b._data, "floor", "floor_divide"))
    with np.errstate(**_QUIET):
        return Tensor._wrap(np.floor_divide(a._data, b._data))


def rounded_div(a: Tensor, b: Tensor, rounding_mode: str) -> Tensor:
    """``div(a, b, rounding_mode=...)`` for operands already of one dtype: 'trunc' rounds the
    quotient toward zero, 'floor' down. Gradients are 0 (as in PyTorch)."""
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor'; got {rounding_mode!r}"
        )
    if a._data.dtype.kind != "f":
        return Tensor._wrap(_integer_division(a._data, b._data, rounding_mode, "div"))
    return RoundedDiv.apply(a, b, mode=rounding_mode)


fix, sgn = trunc, sign
