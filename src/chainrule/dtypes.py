"""Which dtype a new tensor gets, and how two operands of different dtypes meet.

Rules (PyTorch's, which differ from NumPy's in two places):

- Python floats become the default float dtype (float32 unless :func:`set_default_dtype`);
  NumPy arrays keep their dtype; Python ints become int64 and bools stay bool.
- A scalar operand (Python number, NumPy scalar or 0-d array) never changes a float tensor's
  dtype: ``float32 * np.float64(2)`` is float32. NumPy would give float64.
- An integer or bool tensor meeting a float scalar becomes the default float dtype; two tensors
  of different float dtypes meet in the wider one; an integer tensor meeting a float tensor takes
  the float tensor's dtype (NumPy would widen int64 + float32 to float64).
"""

from __future__ import annotations

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_default = np.dtype(np.float32)


def set_default_dtype(dtype: type | np.dtype | str) -> None:
    """Set the dtype that Python floats become: float32 (the default) or float64."""
    global _default
    d = np.dtype(dtype)
    if d not in _FLOATS:
        raise TypeError(f"default dtype must be float32 or float64, got {d}")
    _default = d


def get_default_dtype() -> np.dtype:
    """Return the dtype that Python floats become (float32 unless changed)."""
    return _default


def to_array(data: object, dtype: object = None, copy: bool = False) -> np.ndarray:
    """Convert ``data`` to an ndarray following the rules above.

    Raises ``TypeError`` for data NumPy cannot hold as numbers (strings, objects, complex).
    """
    from_numpy = isinstance(data, (np.ndarray, np.generic))
    arr = np.array(data, copy=True) if copy else np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"cannot make a tensor from data of dtype {arr.dtype}; expected real numbers "
            "(bool, integer or floating point)"
        )
    if dtype is not None:
        return arr.astype(np.dtype(dtype), copy=False)
    if not from_numpy and arr.dtype.kind == "f":
        return arr.astype(_default, copy=False)
    return arr


def is_scalar(value: object) -> bool:
    """True for Python numbers, NumPy scalars and 0-d arrays: operands that adopt a dtype."""
    return isinstance(value, (int, float, np.generic)) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    )


def result_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype two tensors of dtypes ``a`` and ``b`` meet in."""
    if a == b:
        return a
    a_float, b_float = a.kind == "f", b.kind == "f"
    if a_float and not b_float:
        return a
    if b_float and not a_float:
        return b
    return np.promote_types(a, b)


def scalar_dtype(value: object, tensor_dtype: np.dtype) -> np.dtype:
    """The dtype a scalar operand and a tensor of ``tensor_dtype`` meet in."""
    kind = np.asarray(value).dtype.kind
    if tensor_dtype.kind == "f":
        return tensor_dtype
    if kind == "f":
        return _default
    if kind in "iu" and tensor_dtype.kind == "b":
        return np.dtype(np.int64)
    return tensor_dtype
