"""Statistics over axes: std (with ``correction``), std_mean, var_mean, prod, amax, amin,
aminmax, any, all, argmax, argmin, count_nonzero.

Every function takes PyTorch's ``dim``/``keepdim`` and NumPy's ``axis``/``keepdims`` (keyword
aliases); ``dim`` is None (all axes), an int or a tuple of ints. ``var`` itself lives in
:mod:`chainrule.ops.reduction`. Integer results (argmax, any, count_nonzero) are constants.

Subgradients follow PyTorch: ``std`` has gradient 0 where the standard deviation is 0; the
gradient of ``prod`` at zeros is the product of the other elements (non-zero only when the
slice holds exactly one zero); ties in ``amax``/``amin`` share the gradient evenly.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import correction_of, dim_alias, normalize_axes, refuse_out
from chainrule.ops.reduction import Max, Min, Var, mean

Dim = int | tuple[int, ...] | list[int] | None


def resolve_dims(name: str, x: Tensor, dim: Any, axis: Any) -> tuple[int, ...]:
    """The reduced axes for ``dim`` (or its NumPy alias ``axis``); () for a 0-d tensor."""
    if axis is not None:
        dim = dim_alias(name, dim, axis, "dim and its alias axis")
    axes = normalize_axes(dim, x.ndim)
    return () if x.ndim == 0 else axes


def resolve_keepdim(keepdim: bool, keepdims: bool | None) -> bool:
    return keepdim if keepdims is None else keepdims


def _float_only(name: str, x: Tensor) -> None:
    if x._data.dtype.kind != "f":
        raise TypeError(f"{name}() needs a floating-point tensor; got {x.dtype}")


class Std(Function):
    """d std(x)/dxⱼ = (xⱼ − mean x)/((n − correction)·std(x)), and 0 where std(x) = 0."""

    def forward(self, x, axes, keepdims, correction):
        n = math.prod([x.shape[a] for a in axes])
        with np.errstate(divide="ignore", invalid="ignore"):
            centered = x - x.sum(axis=axes, keepdims=True) / n
            self.dof = builtins.max(n - correction, 0)
            var = (centered * centered).sum(axis=axes, keepdims=True) / self.dof
            out = np.sqrt(var)
        self.centered, self.var, self.axes, self.keepdims = centered, var, axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    def backward(self, grad):
        g = grad if self.keepdims else np.expand_dims(grad, self.axes)
        zero = self.var == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            # std = √var, with √1 in place of a zero std: the discarded branch has no 0/0, and
            # (on tensors) no infinite derivative of √ at 0 to multiply by 0.
            std = np.sqrt(np.where(zero, 1, self.var))
            scale = np.where(zero, 0.0, g / (self.dof * std))
        return (scale.astype(grad.dtype, copy=False) * self.centered,)


class Prod(Function):
    """d(Πᵢ xᵢ)/dxⱼ = Πᵢ≠ⱼ xᵢ (exact at zeros: no division by a zero element)."""

    def forward(self, x, axes, keepdims):
        self.x, self.axes, self.keepdims = x, axes, keepdims
        return x.prod(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        x, axes = self.x, self.axes
        g = grad if self.keepdims else np.expand_dims(grad, axes)
        zeros = x == 0
        count = zeros.sum(axis=axes, keepdims=True)
        safe = np.where(zeros, 1, x)
        others = np.prod(safe, axis=axes, keepdims=True)  # product of the non-zero elements
        at_zero = np.where(count == 1, others, 0)
        elsewhere = np.where(count == 0, others / safe, 0)
        if not isinstance(x, np.ndarray) and np.any(count):  # terms of value 0 (see below)
            extra_at_zero, extra_elsewhere = _zero_terms(x, axes, zeros, count, safe, others)
            at_zero, elsewhere = at_zero + extra_at_zero, elsewhere + extra_elsewhere
        return (g * np.where(zeros, at_zero, elsewhere).astype(x.dtype, copy=False),)


def _zero_terms(x, axes, zeros, count, safe, others):
    """Terms of value 0 to add to Prod's gradient at and off the zeros, so that its derivatives
    are those of Πᵢ≠ⱼ xᵢ (PyTorch's double backward at zeros): the other zero times others at
    the zeros of a slice holding two, and Π of the zeros times others/xⱼ off the zero of a slice
    holding one. Only their derivatives count, so the first-order pass (arrays) skips them."""
    zero_product = np.prod(np.where(zeros, x, 1), axis=axes, keepdims=True)
    zero_sum = np.sum(np.where(zeros, x, 0), axis=axes, keepdims=True)
    return (count == 2) * others * (zero_sum - x), (count == 1) * (others / safe) * zero_product


def std(
    input: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Standard deviation over ``dim``: √(Σ(x − mean)² / (n − correction)).

    ``correction=1`` (default; ``unbiased=True``) is Bessel's correction, ``correction=0``
    (``unbiased=False``) NumPy's default. Shape: ``input.shape`` without the reduced axes
    (kept as size 1 with ``keepdim``). NaN or inf where ``n − correction ≤ 0``.
    """
    refuse_out("std", out)
    if isinstance(dim, bool):  # torch.std(x, True): the old positional unbiased
        dim, unbiased = None, dim
    x = as_tensor(input)
    _float_only("std", x)
    c = correction_of("std", unbiased, correction)
    axes = resolve_dims("std", x, dim, axis)
    return Std.apply(x, axes=axes, keepdims=resolve_keepdim(keepdim, keepdims), correction=c)


def _moment_and_mean(name, op, input, dim, unbiased, keepdim, correction, axis, keepdims):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    x = as_tensor(input)
    _float_only(name, x)
    c = correction_of(name, unbiased, correction)
    axes = resolve_dims(name, x, dim, axis)
    keep = resolve_keepdim(keepdim, keepdims)
    return op.apply(x, axes=axes, keepdims=keep, correction=c), mean(x, axes, keep)


def std_mean(
    input: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> tuple[Tensor, Tensor]:
    """``(std(input, dim), mean(input, dim))`` in one call, as ``torch.std_mean``."""
    refuse_out("std_mean", out)
    return _moment_and_mean(
        "std_mean", Std, input, dim, unbiased, keepdim, correction, axis, keepdims
    )


def var_mean(
    input: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> tuple[Tensor, Tensor]:
    """``(var(input, dim), mean(input, dim))`` in one call, as ``torch.var_mean``."""
    refuse_out("var_mean", out)
    return _moment_and_mean(
        "var_mean", Var, input, dim, unbiased, keepdim, correction, axis, keepdims
    )


def prod(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Product over ``dim`` (all elements by default). Integer and bool tensors give int64, as
    in PyTorch; ``dtype=`` casts the input first. Shape: ``input.shape`` without ``dim``."""
    refuse_out("prod", out)
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu":
        x = Tensor._wrap(x._data.astype(np.int64))
    axes = resolve_dims("prod", x, dim, axis)
    return Prod.apply(x, axes=axes, keepdims=resolve_keepdim(keepdim, keepdims))


def _extreme(name, op, input, dim, keepdim, axis, keepdims, out) -> Tensor:
    refuse_out(name, out)
    x = as_tensor(input)
    if dim == ():
        dim = None  # torch.amax(x, dim=()) reduces every axis
    axes = resolve_dims(name, x, dim, axis)
    empty = [a for a in axes if x.shape[a] == 0] if x._data.size == 0 else []
    if empty or (x._data.size == 0 and not axes):
        raise IndexError(f"{name}(): expected reduction dim {empty[:1] or 0} to have non-zero size")
    return op.apply(x, axes=axes, keepdims=resolve_keepdim(keepdim, keepdims))


def amax(
    input: Tensor,
    dim: Dim = (),
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Largest value over ``dim`` (every axis by default); ties share the gradient evenly."""
    return _extreme("amax", Max, input, dim, keepdim, axis, keepdims, out)


def amin(
    input: Tensor,
    dim: Dim = (),
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Smallest value over ``dim`` (every axis by default); ties share the gradient evenly."""
    return _extreme("amin", Min, input, dim, keepdim, axis, keepdims, out)


class MinMax(NamedTuple):
    """Result of :func:`aminmax` (``torch.return_types.aminmax``): smallest and largest values."""

    min: Any
    max: Any


def aminmax(
    input: Tensor, *, dim: int | None = None, keepdim: bool = False, axis: int | None = None
) -> MinMax:
    """``(min, max)`` over ``dim`` (all elements by default), as ``torch.aminmax``."""
    return MinMax(
        _extreme("aminmax", Min, input, dim, keepdim, axis, None, None),
        _extreme("aminmax", Max, input, dim, keepdim, axis, None, None),
    )


def _logical(name, fn, input, dim, keepdim, axis, keepdims, out) -> Tensor:
    refuse_out(name, out)
    x = as_tensor(input)
    axes = resolve_dims(name, x, dim, axis)
    result = fn(x._data, axis=axes, keepdims=resolve_keepdim(keepdim, keepdims))
    # torch keeps uint8 for uint8 input and gives bool for everything else
    return Tensor._wrap(result.astype(np.uint8 if x._data.dtype == np.uint8 else np.bool_))


def any(
    input: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Whether any element over ``dim`` is non-zero: a bool tensor (not differentiable)."""
    return _logical("any", np.any, input, dim, keepdim, axis, keepdims, out)


def all(
    input: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Whether every element over ``dim`` is non-zero: a bool tensor (not differentiable)."""
    return _logical("all", np.all, input, dim, keepdim, axis, keepdims, out)


def _arg(name, fn, input, dim, keepdim, axis, keepdims, out) -> Tensor:
    refuse_out(name, out)
    x = as_tensor(input)
    keep = resolve_keepdim(keepdim, keepdims)
    if axis is not None:
        dim = dim_alias(name, dim, axis, "dim and its alias axis")
    if x._data.size == 0 and (dim is None or x.shape[normalize_axes(dim, x.ndim)[0]] == 0):
        raise IndexError(f"{name}(): expected reduction dim to be specified for input.numel() == 0")
    if dim is None or x.ndim == 0:
        index = np.int64(fn(x._data))
        return Tensor._wrap(np.full((1,) * x.ndim if keep else (), index, dtype=np.int64))
    (ax,) = normalize_axes(dim, x.ndim)
    return Tensor._wrap(fn(x._data, axis=ax, keepdims=keep).astype(np.int64, copy=False))


def argmax(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Index of the largest value over ``dim`` (of the flattened tensor when ``dim`` is None);
    the first one on ties. An int64 tensor (not differentiable)."""
    return _arg("argmax", np.argmax, input, dim, keepdim, axis, keepdims, out)


def argmin(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """Index of the smallest value over ``dim`` (of the flattened tensor when ``dim`` is None);
    the first one on ties. An int64 tensor (not differentiable)."""
    return _arg("argmin", np.argmin, input, dim, keepdim, axis, keepdims, out)


def count_nonzero(input: Tensor, dim: Dim = None, *, axis: Dim = None) -> Tensor:
    """Number of non-zero elements over ``dim`` (all by default): an int64 tensor."""
    x = as_tensor(input)
    axes = resolve_dims("count_nonzero", x, dim, axis)
    return Tensor._wrap(np.asarray(np.count_nonzero(x._data, axis=axes), dtype=np.int64))
