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
from chainrule.ops._common import dim_alias, normalize_axes, refuse_out
from chainrule.ops.arithmetic import as_tensor, cast
from chainrule.ops.op_call import call


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
        if isinstance(grad, np.ndarray):  # the first-order pass: the method, without dispatch
            return (grad.transpose(self.inverse),)
        return (np.transpose(grad, self.inverse),)  # a tensor's .transpose swaps two dims


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
            self.first = None
            return x[index]
        # PyTorch applies integers first (as selections), then the advanced indices.
        self.first, self.index = _integers_first(index)
        return select(x, self.first, self.index)

    def backward(self, grad):
        if isinstance(grad, np.ndarray):  # call(IndexAccumulate, ...) without the op's overhead
            return (accumulate(grad, self.shape, self.index, self.first, self.basic),)
        params = {"index": self.index, "first": self.first, "basic": self.basic}
        return (call(IndexAccumulate, grad, shape=self.shape, **params),)


class IndexAccumulate(Function):
    """d acc(v)/dv = the gradient read at the index (GetItem): ``out = 0; out[index] += v``.

    The adjoint of :class:`GetItem` (its backward), with GetItem's split ``x[first][index]``
    of the index; repeated positions add up (``np.add.at``), a basic index is written.
    """

    def forward(self, v, shape, index, first, basic):
        self.index, self.first = index, first
        return accumulate(v, shape, index, first, basic)

    def backward(self, grad):
        return (select(grad, self.first, self.index),)


def accumulate(v: np.ndarray, shape: tuple, index: Any, first: Any, basic: bool) -> np.ndarray:
    """Zeros of ``shape`` with ``v`` added at ``x[first][index]`` (written, for a basic index)."""
    out = np.zeros(shape, dtype=v.dtype)
    if basic:
        out[index] = v
    else:  # out[first] is a view: the sums land in out
        np.add.at(out if first is None else out[first], index, v)
    return out


def select(x: Any, first: Any, index: Any) -> Any:
    """``x[first][index]`` (``x[index]`` when ``first`` is None): GetItem's forward, on arrays or
    tensors."""
    return x[index] if first is None else x[first][index]


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
        data = index._data
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


