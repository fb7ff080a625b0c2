"""Learning-rate schedules: objects that rewrite each param group's ``'lr'`` once per epoch.

PyTorch's semantics. Creating a scheduler records each group's starting ``'lr'`` as
``'initial_lr'`` (``base_lrs``) and counts as epoch 0; call ``scheduler.step()`` after
``optimizer.step()``, once per epoch. Schedules are computed from the groups' current lrs (PyTorch's
"chainable" form), so two schedulers on one optimizer compose, and the values match PyTorch's
to rounding.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any, Literal, SupportsFloat

from chainrule.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement :meth:`get_lr`.

    Parameters
    ----------
    optimizer : Optimizer
        Whose param groups' ``'lr'`` this scheduler sets.
    last_epoch : int
        -1 to start a schedule. Any other value resumes one: every group must then already hold
        ``'initial_lr'`` (for instance from a loaded optimizer state dict).

    Attributes
    ----------
    base_lrs : list of float
        Each group's ``'initial_lr'``.
    last_epoch : int
        Epochs stepped so far (0 right after construction).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        _check_int("last_epoch", last_epoch, low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param group {i} has no 'initial_lr', which resuming a schedule "
                        f"(last_epoch={last_epoch}) needs; load the optimizer's state dict first "
                        "or start with last_epoch=-1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        # PyTorch's initial step: last_epoch becomes 0 and the schedule's first lr is set.
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of every group for epoch :attr:`last_epoch`, from the groups' current lrs.

        Called by :meth:`step` after it advances :attr:`last_epoch`; to read the lrs in use,
        call :meth:`get_last_lr`.
        """
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new lrs into the optimizer's param groups.

        Call it after ``optimizer.step()``; calling it before the optimizer has ever stepped
        skips the schedule's first value, which raises a ``UserWarning`` as in PyTorch.
        """
        if self._step_count == 1 and self.optimizer._step_count == 0:
            warnings.warn(
                "lr_scheduler.step() was called before optimizer.step(): the first learning "
                "rate of the schedule is skipped. Call optimizer.step() first.",
                UserWarning,
                stacklevel=2,
            )
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but this scheduler was created "
                f"for {len(self.base_lrs)}; create schedulers after adding every param group"
            )
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self) -> list[float]:
        """The lr of every param group as last set by this scheduler."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything the scheduler holds except the optimizer, as a deep copy."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` saved from a scheduler of the same class.

        Raises ``ValueError`` if its keys are not this scheduler's (another scheduler's dict).
        """
        expected = set(self.__dict__) - {"optimizer"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"not a {type(self).__name__} state dict: expected keys {sorted(expected)}, "
                f"got {got}"
            )
        self.__dict__.update(copy.deepcopy(state_dict))

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    r"""Multiply every group's lr by ``gamma`` once every ``step_size`` epochs.

    ηₜ = η₀ · γ^⌊t / step_size⌋
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        _check_int("step_size", step_size, low=1)
        _check_real("gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    r"""Multiply every group's lr by ``gamma`` every epoch.

    ηₜ = η₀ · γᵗ
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_real("gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal every group's lr from its initial value to ``eta_min`` along a half cosine over
    ``T_max`` epochs, then back up, periodically (no restart).

        ηₜ = η_min + (η₀ − η_min)·(1 + cos(πt/T_max))/2

    Computed as PyTorch does, recursively from the current lr:
    ``ηₜ = η_min + (ηₜ₋₁ − η_min)·(1 + cos(πt/T))/(1 + cos(π(t−1)/T))``, with the closed form's
    increment at the restart points where that ratio's denominator is 0.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        _check_real("T_max", T_max)
        if not T_max > 0:
            raise ValueError(f"T_max must be positive, got {T_max}")
        _check_real("eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - T) % (2 * T) == 0:
            rise = (1 - math.cos(math.pi / T)) / 2
            return [
                lr + (base - eta_min) * rise for lr, base in zip(self._current_lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]


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
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        _check_real("factor", factor)
        if not 0 <= factor < 1:
            raise ValueError(f"factor must be in [0, 1), got {factor}")
        _check_int("patience", patience, low=0)
        _check_int("cooldown", cooldown, low=0)
        _check_real("threshold", threshold)
        _check_real("eps", eps)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs (one per param group), got {len(min_lr)}")
            for value in min_lr:
                _check_real("min_lr", value)
            self.default_min_lr: float | None = None
            self.min_lrs = list(min_lr)
        else:
            _check_real("min_lr", min_lr)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def step(self, metrics: SupportsFloat) -> None:  # type: ignore[override]
        """Record one epoch's metric (a number or one-element tensor); reduce lrs if due."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
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
            return value < (best * (1 - threshold) if rel else best - threshold)
        return value > (best * (1 + threshold) if rel else best + threshold)

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(
                    f"the optimizer has {len(groups)} param groups but min_lr lists "
                    f"{len(self.min_lrs)}; set scheduler.min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def _check_real(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
