"""Trigonometric and hyperbolic functions and their inverses, elementwise.

Integer inputs become the default float dtype (as in PyTorch). Outside an inverse function's
domain the value is NaN, and at its edges (asin′(±1), atanh(±1), acosh′(1)) the value or the
gradient is ±inf, as in PyTorch, without a NumPy warning.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float, refuse_out
from chainrule.ops.arithmetic import cast, operands

_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


class Sin(Function):
    """d sin x/dx = cos x."""

    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        return (grad * np.cos(self.x),)


class Cos(Function):
    """d cos x/dx = −sin x."""

    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, grad):
        return (-grad * np.sin(self.x),)


class Tan(Function):
    """d tan x/dx = 1 + tan² x."""

    def forward(self, x):
        self.out = np.tan(x)
        return self.out

    def backward(self, grad):
        return (grad * (1 + self.out * self.out),)


class Asin(Function):
    """d asin x/dx = 1/√(1 − x²)."""

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    def backward(self, grad):
        with np.errstate(**_QUIET):
            return (grad / np.sqrt(1 - self.x * self.x),)


class Acos(Function):
    """d acos x/dx = −1/√(1 − x²)."""

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    def backward(self, grad):
        with np.errstate(**_QUIET):
            return (-grad / np.sqrt(1 - self.x * self.x),)


class Atan(Function):
    """d atan x/dx = 1/(1 + x²)."""

    def forward(self, x):
        self.x = x
        return np.arctan(x)

    def backward(self, grad):
        with np.errstate(over="ignore"):
            return (grad / (1 + self.x * self.x),)


class Atan2(Function):
    """d atan2(y, x)/dy = x/(x² + y²),  d atan2(y, x)/dx = −y/(x² + y²) (0 at the origin)."""

    def forward(self, y, x):
        self.y, self.x = y, x
        return np.arctan2(y, x)

    def backward(self, grad):
        y, x = self.y, self.x
        r2 = x * x + y * y
        # At the origin PyTorch's gradient is 0 for both inputs: divide by 1 there instead of 0.
        scale = grad / np.where(r2 == 0, 1, r2)
        gy = scale * x if self.needs_input_grad[0] else None
        gx = -scale * y if self.needs_input_grad[1] else None
        return gy, gx


class Sinh(Function):
    """d sinh x/dx = cosh x."""

    def forward(self, x):
        self.x = x
        with np.errstate(over="ignore"):
            return np.sinh(x)

    def backward(self, grad):
        with np.errstate(over="ignore", invalid="ignore"):
            return (grad * np.cosh(self.x),)


class Cosh(Function):
    """d cosh x/dx = sinh x."""

    def forward(self, x):
        self.x = x
        with np.errstate(over="ignore"):
            return np.cosh(x)

    def backward(self, grad):
        with np.errstate(over="ignore", invalid="ignore"):
            return (grad * np.sinh(self.x),)


class Asinh(Function):
    """d asinh x/dx = 1/√(x² + 1)."""

    def forward(self, x):
        self.x = x
        return np.arcsinh(x)

    def backward(self, grad):
        with np.errstate(over="ignore"):
            return (grad / np.sqrt(self.x * self.x + 1),)


class Acosh(Function):
    """d acosh x/dx = 1/√(x² − 1)  (x ≥ 1)."""

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    def backward(self, grad):
        x = self.x
        with np.errstate(**_QUIET):
            # (x − 1)(x + 1) keeps the digits that x² − 1 cancels near 1.
            return (grad / np.sqrt((x - 1) * (x + 1)),)


class Atanh(Function):
    """d atanh x/dx = 1/(1 − x²)."""

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctanh(x)

    def backward(self, grad):
        x = self.x
        with np.errstate(**_QUIET):
            return (grad / ((1 - x) * (1 + x)),)


def float_operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands in one float dtype: integers become the default float dtype."""
    a, b = operands(a, b)
    if a._data.dtype.kind != "f":
        target = dtypes.get_default_dtype()
        a, b = cast(a, target), cast(b, target)
    return a, b


def sin(input: Tensor, *, out: None = None) -> Tensor:
    """sin x elementwise (radians). Shape unchanged."""
    if out is not None:
        refuse_out("sin", out)
    return Sin.apply(as_float(input))


def cos(input: Tensor, *, out: None = None) -> Tensor:
    """cos x elementwise (radians). Shape unchanged."""
    if out is not None:
        refuse_out("cos", out)
    return Cos.apply(as_float(input))


def tan(input: Tensor, *, out: None = None) -> Tensor:
    """tan x elementwise (radians). Shape unchanged."""
    if out is not None:
        refuse_out("tan", out)
    return Tan.apply(as_float(input))


def asin(input: Tensor, *, out: None = None) -> Tensor:
    """arcsin x elementwise, in [−π/2, π/2]; NaN outside [−1, 1]. Also ``arcsin``."""
    if out is not None:
        refuse_out("asin", out)
    return Asin.apply(as_float(input))


def acos(input: Tensor, *, out: None = None) -> Tensor:
    """arccos x elementwise, in [0, π]; NaN outside [−1, 1]. Also ``arccos``."""
    if out is not None:
        refuse_out("acos", out)
    return Acos.apply(as_float(input))


def atan(input: Tensor, *, out: None = None) -> Tensor:
    """arctan x elementwise, in (−π/2, π/2). Also ``arctan``."""
    if out is not None:
        refuse_out("atan", out)
    return Atan.apply(as_float(input))


def atan2(input: Any, other: Any, *, out: None = None) -> Tensor:
    """The angle of the point (other, input): atan(input/other) in the right quadrant, in
    [−π, π]. ``input`` and ``other`` broadcast. Also ``arctan2``."""
    if out is not None:
        refuse_out("atan2", out)
    return Atan2.apply(*float_operands(input, other))


def sinh(input: Tensor, *, out: None = None) -> Tensor:
    """Hyperbolic sine elementwise (±inf past the dtype's range, without a warning)."""
    if out is not None:
        refuse_out("sinh", out)
    return Sinh.apply(as_float(input))


def cosh(input: Tensor, *, out: None = None) -> Tensor:
    """Hyperbolic cosine elementwise (inf past the dtype's range, without a warning)."""
    if out is not None:
        refuse_out("cosh", out)
    return Cosh.apply(as_float(input))


def asinh(input: Tensor, *, out: None = None) -> Tensor:
    """Inverse hyperbolic sine elementwise. Also ``arcsinh``."""
    if out is not None:
        refuse_out("asinh", out)
    return Asinh.apply(as_float(input))


def acosh(input: Tensor, *, out: None = None) -> Tensor:
    """Inverse hyperbolic cosine elementwise; NaN below 1. Also ``arccosh``."""
    if out is not None:
        refuse_out("acosh", out)
    return Acosh.apply(as_float(input))


def atanh(input: Tensor, *, out: None = None) -> Tensor:
    """Inverse hyperbolic tangent elementwise; ±inf at ±1, NaN outside. Also ``arctanh``."""
    if out is not None:
        refuse_out("atanh", out)
    return Atanh.apply(as_float(input))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
