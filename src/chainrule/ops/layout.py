"""Rearranging, splitting and repeating: split, chunk, unbind, flip, roll, repeat, tile,
repeat_interleave, tril/triu, diag, diagonal, diag_embed, narrow, movedim, swapaxes, unflatten,
meshgrid and ``Tensor.unfold`` (PyTorch's names, argument order and defaults).

Every one is a composition of the moves in :mod:`chainrule.ops.shape` (indexing, reshape,
permute, expand, pad) or of ``where``, so the gradients are theirs: no new op is registered here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops._common import normalize_axes
from chainrule.ops.arithmetic import as_tensor
from chainrule.ops.pointwise import where
from chainrule.ops.shape import expand, getitem, pad, permute, reshape


def _one_dim(dim: Any, axis: Any, ndim: int, default: int | None = None) -> int:
    dim = axis if axis is not None else dim
    if dim is None:
        dim = default
    return normalize_axes(dim, ndim)[0]


def _at(d: int, index: Any) -> tuple:
    return (slice(None),) * d + (index,)


def _sizes(args: tuple) -> tuple[int, ...]:
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0, *, axis: Any = None
) -> tuple[Tensor, ...]:
    """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the listed
    sizes (which must add up to the dimension's size)."""
    x = as_tensor(tensor)
    d = _one_dim(dim, axis, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0 and n:
            raise ValueError(f"split(): split_size must be positive; got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(
                f"split(): sections {sizes} add up to {sum(sizes)}, not dimension {d}'s size {n}"
            )
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    return tuple(getitem(x, _at(d, slice(s, s + m))) for s, m in zip(starts, sizes))


def chunk(input: Tensor, chunks: int, dim: int = 0, *, axis: Any = None) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of equal size ``ceil(n / chunks)`` along ``dim`` (the last may
    be smaller, and there may be fewer)."""
    if chunks <= 0:
        raise ValueError(f"chunk(): chunks must be positive; got {chunks}")
    x = as_tensor(input)
    d = _one_dim(dim, axis, x.ndim)
    return split(x, max(-(-x.shape[d] // chunks), 1), d)


def unbind(input: Tensor, dim: int = 0, *, axis: Any = None) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dimension."""
    x = as_tensor(input)
    d = _one_dim(dim, axis, x.ndim)
    return tuple(getitem(x, _at(d, i)) for i in range(x.shape[d]))


def flip(input: Tensor, *dims: Any) -> Tensor:
    """The entries in reverse order along each of ``dims`` (``flip(x, (0, 1))`` or
    ``x.flip(0, 1)``)."""
    x = as_tensor(input)
    axes = normalize_axes(_sizes(dims), x.ndim)
    return getitem(
        x, tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))
    )


def fliplr(input: Tensor) -> Tensor:
    """``flip(input, 1)``."""
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """``flip(input, 0)``."""
    return flip(input, 0)


def roll(input: Tensor, shifts: int | Sequence[int], dims: Any = None) -> Tensor:
    """Entries shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor if None)."""
    x = as_tensor(input)
    if dims is None:
        flat = reshape(x, -1)
        n = flat.shape[0]
        return reshape(getitem(flat, (np.arange(n) - int(np.sum(shifts))) % max(n, 1)), x.shape)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll(): {len(shifts)} shifts for {len(dims)} dims")
    for s, d in zip(shifts, dims):
        d = normalize_axes(d, x.ndim)[0]
        n = x.shape[d]
        if n:
            x = getitem(x, _at(d, (np.arange(n) - int(s)) % n))
    return x


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """``Tensor.repeat``: the tensor tiled ``sizes[i]`` times along axis i; extra leading sizes
    add dimensions. Shape ``(s0·n0, s1·n1, …)``."""
    x = as_tensor(input)
    reps = _sizes(sizes)
    if len(reps) < x.ndim:
        raise ValueError(
            f"repeat(): {len(reps)} repeat counts for a tensor with {x.ndim} dimensions; "
            "give at least one per dimension"
        )
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    interleaved = tuple(v for n in shape for v in (1, n))
    target = tuple(v for r, n in zip(reps, shape) for v in (r, n))
    y = expand(reshape(x, interleaved), target)
    return reshape(y, tuple(r * n for r, n in zip(reps, shape)))


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """``repeat`` with ones prepended to ``dims`` when it is shorter than ``input.ndim``."""
    x = as_tensor(input)
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(
    input: Tensor,
    repeats: Any,
    dim: int | None = None,
    *,
    output_size: int | None = None,
    axis: Any = None,
) -> Tensor:
    """Each entry repeated ``repeats`` times (a number, or one count per entry) along ``dim``;
    with ``dim=None`` the tensor is flattened first."""
    x = as_tensor(input)
    if dim is None and axis is None:
        x, d = reshape(x, -1), 0
    else:
        d = _one_dim(dim, axis, x.ndim)
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave(): repeats must be integers; got {counts.dtype}")
    if (counts < 0).any():
        raise ValueError("repeat_interleave(): repeats must be non-negative")
    n = x.shape[d] if x.ndim else 1
    return getitem(
        x, _at(d, np.repeat(np.arange(n), counts.reshape(-1) if counts.ndim else counts))
    )


