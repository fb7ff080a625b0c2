"""Schedulers made of schedulers: one after another (``SequentialLR``) or all at once
(``ChainedScheduler``)."""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from chainrule.optim.lr_scheduler.base import LRScheduler, check_int, check_optimizer
from chainrule.optim.lr_scheduler.plateau import ReduceLROnPlateau
from chainrule.optim.optimizer import Optimizer


def _check_members(kind: str, schedulers: Sequence[Any], optimizer: Any) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{kind} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{kind} at index {i} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{kind} does not support `ReduceLROnPlateau` scheduler as it requires "
                "additional kwargs to be specified when calling `step`, but got one at index "
                f"{i} in the given schedulers sequence."
            )
        if scheduler.optimizer is not optimizer:
            raise ValueError(
                f"{kind} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(scheduler).__name__} at index {i} with another optimizer "
                f"than the {type(optimizer).__name__} given."
            )


class _Composite(LRScheduler):
    """Saving for schedulers of schedulers: their members' state dicts are saved in a list."""

    _schedulers: Sequence[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        """This scheduler's own state, with ``'_schedulers'`` the members' state dicts."""
        state = {
            k: copy.deepcopy(v)
            for k, v in self.__dict__.items()
            if k not in ("optimizer", "_schedulers")
        }
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`, each member from its own saved dict."""
        self._check_keys(state_dict)
        members = state_dict["_schedulers"]
        if len(members) != len(self._schedulers):
            raise ValueError(
                f"expected the state of {len(self._schedulers)} schedulers, got {len(members)}"
            )
        self.__dict__.update(
            {k: copy.deepcopy(v) for k, v in state_dict.items() if k != "_schedulers"}
        )
        for scheduler, saved in zip(self._schedulers, members):
            scheduler.load_state_dict(saved)


class SequentialLR(_Composite):
    r"""Run ``schedulers[i]`` from epoch ``milestones[i-1]`` until ``milestones[i]``.

    ηₜ = (schedulerᵢ's schedule at t − milestones[i−1]), with i the number of milestones ≤ t.

    At each milestone the next scheduler restarts at its own epoch 0 (its closed form at 0,
    PyTorch's ``step(0)``), from the lrs the previous one left. Creating a SequentialLR resets
    every group's lr to ``'initial_lr'``, takes back the construction step of every member and
    re-takes only the first one's.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer every scheduler in ``schedulers`` drives.
    schedulers : list of LRScheduler
    milestones : list of int
        One fewer than ``schedulers``, increasing.
    last_epoch : int
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[LRScheduler],
        milestones: list[int],
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        _check_members(type(self).__name__, schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to {len(milestones)}"
            )
        for milestone in milestones:
            check_int("milestones", milestone, low=0)
        check_int("last_epoch", last_epoch, low=-1)
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched: Any = None) -> None:
        """Take back the construction step of every scheduler inside this one (at any depth)."""
        target = self if sched is None else sched
        if hasattr(target, "_schedulers"):
            for member in target._schedulers:
                self.recursive_undo(member)
        elif hasattr(target, "last_epoch"):
            target.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        """Advance one epoch: step the scheduler in charge, or restart the next one at a
        milestone."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    r"""Step several schedulers at once, in order: their changes to the lrs compose.

    ηₜ = the lr after ``schedulers[0].step()``, …, ``schedulers[-1].step()`` in turn.

    Parameters
    ----------
    schedulers : sequence of LRScheduler
        Chainable schedulers of one optimizer (not ReduceLROnPlateau).
    optimizer : Optimizer, optional
        Their optimizer (default: the first scheduler's).
    """

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError(
                f"{type(self).__name__} expects at least one scheduler to be chained, but got "
                "no scheduler."
            )
        optimizer = optimizer or schedulers[0].optimizer
        _check_members(type(self).__name__, schedulers, optimizer)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()
