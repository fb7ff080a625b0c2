"""Margin and embedding losses: margin ranking, hinge embedding, soft margin, cosine embedding,
multi-class and multi-label margin, and triplet losses.

Each is a composition of differentiable ops (relu for the hinge max(0, ·), logsigmoid for the
logistic terms, :mod:`chainrule.ops.distance` for the distances), so each inherits every
derivative its parts have. ``reduction`` is ``'mean'``, ``'sum'`` or ``'none'``; PyTorch's
deprecated ``size_average`` / ``reduce`` override it, with its warning. Where PyTorch would
broadcast an elementwise input and target of different shapes these raise (see
:func:`chainrule.ops.loss_common.input_and_target`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops.activation import relu
from chainrule.ops.activation_extra import logsigmoid
from chainrule.ops.arithmetic import add, as_tensor, cast, div, mul, neg, sub
from chainrule.ops.distance import pairwise_distance
from chainrule.ops.loss_common import (
    check_reduction,
    constant,
    float_input,
    input_and_target,
    legacy_reduction,
    reduce_loss,
)
from chainrule.ops.pointwise import minimum, sqrt, where
from chainrule.ops.reduction import sum
from chainrule.ops.shape import getitem, reshape, unsqueeze

# PyTorch's guard in cosine_embedding_loss against a zero norm: added to each squared norm.
_COSINE_EPSILON = 1e-12


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    return reduction


def _scalar(x: Tensor, value: float) -> Any:
    return x._data.dtype.type(value)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, −y·(x1 − x2) + margin): y = 1 asks x1 to rank above x2 by ``margin``, y = −1
    below. Shapes: ``input1``, ``input2``, ``target`` ``(N,)`` or ``()`` alike."""
    reduction = _reduction(size_average, reduce, reduction)
    x1, x2 = float_input("margin_ranking_loss", input1), float_input("margin_ranking_loss", input2)
    y = as_tensor(target)
    if not x1.ndim == x2.ndim == y.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {x1.shape}, input2: {x2.shape}, target: {y.shape} "
        )
    x1, x2 = input_and_target("margin_ranking_loss", x1, x2)
    _, y = input_and_target("margin_ranking_loss", x1, y)
    loss = relu(add(neg(mul(y, sub(x1, x2))), _scalar(x1, margin)))
    return reduce_loss(loss, reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """x where y = 1, max(0, margin − x) where y = −1 (x typically a distance), summed where
    y is neither. Shapes: input and target (of ±1) alike."""
    reduction = _reduction(size_average, reduce, reduction)
    x, y = input_and_target("hinge_embedding_loss", input, target)
    hinge = where(y._data != 1, relu(sub(_scalar(x, margin), x)), 0.0)
    loss = add(hinge, where(y._data != -1, x, 0.0))
    return reduce_loss(loss, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + e^(−y·x)), the logistic loss of labels y = ±1, as −logsigmoid(y·x) so that it
    never overflows. Shapes: input and target alike."""
    reduction = _reduction(size_average, reduce, reduction)
    x, y = input_and_target("soft_margin_loss", input, target)
    return reduce_loss(neg(logsigmoid(mul(y, x))), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1, with
    cos = Σx1·x2 / √((Σx1² + ε)(Σx2² + ε)), ε = 1e-12 (PyTorch's guard).

    Shapes: ``input1``, ``input2`` ``(N, D)`` or ``(D,)``; ``target`` ``(N,)`` or ``()``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    x1, x2 = input_and_target("cosine_embedding_loss", input1, input2)
    y = as_tensor(target)._data
    if y.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if x1.ndim != y.ndim + 1 or x1.shape[:1] != y.shape[:1] and y.ndim:
        raise RuntimeError(
            f"cosine_embedding_loss: inputs of shape {x1.shape} need a target of shape "
            f"{x1.shape[:-1]}; got {y.shape}"
        )
    dim = x1.ndim - 1
    eps = _scalar(x1, _COSINE_EPSILON)
    products = sum(mul(x1, x2), dim)
    squares = mul(add(sum(mul(x1, x1), dim), eps), add(sum(mul(x2, x2), dim), eps))
    cos = div(products, sqrt(squares))
    loss = add(
        where(y == 1, sub(_scalar(x1, 1.0), cos), 0.0),
        where(y == -1, relu(sub(cos, _scalar(x1, margin))), 0.0),
    )
    return reduce_loss(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """−[y·logsigmoid(x) + (1 − y)·logsigmoid(−x)], times ``weight`` (per class), averaged
    over the classes (the last dim): one value per sample, then reduced.

    Shapes: input and target (0/1 per class) ``(N, C)`` or ``(C,)`` → ``(N,)`` / ``()`` with
    ``'none'``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    x, y = input_and_target("multilabel_soft_margin_loss", input, target)
    loss = neg(add(mul(y, logsigmoid(x)), mul(sub(_scalar(x, 1.0), y), logsigmoid(neg(x)))))
    if weight is not None:
        loss = mul(loss, cast(as_tensor(weight), x._data.dtype))
    classes = x.shape[-1] if x.ndim else 1
    loss = div(sum(loss, -1), classes) if x.ndim else loss
    return reduce_loss(loss, reduction)


def _class_rows(name: str, x: Tensor, target: Any) -> tuple[Tensor, np.ndarray]:
    """Scores as (N, C) rows and class-index targets (N,), checked as PyTorch does."""
    labels = as_tensor(target)._data
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {labels.dtype}")
    rows = reshape(x, (1, -1)) if x.ndim < 2 else x
    if x.ndim > 2:
        raise RuntimeError(f"{name}: expected a 1-D or 2-D input; got shape {x.shape}")
    labels = labels.reshape(-1)
    if labels.shape != (rows.shape[0],):
        raise RuntimeError(
            f"{name}: target tensor should be 1-D with size equal to the number of input "
            f"samples (batch size). Expected target size [{rows.shape[0]}], but got "
            f"{list(as_tensor(target).shape)}. Input has shape {list(x.shape)}."
        )
    if ((labels < 0) | (labels >= rows.shape[1])).any():
        raise RuntimeError("target out of range")
    return rows, labels.astype(np.intp)


def multi_margin_loss(
    input: Tensor,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-class hinge: Σ_{j≠y} w_y·max(0, margin − x_y + x_j)ᵖ / C per sample.

    Shapes: ``input`` ``(N, C)`` or ``(C,)``; ``target`` class indices ``(N,)`` or ``()``;
    ``weight`` ``(C,)`` → ``(N,)`` / ``()`` with ``'none'``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = float_input("multi_margin_loss", input)
    rows, labels = _class_rows("multi_margin_loss", x, target)
    n, classes = rows.shape
    picked = unsqueeze(getitem(rows, (np.arange(n), labels)), 1)
    z = relu(add(sub(rows, picked), _scalar(x, margin)))
    if p == 2:
        z = mul(z, z)
    # The target's own column is left out; the class weight scales the whole row.
    scale = (np.arange(classes) != labels[:, None]).astype(x._data.dtype)
    w = constant(weight, x._data.dtype)
    if w is not None:
        if w.shape != (classes,):
            raise RuntimeError(
                f"inconsistent weight size, expected {classes} but got {list(w.shape)}"
            )
        scale = scale * w[labels][:, None]
    loss = div(sum(mul(z, scale), 1), classes)
    return reduce_loss(loss if x.ndim == 2 else reshape(loss, ()), reduction)


def multilabel_margin_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Σ_{j ∈ targets} Σ_{k ∉ targets} max(0, 1 − (x_j − x_k)) / C per sample; each row of
    ``target`` lists class indices and ends at the first −1.

    Shapes: ``input`` and ``target`` (integers) ``(N, C)`` or ``(C,)`` → ``(N,)`` / ``()``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    x = float_input("multilabel_margin_loss", input)
    labels = as_tensor(target)._data
    if labels.shape != x.shape or x.ndim > 2:
        raise RuntimeError(
            f"inconsistent target size: {list(labels.shape)} for input of size: {list(x.shape)}"
        )
    rows = reshape(x, (1, -1)) if x.ndim < 2 else x
    labels = labels.reshape(rows.shape)
    classes = rows.shape[1]
    if ((labels < -1) | (labels >= classes)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    counts = np.zeros(rows.shape, dtype=x._data.dtype)
    for i, row in enumerate(labels):
        listed = row[: np.argmax(row == -1)] if (row == -1).any() else row
        np.add.at(counts[i], listed, 1)
    # pairs[i, j, k]: how often j is listed for sample i, times whether k is not a target.
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]
    gaps = relu(add(sub(unsqueeze(rows, 1), unsqueeze(rows, 2)), _scalar(x, 1.0)))
    loss = div(sum(mul(gaps, pairs), (1, 2)), classes)
    return reduce_loss(loss if x.ndim == 2 else reshape(loss, ()), reduction)


def _check_triplet(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs"
        )


def _triplet(distance: Callable, a: Tensor, pos: Tensor, neg_: Tensor, margin, swap, reduction):
    d_pos, d_neg = distance(a, pos), distance(a, neg_)
    if swap:
        d_neg = minimum(d_neg, distance(pos, neg_))
    loss = relu(add(sub(d_pos, d_neg), margin))
    return reduce_loss(loss, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) − d(a, n) + margin) with d the :func:`pairwise_distance` (p-norm, with
    ``eps``); ``swap`` uses min(d(a, n), d(p, n)) for the negative distance.

    Shapes: ``anchor``, ``positive``, ``negative`` ``(N, D)`` or ``(D,)`` → ``(N,)`` / ``()``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    a, pos, neg_ = (float_input("triplet_margin_loss", t) for t in (anchor, positive, negative))
    _check_triplet(a, pos, neg_)
    if not margin > 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")

    def distance(u: Tensor, v: Tensor) -> Tensor:
        return pairwise_distance(u, v, p, eps)

    return _triplet(distance, a, pos, neg_, _scalar(a, margin), swap, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """:func:`triplet_margin_loss` with any ``distance_function`` (u, v) → per-sample
    distances (:func:`pairwise_distance` by default).

    Shapes: as ``distance_function`` takes them, all three with the same number of dims.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not margin > 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg_ = (as_tensor(t) for t in (anchor, positive, negative))
    _check_triplet(a, pos, neg_)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(distance, a, pos, neg_, margin, swap, reduction)
