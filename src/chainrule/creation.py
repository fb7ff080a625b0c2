"""Tensors made from nothing but a size or a range, under PyTorch's names and defaults.

``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros(size=[2, 3])`` are the same call, as in PyTorch.
Every function takes ``dtype=`` (default: the default float dtype, float32, except where PyTorch
infers one: ``arange`` of ints and ``full`` of an int give int64, ``full`` of a bool gives bool),
``requires_grad=``, and ``device=`` (the CPU only; see :mod:`chainrule.devices`). ``out=`` is
refused: results are always new tensors. The random ones are in :mod:`chainrule.sampling`.

None of these is an op: a created tensor is a leaf with no history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.devices import DeviceLike, check_cpu
from chainrule.ops._common import refuse_out

Size = int | Sequence[int]


def shape_of(dims: tuple[Any, ...], size: Size | None, name: str) -> tuple[int, ...]:
    """The shape given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    if size is not None:
        if dims:
            raise TypeError(f"{name}() got the size both positionally and as size=")
        dims = (size,)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(
                f"{name}(): size must be ints or one tuple of ints; got {type(d).__name__} {d!r}"
            )
        if d < 0:
            raise RuntimeError(f"{name}(): size must be non-negative; got {tuple(dims)}")
    return tuple(int(d) for d in dims)


def prepare(name: str, out: Any, device: DeviceLike) -> None:
    """The checks every creation function makes before any work: no ``out=``, CPU only."""
    refuse_out(name, out)
    check_cpu(device, f"chainrule.{name}")


def float_dtype(dtype: Any, name: str) -> np.dtype:
    """``dtype`` (default: the default float dtype), refused unless it is floating point."""
    d = dtypes.resolve_dtype(dtype, dtypes.get_default_dtype())
    if d.kind != "f":
        raise TypeError(f"{name}() needs a floating-point dtype; got {d}")
    return d


def leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    """The new tensor (requires_grad refused for non-float dtypes, as in PyTorch)."""
    return Tensor(array, requires_grad=requires_grad)


def _filled(name: str, fill: Any, dims: tuple, size: Size | None, dtype: Any) -> np.ndarray:
    d = dtypes.resolve_dtype(dtype, dtypes.get_default_dtype())
    return np.full(shape_of(dims, size, name), fill, dtype=d)


def zeros(
    *size: Size,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    **shape: Size,
) -> Tensor:
    """A tensor of zeros of shape ``size``. ``zeros(2, 3)`` → shape ``(2, 3)``."""
    prepare("zeros", out, device)
    return leaf(_filled("zeros", 0, size, _size_kw(shape, "zeros"), dtype), requires_grad)


def ones(
    *size: Size,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    **shape: Size,
) -> Tensor:
    """A tensor of ones of shape ``size``."""
    prepare("ones", out, device)
    return leaf(_filled("ones", 1, size, _size_kw(shape, "ones"), dtype), requires_grad)


def empty(
    *size: Size,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    **shape: Size,
) -> Tensor:
    """A tensor of shape ``size`` whose values are unspecified (zeros here: NumPy's uninitialized
    memory could hold NaNs that later warn)."""
    prepare("empty", out, device)
    return leaf(_filled("empty", 0, size, _size_kw(shape, "empty"), dtype), requires_grad)


def _size_kw(extra: dict[str, Any], name: str) -> Size | None:
    """``size=`` given by keyword (the only keyword the ``**`` of zeros/ones/empty take)."""
    if not extra:
        return None
    unknown = set(extra) - {"size"}
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    return extra["size"]


