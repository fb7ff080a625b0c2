"""Ops that read or write along one dimension through an index tensor: gather, scatter,
scatter_add, scatter_reduce (PyTorch's names and argument order).

Each entry of ``index`` names one position of ``input``: along ``dim`` the index value, along every
other axis the entry's own coordinate. Positions are turned into flat offsets once
(:func:`positions`); forward and backward then read, write or sum through them, so repeated
indices are summed by ``np.bincount`` / ``ufunc.at`` as the chain rule asks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import one_dim, refuse_out
from chainrule.ops.arithmetic import as_tensor, cast
from chainrule.ops.op_call import call
from chainrule.ops.shape import Pad

#: scatter_reduce's reductions and the value an untouched accumulator starts from.
_IDENTITY = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "amax": -np.inf, "amin": np.inf}


def positions(shape: tuple[int, ...], dim: int, index: np.ndarray, op: str) -> np.ndarray:
    """Flat offsets into an array of ``shape`` for every entry of ``index`` (same shape as
    ``index``): the index value along ``dim``, the entry's coordinate elsewhere."""
    given = index.shape
    if index.ndim != len(shape) and not (index.ndim <= 1 and len(shape) <= 1):
        raise ValueError(
            f"{op}: index has {index.ndim} dimensions; it must have as many as the input "
            f"({len(shape)})"
        )
    shape = shape or (1,)
    index = index.reshape(index.shape or (1,))
    for d, (n, m) in enumerate(zip(index.shape, shape)):
        if d != dim and n > m:
            raise ValueError(f"{op}: index size {n} exceeds the input's size {m} in dimension {d}")
    if index.size and (index.min() < 0 or index.max() >= shape[dim]):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(
            f"{op}: index {bad} is out of bounds for dimension {dim} with size {shape[dim]}"
        )
    grid = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grid[dim] = index
    return np.ravel_multi_index(tuple(grid), shape).reshape(given)


def _index_array(index: Any, op: str) -> np.ndarray:
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an integer tensor (int64); got {data.dtype}")
    return data


def _region(src_shape: tuple[int, ...], index_shape: tuple[int, ...], op: str) -> tuple:
    """The leading block of ``src`` that ``index`` covers (src may be larger in every axis)."""
    if len(src_shape) != len(index_shape) and (len(src_shape) > 1 or len(index_shape) > 1):
        raise ValueError(f"{op}: src has {len(src_shape)} dimensions; index {len(index_shape)}")
    for d, (n, m) in enumerate(zip(index_shape, src_shape)):
        if n > m:
            raise ValueError(f"{op}: index size {n} exceeds src's size {m} in dimension {d}")
    return tuple(slice(n) for n in index_shape)


class Gather(Function):
    """d gather(x, i)/dx: the gradient summed into the gathered positions (ScatterAddFlat)."""

    def forward(self, x, pos):
        self.shape, self.pos = x.shape, pos
        return x.reshape(-1)[pos]

    def backward(self, grad):
        return (call(ScatterAddFlat, grad, pos=self.pos, shape=self.shape),)


class ScatterAddFlat(Function):
    """d sum_at(v)/dv = the gradient read at the positions (Gather): zeros of ``shape`` with each
    ``v[k]`` added at flat position ``pos[k]`` (np.bincount; repeats add up)."""

    def forward(self, v, pos, shape):
        self.pos = pos
        size = int(np.prod(shape))
        flat = np.bincount(pos.reshape(-1), v.reshape(-1), minlength=size)
        return flat.astype(v.dtype, copy=False).reshape(shape)

    def backward(self, grad):
        return (call(Gather, grad, pos=self.pos),)


