"""Gradient clipping, as ``torch.nn.utils.clip_grad``: rescale or clamp ``.grad`` in place."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._data for p in parameters if p.grad is not None]


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


def _check_foreach(foreach: bool | None) -> None:
    # PyTorch's foreach chooses between two kernels of the same result; both are one here.
    if foreach not in (None, True, False):
        raise TypeError(f"foreach must be None, True or False; got {foreach!r}")


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The p-norm of ``tensors`` taken together, as if concatenated into one vector.

    Parameters
    ----------
    tensors : Tensor or iterable of Tensor
        Any shapes (usually gradients: ``[p.grad for p in model.parameters()]``); None
        entries are skipped.
    norm_type : float
        p; ``math.inf`` (or ``'inf'``) for the largest absolute value.
    error_if_nonfinite : bool
        Raise ``RuntimeError`` when the norm is NaN or infinite.
    foreach : bool or None
        Accepted for PyTorch's signature; the result is the same either way.

    Returns
    -------
    Tensor of shape ()
        In the tensors' dtype (float64 when they mix float32 and float64); 0 for none.
    """
    _check_foreach(foreach)
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    arrays = [t._data for t in tensors if t is not None]
    p = float(norm_type)
    if not arrays:
        return Tensor._wrap(np.zeros((), dtype=dtypes.get_default_dtype()))
    norms = [_norm(g, p) for g in arrays]
    # np.max/np.min, not Python's: they propagate a NaN norm wherever it is in the list.
    if p == math.inf:
        total = float(np.max(norms))
    elif p == -math.inf:
        total = float(np.min(norms))
    else:
        total = float(np.linalg.norm(np.asarray(norms), ord=p))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(np.asarray(total, dtype=np.result_type(*arrays)))


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor | float,
    foreach: bool | None = None,
) -> None:
    """Multiply every ``.grad`` in place by ``max_norm / (total_norm + 1e-6)`` if that is < 1.

    ``total_norm`` is usually :func:`get_total_norm` of the gradients (possibly reduced over
    several models). The same arrays are scaled, so an optimizer holding them sees the change.
    """
    _check_foreach(foreach)
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    # As PyTorch: the coefficient is clamped at 1, so gradients within the norm are unchanged.
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # also true for NaN, which then propagates, as in PyTorch
        # An infinite norm gives coef 0, and inf·0 is NaN: PyTorch's result, without a warning.
        with np.errstate(invalid="ignore"):
            for g in _grads(parameters):
                g *= coef


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over every gradient as if concatenated into one vector
    (:func:`get_total_norm`). If it exceeds ``max_norm`` each ``.grad`` is multiplied in place
    by ``max_norm / (norm + 1e-6)``, as PyTorch does (:func:`clip_grads_with_norm_`).

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
    foreach : bool or None
        Accepted for PyTorch's signature; the result is the same either way.

    Returns
    -------
    Tensor of shape ()
        The norm of all gradients before clipping, in the gradients' dtype (float64 when they
        mix float32 and float64).
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)  # walked twice: a generator would be empty the second time
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    if grads:
        clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """PyTorch's deprecated name of :func:`clip_grad_norm_` (the same function here)."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clamped; those without a gradient are skipped.
    clip_value : float
        The largest allowed absolute value (≥ 0).
    foreach : bool or None
        Accepted for PyTorch's signature; the result is the same either way.
    """
    _check_foreach(foreach)
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_value must be >= 0; got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
