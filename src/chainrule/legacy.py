"""Names that old PyTorch tutorials still use: ``Variable`` and the typed tensor constructors.

``Variable(x, requires_grad=True)`` has been a plain tensor since PyTorch 0.4, and so it is here.
``FloatTensor([1, 2])`` makes a float32 tensor from data, ``FloatTensor(2, 3)`` one of shape
``(2, 3)`` (unspecified values: zeros here); ``isinstance(x, LongTensor)`` checks the dtype, as in
PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor, tensor


def Variable(  # noqa: N802  PyTorch's (legacy) name
    data: Any, requires_grad: bool = False, volatile: bool = False
) -> Tensor:
    """``data`` as a tensor (sharing its values) with ``requires_grad``; ``volatile=True``, which
    PyTorch removed, is refused in favour of ``no_grad()``."""
    if volatile:
        raise RuntimeError(
            "Variable(volatile=True) was removed from PyTorch (0.4) and is not in chainrule; "
            "run the code under `with chainrule.no_grad():` instead"
        )
    t = Tensor(data._data if isinstance(data, Tensor) else data)
    if requires_grad:
        t.requires_grad = True
    return t


class _TypedTensorMeta(type):
    """``isinstance(x, FloatTensor)``: a tensor of that class's dtype."""

    dtype: np.dtype

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype


class _TypedTensor(metaclass=_TypedTensorMeta):
    """``Kind(data)`` → a tensor of data in this dtype; ``Kind(2, 3)`` → shape ``(2, 3)``."""

    dtype = dtypes.float32

    def __new__(cls, *args: Any) -> Tensor:  # type: ignore[misc]
        if not args:
            return tensor(np.zeros(0, cls.dtype))
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            if any(a < 0 for a in args):
                raise RuntimeError(f"{cls.__name__}(): sizes must be non-negative; got {args}")
            return tensor(np.zeros(tuple(int(a) for a in args), cls.dtype))
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}() takes sizes (ints) or one sequence of data")
        data = args[0]._data if isinstance(args[0], Tensor) else args[0]
        return tensor(data, dtype=cls.dtype)


class FloatTensor(_TypedTensor):
    dtype = dtypes.float32


class DoubleTensor(_TypedTensor):
    dtype = dtypes.float64


class HalfTensor(_TypedTensor):
    dtype = dtypes.float16


class LongTensor(_TypedTensor):
    dtype = dtypes.int64


class IntTensor(_TypedTensor):
    dtype = dtypes.int32


class ShortTensor(_TypedTensor):
    dtype = dtypes.int16


class CharTensor(_TypedTensor):
    dtype = dtypes.int8


class ByteTensor(_TypedTensor):
    dtype = dtypes.uint8


class BoolTensor(_TypedTensor):
    dtype = dtypes.bool_
