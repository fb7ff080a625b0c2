"""Per-batch schedules that rise and fall: ``CyclicLR``, ``OneCycleLR`` and
``CosineAnnealingWarmRestarts``.

``CyclicLR`` and ``OneCycleLR`` also cycle momentum, inversely to the lr: a group's
``'momentum'`` (SGD, RMSprop) or the first of its ``'betas'`` (Adam, AdamW).
"""

from __future__ import annotations

import copy
import math
import types
from collections.abc import Callable
from typing import Any, Literal

from chainrule.optim.lr_scheduler.base import (
    LRScheduler,
    check_int,
    check_optimizer,
    check_real,
    per_group,
)
from chainrule.optim.optimizer import Optimizer


def uses_beta1(optimizer: Optimizer) -> bool:
    """Whether momentum lives in ``betas[0]`` (else in ``'momentum'``); raises PyTorch's
    ``ValueError`` when the optimizer has neither."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )
    return "betas" in optimizer.defaults


def set_momentum(group: dict[str, Any], value: float, use_beta1: bool) -> None:
    """Write a group's momentum: ``betas[0]`` (a new tuple) or ``'momentum'``."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def start_momentum_cycle(
    optimizer: Optimizer, use_beta1: bool, max_momentums: list, base_momentums: list
) -> None:
    """Set every group's momentum to its maximum, where a cycle starts, and store both bounds in
    the group as ``'max_momentum'`` and ``'base_momentum'`` (PyTorch's keys)."""
    for high, low, group in zip(max_momentums, base_momentums, optimizer.param_groups):
        set_momentum(group, high, use_beta1)
        group["max_momentum"] = high
        group["base_momentum"] = low


class CyclicLR(LRScheduler):
    r"""Cycle every group's lr between ``base_lr`` and ``max_lr`` (cyclical learning rates).

    With c = ⌊1 + t/(up + down)⌋ the cycle and x = 1 + t/(up + down) − c its fraction done,
    s = x/ρ rising (x ≤ ρ = up/(up + down)) and (x − 1)/(ρ − 1) falling; then

        ηₜ = base_lr + (max_lr − base_lr) · s · f(c or t)

    with f = 1 (``'triangular'``), 1/2^(c−1) (``'triangular2'``), γᵗ (``'exp_range'``, of
    the iteration) or ``scale_fn``. Momentum, when cycled, goes the other way:
    ``max_momentum − (max_momentum − base_momentum)·s·f``. Step it once per batch.

    Parameters
    ----------
    optimizer : Optimizer
    base_lr, max_lr : float or list of float
        The cycle's bounds, one for all groups or one per group.
    step_size_up : int
        Iterations in the rising half.
    step_size_down : int, optional
        Iterations in the falling half (default: ``step_size_up``).
    mode : {'triangular', 'triangular2', 'exp_range'}
        Ignored when ``scale_fn`` is given.
    gamma : float
        Base of ``'exp_range'``.
    scale_fn : callable, optional
        ``f(x) -> float`` in [0, 1], replacing ``mode``.
    scale_mode : {'cycle', 'iterations'}
        What ``scale_fn`` is given: the cycle number or the iteration.
    cycle_momentum : bool
    base_momentum, max_momentum : float or list of float
    last_epoch : int
        Batches already done (-1 to start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: Literal["cycle", "iterations"] = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = per_group("max_lr", optimizer, max_lr)
        check_int("step_size_up", step_size_up, low=1)
        if step_size_down is not None:
            check_int("step_size_down", step_size_down, low=1)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"scale_fn must be callable, got {type(scale_fn).__name__}")
        check_real("gamma", gamma)
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = uses_beta1(optimizer)
            self.base_momentums = per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                start_momentum_cycle(
                    optimizer, self.use_beta1, self.max_momentums, self.base_momentums
                )
        super().__init__(optimizer, last_epoch)
        # As in PyTorch: the constructor's step used the groups' 'initial_lr'; from now on the
        # cycle's lower bound is base_lr.
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        # The built-in modes fix what their function is given.
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The amplitude factor f at ``x`` (a cycle number or an iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        """This batch's lrs; also writes the cycled momentum into the groups."""
        self._warn_if_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            low + (high - low) * scale_factor * scale
            for low, high in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                set_momentum(group, high - (high - low) * scale_factor * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state; a custom ``scale_fn`` as ``None`` (a function or lambda) or
        as a copy of its ``__dict__`` (a callable object), as PyTorch saves it."""
        state = super().state_dict()
        fn = self._scale_fn_custom
        keep = fn is not None and not isinstance(fn, types.FunctionType)
        state["_scale_fn_custom"] = copy.deepcopy(fn.__dict__) if keep else None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; a saved callable ``scale_fn`` gets its attributes back."""
        self._check_keys(state_dict)
        fn, saved = self._scale_fn_custom, state_dict["_scale_fn_custom"]
        self.__dict__.update(
            {k: copy.deepcopy(v) for k, v in state_dict.items() if k != "_scale_fn_custom"}
        )
        if saved is not None and fn is not None:
            fn.__dict__.update(copy.deepcopy(saved))
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing from each group's initial lr down to ``eta_min``, restarted every
    Tᵢ epochs, with T₀ = ``T_0`` and Tᵢ₊₁ = ``T_mult``·Tᵢ (SGDR).

        ηₜ = η_min + (η₀ − η_min)·(1 + cos(π·T_cur/Tᵢ))/2

    T_cur counts epochs since the last restart. ``step(epoch)`` accepts a fractional epoch
    (e.g. ``epoch + i / iters_per_epoch`` after batch i) and places it in its cycle, as
    PyTorch does; it does not warn.

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        Epochs until the first restart.
    T_mult : int
        Growth of the period after each restart (≥ 1).
    eta_min : float
    last_epoch : int
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(T_0, int) or isinstance(T_0, bool) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or isinstance(T_mult, bool) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)) or isinstance(eta_min, bool):
            raise ValueError(
                f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_outside_step()
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * cosine / 2 for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (may be fractional; no warning)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            self._place(epoch)
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._write_lrs(values)

    def _place(self, epoch: float) -> None:
        """Set T_cur and T_i for an absolute epoch."""
        if epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        if epoch < self.T_0:
            self.T_i = self.T_0
            self.T_cur = epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # Restarts so far: the n with T_0·(T_mult^n − 1)/(T_mult − 1) ≤ epoch.
            n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** (n)
