"""Reductions: sum, mean, max, min, var, logsumexp over all or some axes.

``axis`` is None (all axes), an int or a tuple of ints; ``keepdims`` keeps reduced axes as size 1.
Backward expands the gradient back over the reduced axes.

Ties in max and min: the gradient is split evenly between all elements equal to the extreme
value (as PyTorch's ``amax``/``amin`` do), so it is a valid subgradient and sums to the
incoming gradient.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import normalize_axes

Axis = int | tuple[int, ...] | None


def _expand(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool, shape: tuple[int, ...]):
    """Bring a reduced gradient back to ``shape`` (a read-only broadcast view)."""
    if not keepdims and axes:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    """d(Σᵢ xᵢ)/dxⱼ = 1."""

    def forward(self, x, axes, keepdims):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        return (_expand(grad, self.axes, self.keepdims, self.shape),)


class Mean(Function):
    """d(mean x)/dxⱼ = 1/n, n the number of reduced elements."""

    def forward(self, x, axes, keepdims):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        self.n = math.prod([x.shape[a] for a in axes])
        if self.n == 0:
            raise ValueError(f"Mean: mean over an empty axis of a tensor of shape {x.shape}")
        # sum × 1/n: ndarray.mean() runs Python code that costs more than the math on small arrays.
        return x.sum(axis=axes, keepdims=keepdims) * (1.0 / self.n)

    def backward(self, grad):
        return (_expand(grad * (1.0 / self.n), self.axes, self.keepdims, self.shape),)


class Extreme(Function, register=False):
    """Shared by Max and Min: the gradient goes to the extreme elements, split on ties."""

    reduce = staticmethod(np.max)

    def forward(self, x, axes, keepdims):
        if x.size == 0:
            raise ValueError(f"{self.op_name} of an empty tensor of shape {x.shape}")
        out = self.reduce(x, axis=axes, keepdims=True)
        self.x, self.out_kept, self.axes, self.keepdims = x, out, axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    def backward(self, grad):
        hit = self.x == self.out_kept
        count = hit.sum(axis=self.axes, keepdims=True)
        g = grad if self.keepdims else np.expand_dims(grad, self.axes)
        return (hit * (g / count.astype(g.dtype)),)


class Max(Extreme):
    """d(max x)/dxⱼ = 1/k if xⱼ is one of the k maximal elements, else 0."""

    reduce = staticmethod(np.max)


class Min(Extreme):
    """d(min x)/dxⱼ = 1/k if xⱼ is one of the k minimal elements, else 0."""

    reduce = staticmethod(np.min)


class Var(Function):
    """d var(x)/dxⱼ = 2(xⱼ − mean x)/(n − correction)."""

    def forward(self, x, axes, keepdims, correction):
        n = math.prod([x.shape[a] for a in axes])
        centered = x - x.mean(axis=axes, keepdims=True)
        self.centered, self.axes, self.keepdims = centered, axes, keepdims
        self.dof = builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centered * centered).sum(axis=axes, keepdims=keepdims) / self.dof

    def backward(self, grad):
        g = grad if self.keepdims else np.expand_dims(grad, self.axes)
        scale = 2.0 / self.dof if self.dof else np.inf
        with np.errstate(invalid="ignore"):
            return (g * scale * self.centered,)


class LogSumExp(Function):
    """d log Σ exp(x)/dxⱼ = softmax(x)ⱼ (computed shifted by max x, so never overflows)."""

    def forward(self, x, axes, keepdims):
        m = np.max(x, axis=axes, keepdims=True)
        # An all −inf slice has max −inf; shifting by it would give NaN, by 0 gives −inf.
        m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)
        e = np.exp(x - m)
        s = e.sum(axis=axes, keepdims=True)
        with np.errstate(divide="ignore"):
            out = np.log(s) + m
        self.e, self.s, self.axes, self.keepdims = e, s, axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    def backward(self, grad):
        g = grad if self.keepdims else np.expand_dims(grad, self.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (self.e / self.s),)


def _reduce(op: type[Function], x: Tensor, axis: Axis, keepdims: bool, **params) -> Tensor:
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    if x.ndim == 0:
        axes = ()
    return op.apply(x, axes=axes, keepdims=keepdims, **params)


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes by default). Shape: ``x.shape`` without the reduced axes."""
    return _reduce(Sum, x, axis, keepdims)


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (all axes by default)."""
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        raise TypeError(f"mean() needs a floating-point tensor; got {x.dtype}")
    return _reduce(Mean, x, axis, keepdims)


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Largest value over ``axis``; ties share the gradient evenly."""
    return _reduce(Max, x, axis, keepdims)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Smallest value over ``axis``; ties share the gradient evenly."""
    return _reduce(Min, x, axis, keepdims)


def var(x: Tensor, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance over ``axis``: Σ(x − mean)² / (n − correction).

    ``correction=1`` (the default, as in PyTorch) is the unbiased estimate; ``correction=0``
    gives NumPy's default. Returns NaN or inf where ``n − correction ≤ 0``.
    """
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        raise TypeError(f"var() needs a floating-point tensor; got {x.dtype}")
    return _reduce(Var, x, axis, keepdims, correction=correction)


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis``, computed without overflow for any finite input."""
    return _reduce(LogSumExp, x, axis, keepdims)
