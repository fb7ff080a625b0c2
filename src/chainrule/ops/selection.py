"""Selecting and filling by index lists and masks: index_select, index_add, masked_fill,
masked_select, take_along_dim, nonzero, argwhere and one_hot (PyTorch's names and order).

Most are moves the indexing op already differentiates (``x[..., idx]``); index_add is its own op.
nonzero and one_hot give integer tensors and are never differentiated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import one_dim, refuse_out
from chainrule.ops.arithmetic import as_tensor, cast
from chainrule.ops.indexing import gather
from chainrule.ops.pointwise import where
from chainrule.ops.shape import expand, getitem, reshape


def _vector_index(index: Any, size: int, dim: int, op: str) -> np.ndarray:
    """A 1-D integer index (0-d counts as one entry), every entry in ``[0, size)``."""
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an int64 or int32 tensor; got {data.dtype}")
    if data.ndim > 1:
        raise IndexError(f"{op}(): index must be a vector (0-d or 1-D); got shape {data.shape}")
    data = data.reshape(-1)
    if data.size and (data.min() < 0 or data.max() >= size):
        bad = data.min() if data.min() < 0 else data.max()
        raise IndexError(
            f"{op}(): index {bad} is out of range for dimension {dim} with size {size}"
        )
    return data


class IndexAdd(Function):
    """d index_add(x, i, s)/dx = 1,  d/ds = α · the gradient read at the rows i names."""

    def forward(self, x, src, dim, index, alpha):
        self.dim, self.index, self.alpha = dim, index, alpha
        out = np.array(x, copy=True)
        np.add.at(np.moveaxis(out, dim, 0), index, np.moveaxis(alpha * src, dim, 0))
        return out

    def backward(self, grad):
        gs = None
        if self.needs_input_grad[1]:
            # np.take(grad, index, axis=dim), written as indexing (a recorded op on tensors)
            gs = self.alpha * grad[(slice(None),) * self.dim + (self.index,)]
        return grad, gs


def index_select(
    input: Tensor,
    dim: int | None = None,
    index: Any = None,
    *,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """The entries of ``input`` along ``dim`` at the positions of the vector ``index`` (repeats
    allowed): shape ``input.shape`` with ``dim`` of size ``len(index)``."""
    refuse_out("index_select", out)
    x = as_tensor(input)
    d = one_dim("index_select", dim, axis, x.ndim)
    if x.ndim == 0:
        _vector_index(index, 1, 0, "index_select")
        return reshape(x, ())
    idx = _vector_index(index, x.shape[d], d, "index_select")
    return getitem(x, (slice(None),) * d + (idx,))


def index_add(
    input: Tensor,
    dim: int | None = None,
    index: Any = None,
    source: Any = None,
    *,
    alpha: float = 1,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """A copy of ``input`` with ``alpha * source[k]`` added to slice ``index[k]`` along ``dim``
    (repeats add up); ``source`` has ``input``'s shape with ``dim`` of size ``len(index)``."""
    refuse_out("index_add", out)
    x = as_tensor(input)
    src = as_tensor(source, x)
    d = one_dim("index_add", dim, axis, x.ndim)
    idx = _vector_index(index, x.shape[d] if x.ndim else 1, d, "index_add")
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1 :] if x.ndim else ()
    if src.shape != want and not (x.ndim == 0 and src.size == 1):
        raise ValueError(f"index_add(): source has shape {src.shape}; expected {want}")
    if x.ndim == 0:
        return reshape(
            IndexAdd.apply(
                reshape(x, 1), reshape(cast(src, x.dtype), 1), dim=0, index=idx, alpha=alpha
            ),
            (),
        )
    return IndexAdd.apply(x, cast(src, x.dtype), dim=d, index=idx, alpha=alpha)


def _bool_mask(mask: Any, op: str) -> np.ndarray:
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype != bool:
        raise TypeError(f"{op}(): mask must be a bool tensor; got {data.dtype}")
    return data


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is true; ``mask``
    broadcasts to ``input``'s shape."""
    x = as_tensor(input)
    m = _bool_mask(mask, "masked_fill")
    if np.broadcast_shapes(m.shape, x.shape) != x.shape:
        raise ValueError(f"masked_fill(): mask of shape {m.shape} does not broadcast to {x.shape}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"masked_fill(): value must be a number or a 0-d tensor; got shape {value.shape}"
            )
        value = cast(value, x.dtype)
    return where(m, value, x)


def masked_select(input: Tensor, mask: Any, *, out: None = None) -> Tensor:
    """The entries of ``input`` where ``mask`` is true, as a 1-D tensor (both broadcast)."""
    refuse_out("masked_select", out)
    x = as_tensor(input)
    m = _bool_mask(mask, "masked_select")
    shape = np.broadcast_shapes(m.shape, x.shape)
    if x.shape != shape:
        x = expand(x, shape)
    return getitem(x, np.broadcast_to(m, shape))


def take_along_dim(
    input: Tensor,
    indices: Any,
    dim: int | None = None,
    *,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """``gather`` with broadcasting: ``input`` and ``indices`` broadcast outside ``dim``; with
    ``dim=None`` both are flattened first."""
    refuse_out("take_along_dim", out)
    x = as_tensor(input)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if dim is None and axis is None:
        return gather(reshape(x, -1), 0, idx.reshape(-1))
    d = one_dim("take_along_dim", dim, axis, x.ndim)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_dim(): input and indices must have as many dimensions; got {x.ndim} "
            f"and {idx.ndim}"
        )
    xs, ids = list(x.shape), list(idx.shape)
    xs[d] = ids[d] = 1
    common = np.broadcast_shapes(tuple(xs), tuple(ids))
    x_shape = common[:d] + (x.shape[d],) + common[d + 1 :]
    i_shape = common[:d] + (idx.shape[d],) + common[d + 1 :]
    if x.shape != x_shape:
        x = expand(x, x_shape)
    return gather(x, d, np.broadcast_to(idx, i_shape))


def nonzero(input: Tensor, *, as_tuple: bool = False, out: None = None) -> Any:
    """Indices of the nonzero entries: an ``(n, ndim)`` int64 tensor, or with ``as_tuple=True``
    one 1-D int64 tensor per dimension (a 0-d input counts as 1-D)."""
    refuse_out("nonzero", out)
    data = input._data if isinstance(input, Tensor) else np.asarray(input)
    found = np.nonzero(np.atleast_1d(data))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in found)
    if data.ndim == 0:
        return Tensor._wrap(np.zeros((found[0].size, 0), dtype=np.int64))
    return Tensor._wrap(np.stack(found, axis=-1).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``: an ``(n, ndim)`` int64 tensor of the nonzero entries' indices."""
    return nonzero(input)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices of any shape as one-hot int64 rows: shape ``tensor.shape + (classes,)``;
    ``num_classes=-1`` takes one more than the largest index."""
    data = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if data.dtype != np.int64:
        raise TypeError(f"one_hot(): class values must be an int64 tensor; got {data.dtype}")
    if data.size and data.min() < 0:
        raise ValueError(f"one_hot(): class values must be non-negative; got {data.min()}")
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and data.max() >= num_classes:
        raise ValueError(
            f"one_hot(): class value {data.max()} is not smaller than num_classes={num_classes}"
        )
    return Tensor._wrap((data[..., None] == np.arange(num_classes)).astype(np.int64))
