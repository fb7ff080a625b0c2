"""More activations as functions: silu, mish, hardtanh, relu6, hardswish, hardsigmoid, selu,
celu, softsign, logsigmoid, softmin, glu, threshold, prelu, rrelu, the shrinks, and
``normalize`` (Lp-normalization along a dim).

The smooth ones are written not to overflow (softplus as ``logaddexp``, σ from e^−|x|), so they
are finite and exact at ±1e4. At the kinks of the piecewise-linear ones the gradient follows
PyTorch: hardtanh and relu6 pass it only strictly inside (min, max); hardsigmoid strictly inside
(−3, 3); hardswish's is 0 at −3 and 1 at 3.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.autograd.inplace import update
from chainrule.ops._common import as_float, refuse_out
from chainrule.ops.activation import elu, leaky_relu, relu, softmax, stable_sigmoid, tanh
from chainrule.ops.arithmetic import mul, neg, sub
from chainrule.ops.pointwise import where
from chainrule.ops.shape import reshape
from chainrule.random import GeneratorLike, resolve_generator

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class SiLU(Function):
    """d(x·σ(x))/dx = σ(x)(1 + x(1 − σ(x)))."""

    def forward(self, x):
        self.x, self.s = x, stable_sigmoid(x)
        return x * self.s

    def backward(self, grad):
        s = self.s
        return (grad * (s * (1 + self.x * (1 - s))),)


class Mish(Function):
    """d(x·tanh(softplus x))/dx = tanh(sp) + x·σ(x)·(1 − tanh²(sp)),  sp = log(1 + eˣ)."""

    def forward(self, x):
        self.x, self.t = x, np.tanh(np.logaddexp(0, x))
        return x * self.t

    def backward(self, grad):
        t, x = self.t, self.x
        return (grad * (t + x * stable_sigmoid(x) * (1 - t * t)),)


class Hardtanh(Function):
    """d hardtanh(x)/dx = 1 where min < x < max, else 0."""

    def forward(self, x, lo, hi):
        self.inside = (x > lo) & (x < hi)
        return np.clip(x, lo, hi)

    def backward(self, grad):
        return (grad * self.inside,)


class Hardswish(Function):
    """d hardswish(x)/dx = 0 for x ≤ −3, x/3 + ½ for −3 < x < 3, 1 for x ≥ 3."""

    def forward(self, x):
        self.x = x
        return x * np.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        x = self.x
        slope = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))
        return (grad * slope.astype(grad.dtype, copy=False),)


class Hardsigmoid(Function):
    """d hardsigmoid(x)/dx = 1/6 where −3 < x < 3, else 0."""

    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return np.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        return (grad * self.inside / 6,)


class SELU(Function):
    """d selu(x)/dx = λ where x > 0, else λα·eˣ (λ ≈ 1.0507, α ≈ 1.6733)."""

    def forward(self, x):
        self.x = x
        neg_part = _SELU_ALPHA * np.expm1(np.minimum(x, 0))
        return _SELU_SCALE * np.where(x > 0, x, neg_part)

    def backward(self, grad):
        x = self.x
        slope = np.where(x > 0, _SELU_SCALE, _SELU_SCALE * _SELU_ALPHA * np.exp(np.minimum(x, 0)))
        return (grad * slope.astype(grad.dtype, copy=False),)


class CELU(Function):
    """d celu(x)/dx = 1 where x > 0, else e^(x/α)."""

    def forward(self, x, alpha):
        self.x, self.alpha = x, alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))

    def backward(self, grad):
        x = self.x
        return (np.where(x > 0, grad, grad * np.exp(np.minimum(x, 0) / self.alpha)),)


class Softsign(Function):
    """d(x/(1 + |x|))/dx = 1/(1 + |x|)²."""

    def forward(self, x):
        self.denominator = 1 + np.abs(x)
        return x / self.denominator

    def backward(self, grad):
        d = self.denominator
        return (grad / (d * d),)


class LogSigmoid(Function):
    """d log σ(x)/dx = 1 − σ(x) = σ(−x)."""

    def forward(self, x):
        self.x = x
        return -np.logaddexp(0, -x)

    def backward(self, grad):
        return (grad * stable_sigmoid(-self.x),)


class GLU(Function):
    """glu(x) = a·σ(b), x = [a, b] halved along dim:  d/da = σ(b),  d/db = a·σ(b)(1 − σ(b))."""

    def forward(self, x, axis):
        a, b = np.split(x, 2, axis=axis)
        self.a, self.s, self.axis = a, stable_sigmoid(b), axis
        return a * self.s

    def backward(self, grad):
        a, s = self.a, self.s
        return (np.concatenate([grad * s, grad * a * s * (1 - s)], axis=self.axis),)


class Normalize(Function):
    """d(x/max(‖x‖ₚ, ε))/dx = g/d − x·Σ(g·x)/d² · ∂‖x‖ₚ/∂x  (the last term only where ‖x‖ₚ ≥ ε)."""

    def forward(self, x, p, axis, eps):
        ax = np.abs(x)
        if p == 2:
            n = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
        elif p == math.inf:
            n = np.max(ax, axis=axis, keepdims=True, initial=0)
        else:
            n = np.sum(ax**p, axis=axis, keepdims=True) ** (1 / p)
        self.x, self.n, self.p, self.axis = x, n, p, axis
        self.d = np.maximum(n, eps)
        self.out = x / self.d
        return self.out

    def backward(self, grad):
        x, n, d, p, axis = self.x, self.n, self.d, self.p, self.axis
        gd = -np.sum(grad * x, axis=axis, keepdims=True) / (d * d) * (n >= d)
        safe_n = np.where(n > 0, n, 1)
        if p == 2:
            dn = x / safe_n
        elif p == math.inf:
            top = np.abs(x) == n
            dn = np.sign(x) * top / np.maximum(np.sum(top, axis=axis, keepdims=True), 1)
        else:
            dn = np.sign(x) * (np.abs(x) / safe_n) ** (p - 1)
        return (grad / d + gd * dn,)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (the swish), elementwise. ``inplace`` is accepted and ignored."""
    return SiLU.apply(as_float(input))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)), elementwise, without overflow. ``inplace`` is ignored."""
    return Mish.apply(as_float(input))


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient passes strictly inside. Shape unchanged."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    x = as_float(input)
    kind = x._data.dtype.type
    return Hardtanh.apply(x, lo=kind(min_val), hi=kind(max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), elementwise: hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·relu6(x + 3)/6, elementwise."""
    return Hardswish.apply(as_float(input))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3)/6, elementwise: 0 below −3, 1 above 3, linear between."""
    return Hardsigmoid.apply(as_float(input))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """λ·elu(x, α) with the self-normalizing constants λ ≈ 1.0507, α ≈ 1.6733."""
    return SELU.apply(as_float(input))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else α(e^(x/α) − 1): continuously differentiable for every α."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    x = as_float(input)
    return CELU.apply(x, alpha=x._data.dtype.type(alpha))


def softsign(input: Tensor) -> Tensor:
    """x/(1 + |x|), elementwise."""
    return Softsign.apply(as_float(input))


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x), elementwise: finite for every finite x."""
    return LogSigmoid.apply(as_float(input))


