"""What every loss family shares: the reduction names, PyTorch's legacy ``size_average`` /
``reduce`` arguments, and the reduction of a per-element loss (as arrays for fused ops, as a
tensor for losses composed of other ops)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops.arithmetic import as_tensor, cast
from chainrule.ops.reduction import mean, sum

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    """Refuse a reduction other than ``'mean'``, ``'sum'`` and ``'none'``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """``reduction`` as PyTorch derives it from its deprecated ``size_average`` and ``reduce``.

    When either is given it wins over ``reduction``: a missing one counts as True, ``reduce``
    False gives ``'none'``, else ``size_average`` False gives ``'sum'``, else ``'mean'``; and a
    UserWarning names the ``reduction`` to pass instead (PyTorch's wording).
    """
    if size_average is None and reduce is None:
        return reduction
    averaged = True if size_average is None else bool(size_average)
    reduced = True if reduce is None else bool(reduce)
    result = "none" if not reduced else "mean" if averaged else "sum"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{result}' "
        "instead.",
        UserWarning,
        stacklevel=3,
    )
    return result


def reduce_values(values: np.ndarray, reduction: str) -> np.ndarray:
    """A fused loss's per-element values (an array, or a tensor when a ``create_graph``
    backward runs the forward again), reduced."""
    if reduction == "mean":
        # sum × 1/n: ndarray.mean() runs Python code that costs more than the math on small arrays.
        n = math.prod(values.shape)  # not .size: a method on tensors
        return values.sum() * (1.0 / n) if n else values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def spread(grad: np.ndarray, n: int, reduction: str) -> np.ndarray:
    """The upstream gradient as seen by each of ``n`` elements before the reduction."""
    return grad * (1.0 / n) if reduction == "mean" and n else grad


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """A composed loss's per-element tensor, reduced (mean, sum, or kept)."""
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def float_input(name: str, input: Any) -> Tensor:
    """``input`` as a tensor, refused unless floating point."""
    if not isinstance(input, Tensor):  # ndarrays and lists too; cheap for tensors
        input = as_tensor(input)
    if input._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point; got {input.dtype}")
    return input


def input_and_target(name: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    """Input and target as tensors of one float dtype and one shape.

    Unlike PyTorch, different shapes raise instead of broadcasting: a (N, 1) output against (N,)
    targets would silently become an (N, N) loss.
    """
    input = float_input(name, input)
    target = as_tensor(target)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"{name}: input has shape {input.shape} but target has shape {target.shape}; they "
            "must match (reshape one of them, e.g. target.reshape(input.shape))"
        )
    return input, cast(target, input._data.dtype)


def constant(value: Any, dtype: np.dtype) -> np.ndarray | None:
    """A weight given as a tensor, array or number, as a plain array of ``dtype`` (or None)."""
    if value is None:
        return None
    return np.asarray(value._data if isinstance(value, Tensor) else value, dtype=dtype)
