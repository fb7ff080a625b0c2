"""Helpers every op family shares: axis normalization and the float promotion of math
functions. Private to ``chainrule.ops``."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor, as_tensor
from chainrule.ops.arithmetic import cast

Axis = int | tuple[int, ...] | list[int] | None


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (an int, a sequence of ints or None for all) as sorted-free non-negative axes;
    refuses axes out of range and repeated axes. A 0-d tensor accepts axis 0 and -1."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -builtins.max(ndim, 1) <= ax < builtins.max(ndim, 1):
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimensions")
        out.append(int(ax) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(out)


def refuse_out(op_name: str, out: object) -> None:
    """Refuse PyTorch's ``out=``: results are always new tensors here (the graph needs them)."""
    if out is not None:
        raise TypeError(f"chainrule.{op_name}: out= is not supported; assign the result instead")


def dim_alias(op_name: str, dim: Any, axis: Any, names: str = "dim= and axis=") -> Any:
    """``axis`` (NumPy's name, given) in place of ``dim``; refuses both (call only when
    ``axis is not None``, so that the common call pays one comparison)."""
    if dim is not None:
        raise TypeError(f"chainrule.{op_name}: got both {names}; pass one of them")
    return axis


def one_dim(op_name: str, dim: Any, axis: Any, ndim: int) -> int:
    """The one dimension an op works along (gather, scatter, cumsum…): ``dim`` or its NumPy
    alias ``axis``, not both, and not left out; as a non-negative axis of an ``ndim``-d input."""
    if axis is not None:
        dim = dim_alias(op_name, dim, axis, "dim and its alias axis")
    if dim is None:
        raise TypeError(f"{op_name}() missing required argument 'dim'")
    return normalize_axes(dim, ndim)[0]


def correction_of(op_name: str, unbiased: bool | None, correction: float | None) -> float:
    """Bessel's correction from PyTorch's two spellings: ``unbiased`` (True → 1, False → 0) or
    ``correction``; 1 when neither is given; both at once is refused."""
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"chainrule.{op_name}: got both unbiased= and correction=; pass one of them"
        )
    if correction is not None:
        return correction
    return 1 if unbiased is None else int(unbiased)


def keepdim_alias(op_name: str, keepdim: bool, keepdims: bool) -> bool:
    """``keepdims`` (NumPy's name, given) in place of ``keepdim``; refuses both."""
    if keepdim:
        raise TypeError(f"chainrule.{op_name}: got both keepdim= and keepdims=; pass one of them")
    return bool(keepdims)


def as_float(x: Any) -> Tensor:
    """Integer tensors become the default float dtype, as math functions of them do in PyTorch."""
    if isinstance(x, Tensor) and x._data.dtype.kind == "f":
        return x  # the common call, answered before as_tensor's (one call less per op)
    x = as_tensor(x)
    return x if x._data.dtype.kind == "f" else cast(x, dtypes.get_default_dtype())
