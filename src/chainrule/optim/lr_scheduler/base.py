"""``LRScheduler``, the base of every schedule, and the argument checks the schedules share.

A scheduler owns no learning rate of its own: it rewrites the ``'lr'`` of its optimizer's param
groups. Creating one records each group's starting ``'lr'`` as ``'initial_lr'`` (``base_lrs``)
and takes a first step, which counts as epoch 0. Most schedules compute the next lr from the
groups' current ones (PyTorch's "chainable" form), so two schedulers on one optimizer compose.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any

from chainrule.optim.optimizer import Optimizer

#: Stepping with an explicit epoch still works but is deprecated, as in PyTorch.
EPOCH_DEPRECATION_WARNING = (
    "Passing an epoch to scheduler.step() is deprecated; call scheduler.step() without it. "
    "While it is accepted, an explicit epoch makes the scheduler use its closed-form "
    "schedule, where it has one, instead of the chainable form."
)


class LRScheduler:
    """Base class: subclasses implement :meth:`get_lr` (and may override :meth:`step`).

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

    Notes
    -----
    A subclass written for PyTorch works unchanged: :meth:`get_lr` may read ``last_epoch``,
    ``base_lrs``, ``optimizer.param_groups``, ``_is_initial`` (true during the constructor's
    step) and ``_get_lr_called_within_step``; an optional ``_get_closed_form_lr`` is used when
    :meth:`step` is given an epoch.
    """

    # Class-level defaults, so that get_lr() called before the first step reads them.
    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        check_int("last_epoch", last_epoch, low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming scheduler with last_epoch >= 0 (last_epoch={last_epoch}); "
                        "load the optimizer's state dict first or start with last_epoch=-1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """PyTorch's initial step: ``last_epoch`` advances (to 0 for a new schedule) and the
        schedule's first lrs are written."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of every group for epoch :attr:`last_epoch`, from the groups' current lrs.

        Called by :meth:`step` after it advances :attr:`last_epoch`; to read the lrs in use,
        call :meth:`get_last_lr` (calling this one directly warns, as in PyTorch).
        """
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the new lrs into the optimizer's param groups.

        Call it after ``optimizer.step()``; calling it before the optimizer has ever stepped
        skips the schedule's first value, which raises a ``UserWarning`` as in PyTorch.

        Parameters
        ----------
        epoch : int, optional
            Deprecated (warns): jump to this epoch, using the closed form where there is one.
        """
        if self._step_count == 1 and _never_stepped(self.optimizer):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`: the first "
                "learning rate of the schedule is skipped. Call `optimizer.step()` first.",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set ``last_epoch`` (one more, or ``epoch``) and write that epoch's lrs."""
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._write_lrs(values)

    def _write_lrs(self, values: list[float]) -> None:
        groups = self.optimizer.param_groups
        values = list(values)
        if len(groups) != len(values):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but this scheduler computed "
                f"{len(values)} lrs; create schedulers after adding every param group"
            )
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self) -> list[float]:
        """The lr of every param group as last set by this scheduler."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything the scheduler holds except the optimizer (PyTorch's keys), as a deep copy."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` saved from a scheduler of the same class.

        Raises ``ValueError`` if its keys are not this scheduler's (another scheduler's dict).
        """
        self._check_keys(state_dict)
        self.__dict__.update(copy.deepcopy(state_dict))

    def _check_keys(self, state_dict: Any) -> None:
        expected = set(self.__dict__) - {"optimizer"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"not a {type(self).__name__} state dict: expected keys {sorted(expected)}, "
                f"got {got}"
            )

    def _warn_if_outside_step(self) -> None:
        """PyTorch's warning for get_lr() called directly: its value is the *next* epoch's."""
        if not self._get_lr_called_within_step:
            warnings.warn(
                "get_lr() computes the lrs for step(); to get the last learning rate computed "
                "by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=3,
            )

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def _never_stepped(optimizer: Optimizer) -> bool:
    """Whether ``optimizer`` has certainly not stepped yet.

    Optimizer.step counts its calls; a subclass that replaces step() may not, so for those we
    cannot tell and say no (rather than warn wrongly, as wrapping the bound method would let
    us tell but breaks copies of the optimizer).
    """
    if type(optimizer).step is not Optimizer.step:
        return False
    return getattr(optimizer, "_step_count", 1) == 0


def per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per param group.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    optimizer : Optimizer
    value : object or list or tuple
        One value for all groups, or a list/tuple with one per group.

    Returns
    -------
    list
        ``len(optimizer.param_groups)`` values (a new list).

    Raises
    ------
    ValueError
        A list/tuple of the wrong length (PyTorch's message).
    """
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {n}."
            )
        return list(value)
    return [value] * n


def check_optimizer(optimizer: Any) -> None:
    """Raise PyTorch's ``TypeError`` unless ``optimizer`` is an :class:`Optimizer`."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def check_int(name: str, value: Any, low: int) -> None:
    """Raise ``TypeError`` unless ``value`` is an int (not a bool), ``ValueError`` if below
    ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def check_real(name: str, value: Any) -> None:
    """Raise ``TypeError`` unless ``value`` is a real number (not a bool), ``ValueError`` if it
    is not finite."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
