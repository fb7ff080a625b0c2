"""Reductions: sum, mean, max, min, var, logsumexp over all or some dimensions.

PyTorch's signatures: ``dim`` is None (all dimensions), an int or a tuple of ints; ``keepdim``
keeps reduced dimensions as size 1; NumPy's ``axis``/``keepdims`` are accepted as keyword
aliases. Backward expands the gradient back over the reduced dimensions.

Ties in max and min: over all dimensions (or a tuple of them) the gradient is split evenly
between all elements equal to the extreme value (as PyTorch's ``max()``, ``amax``/``amin`` do),
so it is a valid subgradient and sums to the incoming gradient. ``max(x, dim)`` with one int
dimension returns ``(values, indices)`` and, like PyTorch, sends the gradient to the index it
returned: the first extreme element along ``dim``.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from chainrule import return_types
from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import (
    correction_of,
    dim_alias,
    keepdim_alias,
    normalize_axes,
    refuse_out,
)
from chainrule.ops.arithmetic import cast
from chainrule.ops.op_call import call
from chainrule.ops.pointwise import maximum, minimum
from chainrule.ops.sorting import ScatterAlong

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
        n = math.prod([x.shape[a] for a in axes])
        # The mean of nothing is NaN, as in PyTorch (0 × NaN: no division, so no warning).
        self.scale = 1.0 / n if n else math.nan
        # sum × 1/n: ndarray.mean() runs Python code that costs more than the math on small arrays.
        return x.sum(axis=axes, keepdims=keepdims) * self.scale

    def backward(self, grad):
        return (_expand(grad * self.scale, self.axes, self.keepdims, self.shape),)


class Extreme(Function, register=False):
    """Shared by Max and Min: the gradient goes to the extreme elements, split on ties."""

    reduce = staticmethod(np.max)

    def forward(self, x, axes, keepdims):
        if 0 in x.shape:
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


class ExtremeAlongDim(Function, register=False):
    """Shared by MaxDim and MinDim: the value at ``index`` along ``axis``; the gradient goes back
    to that one position."""

    def forward(self, x, index, axis, keepdims):
        self.shape, self.index, self.axis, self.keepdims = x.shape, index, axis, keepdims
        if x.ndim == 0:
            return x.copy()
        out = np.take_along_axis(x, index, axis)
        return out if keepdims else np.squeeze(out, axis=axis)

    def backward(self, grad):
        if not self.shape:
            return (grad,)
        g = grad if self.keepdims else np.expand_dims(grad, self.axis)
        # One index per slice: written into zeros (ScatterAlong's backward takes it back).
        params = {"indices": self.index, "axis": self.axis, "shape": self.shape}
        return (call(ScatterAlong, g, **params, distinct=True),)


class MaxDim(ExtremeAlongDim):
    """d max(x, dim)ᵢ/dxⱼ = 1 if j is the returned index (the first maximum), else 0."""


class MinDim(ExtremeAlongDim):
    """d min(x, dim)ᵢ/dxⱼ = 1 if j is the returned index (the first minimum), else 0."""


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


def sum(
    input: Tensor,
    dim: Axis = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: None = None,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Sum over ``dim`` (all dimensions by default), in ``dtype`` if given.

    Shape: ``input.shape`` without the reduced dimensions (kept as 1 with ``keepdim``).
    """
    if axis is not None:
        dim = dim_alias("sum", dim, axis)
    if keepdims is not None:
        keepdim = keepdim_alias("sum", keepdim, keepdims)
    if out is not None:
        refuse_out("sum", out)
    if dtype is not None:
        input = cast(input, dtype)
    return _reduce(Sum, input, dim, keepdim)


