"""NumPy's functions on tensors run chainrule's ops: the namespace that serves both backward modes.

Every op's ``forward`` and ``backward`` is written once, with NumPy calls and operators. On
arrays (the first-order path) those calls are NumPy's own and cost nothing extra. With
``create_graph=True`` the engine runs the same code on tensors (see
:mod:`chainrule.autograd.higher_order`); NumPy's dispatch protocols (``__array_ufunc__`` and
``__array_function__`` on :class:`~chainrule.Tensor`) send each call here, and the tables below
map it to the chainrule op that records it, so the backward pass builds a graph of its own.

A NumPy function without a differentiable mapping still runs on tensors whose values need no
gradient (it gets their arrays and returns arrays, as NumPy would); on a tensor that requires
grad it raises ``TypeError`` naming the function, instead of silently dropping the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **_):
    return F.sum(a, axis, keepdims, dtype=dtype)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **_):
    return F.mean(a, axis, keepdims, dtype=dtype)


def _amax(a, axis=None, out=None, keepdims=False, **_):
    return F.amax(a, () if axis is None else axis, keepdims)


def _amin(a, axis=None, out=None, keepdims=False, **_):
    return F.amin(a, () if axis is None else axis, keepdims)


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, **_):
    if isinstance(axis, tuple):  # one axis at a time (torch.prod takes a single dim)
        for ax in sorted((ax % a.ndim for ax in axis), reverse=True):
            a = F.prod(a, ax, keepdims)
        return a
    return F.prod(a, axis, keepdims, dtype=dtype)


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **_):
    return F.var(a, axis, keepdim=keepdims, correction=ddof)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **_):
    return F.std(a, axis, keepdim=keepdims, correction=ddof)


def _transpose(a, axes=None):
    return F.permute(a, tuple(reversed(range(a.ndim))) if axes is None else tuple(axes))


def _expand_dims(a, axis):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = a.ndim + len(axes)
    for ax in sorted(ax % ndim for ax in axes):
        a = F.unsqueeze(a, ax)
    return a


def _concatenate(arrays, axis=0, out=None, **_):
    if axis is None:
        return F.cat([F.reshape(t, (-1,)) for t in arrays])
    return F.cat(list(arrays), axis)


def _split(a, indices_or_sections, axis=0):
    n = a.shape[axis]
    if isinstance(indices_or_sections, int):
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0, *indices_or_sections, n]
    index = [slice(None)] * a.ndim
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(lo, hi)
        pieces.append(a[tuple(index)])
    return pieces


def _flip(m, axis=None):
    if axis is None:
        axis = tuple(range(m.ndim))
    return F.flip(m, (axis,) if isinstance(axis, int) else tuple(axis))


def _pad(array, pad_width, mode="constant", constant_values=0, **_):
    if mode != "constant":
        raise TypeError(f"numpy.pad(mode={mode!r}) has no differentiable mapping for tensors")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (array.ndim, 2))
    flat = [int(w) for pair in reversed(widths.tolist()) for w in pair]  # torch: last dim first
    return F.pad(array, flat, value=float(constant_values))


def _cumulative(op: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def scan(a, axis=None, dtype=None, out=None):
        return op(F.reshape(a, (-1,)), 0) if axis is None else op(a, axis)

    return scan


def _like(fill: Callable[[np.ndarray], np.ndarray]) -> Callable[..., Tensor]:
    # A constant of the input's shape: no graph, whatever the input's (it does not depend on
    # the input's values).
    def make(a, *args, dtype=None, **kwargs):
        return Tensor._wrap(fill(a._data, *args, dtype=dtype, **kwargs))

    return make


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **_):
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return F.clamp(a, lo, hi)


#: NumPy function -> chainrule op taking NumPy's arguments.
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _sum,
    np.mean: _mean,
    np.max: _amax,
    np.amax: _amax,
    np.min: _amin,
    np.amin: _amin,
    np.prod: _prod,
    np.var: _var,
    np.std: _std,
    np.where: lambda c, a=None, b=None: F.where(c, a, b),
    np.clip: _clip,
    np.broadcast_to: lambda a, shape, subok=False: F.expand(a, tuple(shape)),
    np.reshape: lambda a, shape=None, order="C", **kw: F.reshape(a, kw.get("newshape", shape)),
    np.ravel: lambda a, order="C": F.reshape(a, (-1,)),
    np.transpose: _transpose,
    np.swapaxes: lambda a, i, j: F.swapaxes(a, i, j),
    np.moveaxis: lambda a, source, destination: F.movedim(a, source, destination),
    np.expand_dims: _expand_dims,
    np.squeeze: lambda a, axis=None: F.squeeze(a, axis),
    np.concatenate: _concatenate,
    np.stack: lambda arrays, axis=0, out=None, **_: F.stack(list(arrays), axis),
    np.split: _split,
    np.einsum: lambda subscripts, *operands, **_: F.einsum(subscripts, *operands),
    np.tensordot: lambda a, b, axes=2: F.tensordot(a, b, axes),
    np.take_along_axis: lambda a, indices, axis: F.take_along_dim(a, indices, axis),
    np.flip: _flip,
    np.pad: _pad,
    np.cumsum: _cumulative(F.cumsum),
    np.cumprod: _cumulative(F.cumprod),
    np.tril: lambda m, k=0: F.tril(m, k),
    np.triu: lambda m, k=0: F.triu(m, k),
    np.outer: lambda a, b, out=None: F.outer(F.reshape(a, (-1,)), F.reshape(b, (-1,))),
    np.dot: lambda a, b, out=None: F.matmul(a, b),
    np.diagonal: lambda a, offset=0, axis1=0, axis2=1: F.diagonal(a, offset, axis1, axis2),
    np.repeat: lambda a, repeats, axis=None: F.repeat_interleave(a, repeats, axis),
    np.tile: lambda a, reps: F.tile(a, (reps,) if isinstance(reps, int) else tuple(reps)),
    np.nan_to_num: lambda x, copy=True, nan=0.0, posinf=None, neginf=None: F.nan_to_num(
        x, nan, posinf, neginf
    ),
    np.zeros_like: _like(np.zeros_like),
    np.ones_like: _like(np.ones_like),
    np.empty_like: _like(np.zeros_like),
    np.full_like: _like(np.full_like),
}

#: NumPy ufunc name -> chainrule op (called with the ufunc's positional operands).
UFUNCS: dict[str, Callable[..., Any]] = {
    "add": F.add,
    "subtract": F.sub,
    "multiply": F.mul,
    "true_divide": F.div,
    "divide": F.div,
    "negative": F.neg,
    "positive": lambda x: x,
    "power": F.pow,
    "float_power": F.pow,
    "matmul": F.matmul,
    "square": F.square,
    "reciprocal": F.reciprocal,
    "sqrt": F.sqrt,
    "absolute": F.abs,
    "fabs": F.abs,
    "sign": F.sign,
    "maximum": F.maximum,
    "minimum": F.minimum,
    "fmax": F.maximum,
    "fmin": F.minimum,
    "hypot": F.hypot,
    "arctan2": F.atan2,
    "logaddexp": F.logaddexp,
    "floor": F.floor,
    "ceil": F.ceil,
    "trunc": F.trunc,
    "rint": F.round,
    "floor_divide": F.floor_divide,
    "remainder": F.remainder,
    "fmod": F.fmod,
    "greater": lambda a, b: F.as_tensor(a) > b,
    "greater_equal": lambda a, b: F.as_tensor(a) >= b,
    "less": lambda a, b: F.as_tensor(a) < b,
    "less_equal": lambda a, b: F.as_tensor(a) <= b,
    "equal": lambda a, b: F.as_tensor(a) == b,
    "not_equal": lambda a, b: F.as_tensor(a) != b,
    "logical_and": F.logical_and,
    "logical_or": F.logical_or,
    "logical_xor": F.logical_xor,
    "logical_not": F.logical_not,
    "isnan": F.isnan,
    "isinf": F.isinf,
    "isfinite": F.isfinite,
}
# Unary math whose NumPy and chainrule names agree, or differ only by NumPy's "arc" prefix.
for _name in (
    "exp exp2 expm1 log log2 log10 log1p tanh sinh cosh sin cos tan "
    "arcsin arccos arctan arcsinh arccosh arctanh"
).split():
    UFUNCS[_name] = getattr(F, _name.replace("arc", "a"))

#: ufunc.reduce and ufunc.accumulate for tensors: (ufunc name, method) -> op(a, axis, keepdims).
REDUCTIONS: dict[tuple[str, str], Callable[..., Any]] = {
    ("add", "reduce"): lambda a, axis=0, keepdims=False: F.sum(a, axis, keepdims),
    ("maximum", "reduce"): lambda a, axis=0, keepdims=False: _amax(a, axis, keepdims=keepdims),
    ("minimum", "reduce"): lambda a, axis=0, keepdims=False: _amin(a, axis, keepdims=keepdims),
    ("add", "accumulate"): lambda a, axis=0: F.cumsum(a, axis),
    ("multiply", "accumulate"): lambda a, axis=0: F.cumprod(a, axis),
    ("logaddexp", "accumulate"): lambda a, axis=0: F.logcumsumexp(a, axis),
    ("maximum", "accumulate"): lambda a, axis=0: F.cummax(a, axis).values,
    ("minimum", "accumulate"): lambda a, axis=0: F.cummin(a, axis).values,
}


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """``Tensor.__array_ufunc__``: the chainrule op for ``ufunc`` (or NumPy's, on arrays)."""
    if kwargs.get("out") is not None:
        return _refuse(f"numpy.{ufunc.__name__}(..., out=...)", inputs, kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if method == "__call__":
        op = UFUNCS.get(ufunc.__name__)
        if op is not None and not kwargs:
            return op(*inputs)
    elif (ufunc.__name__, method) in REDUCTIONS:
        axis = kwargs.pop("axis", 0)
        return REDUCTIONS[ufunc.__name__, method](inputs[0], axis, **kwargs)
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    return _fallback(getattr(ufunc, method), f"numpy.{name}", inputs, kwargs)


def array_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
    """``Tensor.__array_function__``: the chainrule op for NumPy function ``func``."""
    op = FUNCTIONS.get(func)
    if op is not None and kwargs.get("out") is None:
        return op(*args, **kwargs)
    name = f"numpy.{getattr(func, '__name__', func)}"
    return _fallback(getattr(func, "_implementation", func), name, args, kwargs)


def _fallback(call: Callable[..., Any], name: str, args: tuple, kwargs: dict) -> Any:
    """``call`` on the arrays of the tensors in ``args``, unless one of them needs a gradient."""
    if _needs_grad(args) or _needs_grad(tuple(kwargs.values())):
        return _refuse(name, args, kwargs)
    return call(*_arrays(args), **dict(zip(kwargs, _arrays(tuple(kwargs.values())))))


def _refuse(name: str, args: tuple, kwargs: dict) -> Any:
    raise TypeError(
        f"{name} has no differentiable chainrule mapping, and one of its operands is a tensor "
        "that requires grad: running it on the array would drop the graph. Use chainrule's "
        "ops (chainrule.functional) for this computation, or .detach() the tensor first."
    )


def _needs_grad(values: tuple) -> bool:
    for v in values:
        if isinstance(v, Tensor):
            if v._requires_grad:
                return True
        elif isinstance(v, (list, tuple)) and _needs_grad(tuple(v)):
            return True
    return False


def _arrays(values: tuple) -> tuple:
    out = []
    for v in values:
        if isinstance(v, Tensor):
            v = v._data
        elif isinstance(v, (list, tuple)):
            v = type(v)(_arrays(tuple(v))) if type(v) in (list, tuple) else v
        out.append(v)
    return tuple(out)
