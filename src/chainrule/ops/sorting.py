"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, mode (and msort).

Each op that returns ``(values, indices)`` finds the indices with NumPy first; the values are
then taken at those indices by a :class:`Selection` op, whose gradient scatters back to the
positions the values came from (adding where one position was taken twice, as in cummax).
Indices are int64 constants. A 0-d input is treated as one element along ``dim`` 0 or -1.

Ties: ``sort`` is always stable (equal values keep their order, also with
``descending=True``); NaN sorts as the largest value, as in PyTorch. ``median()`` over all
elements gives the lower median and shares the gradient evenly between equal elements, as
``torch.median(x)`` does; ``mode`` returns the smallest most frequent value and the last index
where it occurs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import return_types
from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import dim_alias, normalize_axes, refuse_out
from chainrule.ops.op_call import call


def scatter_add(values: np.ndarray, indices: np.ndarray, axis: int, shape: tuple[int, ...]):
    """An array of ``shape``, zero except ``values`` added at ``indices`` along ``axis``
    (``values`` and ``indices`` have one shape, equal to ``shape`` except along ``axis``)."""
    v = np.moveaxis(values, axis, -1)
    i = np.moveaxis(indices, axis, -1)
    n = shape[axis]
    lead = v.shape[:-1]
    rows = math.prod(lead)
    flat = i.reshape(rows, i.shape[-1]) + (np.arange(rows) * n)[:, None]
    summed = np.bincount(flat.ravel(), weights=v.reshape(-1), minlength=rows * n)
    return np.moveaxis(summed.reshape(*lead, n).astype(values.dtype, copy=False), -1, axis)


class Selection(Function, register=False):
    """Values taken at ``indices`` along ``axis``; their gradient scatters back (and adds)."""

    def forward(self, x, indices, axis, shape):
        self.x_shape, self.indices, self.axis = x.shape, indices, axis
        return np.take_along_axis(x.reshape(x.shape or (1,)), indices, axis).reshape(shape)

    def backward(self, grad):
        g = grad.reshape(self.indices.shape)
        full = call(ScatterAlong, g, indices=self.indices, axis=self.axis, shape=self.x_shape)
        return (full.reshape(self.x_shape),)


class ScatterAlong(Function):
    """d scatter_along(v)/dvₖ = the gradient read back at position k's index (take_along_axis).

    ``v`` added into zeros of ``shape`` at ``indices`` along ``axis`` (the adjoint of
    :class:`Selection`); ``distinct=True`` promises no index repeats, so values are written.
    """

    def forward(self, v, indices, axis, shape, distinct=False):
        self.indices, self.axis, self.v_shape = indices, axis, v.shape
        if distinct:
            out = np.zeros(shape, dtype=v.dtype)
            np.put_along_axis(out, indices, v, axis)
            return out
        return scatter_add(v, indices, axis, shape or (1,))

    def backward(self, grad):
        return (np.take_along_axis(grad, self.indices, self.axis).reshape(self.v_shape),)


class Sort(Selection):
    """d sort(x)ᵢ/dxⱼ = 1 if xⱼ is the i-th in order, else 0."""


class TopK(Selection):
    """d topk(x)ᵢ/dxⱼ = 1 if xⱼ is the i-th selected, else 0."""


class KthValue(Selection):
    """d kthvalue(x)/dxⱼ = 1 if xⱼ is the k-th smallest, else 0."""


class Median(Selection):
    """d median(x, dim)/dxⱼ = 1 if xⱼ is the (lower) median of its slice, else 0."""


class Mode(Selection):
    """d mode(x, dim)/dxⱼ = 1 at the returned index of the most frequent value, else 0."""


class MedianAll(Function):
    """d median(x)/dxⱼ = 1/k if xⱼ is one of the k elements equal to the lower median, else 0."""

    def forward(self, x):
        flat = np.sort(x.reshape(-1))
        out = flat[(flat.size - 1) // 2] if flat.size else np.asarray(np.nan, x.dtype)
        # Saved as the output array itself: a create_graph backward holds the output tensor here.
        self.x, self.out = x, np.asarray(out, dtype=x.dtype)
        return self.out

    def backward(self, grad):
        hit = self.x == self.out
        return (hit * (grad / hit.sum().astype(grad.dtype)),)


def _prepare(name: str, input: Any, dim: Any, axis: Any) -> tuple[Tensor, np.ndarray, int]:
    """The tensor, its data as at least 1-d, and ``dim`` as a non-negative axis."""
    x = as_tensor(input)
    if axis is not None:  # dim defaults to -1 here: only another value counts as given
        dim = dim_alias(name, None if dim == -1 else dim, axis, "dim and its alias axis")
    if dim is None:
        dim = -1
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): dim must be an int, got {type(dim).__name__}")
    (ax,) = normalize_axes(dim, x.ndim)
    return x, x._data if x.ndim else x._data.reshape(1), ax


def _order(a: np.ndarray, ax: int, descending: bool) -> np.ndarray:
    """Stable sorting indices along ``ax``; descending keeps equal values in their order."""
    if not descending:
        return np.argsort(a, axis=ax, kind="stable")
    flipped = np.argsort(np.flip(a, ax), axis=ax, kind="stable")
    return a.shape[ax] - 1 - np.flip(flipped, ax)


