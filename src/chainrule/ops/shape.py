"""Ops that move values without changing them: reshape, permute, expand, indexing, joining, padding.

Their derivatives are the inverse moves: the gradient is reshaped, permuted back, summed over
expanded axes, scattered to the indexed positions, split, or cropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import normalize_axes
from chainrule.ops.arithmetic import as_tensor, cast


class Reshape(Function):
    """d reshape(x)/dx: the gradient reshaped back to x's shape."""

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return (grad.reshape(self.shape),)


class Permute(Function):
    """d permute(x, p)/dx: the gradient permuted by the inverse permutation p⁻¹."""

    def forward(self, x, axes):
        self.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    def backward(self, grad):
        return (grad.transpose(self.inverse),)


class Expand(Function):
    """d expand(x)/dx: the gradient summed over the expanded axes (by the engine)."""

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, grad):
        return (grad,)


class GetItem(Function):
    """d x[i]/dx: the gradient scattered to the indexed positions, repeated indices summed."""

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        self.basic = _is_basic(index)
        if self.basic:
            return x[index]
        # PyTorch applies integers first (as selections), then the advanced indices.
        self.first, self.index = _integers_first(index)
        return x[index] if self.first is None else x[self.first][self.index]

    def backward(self, grad):
        out = np.zeros(self.shape, dtype=grad.dtype)
        if self.basic:
            out[self.index] = grad
        else:  # out[first] is a view: the sums land in out
            np.add.at(out if self.first is None else out[self.first], self.index, grad)
        return (out,)


class Concatenate(Function):
    """d concat(xs)/dxᵢ: the slice of the gradient where xᵢ was placed."""

    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.bounds, axis=self.axis))


class Stack(Function):
    """d stack(xs)/dxᵢ: the i-th slice of the gradient along the new axis."""

    def forward(self, *xs, axis):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


class Pad(Function):
    """d pad(x)/dx: the gradient with the padding cropped off."""

    def forward(self, x, widths, value):
        self.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return (grad[self.crop],)


def _is_basic(index: Any) -> bool:
    """True for indexes made only of ints, slices, None and Ellipsis (no repeats possible).

    A bool (``x[True]``) is an advanced index: one new axis, broadcast with the others."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        (isinstance(p, (int, np.integer, slice)) and p is not True and p is not False)
        or p is None
        or p is Ellipsis
        for p in parts
    )


def _is_integer(p: Any) -> bool:
    return isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))


def _check_index_dtype(p: Any) -> None:
    if isinstance(p, np.ndarray) and p.dtype.kind not in "biu":
        raise IndexError(
            f"tensors used as indices must be integer (int64, int32, uint8) or bool; got {p.dtype}"
        )


def _integers_first(index: Any) -> tuple[tuple[Any, ...] | None, Any]:
    """``index`` split as PyTorch reads it: ``(first, rest)`` with ``x[index] = x[first][rest]``.

    ``first`` holds the integers, slices, None and Ellipsis (a basic index: a view); ``rest`` the
    advanced indices. NumPy counts integers as advanced indices, so that ``x[0, :, [1, 2]]``
    moves the broadcast index axis first; PyTorch selects with the integers before that rule
    applies. ``first`` is None when no integer meets an advanced index (both libraries agree).
    """
    if not isinstance(index, tuple):
        _check_index_dtype(index)
        return None, index
    for p in index:
        _check_index_dtype(p)
    if not any(_is_integer(p) for p in index):
        return None, index
    first: list[Any] = []
    rest: list[Any] = []
    for p in index:
        if _is_integer(p):
            first.append(p)
        elif p is Ellipsis:
            first.append(p)
            rest.append(p)
        elif p is None or isinstance(p, slice):
            first.append(p)
            rest.append(slice(None))  # already applied: keep the axis whole
        elif isinstance(p, (bool, np.bool_)):
            rest.append(p)
        else:
            first.extend([slice(None)] * (p.ndim if p.dtype == bool else 1))
            rest.append(p)
    return tuple(first), tuple(rest)


def plain_index(index: Any) -> Any:
    """Tensors and lists inside an index become ndarrays; a 0-d integer tensor an int."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if isinstance(index, Tensor):
        data = index.data
        return int(data) if data.ndim == 0 and data.dtype.kind in "iu" else data
    if isinstance(index, list):
        array = np.asarray(index)
        return array.astype(np.int64) if array.size == 0 else array
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with NumPy's basic and advanced indexing."""
    if not isinstance(x, Tensor):  # ndarrays and lists too; isinstance: cheap for tensors
        x = as_tensor(x)
    index = plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as err:
        if str(err).startswith("tensors used as indices"):
            raise
        raise IndexError(
            f"index {index!r} does not fit a tensor of shape {x.shape}: {err}"
        ) from None


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x`` with a new shape of the same size; one dimension may be -1."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    if shape == x.shape:
        return x
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:
        raise ValueError(
            f"Reshape: cannot reshape a tensor of shape {x.shape} (size {x.size}) into {shape}"
        ) from None


def permute(x: Tensor, *axes: Any) -> Tensor:
    """Reorder the axes: output axis i is input axis ``axes[i]``."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(
            f"Permute: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}"
        )
    return Permute.apply(x, axes=tuple(a % x.ndim for a in axes))


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two axes (the last two by default)."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    d0, d1 = (normalize_axes(d, x.ndim)[0] for d in (dim0, dim1))
    axes = list(range(x.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, axes)


def expand(x: Tensor, *shape: Any) -> Tensor:
    """Broadcast ``x`` to ``shape`` without copying; -1 keeps a dimension."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"Expand: cannot expand shape {x.shape} to fewer dimensions {shape}")
    target = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    try:
        return Expand.apply(x, shape=target)
    except ValueError:
        raise ValueError(f"Expand: cannot expand shape {x.shape} to {shape}") from None


def squeeze(x: Tensor, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove size-1 axes (all of them, or the given ones if they have size 1)."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim) if axis is not None else tuple(range(x.ndim))
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert a size-1 axis at position ``axis`` (negative counts from the end of the result)."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    shape = list(x.shape)
    shape.insert(normalize_axes(axis, x.ndim + 1)[0], 1)
    return reshape(x, tuple(shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` (inclusive) into one."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (normalize_axes(d, x.ndim)[0] for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[start : end + 1]))
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1 :])


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of equal shape (except along ``axis``) along an existing axis."""
    tensors = _same_dtype(tensors, "concatenate")
    return Concatenate.apply(*tensors, axis=normalize_axes(axis, tensors[0].ndim)[0])


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    tensors = _same_dtype(tensors, "stack")
    return Stack.apply(*tensors, axis=normalize_axes(axis, tensors[0].ndim + 1)[0])


def _same_dtype(tensors: Sequence[Any], name: str) -> list[Tensor]:
    if len(tensors) == 0:
        raise ValueError(f"{name}() needs at least one tensor")
    ts = [as_tensor(t) for t in tensors]
    target = ts[0].data.dtype
    for t in ts[1:]:
        target = dtypes.result_dtype(target, t.data.dtype)
    return [cast(t, target) for t in ts]


def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Pad with a constant, PyTorch-style: ``pad = (left, right, top, bottom, ...)``.

    Pairs apply to the last axis first. Widths must be ≥ 0.
    """
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected pairs of widths for at most {x.ndim} axes; got {tuple(pad)}"
        )
    if any(int(p) < 0 for p in pad):
        raise ValueError(f"pad: widths must be ≥ 0; got {tuple(pad)}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return Pad.apply(x, widths=tuple(widths), value=value)