def full(
    size: Size,
    fill_value: bool | int | float,
    *,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``; its dtype follows the value when
    not given (bool → bool, int → int64, float → the default float dtype), as in PyTorch 2."""
    prepare("full", out, device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    d = dtypes.resolve_dtype(dtype)
    if d is None:
        d = dtypes.to_array(fill_value).dtype  # the same rule as tensor(fill_value)
    return leaf(np.full(shape_of((size,), None, "full"), fill_value, dtype=d), requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """The ``(n, m)`` identity matrix (``m`` defaults to ``n``): ones on the diagonal."""
    prepare("eye", out, device)
    rows, cols = shape_of((n, n if m is None else m), None, "eye")
    d = dtypes.resolve_dtype(dtype, dtypes.get_default_dtype())
    return leaf(np.eye(rows, cols, dtype=d), requires_grad)


def _number(value: Any) -> int | float:
    """A Python number from an int, float, NumPy scalar or one-element tensor."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (int, float)):
        raise TypeError(f"expected a number; got {type(value).__name__}")
    return value


def arange(
    start: float = 0,
    end: float | None = None,
    step: float = 1,
    *,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """``[start, start + step, …]`` up to but excluding ``end``; ``arange(n)`` is ``0 … n-1``.

    The dtype is int64 when every bound is an int, else the default float dtype. The length is
    ``ceil((end - start) / step)`` and value ``i`` is ``start + i·step`` computed in float64,
    as PyTorch computes it.
    """
    prepare("arange", out, device)
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and lower bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    integral = all(isinstance(v, int) for v in (start, end, step))
    d = dtypes.resolve_dtype(
        dtype, np.dtype(np.int64) if integral else dtypes.get_default_dtype()
    )
    n = max(math.ceil((end - start) / step), 0)
    if integral and d.kind in "iu":
        values = start + step * np.arange(n, dtype=np.int64)
    else:
        values = start + step * np.arange(n, dtype=np.float64)
    return leaf(values.astype(d), requires_grad)


def _symmetric_range(start: float, end: float, steps: int, d: np.dtype) -> np.ndarray:
    """``steps`` evenly spaced values from ``start`` to ``end``, the first half counted up from
    ``start`` and the second down from ``end`` (so both ends are exact): PyTorch's way.

    PyTorch rounds the bounds and the step to the float dtype and forms ``start + step·i`` with
    one rounding (a fused multiply-add); the same numbers come from doing that sum in a wider
    dtype and rounding once. Integer dtypes use a float64 step, as PyTorch does.
    """
    d_step = d if d.kind == "f" else np.dtype(np.float64)
    a, b = d_step.type(start), d_step.type(end)
    step = (b - a) / d_step.type(max(steps - 1, 1))
    wide = np.longdouble if d_step.itemsize >= 8 else np.float64
    if steps == 1:
        return np.array([a], dtype=d_step)  # PyTorch gives the start alone
    i = np.arange(steps)
    up = wide(a) + wide(step) * i.astype(wide)
    down = wide(b) - wide(step) * (steps - 1 - i).astype(wide)
    return np.where(i < steps // 2, up, down).astype(d_step)


def _steps(steps: Any, name: str) -> int:
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"{name}(): steps must be an int; got {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"{name}(): number of steps must be non-negative; got {steps}")
    return int(steps)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (shape ``(steps,)``)."""
    prepare("linspace", out, device)
    n = _steps(steps, "linspace")
    d = dtypes.resolve_dtype(dtype, dtypes.get_default_dtype())
    values = _symmetric_range(_number(start), _number(end), n, d) if n else np.zeros(0, d)
    return leaf(values.astype(d), requires_grad)


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    *,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """``base ** linspace(start, end, steps)`` (shape ``(steps,)``)."""
    prepare("logspace", out, device)
    n = _steps(steps, "logspace")
    d = dtypes.resolve_dtype(dtype, dtypes.get_default_dtype())
    if not n:
        return leaf(np.zeros(0, d), requires_grad)
    exponents = _symmetric_range(_number(start), _number(end), n, d)
    values = np.power(exponents.dtype.type(_number(base)), exponents)
    return leaf(values.astype(d), requires_grad)


# ----- from data ---------------------------------------------------------------------------------
def as_tensor(data: Any, dtype: Any = None, device: DeviceLike = None) -> Tensor:
    """``data`` as a tensor, sharing memory when it can: a tensor of the right dtype is returned
    as is and an ndarray is wrapped without a copy (unless ``dtype`` asks for another)."""
    check_cpu(device, "chainrule.as_tensor")
    d = dtypes.resolve_dtype(dtype)
    if isinstance(data, Tensor):
        return data if d is None or data.dtype == d else data.to(d)
    return Tensor(dtypes.to_array(data, d))


# ----- *_like: the shape (and by default the dtype) of another tensor ----------------------------
def like(input: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:  # noqa: A002
    """The shape of ``input`` and ``dtype`` or, if None, input's dtype."""
    array = input._data if isinstance(input, Tensor) else np.asarray(input)
    return array.shape, dtypes.resolve_dtype(dtype, array.dtype)


def zeros_like(
    input: Any,  # noqa: A002
    *,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Zeros of ``input``'s shape and (unless ``dtype``) dtype."""
    check_cpu(device, "chainrule.zeros_like")
    shape, d = like(input, dtype)
    return leaf(np.zeros(shape, d), requires_grad)


def ones_like(
    input: Any,  # noqa: A002
    *,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Ones of ``input``'s shape and (unless ``dtype``) dtype."""
    check_cpu(device, "chainrule.ones_like")
    shape, d = like(input, dtype)
    return leaf(np.ones(shape, d), requires_grad)


def empty_like(
    input: Any,  # noqa: A002
    *,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Unspecified values (zeros here) of ``input``'s shape and (unless ``dtype``) dtype."""
    check_cpu(device, "chainrule.empty_like")
    shape, d = like(input, dtype)
    return leaf(np.zeros(shape, d), requires_grad)


def full_like(
    input: Any,  # noqa: A002
    fill_value: bool | int | float,
    *,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """``fill_value`` in ``input``'s shape and (unless ``dtype``) dtype."""
    check_cpu(device, "chainrule.full_like")
    shape, d = like(input, dtype)
    return leaf(np.full(shape, _number(fill_value), d), requires_grad)
