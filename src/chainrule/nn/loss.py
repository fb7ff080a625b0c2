"""Loss modules: thin wrappers over the losses of :mod:`chainrule.functional` (the margin and
embedding losses are in :mod:`chainrule.nn.loss_margin`).

Each takes PyTorch's constructor signature, including the deprecated ``size_average`` and
``reduce``, which override ``reduction='mean' | 'sum' | 'none'`` with PyTorch's warning (see
:class:`Loss`). Class and element weights are registered as buffers (as PyTorch does), so they
are saved in ``state_dict()`` and follow ``.to(dtype)``. Unlike PyTorch, input and target shapes
must match exactly where PyTorch would broadcast them (see :mod:`chainrule.ops.loss`).
"""

from __future__ import annotations

from typing import Any

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module
from chainrule.ops.loss_common import REDUCTIONS, legacy_reduction


class Loss(Module):
    """Base of the loss modules: keeps ``reduction``, derived from PyTorch's deprecated
    ``size_average`` and ``reduce`` when either is given (with PyTorch's warning).

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction``; either one given overrides it.
    reduction : {'mean', 'sum', 'none'}
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        allowed: tuple[str, ...] = REDUCTIONS,
    ) -> None:
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in allowed:
            raise ValueError(f"reduction must be one of {allowed}; got {reduction!r}")
        self.reduction = reduction

    def _register_weight(self, name: str, value: Any) -> None:
        self.register_buffer(name, None if value is None else as_tensor(value))


class MSELoss(Loss):
    """Mean squared error (x − t)².

    Parameters
    ----------
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
        """The reduced squared error."""
        return F.mse_loss(as_tensor(input), target, reduction=self.reduction)


