"""Regression and likelihood losses: squared, absolute, Huber and smooth-L1 error (fused ops),
and KL divergence, Poisson and Gaussian negative log-likelihood (compositions of other ops, so
they inherit every derivative their parts have).

``reduction`` is ``'mean'`` (the default), ``'sum'`` or ``'none'``; the deprecated
``size_average`` / ``reduce`` override it as in PyTorch, with its warning. Targets take the
input's dtype. Unlike PyTorch, an input and target of different shapes raise instead of
broadcasting (see :func:`chainrule.ops.loss_common.input_and_target`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops.arithmetic import add, as_tensor, cast, div, mul, sub
from chainrule.ops.loss_common import (
    check_reduction,
    float_input,
    input_and_target,
    legacy_reduction,
    reduce_loss,
    reduce_values,
    spread,
)
from chainrule.ops.pointwise import exp, log, where
from chainrule.ops.reduction import sum
from chainrule.ops.shape import reshape


class MSELoss(Function):
    """d (x − t)²/dx = 2(x − t),  d/dt = −2(x − t)."""

    def forward(self, x, t, reduction):
        self.diff, self.reduction = x - t, reduction
        return reduce_values(self.diff * self.diff, reduction)

    def backward(self, grad):
        g = spread(grad, math.prod(self.diff.shape), self.reduction) * (2 * self.diff)
        return g, (-g if self.needs_input_grad[1] else None)


class L1Loss(Function):
    """d |x − t|/dx = sign(x − t) (0 where x = t),  d/dt = −sign(x − t)."""

    def forward(self, x, t, reduction):
        self.diff, self.reduction = x - t, reduction
        return reduce_values(np.abs(self.diff), reduction)

    def backward(self, grad):
        g = spread(grad, math.prod(self.diff.shape), self.reduction) * np.sign(self.diff)
        return g, (-g if self.needs_input_grad[1] else None)


class HuberLoss(Function):
    """d huber/dx = d where |d| ≤ δ, else δ·sign(d), with d = x − t."""

    def forward(self, x, t, reduction, delta):
        d = x - t
        a = np.abs(d)
        self.diff, self.reduction, self.delta = d, reduction, delta
        values = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        return reduce_values(values, reduction)

    def backward(self, grad):
        d = self.diff
        local = np.clip(d, -self.delta, self.delta)
        g = spread(grad, math.prod(d.shape), self.reduction) * local
        return g, (-g if self.needs_input_grad[1] else None)


def _weighted(op: type[Function], x: Tensor, t: Tensor, weight: Any, reduction: str, **params):
    """``op``'s per-element loss times ``weight`` (the input's shape), reduced; ``'mean'``
    divides by the weights' sum for MSE and L1 and by the element count for Huber, as PyTorch."""
    w = as_tensor(weight)
    if w.shape != x.shape:
        raise ValueError("Weights and input must have the same size.")
    w = cast(w, x._data.dtype)
    loss = mul(op.apply(x, t, reduction="none", **params), w)
    if reduction == "mean" and op is not HuberLoss:
        return div(sum(loss), sum(w))
    return reduce_loss(loss, reduction)