def mean(
    input: Tensor,
    dim: Axis = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: None = None,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Arithmetic mean over ``dim`` (all dimensions by default); NaN over an empty dimension.

    Shape: ``input.shape`` without the reduced dimensions (kept as 1 with ``keepdim``).
    """
    if axis is not None:
        dim = dim_alias("mean", dim, axis)
    if keepdims is not None:
        keepdim = keepdim_alias("mean", keepdim, keepdims)
    if out is not None:
        refuse_out("mean", out)
    input = as_tensor(input) if dtype is None else cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise TypeError(
            f"mean() needs a floating-point tensor; got {input.dtype} (pass dtype= or call "
            ".float() first)"
        )
    return _reduce(Mean, input, dim, keepdim)


def _extreme(name: str, input: Any, dim: Any, keepdim: bool, other: Any) -> Any:
    """What max and min share: the binary form, the full reduction, or (values, indices)."""
    if other is not None or isinstance(dim, (Tensor, np.ndarray)):
        if other is None:
            dim, other = None, dim
        if dim is not None:
            raise TypeError(f"chainrule.{name}: got both other= and dim=; pass one of them")
        return (maximum if name == "max" else minimum)(input, other)
    if dim is None or isinstance(dim, (tuple, list)):
        # Over all dimensions (PyTorch's max()) or several (PyTorch's amax): ties share.
        return _reduce(Max if name == "max" else Min, input, dim, keepdim)
    x = as_tensor(input)
    axis = normalize_axes(dim, x.ndim)[0]
    if x.ndim == 0:
        index = np.zeros((), dtype=np.int64)
        return getattr(return_types, name)(
            MaxDim.apply(x, index=index, axis=0, keepdims=True), Tensor._wrap(index)
        )
    if x.shape[axis] == 0:
        raise IndexError(
            f"{name}(): dimension {dim} of a tensor of shape {x.shape} is empty; there is no "
            f"{'largest' if name == 'max' else 'smallest'} value"
        )
    find = np.argmax if name == "max" else np.argmin
    index = find(x._data, axis=axis, keepdims=True).astype(np.int64, copy=False)
    op = MaxDim if name == "max" else MinDim
    values = op.apply(x, index=index, axis=axis, keepdims=keepdim)
    indices = index if keepdim else np.squeeze(index, axis=axis)
    return getattr(return_types, name)(values, Tensor._wrap(indices))


def max(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    other: Any = None,
    out: None = None,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Any:
    """The largest value: over everything, ``(values, indices)`` along one ``dim``, or the
    elementwise maximum with ``other`` (a tensor, as the second argument).

    ``max(x)`` is 0-d, ties share the gradient; ``max(x, dim)`` is a ``return_types.max`` whose
    ``values`` have ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``) and whose int64
    ``indices`` point at the first maximum; a tuple ``dim`` reduces several (as ``amax``).
    """
    if axis is not None:
        dim = dim_alias("max", dim, axis)
    if keepdims is not None:
        keepdim = keepdim_alias("max", keepdim, keepdims)
    if out is not None:
        refuse_out("max", out)
    return _extreme("max", input, dim, keepdim, other)


def min(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    other: Any = None,
    out: None = None,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Any:
    """The smallest value: over everything, ``(values, indices)`` along one ``dim``, or the
    elementwise minimum with ``other``. Shapes and ties as in :func:`max`."""
    if axis is not None:
        dim = dim_alias("min", dim, axis)
    if keepdims is not None:
        keepdim = keepdim_alias("min", keepdim, keepdims)
    if out is not None:
        refuse_out("min", out)
    return _extreme("min", input, dim, keepdim, other)


def var(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
    out: None = None,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Variance over ``dim``: Σ(x − mean)² / (n − correction).

    ``correction=1`` (the default, as in PyTorch; ``unbiased=True``) is the unbiased estimate;
    ``correction=0`` (``unbiased=False``) gives NumPy's default. Returns NaN or inf where
    ``n − correction ≤ 0``. ``var(x, False)`` is PyTorch's ``var(input, unbiased)`` form.
    """
    if isinstance(dim, bool):  # var(input, unbiased): PyTorch's other overload
        dim, unbiased = None, dim
    if axis is not None:
        dim = dim_alias("var", dim, axis)
    if keepdims is not None:
        keepdim = keepdim_alias("var", keepdim, keepdims)
    if out is not None:
        refuse_out("var", out)
    correction = correction_of("var", unbiased, correction)
    input = as_tensor(input)
    if input._data.dtype.kind != "f":
        raise TypeError(f"var() needs a floating-point tensor; got {input.dtype}")
    return _reduce(Var, input, dim, keepdim, correction=correction)


def logsumexp(
    input: Tensor,
    dim: Axis = None,
    keepdim: bool = False,
    *,
    out: None = None,
    axis: Axis = None,
    keepdims: bool | None = None,
) -> Tensor:
    """log Σ exp(x) over ``dim`` (all dimensions by default), without overflow for any finite
    input. Shape: ``input.shape`` without the reduced dimensions."""
    if axis is not None:
        dim = dim_alias("logsumexp", dim, axis)
    if keepdims is not None:
        keepdim = keepdim_alias("logsumexp", keepdim, keepdims)
    if out is not None:
        refuse_out("logsumexp", out)
    return _reduce(LogSumExp, input, dim, keepdim)