class L1Loss(Loss):
    """Mean absolute error |x − t|.

    Parameters
    ----------
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
        """The reduced absolute error."""
        return F.l1_loss(as_tensor(input), target, reduction=self.reduction)


class HuberLoss(Loss):
    """Huber loss: ½d² where |d| ≤ δ, else δ(|d| − ½δ), with d = x − t.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
    delta : float
        Where the loss turns from quadratic to linear (> 0); 1.0 by default.

    Shapes
    ------
    input and target: any shape, the same → output: scalar, or that shape with ``'none'``.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not delta > 0:  # checked when built; the functional raises PyTorch's RuntimeError
            raise ValueError(f"HuberLoss: delta must be > 0; got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced Huber loss."""
        return F.huber_loss(as_tensor(input), target, self.reduction, self.delta)


class BCELoss(Loss):
    """Binary cross-entropy on probabilities: −[t·log p + (1 − t)·log(1 − p)].

    Prefer :class:`BCEWithLogitsLoss` on pre-sigmoid scores: it stays exact where this
    saturates (each log here is clamped at −100, as in PyTorch).

    Parameters
    ----------
    weight : array_like, optional
        Per-element weight, of the input's shape (a buffer).
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input (probabilities in [0, 1]) and target: any shape, the same → output: scalar, or that
    shape with ``'none'``.
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
        """The reduced binary cross-entropy."""
        return F.binary_cross_entropy(
            as_tensor(input), target, self.weight, reduction=self.reduction
        )


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy of σ(x), computed from the logits x without overflow.

    Parameters
    ----------
    weight : array_like, optional
        Per-element weight, of the input's shape (a buffer).
    reduction : {'mean', 'sum', 'none'}
    pos_weight : array_like of shape (C,), optional
        Weight of the positive term per class, C the input's last axis (a buffer). Above 1 it
        raises recall.

    Shapes
    ------
    input (logits) and target: any shape, the same → output: scalar, or that shape with
    ``'none'``.
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Any = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced binary cross-entropy of sigmoid(input)."""
        return F.binary_cross_entropy_with_logits(
            as_tensor(input),
            target,
            self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy from logits (log_softmax and NLL in one stable op).

    Parameters
    ----------
    weight : array_like of shape (C,), optional
        Per-class weight (a buffer).
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction`` (see :class:`Loss`).
    ignore_index : int
        Targets with this class index are skipped, also in the mean's denominator; -100 by
        default.
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the total weight of the counted targets, as PyTorch does.
    label_smoothing : float
        ε in [0, 1]: each target is mixed with the uniform distribution, (1 − ε)t + ε/C.

    Shapes
    ------
    input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target class indices ``(N,)``, ``()``
    or ``(N, d1, ...)`` of an integer dtype, or class probabilities of the input's shape →
    output: scalar, or the per-sample shape with ``'none'``.
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self._register_weight("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced cross-entropy of the logits ``input`` against ``target``."""
        return F.cross_entropy(
            as_tensor(input),
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(Loss):
    """Negative log-likelihood −log_p[target] of log-probabilities (e.g. :class:`LogSoftmax`).

    Parameters
    ----------
    weight : array_like of shape (C,), optional
        Per-class weight (a buffer).
    ignore_index : int
        Targets with this class index are skipped; -100 by default.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target class indices ``(N,)``, ``()``
    or ``(N, d1, ...)`` → output: scalar, or the per-sample shape with ``'none'``.
    """

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self._register_weight("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced negative log-likelihood of ``target`` under ``input``."""
        return F.nll_loss(
            as_tensor(input),
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class SmoothL1Loss(Loss):
    """Smooth L1 loss: ½d²/β where |d| < β, else |d| − ½β, with d = x − t (L1 when β = 0).

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction`` (see :class:`Loss`).
    reduction : {'mean', 'sum', 'none'}
    beta : float
        Where the loss turns from quadratic to linear (≥ 0); 1.0 by default.

    Shapes
    ------
    input and target: any shape, the same → output: scalar, or that shape with ``'none'``.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced smooth L1 loss."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(Loss):
    """Kullback–Leibler divergence t·(log t − x) of targets t from log-probabilities x.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction`` (see :class:`Loss`).
    reduction : {'mean', 'batchmean', 'sum', 'none'}
        ``'batchmean'`` (sum / batch size) is the divergence's definition; ``'mean'`` (the
        default, kept for PyTorch compatibility) divides by the element count and warns.
    log_target : bool
        Whether the target holds log-probabilities too.

    Shapes
    ------
    input and target: any shape, the same → output: scalar, or that shape with ``'none'``.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        allowed = ("mean", "batchmean", "sum", "none")
        super().__init__(size_average, reduce, reduction, allowed=allowed)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The reduced divergence."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(Loss):
    """Poisson negative log-likelihood: e^x − t·x (``log_input``), else x − t·log(x + eps).

    Parameters
    ----------
    log_input : bool
        Whether the input is the log of the rate (True by default).
    full : bool
        Add Stirling's approximation of log(t!) where t > 1.
    size_average, reduce : bool, optional
        Deprecated spellings of ``reduction`` (see :class:`Loss`).
    eps : float
        Keeps log(x + eps) finite at x = 0 when ``log_input`` is False; 1e-8 by default.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input and target: any shape, the same → output: scalar, or that shape with ``'none'``.
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        """The reduced Poisson negative log-likelihood."""
        return F.poisson_nll_loss(
            log_input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(Loss):
    """Gaussian negative log-likelihood ½(log v + (x − t)²/v), v = max(var, eps).

    Parameters
    ----------
    full : bool
        Add the constant ½log 2π.
    eps : float
        The variance's floor; 1e-6 by default.
    reduction : {'mean', 'sum', 'none'}

    Shapes
    ------
    input and target alike; var the input's shape, that shape without its last dim or with
    one dim of size 1, or a number → output: scalar, or the input's shape with ``'none'``.
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:
        """The reduced Gaussian negative log-likelihood."""
        return F.gaussian_nll_loss(
            input, target, var, full=self.full, eps=self.eps, reduction=self.reduction
        )
