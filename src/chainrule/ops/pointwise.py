"""Elementwise math: exp, log, sqrt, abs, clip, maximum, minimum, where.

Kinks get a fixed subgradient: |x|′(0) = 0; clip passes the gradient on the closed interval
[min, max]; maximum and minimum split it in half between equal operands (as PyTorch does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import as_tensor, operands


class Exp(Function):
    """d eˣ/dx = eˣ."""

    def forward(self, x):
        with np.errstate(over="ignore"):
            self.out = np.exp(x)
        return self.out

    def backward(self, grad):
        return (grad * self.out,)


class Log(Function):
    """d ln x/dx = 1/x."""

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / self.x,)


class Sqrt(Function):
    """d √x/dx = 1/(2√x)."""

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(x)
        return self.out

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (2 * self.out),)


class Abs(Function):
    """d|x|/dx = sign(x), with sign(0) = 0."""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad):
        return (grad * np.sign(self.x),)


class Clip(Function):
    """d clip(x, lo, hi)/dx = 1 where lo ≤ x ≤ hi, else 0."""

    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, lo, hi)

    def backward(self, grad):
        x, lo, hi = self.x, self.lo, self.hi
        if lo is None and hi is None:
            return (grad * np.ones(x.shape, dtype=bool),)
        # The mask is a constant of the derivative (bool, also when x is a tensor).
        inside = x <= hi if lo is None else x >= lo if hi is None else (x >= lo) & (x <= hi)
        return (grad * inside,)


class Maximum(Function):
    """d max(a, b)/da = 1 where a > b, ½ where a = b, 0 elsewhere (and symmetrically for b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, grad):
        share = (self.a > self.b) + (self.a == self.b) * grad.dtype.type(0.5)
        return grad * share, grad * (1 - share)


class Minimum(Function):
    """d min(a, b)/da = 1 where a < b, ½ where a = b, 0 elsewhere (and symmetrically for b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, grad):
        share = (self.a < self.b) + (self.a == self.b) * grad.dtype.type(0.5)
        return grad * share, grad * (1 - share)


class Where(Function):
    """d where(c, a, b)/da = c,  d where(c, a, b)/db = not c."""

    def forward(self, a, b, condition):
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad):
        c = self.condition
        zero = np.zeros((), dtype=grad.dtype)
        ga = np.where(c, grad, zero) if self.needs_input_grad[0] else None
        gb = np.where(c, zero, grad) if self.needs_input_grad[1] else None
        return ga, gb


def exp(x: Tensor) -> Tensor:
    """eˣ elementwise (inf past the dtype's range, without a warning)."""
    return Exp.apply(as_float(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm elementwise; log 0 = −inf, log of a negative number = NaN."""
    return Log.apply(as_float(x))


def sqrt(x: Tensor) -> Tensor:
    """Square root elementwise; the gradient at 0 is inf."""
    return Sqrt.apply(as_float(x))


def abs(x: Tensor) -> Tensor:
    """|x| elementwise, with gradient 0 at 0."""
    return Abs.apply(as_tensor(x))


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be None). Also called ``clamp``."""
    if min is None and max is None:
        raise ValueError("clip() needs at least one of min and max")
    x = as_tensor(x)
    kind = x._data.dtype.type
    lo = None if min is None else kind(min)
    hi = None if max is None else kind(max)
    return Clip.apply(x, lo=lo, hi=hi)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger of ``a`` and ``b`` (broadcast); equal operands share the gradient."""
    return Maximum.apply(*operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of ``a`` and ``b`` (broadcast); equal operands share the gradient."""
    return Minimum.apply(*operands(a, b))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """``input`` where ``condition`` is true, else ``other`` (all three broadcast together).

    With the condition alone, ``nonzero(condition, as_tuple=True)``: one int64 index tensor per
    dimension. Shapes: the broadcast shape of the three; ``(n,)`` each for the one-argument form.
    """
    a, b = input, other
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if a is None and b is None:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(cond)))
    if cond.dtype != bool:
        raise TypeError(f"where() needs a bool condition; got {cond.dtype}")
    a, b = operands(a, b)
    return Where.apply(a, b, condition=cond)
