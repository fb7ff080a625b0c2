"""Gradient clipping, as ``torch.nn.utils``: rescale or clamp ``.grad`` arrays in place."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.data for p in parameters if p.grad is not None]


def _norm(g: np.ndarray, p: float) -> float:
    """‖g‖_p of one gradient, without a full-size temporary for the usual p = 2 and ∞."""
    if g.size == 0:
        return 0.0
    if p == 2.0:
        flat = g.reshape(-1)  # a view for the contiguous arrays the engine stores in .grad
        return math.sqrt(float(np.dot(flat, flat)))
    if p == math.inf:
        return float(max(g.max(), -g.min()))
    if p == -math.inf:
        return float(np.abs(g).min())
    return float(np.linalg.norm(g.reshape(-1), ord=p))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over every gradient as if concatenated into one vector. If it exceeds
    ``max_norm`` each ``.grad`` is multiplied in place by ``max_norm / (norm + 1e-6)``, as
    PyTorch does (the same arrays, so an optimizer holding them sees the change).

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped (e.g. ``model.parameters()``); those without a
        gradient are skipped.
    max_norm : float
        The largest allowed norm.
    norm_type : float
        p of the p-norm; ``math.inf`` (or ``'inf'``) for the largest absolute value.
    error_if_nonfinite : bool
        Raise ``RuntimeError`` when the norm is NaN or infinite instead of scaling by NaN.

    Returns
    -------
    Tensor of shape ()
        The norm of all gradients before clipping, in the gradients' dtype (float64 when they
        mix float32 and float64).
    """
    grads = _grads(parameters)
    max_norm, p = float(max_norm), float(norm_type)
    if not grads:
        return Tensor._wrap(np.zeros((), dtype=dtypes.get_default_dtype()))
    dtype = np.result_type(*grads)
    norms = [_norm(g, p) for g in grads]
    # np.max/np.min, not Python's: they propagate a NaN norm wherever it is in the list.
    if p == math.inf:
        total = float(np.max(norms))
    elif p == -math.inf:
        total = float(np.min(norms))
    else:
        total = float(np.linalg.norm(np.asarray(norms), ord=p))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {p} of the gradients is {total}, so they cannot be "
            "clipped; set error_if_nonfinite=False to scale them anyway (by NaN)"
        )
    # As PyTorch: the coefficient is clamped at 1, so gradients within the norm are unchanged.
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also true for NaN, which then propagates, as in PyTorch
        # An infinite norm gives coef 0, and inf·0 is NaN: PyTorch's result, without a warning.
        with np.errstate(invalid="ignore"):
            for g in grads:
                g *= coef
    return Tensor._wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clamped; those without a gradient are skipped.
    clip_value : float
        The largest allowed absolute value (≥ 0).
    """
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_value must be >= 0; got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
