"""Loss functions: binary and categorical cross-entropy, negative log-likelihood (the
regression losses live in :mod:`chainrule.ops.loss_regression`, the margin losses in
:mod:`chainrule.ops.loss_margin`).

Each loss is one fused op, so its gradient is the closed form (for example softmax − one-hot for
cross-entropy) rather than a chain of small ops, and so it can be made stable as a whole.

``reduction`` is ``'mean'`` (the default), ``'sum'`` or ``'none'`` (one value per element or
sample); PyTorch's deprecated ``size_average`` and ``reduce`` override it, with its warning.
Targets are data: they take the input's dtype. Unlike PyTorch, an input and target of different
shapes raise instead of broadcasting (a (N, 1) output against (N,) targets would silently become
an (N, N) loss).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops.activation import stable_sigmoid
from chainrule.ops.arithmetic import add, as_tensor, cast, mul
from chainrule.ops.loss_common import (
    check_reduction,
    constant,
    float_input,
    input_and_target,
    legacy_reduction,
    reduce_values,
    spread,
)
from chainrule.ops.loss_regression import huber_loss, l1_loss, mse_loss
from chainrule.ops.shape import permute, reshape

# The regression losses moved to loss_regression; these names stay importable from here.
__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
]


def _clamped_log(x: np.ndarray) -> np.ndarray:
    """log x clamped at −100 (PyTorch's rule for binary cross-entropy), with no log(0) warning.

    Plainly ``np.maximum(np.log(x), -100)``; arrays take the in-place form, tensors (a
    ``create_graph`` backward runs the forward again) a differentiable one.
    """
    if isinstance(x, np.ndarray):
        out = np.full_like(x, -100.0)
        np.log(x, out=out, where=x > 0)
        return np.maximum(out, -100.0, out=out)
    positive = x > 0
    return np.maximum(np.where(positive, np.log(np.where(positive, x, 1.0)), -100.0), -100.0)


def _clamped_log1m(x: np.ndarray) -> np.ndarray:
    """log(1 − x) clamped at −100, via log1p so that it stays exact for tiny x (tensors as in
    :func:`_clamped_log`)."""
    if isinstance(x, np.ndarray):
        out = np.full_like(x, -100.0)
        np.log1p(-x, out=out, where=x < 1)
        return np.maximum(out, -100.0, out=out)
    below = x < 1
    return np.maximum(np.where(below, np.log1p(-np.where(below, x, 0.0)), -100.0), -100.0)


# PyTorch's floor for p(1 − p) in the BCE gradient is the float32 number nearest 1e-12.
_BCE_EPSILON = float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    """d BCE/dp = w(p − t)/max(p(1 − p), ε) with ε ≈ 10⁻¹²,  d/dt = w(log(1 − p) − log p)."""

    def forward(self, p, t, reduction, weight):
        self.log_p, self.log_1p = _clamped_log(p), _clamped_log1m(p)
        self.p, self.t, self.reduction, self.weight = p, t, reduction, weight
        values = -(t * self.log_p + (1 - t) * self.log_1p)
        return reduce_values(values if weight is None else values * weight, reduction)

    def backward(self, grad):
        p, t, w = self.p, self.t, self.weight
        g = spread(grad, math.prod(p.shape), self.reduction)
        if w is not None:
            g = g * w
        gp = g * (p - t) / np.maximum(p * (1 - p), _BCE_EPSILON)
        gt = g * (self.log_1p - self.log_p) if self.needs_input_grad[1] else None
        return gp, gt


class BinaryCrossEntropyWithLogits(Function):
    """d BCE(σ(x))/dx = (1 − t) − l·σ(−x), l = 1 + (pos_weight − 1)t; else σ(x) − t."""

    def forward(self, x, t, reduction, weight, pos_weight):
        softplus_neg = np.logaddexp(0, -x)
        scale = None if pos_weight is None else 1 + (pos_weight - 1) * t
        values = (1 - t) * x + (softplus_neg if scale is None else scale * softplus_neg)
        self.x, self.t, self.scale, self.sp = x, t, scale, softplus_neg
        self.reduction, self.weight, self.pos_weight = reduction, weight, pos_weight
        return reduce_values(values if weight is None else values * weight, reduction)

    def backward(self, grad):
        x, t = self.x, self.t
        g = spread(grad, math.prod(x.shape), self.reduction)
        if self.weight is not None:
            g = g * self.weight
        if self.pos_weight is None:
            gx = g * (np.exp(-self.sp) - t)  # σ(x) = exp(−softplus(−x)), reusing the forward
        else:
            gx = g * ((1 - t) - self.scale * stable_sigmoid(-x))
        gt = None
        if self.needs_input_grad[1]:
            local = -x if self.pos_weight is None else -x + (self.pos_weight - 1) * self.sp
            gt = g * local
        return gx, gt


def _minus_at(g: np.ndarray, rows: np.ndarray, cols: np.ndarray, amount: Any) -> np.ndarray:
    """``g`` less ``amount`` at (rows[i], cols[i]), one entry per row: in place on an array; on
    a tensor (a ``create_graph`` backward) ``g`` minus a constant array, a recorded op."""
    if isinstance(g, np.ndarray):
        g[rows, cols] -= amount
        return g
    hit = np.zeros(g.shape, g.dtype)
    hit[rows, cols] = amount
    return g - hit


class _IndexedClassLoss(Function, register=False):
    """Shared by cross_entropy and nll_loss on (M, C) scores with integer targets (M,)."""

    def _pick(self, scores, target, weight, ignore_index, reduction):
        rows = np.arange(len(target))
        valid = target != ignore_index
        self.rows, self.reduction, self.dtype = rows, reduction, scores.dtype
        if weight is None and valid.all():
            # The common case: every row counts once, so no per-row weights are needed.
            self.safe, self.w, self.denominator = target, None, len(target)
            losses = -scores[rows, target]
        else:
            safe = np.where(valid, target, 0)
            w = valid.astype(scores.dtype) if weight is None else weight[safe] * valid
            self.safe, self.w, self.denominator = safe, w, w.sum()
            losses = -scores[rows, safe] * w
        if reduction == "none":
            return losses
        total = losses.sum()
        if reduction == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / self.denominator

    def _row_scale(self, grad):
        """Each row's share of the upstream gradient: shape (M,), or a scalar for all rows."""
        if self.reduction == "mean":
            grad = self._mean_share(grad)
        return grad if self.w is None else self.w * grad

    def _mean_share(self, grad):
        """``grad / denominator``; 0 when no target counts (all ignored or weighted 0), where
        the loss is NaN and PyTorch's gradient is 0."""
        return grad / self.denominator if self.denominator else np.zeros_like(grad)


class CrossEntropy(_IndexedClassLoss):
    """d CE/dlogits = softmax(logits) − onehot(target), per row scaled by its class weight;
    with smoothing ε over C classes, (1 − ε)·w_y(softmax − onehot) + (ε/C)(Σ_c w_c·softmax − w)."""

    def forward(self, logits, target, weight, ignore_index, reduction, label_smoothing=0.0):
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        self.log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.smoothing = label_smoothing
        if label_smoothing:
            return self._smoothed(target, weight, ignore_index, reduction)
        return self._pick(self.log_p, target, weight, ignore_index, reduction)

    def _smoothed(self, target, weight, ignore_index, reduction):
        """PyTorch's mix: (1 − ε)·NLL + (ε/C)·Σ_c w_c(−log p_c), ignored rows 0; 'mean'
        divides both parts by the NLL's denominator (the counted targets' total weight)."""
        nll = self._pick(self.log_p, target, weight, ignore_index, "none")
        self.reduction, self.class_w = reduction, weight
        self.valid = (target != ignore_index).astype(self.dtype)
        uniform = -(self.log_p if weight is None else self.log_p * weight).sum(axis=1)
        eps, classes = self.smoothing, self.log_p.shape[1]
        losses = (1 - eps) * nll + (eps / classes) * (uniform * self.valid)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            return losses.sum() / self.denominator

    def backward(self, grad):
        if self.smoothing:
            return self._smoothed_backward(grad), None
        g = _minus_at(np.exp(self.log_p), self.rows, self.safe, 1)
        scale = self._row_scale(grad)
        return (g * scale[:, None] if scale.ndim else g * scale), None

    def _smoothed_backward(self, grad):
        eps, (rows, classes) = self.smoothing, self.log_p.shape
        if self.reduction == "mean":
            grad = self._mean_share(grad)
        scale = np.broadcast_to(grad, (rows,))[:, None]
        w_y = self.valid if self.w is None else self.w  # each row's target weight, 0 if ignored
        w = np.ones(classes, self.dtype) if self.class_w is None else self.class_w
        uniform = (eps / classes) * self.valid
        g = np.exp(self.log_p) * ((1 - eps) * w_y + uniform * w.sum())[:, None]
        g = _minus_at(g, self.rows, self.safe, (1 - eps) * w_y)
        g -= uniform[:, None] * w
        return g * scale


class NLLLoss(_IndexedClassLoss):
    """d NLL/dlog_p = −onehot(target), per row scaled by its class weight."""

    def forward(self, log_p, target, weight, ignore_index, reduction):
        self.shape = log_p.shape
        return self._pick(log_p, target, weight, ignore_index, reduction)

    def backward(self, grad):
        scale = self._row_scale(grad)
        if isinstance(scale, Tensor):  # create_graph: −scale times a constant one-hot
            onehot = -_minus_at(np.zeros(self.shape, self.dtype), self.rows, self.safe, 1)
            return onehot * -(scale[:, None] if scale.ndim else scale), None
        g = np.zeros(self.shape, dtype=self.dtype)
        g[self.rows, self.safe] = -scale
        return g, None


class SoftCrossEntropy(Function):
    """d CE/dlogits = softmax·Σ_c w_c t_c − w⊙t,  d CE/dt = −w⊙log_softmax(logits)."""

    def forward(self, logits, target, weight, reduction):
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        self.log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.wt = target if weight is None else target * weight
        self.weight, self.reduction = weight, reduction
        losses = -(self.wt * self.log_p).sum(axis=1)
        return reduce_values(losses, reduction)

    def backward(self, grad):
        g = spread(grad, len(self.log_p), self.reduction)
        g = g[:, None] if g.ndim else g
        wt = self.wt
        glogits = g * (np.exp(self.log_p) * wt.sum(axis=1, keepdims=True) - wt)
        gt = None
        if self.needs_input_grad[1]:
            gt = -g * (self.log_p if self.weight is None else self.log_p * self.weight)
        return glogits, gt


# ----- public functions ------------------------------------------------------------------------


def binary_cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """−[t·log p + (1 − t)·log(1 − p)] on probabilities p ∈ [0, 1]; each log clamped at −100.

    Prefer :func:`binary_cross_entropy_with_logits` on the pre-sigmoid values: it is exact
    where this one saturates.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    p, t = input_and_target("binary_cross_entropy", input, target)
    if p._data.size and not ((p._data >= 0).all() and (p._data <= 1).all()):
        raise ValueError(
            "binary_cross_entropy: input must hold probabilities in [0, 1] (found "
            f"{np.nanmin(p._data) if not np.isnan(p._data).all() else 'NaN'} to "
            f"{np.nanmax(p._data) if not np.isnan(p._data).all() else 'NaN'}); "
            "for raw scores use binary_cross_entropy_with_logits"
        )
    w = constant(weight, p._data.dtype)
    return BinaryCrossEntropy.apply(p, t, reduction=reduction, weight=w)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of σ(x), computed from the logits x without overflow.

    ``pos_weight`` scales the positive term (broadcast along the last axis), ``weight`` each
    element's loss.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    x, t = input_and_target("binary_cross_entropy_with_logits", input, target)
    dtype = x._data.dtype
    return BinaryCrossEntropyWithLogits.apply(
        x,
        t,
        reduction=reduction,
        weight=constant(weight, dtype),
        pos_weight=constant(pos_weight, dtype),
    )


def _as_rows(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """Scores (N, C, d1, ...) and targets as rows of C scores; also a per-sample loss's shape.

    Probability targets (the input's shape) are moved like the input; index targets flattened.
    """
    soft = target.shape == input.shape
    if input.ndim == 1:
        return reshape(input, (1, -1)), reshape(target, (1, -1) if soft else (1,)), ()
    per_sample = (input.shape[0],) + input.shape[2:]
    if input.ndim > 2:
        classes_last = (0, *range(2, input.ndim), 1)
        input = reshape(permute(input, classes_last), (-1, input.shape[1]))
        target = (
            reshape(permute(target, classes_last), input.shape) if soft else reshape(target, (-1,))
        )
    return input, target, per_sample


def _class_targets(name: str, target: Tensor, num_classes: int, ignore_index: int) -> np.ndarray:
    labels = target._data
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class-index targets must be integers; got {labels.dtype} (for class "
            "probabilities pass a float target with the input's shape)"
        )
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= num_classes))
    if bad.any():
        raise ValueError(
            f"{name}: target {labels[bad][0]} is out of range for {num_classes} classes; "
            f"labels must be in [0, {num_classes - 1}]"
            + (f" (or the ignore_index {ignore_index})" if ignore_index >= 0 else "")
        )
    return labels.astype(np.intp, copy=False)


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy from logits.

    Shapes: input ``(N, C)`` (or ``(C,)``, or ``(N, C, d1, ...)``); target either class indices
    ``(N,)`` (``(N, d1, ...)``) of an integer dtype, or class probabilities of the input's shape.
    ``weight`` ``(C,)`` weights each class; targets equal to ``ignore_index`` are skipped, and
    ``'mean'`` divides by the total weight of the counted targets (as PyTorch does).
    ``label_smoothing`` ε ∈ [0, 1] mixes each target with the uniform distribution:
    probabilities become (1 − ε)t + ε/C; an index target's loss becomes (1 − ε)·NLL plus ε/C
    times the (class-weighted) sum of −log p over all classes.
    """
    if size_average is not None or reduce is not None:  # the hot path skips the call
        reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if label_smoothing and not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    input = float_input("cross_entropy", input)
    target = as_tensor(target)
    if target._data.dtype.kind == "f" and target.shape == input.shape:
        target = cast(target, input.dtype)
        if label_smoothing:
            classes = input.shape[0] if input.ndim == 1 else input.shape[1]
            kind = input._data.dtype.type
            target = add(mul(target, kind(1 - label_smoothing)), kind(label_smoothing / classes))
        rows, probs, per_sample = _as_rows(input, target)
        w = constant(weight, input._data.dtype)
        out = SoftCrossEntropy.apply(rows, probs, weight=w, reduction=reduction)
        return reshape(out, per_sample) if reduction == "none" else out
    return _class_index_loss(
        CrossEntropy, input, target, weight, ignore_index, reduction, label_smoothing
    )


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood −log_p[target] from log-probabilities (e.g. log_softmax output).

    Shapes as :func:`cross_entropy` with class-index targets.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    input = float_input("nll_loss", input)
    return _class_index_loss(NLLLoss, input, as_tensor(target), weight, ignore_index, reduction)


def _class_index_loss(
    op: type[Function],
    input: Tensor,
    target: Tensor,
    weight: Any,
    ignore_index: int,
    reduction: str,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Shared by cross_entropy and nll_loss: check the class-index targets, flatten the
    spatial axes, run ``op`` on (M, C) rows, and give 'none' its per-sample shape back."""
    name = "cross_entropy" if op is CrossEntropy else "nll_loss"
    classes = input.shape[0] if input.ndim == 1 else input.shape[1] if input.ndim else 0
    expected = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(
            f"{name}: input of shape {input.shape} needs class-index targets of shape "
            f"{expected}"
            + (f" or probabilities of shape {input.shape}" if op is CrossEntropy else "")
            + f"; got {target.shape}"
        )
    labels = _class_targets(name, target, classes, ignore_index)
    rows, labels_t, per_sample = _as_rows(input, Tensor._wrap(labels))
    w = _class_weight(name, weight, classes, input._data.dtype)
    if label_smoothing:
        out = op.apply(
            rows,
            labels_t,
            weight=w,
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=label_smoothing,
        )
    else:
        out = op.apply(rows, labels_t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return reshape(out, per_sample) if reduction == "none" else out


def _class_weight(name: str, weight: Any, classes: int, dtype: np.dtype) -> np.ndarray | None:
    w = constant(weight, dtype)
    if w is not None and w.shape != (classes,):
        raise ValueError(f"{name}: weight must have shape ({classes},); got {w.shape}")
    return w