class Scatter(Function):
    """d scatter(x, i, s)/dx = 1 off the written positions; d/ds = the gradient read back there."""

    def forward(self, x, src, pos, region):
        self.pos, self.region, self.src_shape = pos, region, src.shape
        out = x.copy()
        out.reshape(-1)[pos.reshape(-1)] = src[region].reshape(-1)
        return out

    def backward(self, grad):
        gx = gs = None
        if self.needs_input_grad[0]:
            kept = np.ones(grad.shape, dtype=bool)
            kept.reshape(-1)[self.pos.reshape(-1)] = False
            gx = np.where(kept, grad, 0)
        if self.needs_input_grad[1]:
            gs = place(call(Gather, grad, pos=self.pos), self.src_shape)
        return gx, gs


def place(values: Any, shape: tuple[int, ...]) -> Any:
    """``values`` as the leading block of zeros of ``shape`` (src's region), padded if smaller."""
    if tuple(values.shape) == tuple(shape):
        return values
    widths = tuple((0, m - n) for n, m in zip(values.shape, shape))
    return call(Pad, values, widths=widths, value=0.0)


class ScatterReduce(Function):
    """d/dx, d/ds of each reduction: sum 1; mean 1/count; prod (product of the others);
    amax/amin 1/ties at the winners, 0 elsewhere."""

    def forward(self, x, src, pos, region, reduce, include_self):
        self.pos, self.region = pos, region
        self.reduce, self.include_self = reduce, include_self
        self.x, self.src = x, src  # inputs and output only: a create_graph twin swaps them in
        vals = src[region].reshape(-1)
        flat = pos.reshape(-1)
        out = x.copy().reshape(-1)
        if not include_self:
            out[flat] = _identity(reduce, out.dtype)
        if reduce in ("sum", "mean"):
            np.add.at(out, flat, vals)
        else:
            ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
            ufunc.at(out, flat, vals)
        if reduce == "mean":
            self.count = np.bincount(flat, minlength=out.size) + (1 if include_self else 0)
            divide = np.divide if out.dtype.kind == "f" else np.floor_divide
            divide(out, self.count, out=out, where=self.count > 0)
            self.count = np.maximum(self.count, 1)
        self.out = out.reshape(x.shape)
        return self.out

    def backward(self, grad):
        g, flat = grad.reshape(-1), self.pos.reshape(-1)
        touched = np.zeros(g.shape[0], dtype=bool)
        touched[flat] = True
        g_self, g_src = self._local(flat)
        gx = np.where(touched, g_self * g if self.include_self else 0, g)
        gs = place((g_src * g[flat]).reshape(self.pos.shape), self.src.shape)
        return gx.reshape(grad.shape), gs

    def _local(self, flat: np.ndarray) -> tuple[Any, Any]:
        """∂out/∂self per output position and ∂out/∂src per src entry."""
        x, out = self.x.reshape(-1), self.out.reshape(-1)
        vals = self.src[self.region].reshape(-1)
        if self.reduce == "sum":
            return np.ones_like(out), np.ones_like(vals)
        if self.reduce == "mean":
            return 1.0 / self.count, 1.0 / self.count[flat]
        if self.reduce == "prod":
            return self._others_product(x, vals, flat)
        # Winners and ties are piecewise constant: masks, computed on the values.
        x, vals, out = _values(x), _values(vals), _values(out)
        ties = np.bincount(flat, vals == out[flat], minlength=out.size)
        if self.include_self:
            ties = ties + (x == out)
        ties = np.maximum(ties, 1)
        return (x == out) / ties, (vals == out[flat]) / ties[flat]

    def _others_product(self, x, vals, flat):
        """For prod: the product of every other factor at each position, zeros handled exactly
        (to first order): the product of the nonzero factors over the own factor if that is
        nonzero, 0 where another factor is 0."""
        xv, vv = _values(x), _values(vals)
        own_x = np.where(xv == 0, 1.0, x)
        own_src = np.where(_values(self.src) == 0, 1.0, self.src)
        nonzero = call(
            ScatterReduce,
            own_x.reshape(self.x.shape),
            own_src,
            pos=self.pos,
            region=self.region,
            reduce="prod",
            include_self=self.include_self,
        ).reshape(-1)
        factors = own_src[self.region].reshape(-1)
        zeros = np.bincount(flat, vv == 0, minlength=xv.size) + (self.include_self & (xv == 0))
        g_self = np.where(zeros - (xv == 0) > 0, 0.0, nonzero / own_x)
        g_src = np.where(zeros[flat] - (vv == 0) > 0, 0.0, nonzero[flat] / factors)
        return g_self, g_src


