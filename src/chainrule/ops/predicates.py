"""Tests and bit operations, never differentiated: isnan, isinf, isfinite, isposinf, isneginf,
isclose; bitwise and/or/xor/not on integer and bool tensors; logical and/or/xor/not.

Each returns a new tensor outside the graph (bool for tests and logical ops, the operands'
integer or bool dtype for bitwise ops). Bitwise ops refuse float tensors, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops._common import refuse_out


def _array(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def isnan(input: Tensor) -> Tensor:
    """True where x is NaN (bool tensor of x's shape)."""
    return Tensor._wrap(np.isnan(_array(input)))


def isinf(input: Tensor) -> Tensor:
    """True where x is +inf or −inf."""
    return Tensor._wrap(np.isinf(_array(input)))


def isposinf(input: Tensor, *, out: None = None) -> Tensor:
    """True where x is +inf."""
    if out is not None:
        refuse_out("isposinf", out)
    return Tensor._wrap(np.isposinf(_array(input)))


def isneginf(input: Tensor, *, out: None = None) -> Tensor:
    """True where x is −inf."""
    if out is not None:
        refuse_out("isneginf", out)
    return Tensor._wrap(np.isneginf(_array(input)))


def isfinite(input: Tensor) -> Tensor:
    """True where x is neither NaN nor ±inf."""
    return Tensor._wrap(np.isfinite(_array(input)))


def isclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """True where |a − b| ≤ atol + rtol·|b| (broadcast); equal infinities are close, NaN only to
    NaN and only with ``equal_nan``."""
    return Tensor._wrap(np.isclose(_array(input), _array(other), rtol, atol, equal_nan))


def _integer_operand(name: str, x: Any) -> Any:
    """``x``'s array (a Python int or bool stays a scalar, so that it takes the tensor's dtype),
    refusing floating-point operands: bitwise ops are for integers and bools."""
    if isinstance(x, (bool, int)):
        return x
    a = _array(x)
    if a.dtype.kind not in "biu":
        raise TypeError(
            f"{name} is only defined for integer and bool tensors; got {a.dtype}. "
            f"For truth values use logical_{name.removeprefix('bitwise_')}, or convert "
            "with .long() / .bool()"
        )
    return a


def _bitwise(name: str, op: Callable[..., np.ndarray]) -> Callable[..., Tensor]:
    def bitwise(input: Any, other: Any, *, out: None = None) -> Tensor:
        if out is not None:
            refuse_out(name, out)
        a, b = _integer_operand(name, input), _integer_operand(name, other)
        return Tensor._wrap(np.asarray(op(a, b)))

    bitwise.__name__ = bitwise.__qualname__ = name
    bitwise.__doc__ = f"Elementwise {name.removeprefix('bitwise_')} of the bits of integer or bool "
    bitwise.__doc__ += "tensors (broadcast); a float operand raises TypeError."
    return bitwise


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input: Tensor, *, out: None = None) -> Tensor:
    """~x: every bit flipped for integers, logical not for bools; float raises TypeError."""
    if out is not None:
        refuse_out("bitwise_not", out)
    return Tensor._wrap(np.asarray(np.invert(_integer_operand("bitwise_not", input))))


def _logical(name: str, op: Callable[..., np.ndarray]) -> Callable[..., Tensor]:
    def logical(input: Any, other: Any, *, out: None = None) -> Tensor:
        if out is not None:
            refuse_out(name, out)
        return Tensor._wrap(op(_array(input), _array(other)))

    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = f"Elementwise {name.removeprefix('logical_')} of truth values (nonzero is "
    logical.__doc__ += "true), broadcast: a bool tensor, for operands of any dtype."
    return logical


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input: Tensor, *, out: None = None) -> Tensor:
    """True where x is zero (or False): a bool tensor, for any dtype."""
    if out is not None:
        refuse_out("logical_not", out)
    return Tensor._wrap(np.logical_not(_array(input)))
