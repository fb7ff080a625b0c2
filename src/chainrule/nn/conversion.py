"""``Module.to()`` and its relatives: which dtype is asked for, and the in-place conversion.

As in PyTorch, a module is converted in place: each Parameter and buffer object stays the same
(so an optimizer holding the parameters keeps working) and gets a new array.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule import devices
from chainrule._tensor import Tensor
from chainrule.nn.parameter import Buffer

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def target_dtype(args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.dtype | None:
    """The dtype ``Module.to(*args, **kwargs)`` asks for (None: keep it), after refusing any
    device but the CPU. ``non_blocking`` (also as a trailing positional bool) is a no-op."""
    kwargs = dict(kwargs)
    kwargs.pop("non_blocking", None)
    if args and isinstance(args[-1], bool):
        args = args[:-1]  # to(dtype, non_blocking), to(device, dtype, non_blocking)
    where = kwargs.get("device")
    if args and (devices.is_device_like(args[0]) or isinstance(args[0], int)):
        where = args[0]
    devices.check_cpu(where, "Module.to()")
    return devices.target_dtype(args, kwargs, Tensor)


def convert(
    parameters: Iterable[Tensor], buffers: Iterable[Tensor], dtype: Any, method: str
) -> None:
    """Give every parameter (and its gradient) and every floating-point buffer ``dtype``.

    Integer buffers (batch norm's ``num_batches_tracked``) are left alone, as in PyTorch.
    ``method`` names the caller in errors (``'to'``, ``'half()'``).
    """
    target = np.dtype(dtype)
    if target.kind != "f":
        raise TypeError(
            f"nn.Module.{method} only accepts floating point dtypes, but got desired dtype={target}"
        )
    if target not in _FLOATS:
        raise TypeError(
            f"nn.Module.{method}: chainrule's parameters are float32 or float64; {target} is "
            "not supported"
        )
    for p in parameters:
        p._data = p._data.astype(target, copy=False)
        if p.grad is not None:
            p.grad = Tensor._wrap(p.grad._data.astype(target, copy=False))
    for b in buffers:
        if b._data.dtype.kind == "f":
            b._data = b._data.astype(target, copy=False)


def as_buffer(name: str, value: Any) -> Tensor | None:
    """``value`` as a buffer: a Tensor (an ndarray used without a copy unless read-only)."""
    if isinstance(value, Buffer):
        return Tensor(value._data)  # a plain Tensor sharing the values, as PyTorch stores it
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return Tensor(array if array.flags.writeable else array.copy())
    raise TypeError(
        f"buffer {name!r} must be a NumPy array, a Tensor or None; got {type(value).__name__}"
    )