def mse_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Squared error (x − t)², reduced; with ``weight`` (input's shape) ``'mean'`` is
    Σw(x − t)²/Σw. Shapes: input and target alike → scalar, or that shape with ``'none'``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    x, t = input_and_target("mse_loss", input, target)
    if weight is not None:
        return _weighted(MSELoss, x, t, weight, reduction)
    return MSELoss.apply(x, t, reduction=reduction)


def l1_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Absolute error |x − t|, reduced; with ``weight`` ``'mean'`` is Σw|x − t|/Σw.
    Shapes: input and target alike → scalar, or that shape with ``'none'``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    x, t = input_and_target("l1_loss", input, target)
    if weight is not None:
        return _weighted(L1Loss, x, t, weight, reduction)
    return L1Loss.apply(x, t, reduction=reduction)


def huber_loss(
    input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None
) -> Tensor:
    """½d² where |d| ≤ δ, else δ(|d| − ½δ), with d = x − t; reduced (with ``weight``,
    ``'mean'`` averages the weighted values). Shapes: input and target alike."""
    check_reduction(reduction)
    if not delta > 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, t = input_and_target("huber_loss", input, target)
    if weight is not None:
        return _weighted(HuberLoss, x, t, weight, reduction, delta=delta)
    return HuberLoss.apply(x, t, reduction=reduction, delta=delta)


def smooth_l1_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """½d²/β where |d| < β, else |d| − ½β (d = x − t): Huber loss with δ = β, divided by β;
    L1 loss when β = 0. Shapes: input and target alike → scalar, or that shape with ``'none'``.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = input_and_target("smooth_l1_loss", input, target)
    if beta == 0:
        return L1Loss.apply(x, t, reduction=reduction)
    huber = HuberLoss.apply(x, t, reduction=reduction, delta=beta)
    return mul(huber, x._data.dtype.type(1.0 / beta))


def _xlogx(t: Tensor) -> Tensor:
    """t·log t with 0 where t = 0 (its limit), and no log(0) evaluated."""
    positive = t._data > 0
    return where(positive, mul(t, log(where(positive, t, 1.0))), 0.0)


def kl_div(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL divergence of the target from the prediction: t·(log t − x) pointwise, where ``input``
    x holds log-probabilities and ``target`` t probabilities (log-probabilities with
    ``log_target``: then e^t·(t − x)).

    ``'batchmean'`` divides the sum by the batch size (``input.shape[0]``), which is the KL
    divergence's definition; ``'mean'`` divides by the number of elements and warns, as
    PyTorch does. Shapes: input and target alike → scalar, or that shape with ``'none'``.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=2,
        )
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x, t = input_and_target("kl_div", input, target)
    if log_target:
        loss = mul(exp(t), sub(t, x))
    else:
        loss = sub(_xlogx(t), mul(t, x))
    if reduction != "batchmean":
        return reduce_loss(loss, reduction)
    total = sum(loss)
    return div(total, x.shape[0]) if x.ndim else total


def poisson_nll_loss(
    input: Tensor,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson target: e^x − t·x with ``log_input`` (x the log
    rate), else x − t·log(x + eps).

    ``full`` adds Stirling's approximation of log(t!), t·log t − t + ½log(2πt), where t > 1.
    Shapes: input and target alike → scalar, or that shape with ``'none'``.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x, t = input_and_target("poisson_nll_loss", input, target)
    if log_input:
        loss = sub(exp(x), mul(t, x))
    else:
        loss = sub(x, mul(t, log(add(x, x._data.dtype.type(eps)))))
    if full:
        big = t._data > 1
        safe = where(big, t, 2.0)  # keeps log away from t ≤ 0, where the term is masked anyway
        half_log = mul(log(mul(safe, 2 * math.pi)), 0.5)
        stirling = add(sub(mul(safe, log(safe)), safe), half_log)
        loss = add(loss, where(big, stirling, 0.0))
    return reduce_loss(loss, reduction)


def _variance_shape(x: Tensor, var: Tensor) -> Tensor:
    """``var`` shaped to broadcast against ``x`` by PyTorch's rules, or ValueError."""
    if var.shape == x.shape:
        return var
    if var.shape == x.shape[:-1]:  # one variance per sample: homoscedastic along the last dim
        return reshape(var, var.shape + (1,))
    mismatched = [v for s, v in zip(x.shape, var.shape) if s != v]
    if var.ndim == x.ndim and mismatched == [1]:
        return var
    raise ValueError("var is of incorrect size")


def gaussian_nll_loss(
    input: Tensor,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of the target under N(input, var): ½(log v + (x − t)²/v), plus
    ½log 2π with ``full``; v = max(var, eps) in the value, while the gradient reaches ``var``
    as if unclamped (PyTorch clamps it in place without recording the clamp).

    Shapes: input and target alike; ``var`` the input's shape, the input's shape without the
    last dim, that shape with one dim of size 1, or a non-negative number.
    """
    x, t = input_and_target("gaussian_nll_loss", input, target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = np.full(x.shape, var, dtype=x._data.dtype)
    v = float_input("gaussian_nll_loss", var)
    if (v._data < 0).any():
        raise ValueError("var has negative entry/entries")
    v = _variance_shape(x, cast(v, x._data.dtype))
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction + " is not valid")
    # The clamp as a constant shift: the value is max(v, eps), the gradient passes unchanged.
    v = add(v, np.maximum(v._data, eps) - v._data)
    d = sub(x, t)
    loss = mul(add(log(v), div(mul(d, d), v)), 0.5)
    if full:
        loss = add(loss, 0.5 * math.log(2 * math.pi))
    return reduce_loss(loss, reduction)
