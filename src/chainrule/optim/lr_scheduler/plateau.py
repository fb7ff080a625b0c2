"""``ReduceLROnPlateau``: the schedule driven by a metric rather than by the epoch count."""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any, Literal, SupportsFloat

from chainrule.optim.lr_scheduler.base import (
    EPOCH_DEPRECATION_WARNING,
    LRScheduler,
    check_int,
    check_optimizer,
    check_real,
)
from chainrule.optim.optimizer import Optimizer


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply every group's lr by ``factor`` when a metric has stopped improving.

    A value improves on the best so far when it beats it by more than ``threshold``: for
    ``mode='min'``, ``metric < best·(1 − threshold)`` (``'rel'``) or ``metric < best − threshold``
    (``'abs'``); ``'max'`` mirrors it. After more than ``patience`` epochs in a row without
    improvement, ``lr ← max(lr·factor, min_lr)`` (skipped when that changes lr by ``eps`` or
    less), then ``cooldown`` epochs pass in which bad epochs are not counted.

    Unlike the other schedulers it does not record ``'initial_lr'``, and :meth:`step` takes the
    metric.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {'min', 'max'}
    factor : float
        In [0, 1).
    patience : int
    threshold : float
    threshold_mode : {'rel', 'abs'}
    cooldown : int
    min_lr : float or list of float
        One floor for all groups, or one per group.
    eps : float
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: list[float] | float = 0,
        eps: float = 1e-8,
    ) -> None:
        check_real("factor", factor)
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        if factor < 0:
            raise ValueError(f"factor must be >= 0, got {factor}")
        self.factor = factor
        check_optimizer(optimizer)
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
            for value in min_lr:
                check_real("min_lr", value)
            self.default_min_lr: float | None = None
            self.min_lrs = list(min_lr)
        else:
            check_real("min_lr", min_lr)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        check_int("patience", patience, low=0)
        check_int("cooldown", cooldown, low=0)
        check_real("threshold", threshold)
        check_real("eps", eps)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode!r} is unknown! Use 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode!r} is unknown! Use 'rel' or 'abs'")
        # The starting "best": any first metric improves on it.
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        """Whether bad epochs are currently being ignored after a reduction."""
        return self.cooldown_counter > 0

    def step(self, metrics: SupportsFloat, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one epoch's metric (a number or one-element tensor); reduce lrs if due.

        ``epoch`` is deprecated (warns); if given it becomes :attr:`last_epoch`.
        """
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (best * (1.0 - threshold) if rel else best - threshold)
        return value > (best * (threshold + 1.0) if rel else best + threshold)

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the optimizer ({len(groups)}) differs from "
                    f"when ReduceLROnPlateau was initialized ({len(self.min_lrs)}), usually "
                    "because a param group was added; set scheduler.min_lrs to one value per "
                    "group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (checking its mode names, as the constructor does)."""
        self._check_keys(state_dict)
        self.__dict__.update(copy.deepcopy(state_dict))
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