def _triangle(x: Tensor, keep: np.ndarray) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"tril/triu need at least 2 dimensions; got shape {x.shape}")
    return where(keep, x, np.zeros((), dtype=x.dtype))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (on and below ``diagonal``), zeros above."""
    x = as_tensor(input)
    return _triangle(x, np.tri(*x.shape[-2:], k=diagonal, dtype=bool) if x.ndim >= 2 else None)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (on and above ``diagonal``), zeros below."""
    x = as_tensor(input)
    keep = ~np.tri(*x.shape[-2:], k=diagonal - 1, dtype=bool) if x.ndim >= 2 else None
    return _triangle(x, keep)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes as a new last dimension (above the main one for
    ``offset > 0``)."""
    x = as_tensor(input)
    d1, d2 = normalize_axes(dim1, x.ndim)[0], normalize_axes(dim2, x.ndim)[0]
    if d1 == d2:
        raise ValueError(f"diagonal(): dim1 and dim2 are the same dimension ({dim1}, {dim2})")
    rest = [a for a in range(x.ndim) if a not in (d1, d2)]
    moved = permute(x, rest + [d1, d2])
    rows, cols = x.shape[d1], x.shape[d2]
    k = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    return getitem(moved, (Ellipsis, np.arange(k) + start_r, np.arange(k) + start_c))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with the last dimension of ``input`` on their ``offset`` diagonal, zeros
    elsewhere; the two new dimensions land at ``dim1`` and ``dim2`` of the result."""
    x = as_tensor(input)
    n = x.shape[-1] if x.ndim else 1
    lead = x.shape[:-1]
    padded = pad(reshape(x, lead + (n, 1)), (0, n))  # row i: x_i then n zeros
    square = reshape(
        getitem(reshape(padded, lead + (n * (n + 1),)), (Ellipsis, slice(n * n))), lead + (n, n)
    )
    k = abs(offset)
    widths = (k, 0, 0, k) if offset > 0 else (0, k, k, 0)
    out = pad(square, widths) if k else square
    nd = out.ndim
    d1, d2 = normalize_axes(dim1, nd)[0], normalize_axes(dim2, nd)[0]
    if d1 == d2:
        raise ValueError(f"diag_embed(): dim1 and dim2 are the same dimension ({dim1}, {dim2})")
    order = [None] * nd
    order[d1], order[d2] = nd - 2, nd - 1
    others = iter(range(nd - 2))
    return permute(out, [a if a is not None else next(others) for a in order])


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input becomes a square matrix with it on the ``diagonal``; a 2-D input gives its
    ``diagonal`` as a 1-D tensor."""
    x = as_tensor(input)
    if x.ndim == 1:
        return diag_embed(x, diagonal)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    raise ValueError(f"diag(): expected a 1-D or 2-D tensor; got shape {x.shape}")


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries along ``dim`` from ``start`` (negative counts from the end)."""
    x = as_tensor(input)
    d = normalize_axes(dim, x.ndim)[0]
    n = x.shape[d]
    start = int(start) + n if int(start) < 0 else int(start)
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise IndexError(
            f"narrow(): start {start} and length {length} do not fit dimension {d} of size {n}"
        )
    return getitem(x, _at(d, slice(start, start + length)))


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """The ``source`` dimensions moved to positions ``destination``; the others keep order."""
    x = as_tensor(input)
    src = normalize_axes(source, x.ndim)
    dst = normalize_axes(destination, x.ndim)
    if len(src) != len(dst):
        raise ValueError(f"movedim(): {len(src)} source dims for {len(dst)} destinations")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Dimensions ``axis0`` and ``axis1`` exchanged."""
    x = as_tensor(input)
    a, b = normalize_axes(axis0, x.ndim)[0], normalize_axes(axis1, x.ndim)[0]
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return permute(x, order)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``swapaxes`` under PyTorch's other name."""
    return swapaxes(input, dim0, dim1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dimension ``dim`` split into ``sizes`` (one of them may be -1)."""
    x = as_tensor(input)
    d = normalize_axes(dim, x.ndim)[0]
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    if -1 in sizes:
        sizes = tuple(x.shape[d] // max(known, 1) if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != x.shape[d]:
        raise ValueError(
            f"unflatten(): sizes {sizes} do not multiply to dimension {d}'s {x.shape[d]}"
        )
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :])


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` (the default) grid i varies
    along dimension i; ``'xy'`` swaps the first two. Each grid has shape ``(n0, n1, …)``."""
    ts = [as_tensor(t) for t in _sizes(tensors)]
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid(): indexing must be 'ij' or 'xy'; got {indexing!r}")
    if any(t.ndim > 1 for t in ts):
        raise ValueError("meshgrid(): expects 0-D or 1-D tensors")
    ts = [reshape(t, -1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0, *range(2, len(ts))] if swap else list(range(len(ts)))
    shape = tuple(ts[i].shape[0] for i in order)
    grids = []
    for i, t in enumerate(ts):
        one = [1] * len(ts)
        one[order.index(i)] = t.shape[0]
        grids.append(expand(reshape(t, tuple(one)), shape))
    return tuple(grids)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every window of ``size`` entries along ``dimension``, ``step`` apart,
    as a new last dimension; ``dimension`` then counts the windows."""
    x = as_tensor(input)
    d = normalize_axes(dimension, x.ndim)[0] if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0 or step <= 0:
        raise ValueError(
            f"unfold(): size {size} and step {step} do not fit dimension {d} of size {n}"
        )
    if x.ndim == 0:
        return reshape(x, (1,))
    starts = np.arange(0, n - size + 1, step)
    windows = getitem(x, _at(d, starts[:, None] + np.arange(size)))
    order = [a for a in range(windows.ndim) if a != d + 1] + [d + 1]
    return permute(windows, order)