def _values(v: Any) -> np.ndarray:
    """The array of ``v`` (a tensor's values, as constants of the derivative)."""
    return v._data if isinstance(v, Tensor) else v


def _identity(reduce: str, dtype: np.dtype) -> Any:
    value = _IDENTITY[reduce]
    if dtype.kind in "iu" and np.isinf(value):
        info = np.iinfo(dtype)
        return info.min if value < 0 else info.max
    return value


def gather(
    input: Tensor,
    dim: int | None = None,
    index: Any = None,
    *,
    sparse_grad: bool = False,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for ``dim=0`` (likewise for other dims).

    ``index`` has ``input``'s number of dimensions and is no larger than ``input`` outside
    ``dim``; the result has ``index``'s shape.
    """
    refuse_out("gather", out)
    x = as_tensor(input)
    d = one_dim("gather", dim, axis, x.ndim)
    pos = positions(x.shape, d, _index_array(index, "gather"), "gather")
    return Gather.apply(x, pos=pos)


def scatter(
    input: Tensor,
    dim: int | None = None,
    index: Any = None,
    src: Any = None,
    *,
    value: Any = None,
    reduce: str | None = None,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number) written where ``index`` points:
    ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``. ``reduce='add' | 'multiply'`` combines
    instead of overwriting (see :func:`scatter_reduce`). Repeated positions: one write wins."""
    refuse_out("scatter", out)
    src = value if src is None else src
    x = as_tensor(input)
    idx = _index_array(index, "scatter")
    if not isinstance(src, Tensor):
        src = Tensor._wrap(np.full(idx.shape, src, dtype=x.dtype))
    if reduce is not None:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise ValueError(f"scatter(): reduce must be 'add' or 'multiply'; got {reduce!r}")
        return scatter_reduce(x, dim, idx, src, modes[reduce], axis=axis)
    d = one_dim("scatter", dim, axis, x.ndim)
    pos = positions(x.shape, d, idx, "scatter")
    region = _region(src.shape, idx.shape, "scatter")
    return Scatter.apply(x, cast(src, x.dtype), pos=pos, region=region)


def scatter_add(
    input: Tensor,
    dim: int | None = None,
    index: Any = None,
    src: Any = None,
    *,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """A copy of ``input`` with ``src`` added where ``index`` points (repeats add up)."""
    refuse_out("scatter_add", out)
    return scatter_reduce(input, dim, index, src, "sum", axis=axis)


def scatter_reduce(
    input: Tensor,
    dim: int | None = None,
    index: Any = None,
    src: Any = None,
    reduce: str = "sum",
    *,
    include_self: bool = True,
    out: None = None,
    axis: int | None = None,
) -> Tensor:
    """``input`` with ``src``'s entries reduced into the positions ``index`` names.

    ``reduce``: ``'sum' | 'prod' | 'mean' | 'amax' | 'amin'``. With ``include_self=False`` the
    values already in ``input`` at written positions take no part. The result has ``input``'s
    shape; ties in amax/amin share the gradient evenly.
    """
    refuse_out("scatter_reduce", out)
    if reduce not in _IDENTITY:
        raise ValueError(
            f"scatter_reduce(): reduce must be one of {sorted(_IDENTITY)}; got {reduce!r}"
        )
    x = as_tensor(input)
    src = as_tensor(src, x)
    idx = _index_array(index, "scatter_reduce")
    d = one_dim("scatter_reduce", dim, axis, x.ndim)
    pos = positions(x.shape, d, idx, "scatter_reduce")
    region = _region(src.shape, idx.shape, "scatter_reduce")
    return ScatterReduce.apply(
        x,
        cast(src, x.dtype),
        pos=pos,
        region=region,
        reduce=reduce,
        include_self=bool(include_self),
    )