def _sizes(shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """``f(x, 2, 3)``, ``f(x, (2, 3))`` and ``f(x, size)`` all mean the shape (2, 3)."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """``input`` with a new shape of the same size; one dimension may be -1.

    ``reshape(x, 2, 3)`` and ``reshape(x, (2, 3))`` (PyTorch's form) are the same.
    """
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    shape = _sizes(shape)
    if shape == input._data.shape:
        return input
    try:
        return Reshape.apply(input, shape=shape)
    except ValueError:
        raise ValueError(
            f"Reshape: cannot reshape a tensor of shape {input.shape} "
            f"(size {input._data.size}) into {shape}"
        ) from None


def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions: output dimension i is input dimension ``dims[i]``.

    ``permute(x, 1, 0)`` and ``permute(x, (1, 0))`` (PyTorch's form) are the same.
    """
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    dims = _sizes(dims)
    ndim = input._data.ndim
    if sorted(a % max(ndim, 1) for a in dims) != list(range(ndim)):
        raise ValueError(
            f"Permute: {dims} is not a permutation of the {ndim} dimensions of shape {input.shape}"
        )
    return Permute.apply(input, axes=tuple(a % ndim for a in dims))


def transpose(input: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap dimensions ``dim0`` and ``dim1`` (the last two if not given)."""
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    d0, d1 = (normalize_axes(d, input._data.ndim)[0] for d in (dim0, dim1))
    axes = list(range(input._data.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(input, axes)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast ``input`` to ``sizes`` without copying; -1 keeps a dimension."""
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    shape, have = _sizes(sizes), input._data.shape
    lead = len(shape) - len(have)
    if lead < 0:
        raise ValueError(f"Expand: cannot expand shape {have} to fewer dimensions {shape}")
    target = tuple(have[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    try:
        return Expand.apply(input, shape=target)
    except ValueError:
        raise ValueError(f"Expand: cannot expand shape {have} to {shape}") from None


def squeeze(input: Tensor, dim: int | tuple[int, ...] | None = None, *, axis: Any = None) -> Tensor:
    """Remove size-1 dimensions: all of them, or those of ``dim`` that have size 1 (others are
    left alone, as in PyTorch). ``axis`` is NumPy's name for ``dim``."""
    if axis is not None:
        dim = dim_alias("squeeze", dim, axis)
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    shape = input._data.shape
    axes = normalize_axes(dim, len(shape)) if dim is not None else range(len(shape))
    return reshape(input, tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1)))


def unsqueeze(input: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Insert a size-1 dimension at ``dim`` (negative counts from the end of the result)."""
    if axis is not None:
        dim = dim_alias("unsqueeze", dim, axis)
    if dim is None:
        raise TypeError("chainrule.unsqueeze: missing the dimension dim= to insert")
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    shape = list(input._data.shape)
    shape.insert(normalize_axes(dim, len(shape) + 1)[0], 1)
    return reshape(input, tuple(shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one; a 0-d tensor becomes (1,)."""
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start, end = (normalize_axes(d, len(shape))[0] for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(input, shape[:start] + (merged,) + shape[end + 1 :])


def concatenate(
    tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None, out: None = None
) -> Tensor:
    """Join tensors of equal shape (except along ``dim``) along an existing dimension.

    Also ``cat``; ``axis`` is NumPy's (and ``torch.concatenate``'s) name for ``dim``.
    """
    if axis is not None:
        dim = dim_alias("cat", None if dim == 0 else dim, axis)
    if out is not None:
        refuse_out("cat", out)
    tensors = _same_dtype(tensors, "cat")
    return Concatenate.apply(*tensors, axis=normalize_axes(dim, tensors[0].ndim)[0])


def stack(
    tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None, out: None = None
) -> Tensor:
    """Join tensors of equal shape along a new dimension ``dim``. Shape: ``(*shape)`` with
    ``len(tensors)`` inserted at ``dim``."""
    if axis is not None:
        dim = dim_alias("stack", None if dim == 0 else dim, axis)
    if out is not None:
        refuse_out("stack", out)
    tensors = _same_dtype(tensors, "stack")
    return Stack.apply(*tensors, axis=normalize_axes(dim, tensors[0].ndim + 1)[0])


def _same_dtype(tensors: Sequence[Any], name: str) -> list[Tensor]:
    if len(tensors) == 0:
        raise ValueError(f"{name}() needs at least one tensor")
    ts = [as_tensor(t) for t in tensors]
    target = ts[0]._data.dtype
    for t in ts[1:]:
        target = dtypes.result_dtype(target, t._data.dtype)
    return [cast(t, target) for t in ts]


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad PyTorch-style: ``pad = (left, right, top, bottom, ...)``, pairs for the last axis first.

    ``mode``: ``'constant'`` (``value``, default 0), ``'reflect'`` (mirrored without the edge),
    ``'replicate'`` (the edge repeated) or ``'circular'`` (wrapped around). A negative width
    crops (mode ``'constant'`` only, as PyTorch).
    Shape: each padded axis grows by its two widths.
    """
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected pairs of widths for at most {x.ndim} axes; got {tuple(pad)}"
        )
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)][::-1]
    if not isinstance(mode, str):  # chainrule's older pad(x, widths, value)
        mode, value = "constant", mode
    if mode == "constant":
        x, pairs = _crop_negative(x, pairs)
        widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs
        return Pad.apply(x, widths=tuple(widths), value=0.0 if value is None else value)
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        raise ValueError(f"pad: widths must be ≥ 0 in mode {mode!r}; got {tuple(pad)}")
    if mode not in _PAD_INDEX:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular'; got {mode!r}"
        )
    if value:
        raise ValueError(f"pad: value= applies to mode 'constant' only, not {mode!r}")
    sizes = x.shape[x.ndim - len(pairs) :]
    index = [_PAD_INDEX[mode](n, lo, hi) for n, (lo, hi) in zip(sizes, pairs)]
    return getitem(x, (Ellipsis, *np.ix_(*index)))


def _crop_negative(x: Tensor, pairs: list[tuple[int, int]]) -> tuple[Tensor, list]:
    """Negative constant widths crop, as in PyTorch: ``pad(x, (-1, 0))`` drops the first column."""
    if all(lo >= 0 and hi >= 0 for lo, hi in pairs):
        return x, pairs
    sizes = x.shape[x.ndim - len(pairs) :]
    for n, (lo, hi) in zip(sizes, pairs):
        if n + lo + hi < 0:
            raise ValueError(
                f"pad: the input size {n}, plus negative padding {lo} and {hi}, resulted in a "
                f"negative output size, which is invalid"
            )
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(sizes, pairs))
    return getitem(x, (Ellipsis, *crop)), [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]


def _reflect(n: int, lo: int, hi: int) -> np.ndarray:
    if lo >= n or hi >= n:
        raise ValueError(f"pad: reflect widths ({lo}, {hi}) must be smaller than the size {n}")
    period = 2 * (n - 1) or 1
    i = np.abs(np.arange(-lo, n + hi)) % period
    return np.where(i >= n, period - i, i)


def _replicate(n: int, lo: int, hi: int) -> np.ndarray:
    if n == 0:
        raise ValueError("pad: replicate needs a non-empty axis to repeat")
    return np.clip(np.arange(-lo, n + hi), 0, n - 1)


def _circular(n: int, lo: int, hi: int) -> np.ndarray:
    if lo > n or hi > n:
        raise ValueError(f"pad: circular widths ({lo}, {hi}) may not exceed the size {n}")
    return np.arange(-lo, n + hi) % n


_PAD_INDEX = {"reflect": _reflect, "replicate": _replicate, "circular": _circular}