def _select(op: type[Selection], x: Tensor, idx: np.ndarray, ax: int, keep: bool, result: Any):
    """``result(values, indices)`` for indices ``idx`` (kept-dim) along ``ax``."""
    shape = idx.shape if x.ndim else ()
    if not keep and x.ndim:
        shape = shape[:ax] + shape[ax + 1 :]
    values = op.apply(x, indices=idx, axis=ax, shape=shape)
    return result(values, Tensor._wrap(idx.reshape(shape).astype(np.int64, copy=False)))


def sort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    stable: bool = False,
    *,
    axis: int | None = None,
    out: None = None,
) -> return_types.sort:
    """``(values, indices)``: ``input`` sorted along ``dim``, and where each value came from.

    Shapes: both ``input.shape``. Always stable (``stable=`` is accepted for PyTorch's sake).
    """
    refuse_out("sort", out)
    x, a, ax = _prepare("sort", input, dim, axis)
    return _select(Sort, x, _order(a, ax, descending), ax, True, return_types.sort)


def argsort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    stable: bool = False,
    *,
    axis: int | None = None,
) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (int64, shape ``input.shape``; stable)."""
    x, a, ax = _prepare("argsort", input, dim, axis)
    return Tensor._wrap(_order(a, ax, descending).reshape(x.shape).astype(np.int64, copy=False))


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension (``sort(input, dim=0).values``)."""
    return sort(input, 0).values


def _check_k(name: str, k: int, n: int, ax: int, lowest: int) -> None:
    if not lowest <= k <= n:
        raise IndexError(
            f"{name}(): k={k} is out of range for dimension {ax} of size {n} "
            f"(expected {lowest} <= k <= {n})"
        )


def topk(
    input: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,
    *,
    axis: int | None = None,
    out: None = None,
) -> return_types.topk:
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, in order. Shapes: ``input.shape`` with ``dim`` of size ``k``."""
    refuse_out("topk", out)
    x, a, ax = _prepare("topk", input, dim, axis)
    _check_k("topk", k, a.shape[ax], ax, 0)
    if x.ndim == 0:
        k = 1  # PyTorch: a 0-d input gives itself back for k = 0 and k = 1
    idx = np.take(_order(a, ax, largest), np.arange(k), axis=ax)
    return _select(TopK, x, idx, ax, True, return_types.topk)


def kthvalue(
    input: Tensor,
    k: int,
    dim: int = -1,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: None = None,
) -> return_types.kthvalue:
    """``(values, indices)`` of the ``k``-th smallest element (k from 1) along ``dim``.
    Shapes: ``input.shape`` without ``dim`` (size 1 with ``keepdim``)."""
    refuse_out("kthvalue", out)
    x, a, ax = _prepare("kthvalue", input, dim, axis)
    _check_k("kthvalue", k, a.shape[ax], ax, 1)
    idx = np.take(_order(a, ax, False), [k - 1], axis=ax)
    keep = keepdim if keepdims is None else keepdims
    return _select(KthValue, x, idx, ax, keep, return_types.kthvalue)


def median(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Any:
    """The lower median (the ⌈n/2⌉-th smallest value; no averaging).

    Without ``dim``: a 0-d tensor over all elements (NaN for an empty tensor). With ``dim``:
    ``(values, indices)`` along it, shapes ``input.shape`` without ``dim``.
    """
    refuse_out("median", out)
    if dim is None and axis is None:
        return MedianAll.apply(as_tensor(input))
    x, a, ax = _prepare("median", input, dim, axis)
    n = a.shape[ax]
    if n == 0:
        raise IndexError(f"median(): dimension {ax} is empty; a median needs one element")
    idx = np.take(_order(a, ax, False), [(n - 1) // 2], axis=ax)
    keep = keepdim if keepdims is None else keepdims
    return _select(Median, x, idx, ax, keep, return_types.median)


def _mode_indices(a: np.ndarray, ax: int) -> np.ndarray:
    """Kept-dim indices along ``ax`` of the last occurrence of the smallest most frequent value."""
    s = np.sort(np.moveaxis(a, ax, -1), axis=-1)
    n = s.shape[-1]
    pos = np.arange(n)
    new_run = np.ones(s.shape, dtype=bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    start = np.maximum.accumulate(np.where(new_run, pos, 0), axis=-1)
    best = np.argmax(pos - start, axis=-1)[..., None]  # the first longest run: smallest value
    value = np.take_along_axis(s, best, axis=-1)
    moved = np.moveaxis(a, ax, -1)
    last = np.max(np.where(moved == value, pos, -1), axis=-1, keepdims=True)
    return np.moveaxis(last, -1, ax)


def mode(
    input: Tensor,
    dim: int = -1,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> return_types.mode:
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest on ties) and
    the last index where it occurs. Shapes: ``input.shape`` without ``dim``."""
    x, a, ax = _prepare("mode", input, dim, axis)
    if a.shape[ax] == 0:
        raise IndexError(f"mode(): dimension {ax} is empty; a mode needs one element")
    keep = keepdim if keepdims is None else keepdims
    return _select(Mode, x, _mode_indices(a, ax), ax, keep, return_types.mode)
