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

from chainrule.sizes import Size

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


def constructor_array(args: tuple, dtype: object = None) -> np.ndarray:
    """The array ``Tensor(*args)`` holds, following PyTorch's legacy ``torch.Tensor(...)``.

    ``Tensor()`` is an empty float tensor; ``Tensor(2, 3)`` (ints, or one ``Size``) one of that
    shape (zeros here, unspecified values in PyTorch); ``Tensor([1, 2])`` converts Python data to
    the default float dtype, as PyTorch's does. An ndarray keeps its dtype (PyTorch would convert
    it to float: ``Tensor`` is also chainrule's own constructor, and ops hand it integer labels).
    """
    if not args:
        return np.zeros(0, _default if dtype is None else np.dtype(dtype))
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        sizes = tuple(int(a) for a in args)
        if any(n < 0 for n in sizes):
            raise RuntimeError(f"Tensor(): sizes must be non-negative; got {sizes}")
        return np.zeros(sizes, _default if dtype is None else np.dtype(dtype))
    if len(args) > 1:
        raise TypeError(
            f"Tensor() takes one sequence of data or sizes as ints; got {len(args)} arguments "
            f"of types {', '.join(type(a).__name__ for a in args)}"
        )
    data = args[0]
    from_numpy = isinstance(data, (np.ndarray, np.generic))
    return to_array(data, _default if dtype is None and not from_numpy else dtype)


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


# ----- dtype objects under PyTorch's names -----------------------------------------------------
# They are NumPy's dtype objects themselves, so they work wherever NumPy takes a dtype and
# ``x.dtype == chainrule.float32`` holds. ``bool``, ``int`` and ``float`` would shadow the
# builtins here, so chainrule/__init__.py binds those three names from TORCH_NAMES.
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
double, half, long, short = float64, float16, int64, int16

#: Every dtype name PyTorch has that NumPy can hold, as chainrule exports them.
TORCH_NAMES = {
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "float16": float16,
    "half": float16,
    "int64": int64,
    "long": int64,
    "int32": int32,
    "int": int32,
    "int16": int16,
    "short": int16,
    "int8": int8,
    "uint8": uint8,
    "bool": bool_,
}

#: PyTorch dtypes NumPy cannot hold (or chainrule cannot differentiate), and why.
UNSUPPORTED = {
    "bfloat16": "NumPy has no bfloat16; use float32 (or float16)",
    "complex64": "chainrule tensors hold real numbers only",
    "complex128": "chainrule tensors hold real numbers only",
    "cfloat": "chainrule tensors hold real numbers only",
    "cdouble": "chainrule tensors hold real numbers only",
    "float8_e4m3fn": "NumPy has no 8-bit floats",
    "float8_e5m2": "NumPy has no 8-bit floats",
    "qint8": "quantized tensors are not implemented",
    "quint8": "quantized tensors are not implemented",
}


def resolve_dtype(dtype: object, default: np.dtype | None = None) -> np.dtype | None:
    """``dtype`` (a chainrule/NumPy dtype, a type like ``float`` or a name; None means
    ``default``) as a NumPy dtype; refuses what tensors cannot hold, naming the dtype."""
    if dtype is None:
        return default
    try:
        d = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as e:
        raise TypeError(f"{dtype!r} is not a dtype (expected e.g. chainrule.float32)") from e
    if d.kind not in "biuf":
        raise TypeError(
            f"dtype {d} is not supported: tensors hold bool, integer or floating-point numbers"
        )
    return d


def is_floating_point(x: object) -> bool:
    """Whether tensor (or array) ``x`` has a floating-point dtype (``torch.is_floating_point``)."""
    dtype = getattr(x, "dtype", None)
    return (np.asarray(x).dtype if dtype is None else np.dtype(dtype)).kind == "f"


def finfo(dtype: object = None) -> np.finfo:
    """Machine limits of a float dtype (default dtype if omitted): ``eps``, ``max``, ``tiny``…"""
    return np.finfo(_default if dtype is None else resolve_dtype(dtype))


def iinfo(dtype: object) -> np.iinfo:
    """Machine limits of an integer dtype: ``min``, ``max``, ``bits``."""
    return np.iinfo(resolve_dtype(dtype))
