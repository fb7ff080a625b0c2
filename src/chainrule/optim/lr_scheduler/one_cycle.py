"""``OneCycleLR``: warm up to a peak lr, then anneal far below the start (the 1cycle policy)."""

from __future__ import annotations

import math
from typing import Any, Literal

from chainrule.optim.lr_scheduler.base import LRScheduler, check_optimizer, check_real, per_group
from chainrule.optim.lr_scheduler.cyclic import set_momentum, start_momentum_cycle, uses_beta1
from chainrule.optim.optimizer import Optimizer


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy: lr from ``max_lr/div_factor`` up to ``max_lr``, then down to
    ``max_lr/(div_factor·final_div_factor)``; momentum the other way round. Step once per batch.

    With η_init = max_lr/div_factor and η_min = η_init/final_div_factor, phase k runs from
    step sₖ₋₁ to sₖ and anneals a → b as ``anneal(a, b, p)``, p = (t − sₖ₋₁)/(sₖ − sₖ₋₁):

    * two phases (default): η_init → max_lr until s₁ = pct_start·total − 1, then max_lr → η_min
      until total − 1;
    * ``three_phase``: η_init → max_lr → η_init (symmetric, until 2·pct_start·total − 2), then
      η_init → η_min.

    ``anneal`` is ``b + (a − b)(1 + cos πp)/2`` (``'cos'``) or ``a + (b − a)p`` (``'linear'``).
    Momentum goes max_momentum → base_momentum → max_momentum in step with the lr.
    Stepping past ``total_steps`` raises ``ValueError``, as in PyTorch.

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
    total_steps : int, optional
        Length of the cycle; else ``epochs * steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
    pct_start : float
        Fraction of the cycle spent rising (a float in [0, 1]).
    anneal_strategy : {'cos', 'linear'}
    cycle_momentum : bool
    base_momentum, max_momentum : float or list of float
    div_factor, final_div_factor : float
    three_phase : bool
    last_epoch : int
        Batches already done (-1 to start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.optimizer = optimizer
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not isinstance(pct_start, float) or pct_start < 0 or pct_start > 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        self._schedule_phases = _phases(self.total_steps, pct_start, three_phase)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._anneal_func_type = anneal_strategy
        check_real("div_factor", div_factor)
        check_real("final_div_factor", final_div_factor)
        max_lrs = per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            # The bounds live in the groups (as in PyTorch), so they are saved with the optimizer.
            for high, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = high / div_factor
                group["max_lr"] = high
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = uses_beta1(optimizer)
            highs = per_group("max_momentum", optimizer, max_momentum)
            lows = per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                start_momentum_cycle(optimizer, self.use_beta1, highs, lows)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """This step's lrs; also writes the cycled momentum into the groups."""
        self._warn_if_outside_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"Tried to step {step} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            phase, pct = self._phase_at(step)
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(
                    group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                )
                set_momentum(group, momentum, self.use_beta1)
        return lrs

    def _phase_at(self, step: int) -> tuple[dict[str, Any], float]:
        """The phase ``step`` falls in (the last one past its end) and the fraction done."""
        start = 0.0
        last = len(self._schedule_phases) - 1
        for i, phase in enumerate(self._schedule_phases):
            end = phase["end_step"]
            if step <= end or i == last:
                return phase, (step - start) / (end - start)
            start = end
        raise AssertionError("unreachable: the last phase always matches")


def _total_steps(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
    if total_steps is not None:
        if not isinstance(total_steps, int) or isinstance(total_steps, bool) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        return total_steps
    if epochs is not None and steps_per_epoch is not None:
        if not isinstance(epochs, int) or epochs <= 0:
            raise ValueError(f"Expected positive integer epochs, but got {epochs}")
        if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
            raise ValueError(
                f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
            )
        return epochs * steps_per_epoch
    raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")


def _phases(total: int, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
    """PyTorch's phase table: each phase's last step and which group keys it anneals between."""

    def phase(end: float, lr: tuple[str, str], momentum: tuple[str, str]) -> dict[str, Any]:
        return {
            "end_step": end,
            "start_lr": lr[0],
            "end_lr": lr[1],
            "start_momentum": momentum[0],
            "end_momentum": momentum[1],
        }

    up = phase(
        float(pct_start * total) - 1, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum")
    )
    if not three_phase:
        down = ("max_lr", "min_lr"), ("base_momentum", "max_momentum")
        return [up, phase(total - 1, *down)]
    return [
        up,
        phase(
            float(2 * pct_start * total) - 2,
            ("max_lr", "initial_lr"),
            ("base_momentum", "max_momentum"),
        ),
        phase(total - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")),
    ]
