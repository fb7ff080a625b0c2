"""Margin and embedding loss modules: thin wrappers over :mod:`chainrule.ops.loss_margin`.

Each keeps PyTorch's constructor signature and attribute names; class weights are buffers, so
they are saved in ``state_dict()`` under PyTorch's key (``weight``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule import functional as F
from chainrule._tensor import Tensor
from chainrule.nn.loss import Loss


class MarginRankingLoss(Loss):
    """max(0, −y·(x1 − x2) + margin) for labels y = ±1.

    Parameters
    ----------
    margin : float
        0 by default.
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input1, input2, target: ``(N,)`` or ``()`` → output: scalar, or ``(N,)`` with ``'none'``.
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        """The reduced ranking loss."""
        return F.margin_ranking_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class HingeEmbeddingLoss(Loss):
    """x where y = 1, max(0, margin − x) where y = −1.

    Parameters
    ----------
    margin : float
        1.0 by default.
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input and target: any shape, the same → output: scalar, or that shape with ``'none'``.
    """

    def __init__(
        self,
        margin: float = 1.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced hinge embedding loss."""
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(Loss):
    """The logistic loss log(1 + e^(−y·x)) of labels y = ±1.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input and target: any shape, the same → output: scalar, or that shape with ``'none'``.
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced soft margin loss."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(Loss):
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1.

    Parameters
    ----------
    margin : float
        In [−1, 1]; 0 by default.
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input1, input2: ``(N, D)`` or ``(D,)``; target ``(N,)`` or ``()`` → output: scalar, or
    ``(N,)`` with ``'none'``.
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        """The reduced cosine embedding loss."""
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class MultiLabelSoftMarginLoss(Loss):
    """One-versus-all logistic loss over C labels, averaged over the labels.

    Parameters
    ----------
    weight : array_like of shape (C,), optional
        Per-class weight (a buffer).
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input and target (0/1): ``(N, C)`` or ``(C,)`` → output: scalar, or ``(N,)`` with ``'none'``.
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced multi-label soft margin loss."""
        return F.multilabel_soft_margin_loss(
            input, target, weight=self.weight, reduction=self.reduction
        )


class MultiMarginLoss(Loss):
    """Multi-class hinge loss Σ_{j≠y} w_y·max(0, margin − x_y + x_j)ᵖ / C.

    Parameters
    ----------
    p : {1, 2}
    margin : float
        1.0 by default.
    weight : array_like of shape (C,), optional
        Per-class weight (a buffer).
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input ``(N, C)`` or ``(C,)``; target class indices ``(N,)`` or ``()`` → output: scalar,
    or ``(N,)`` with ``'none'``.
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self._register_weight("weight", weight)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced multi-class margin loss."""
        return F.multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
        )


class MultiLabelMarginLoss(Loss):
    """Multi-label hinge loss: every listed class should beat every unlisted one by 1.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input ``(N, C)`` or ``(C,)``; target the same shape, class indices ending at the first −1
    → output: scalar, or ``(N,)`` with ``'none'``.
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced multi-label margin loss."""
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginLoss(Loss):
    """max(0, d(a, p) − d(a, n) + margin) with d the p-norm pairwise distance.

    Parameters
    ----------
    margin : float
        > 0; 1.0 by default.
    p : float
        The norm's order; 2 by default.
    eps : float
        Added to the differences, as :func:`chainrule.functional.pairwise_distance`.
    swap : bool
        Use min(d(a, n), d(p, n)) as the negative distance.
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    anchor, positive, negative: ``(N, D)`` or ``(D,)`` → output: scalar, or ``(N,)`` with
    ``'none'``.
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if not margin > 0:
            raise ValueError(
                f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead"
            )
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        """The reduced triplet loss."""
        return F.triplet_margin_loss(
            anchor,
            positive,
            negative,
            margin=self.margin,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
        )


class TripletMarginWithDistanceLoss(Loss):
    """The triplet loss with any distance function (pairwise distance by default).

    Parameters
    ----------
    distance_function : callable (u, v) -> per-sample distances, optional
    margin : float
        > 0; 1.0 by default.
    swap : bool
        Use min(d(a, n), d(p, n)) as the negative distance.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    anchor, positive, negative: as ``distance_function`` takes them → output: scalar, or the
    distances' shape with ``'none'``.
    """

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        if not margin > 0:
            raise ValueError(
                "TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                f"{margin} instead"
            )
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        """The reduced triplet loss."""
        return F.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )
