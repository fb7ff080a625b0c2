"""Learning-rate schedules: objects that rewrite each param group's ``'lr'`` once per epoch
(or per batch).

PyTorch's names, signatures, defaults and semantics. Creating a scheduler records each group's
starting ``'lr'`` as ``'initial_lr'`` (``base_lrs``) and counts as epoch 0; call
``scheduler.step()`` after ``optimizer.step()``. Schedules are computed from the groups' current
lrs (PyTorch's "chainable" form), so two schedulers on one optimizer compose, and the values
match PyTorch's in float64.

>>> sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=1000)  # doctest: +SKIP
"""

from chainrule.optim.lr_scheduler.base import LRScheduler
from chainrule.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from chainrule.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR
from chainrule.optim.lr_scheduler.one_cycle import OneCycleLR
from chainrule.optim.lr_scheduler.plateau import ReduceLROnPlateau
from chainrule.optim.lr_scheduler.step import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "PolynomialLR",
    "LRScheduler",
]


class _LRScheduler(LRScheduler):
    """PyTorch's old name of :class:`LRScheduler`, kept so that older subclasses still work."""