def softmin(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """softmax(−x) along ``dim`` (alias ``axis``; the last by default). Shape unchanged."""
    return softmax(neg(as_float(input)), dim, dtype=dtype, axis=axis)


def _dim(x: Tensor, dim: int, name: str) -> int:
    """``dim`` as a non-negative axis of ``x``, or IndexError in PyTorch's words."""
    nd = builtins.max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(
            f"{name}: dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
            f"but got {dim})"
        )
    return dim % nd


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a·σ(b), where a and b are the two halves of ``input`` along ``dim``.

    Shapes: ``(…, 2n, …) -> (…, n, …)``; the halved dim must have even size.
    """
    x = as_float(input)
    if x.ndim == 0:
        raise ValueError("glu does not support 0-dimensional tensors")
    axis = _dim(x, dim, "glu")
    if x.shape[axis] % 2:
        raise ValueError(
            f"glu: halving dimension must be even, but dimension {dim} is size {x.shape[axis]}"
        )
    return GLU.apply(x, axis=axis)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: None = None
) -> Tensor:
    """x / max(‖x‖ₚ, eps) along ``dim`` (an int or a tuple): unit Lp-norm slices. Shape
    unchanged. ``p`` is any positive number or ``math.inf``."""
    if out is not None:
        refuse_out("normalize", out)
    if not p > 0:
        raise ValueError(f"normalize: p must be positive (or inf); got {p}")
    x = as_float(input)
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axis = tuple(_dim(x, d, "normalize") for d in dims) if x.ndim else None
    return Normalize.apply(x, p=float(p), axis=axis, eps=eps)


# ----- compositions of existing ops: they inherit every derivative their parts have --------------


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > ``threshold``, else ``value``; the gradient passes only where x > threshold.

    ``inplace`` is accepted and computes out of place (a new tensor). Shape unchanged.
    """
    x = as_float(input)
    return where(x._data > threshold, x, value)


# The parameter of threshold_ that bears PyTorch's name hides the function.
_threshold = threshold


def _check_lambd(name: str, lambd: float) -> None:
    if not lambd >= 0:
        raise RuntimeError(f"{name}: lambda must be in range [0, inf), but found {lambd}")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > ``lambd``, else 0; the gradient passes only where |x| > lambd. Shape
    unchanged."""
    x = as_float(input)
    return where(np.abs(x._data) > lambd, x, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − lambd·sign(x) where |x| > ``lambd``, else 0 (``lambd`` ≥ 0). Shape unchanged."""
    _check_lambd("softshrink", lambd)
    x = as_float(input)
    outside = np.abs(x._data) > lambd
    # sign(x)·lambd is a constant, so the gradient is 1 outside [−lambd, lambd] and 0 inside.
    shift = np.where(outside, np.sign(x._data) * x._data.dtype.type(lambd), 0).astype(x.dtype)
    return where(outside, sub(x, shift), 0.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x), elementwise. Shape unchanged."""
    x = as_float(input)
    return sub(x, tanh(x))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight·x, with one learned slope per channel (dim 1) or one for all.

    Shapes: ``input`` ``(N, C, *)`` (or any shape when ``weight`` has one element), ``weight``
    ``(C,)``, ``(1,)`` or ``()`` → output the shape of ``input``. Gradients reach both.
    """
    x, w = as_float(input), as_float(weight)
    if w.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}"
        )
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w._data.size not in (1, channels):
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{w._data.size} and channel size = {channels}."
        )
    # One slope per channel broadcasts along dim 1; a single slope along everything.
    shape = (channels,) + (1,) * (x.ndim - 2) if w._data.size > 1 else ()
    slope = reshape(w, shape)
    return where(x._data > 0, x, mul(slope, x))


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """x where x > 0, else a·x: a ~ U(lower, upper) per element in training, (lower + upper)/2
    otherwise.

    The slopes are drawn from ``generator`` (chainrule's global generator by default), so they
    differ from PyTorch's draws. ``inplace`` computes out of place. Shape unchanged.
    """
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    x = as_float(input)
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    rng = resolve_generator(generator)
    slopes = rng.uniform(lower, upper, x.shape).astype(x.dtype)
    # As PyTorch, 0 counts as negative here: its gradient is the drawn slope.
    return mul(x, np.where(x._data <= 0, slopes, 1).astype(x.dtype))


# ----- PyTorch's in-place functional forms: the out-of-place result written back -------------


def relu_(input: Tensor) -> Tensor:
    """:func:`relu` written into ``input`` in place (PyTorch's rules for leaves and views)."""
    return update(as_tensor(input), relu)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """:func:`leaky_relu` written into ``input`` in place."""
    return update(as_tensor(input), lambda x: leaky_relu(x, negative_slope))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`elu` written into ``input`` in place."""
    return update(as_tensor(input), lambda x: elu(x, alpha))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`celu` written into ``input`` in place."""
    return update(as_tensor(input), lambda x: celu(x, alpha))


def selu_(input: Tensor) -> Tensor:
    """:func:`selu` written into ``input`` in place."""
    return update(as_tensor(input), selu)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """:func:`hardtanh` written into ``input`` in place."""
    return update(as_tensor(input), lambda x: hardtanh(x, min_val, max_val))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """:func:`threshold` written into ``input`` in place."""
    return update(as_tensor(input), lambda x: _threshold(x, threshold, value))


def rrelu_(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """:func:`rrelu` written into ``input`` in place."""
    return update(as_tensor(input), lambda x: rrelu(x, lower, upper, training, generator=generator))
