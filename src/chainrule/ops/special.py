"""More elementwise math: rsqrt, reciprocal, square, log1p, expm1, log2, log10, exp2,
logaddexp, lerp, hypot and nan_to_num (erf and its kin live in :mod:`chainrule.ops.erf`).

Every formula is the numerically careful one: log1p and expm1 keep the digits that
log(1 + x) and eˣ − 1 lose near 0, logaddexp never overflows, hypot never squares. Values
outside a domain (log of a negative number) are NaN and poles are ±inf, without NumPy warnings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float, refuse_out
from chainrule.ops.arithmetic import cast
from chainrule.ops.trig import float_operands

_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


class Rsqrt(Function):
    """d x^(−½)/dx = −½ x^(−3/2)."""

    def forward(self, x):
        with np.errstate(**_QUIET):
            self.out = 1 / np.sqrt(x)
        return self.out

    def backward(self, grad):
        out = self.out
        with np.errstate(**_QUIET):
            return (grad * (-0.5 * out * out * out),)


class Reciprocal(Function):
    """d(1/x)/dx = −1/x²."""

    def forward(self, x):
        with np.errstate(divide="ignore"):
            self.out = 1 / x
        return self.out

    def backward(self, grad):
        with np.errstate(**_QUIET):
            return (-grad * self.out * self.out,)


class Square(Function):
    """d x²/dx = 2x."""

    def forward(self, x):
        self.x = x
        with np.errstate(over="ignore"):
            return x * x

    def backward(self, grad):
        return (grad * (2 * self.x),)


class Log1p(Function):
    """d log(1 + x)/dx = 1/(1 + x)."""

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (1 + self.x),)


class Expm1(Function):
    """d(eˣ − 1)/dx = eˣ."""

    def forward(self, x):
        with np.errstate(over="ignore"):
            self.out = np.expm1(x)
        return self.out

    def backward(self, grad):
        return (grad * (self.out + 1),)


class Log2(Function):
    """d log₂ x/dx = 1/(x ln 2)."""

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(x)

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (self.x * _LN2),)


class Log10(Function):
    """d log₁₀ x/dx = 1/(x ln 10)."""

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(x)

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (self.x * _LN10),)


class Exp2(Function):
    """d 2ˣ/dx = 2ˣ ln 2."""

    def forward(self, x):
        with np.errstate(over="ignore"):
            self.out = np.exp2(x)
        return self.out

    def backward(self, grad):
        return (grad * self.out * _LN2,)


class LogAddExp(Function):
    """d log(eᵃ + eᵇ)/da = e^(a − out),  …/db = e^(b − out) (softmax weights of a and b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.logaddexp(a, b)
        return self.out

    def backward(self, grad):
        out = self.out
        with np.errstate(invalid="ignore"):
            ga = grad * np.exp(self.a - out) if self.needs_input_grad[0] else None
            gb = grad * np.exp(self.b - out) if self.needs_input_grad[1] else None
        return ga, gb


class Lerp(Function):
    """d lerp(a, b, w)/da = 1 − w,  …/db = w,  …/dw = b − a."""

    def forward(self, a, b, w=None, weight=None):
        w = weight if w is None else w
        self.a, self.b, self.w = a, b, w
        # PyTorch's two-sided form: exact at w = 0 and at w = 1.
        return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))

    def backward(self, grad):
        need = self.needs_input_grad
        w = self.w
        ga = grad * (1 - w) if need[0] else None
        gb = grad * w if need[1] else None
        if len(need) == 2:
            return ga, gb
        return ga, gb, (grad * (self.b - self.a) if need[2] else None)


class Hypot(Function):
    """d √(a² + b²)/da = a/out,  …/db = b/out (NaN at the origin, as in PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.hypot(a, b)
        return self.out

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / self.out
        ga = scale * self.a if self.needs_input_grad[0] else None
        gb = scale * self.b if self.needs_input_grad[1] else None
        return ga, gb


class NanToNum(Function):
    """d nan_to_num(x)/dx = 1 where x is finite, else 0."""

    def forward(self, x, nan, posinf, neginf):
        self.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, grad):
        return (grad * self.finite,)


def rsqrt(input: Tensor, *, out: None = None) -> Tensor:
    """1/√x elementwise: inf at 0, NaN below."""
    if out is not None:
        refuse_out("rsqrt", out)
    return Rsqrt.apply(as_float(input))


def reciprocal(input: Tensor, *, out: None = None) -> Tensor:
    """1/x elementwise (±inf at ±0); integer tensors give floats, as in PyTorch."""
    if out is not None:
        refuse_out("reciprocal", out)
    return Reciprocal.apply(as_float(input))


def square(input: Tensor, *, out: None = None) -> Tensor:
    """x² elementwise; integer tensors stay integer (as in PyTorch)."""
    if out is not None:
        refuse_out("square", out)
    return Square.apply(as_tensor(input))


def log1p(input: Tensor, *, out: None = None) -> Tensor:
    """log(1 + x) elementwise, accurate for tiny x; −inf at −1, NaN below."""
    if out is not None:
        refuse_out("log1p", out)
    return Log1p.apply(as_float(input))


def expm1(input: Tensor, *, out: None = None) -> Tensor:
    """eˣ − 1 elementwise, accurate for tiny x (inf past the dtype's range, without warning)."""
    if out is not None:
        refuse_out("expm1", out)
    return Expm1.apply(as_float(input))


def log2(input: Tensor, *, out: None = None) -> Tensor:
    """Base-2 logarithm elementwise; −inf at 0, NaN below."""
    if out is not None:
        refuse_out("log2", out)
    return Log2.apply(as_float(input))


def log10(input: Tensor, *, out: None = None) -> Tensor:
    """Base-10 logarithm elementwise; −inf at 0, NaN below."""
    if out is not None:
        refuse_out("log10", out)
    return Log10.apply(as_float(input))


def exp2(input: Tensor, *, out: None = None) -> Tensor:
    """2ˣ elementwise (inf past the dtype's range, without a warning)."""
    if out is not None:
        refuse_out("exp2", out)
    return Exp2.apply(as_float(input))


def logaddexp(input: Any, other: Any, *, out: None = None) -> Tensor:
    """log(eᵃ + eᵇ) elementwise with broadcasting, without overflow."""
    if out is not None:
        refuse_out("logaddexp", out)
    return LogAddExp.apply(*float_operands(input, other))


def lerp(input: Any, end: Any, weight: Any, *, out: None = None) -> Tensor:
    """input + weight·(end − input), broadcast; ``weight`` a number or a tensor (then it is
    differentiable too). Exact at weight 0 and 1."""
    if out is not None:
        refuse_out("lerp", out)
    a, b = float_operands(input, end)
    if isinstance(weight, Tensor):
        w = cast(weight, a._data.dtype)
        return Lerp.apply(a, b, w)
    return Lerp.apply(a, b, weight=a._data.dtype.type(weight))


def hypot(input: Any, other: Any, *, out: None = None) -> Tensor:
    """√(a² + b²) elementwise with broadcasting, without overflow or underflow."""
    if out is not None:
        refuse_out("hypot", out)
    return Hypot.apply(*float_operands(input, other))


def nan_to_num(
    input: Tensor,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
    *,
    out: None = None,
) -> Tensor:
    """NaN → ``nan``, +inf → ``posinf``, −inf → ``neginf`` (by default the dtype's largest and
    smallest finite values). The gradient passes where x is finite. Integers are returned as is.
    """
    if out is not None:
        refuse_out("nan_to_num", out)
    x = as_tensor(input)
    if x._data.dtype.kind != "f":
        return Tensor._wrap(x._data.copy())
    return NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)
