"""chainrule.optim.lr_scheduler: construction, stepping order, resuming and bad arguments.

The values of every schedule are pinned against PyTorch in test_optim_schedulers_parity.py (and
test_optim_torch_parity.py); worked examples are in test_optim_schedulers.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

S = optim.lr_scheduler


def sgd(*lrs: float) -> optim.SGD:
    groups = [{"params": [cr.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups)


def test_constructor_records_initial_lr_and_counts_as_epoch_zero() -> None:
    opt = sgd(0.1, 0.02)
    sched = S.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert sched.base_lrs == [0.1, 0.02] and sched.last_epoch == 0
    assert sched.get_last_lr() == [0.1, 0.02]


def test_a_second_scheduler_keeps_the_first_ones_initial_lr() -> None:
    opt = sgd(0.1)
    S.ExponentialLR(opt, gamma=0.5)
    opt.step()
    opt.param_groups[0]["lr"] = 0.05
    assert S.StepLR(opt, step_size=3).base_lrs == [0.1]


def test_step_lr_multiplies_by_gamma_every_step_size_epochs() -> None:
    opt = sgd(1.0)
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_get_last_lr_returns_a_copy() -> None:
    sched = S.ExponentialLR(sgd(0.1), gamma=0.5)
    sched.get_last_lr().append(3.0)
    assert sched.get_last_lr() == [0.1]


def test_stepping_the_scheduler_before_the_optimizer_warns() -> None:
    opt = sgd(0.1)
    sched = S.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()


def test_resuming_with_last_epoch_needs_initial_lr_in_every_group() -> None:
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        S.StepLR(sgd(0.1), step_size=2, last_epoch=4)


def test_resuming_with_last_epoch_continues_the_schedule() -> None:
    opt = sgd(0.1)
    opt.param_groups[0]["initial_lr"] = 0.4
    sched = S.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert sched.last_epoch == 4 and sched.base_lrs == [0.4]
    assert sched.get_last_lr() == [0.1]  # the initial step leaves a resumed lr alone
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.05]


def test_param_groups_added_after_a_base_lr_schedule_are_reported_on_step() -> None:
    opt = sgd(0.1)
    sched = S.LambdaLR(opt, lambda epoch: 0.5**epoch)
    opt.add_param_group({"params": [cr.tensor(np.zeros(1), requires_grad=True)]})
    opt.step()
    with pytest.raises(ValueError, match="2 param groups but this scheduler computed 1 lrs"):
        sched.step()


def test_reduce_lr_on_plateau_takes_tensor_metrics_and_records_no_initial_lr() -> None:
    opt = sgd(1.0)
    sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    for loss in (1.0, 2.0, 2.0):
        opt.step()
        sched.step(cr.tensor(np.array(loss)))
    assert sched.get_last_lr() == [0.25]
    assert "initial_lr" not in opt.param_groups[0]


def test_reduce_lr_on_plateau_never_goes_below_min_lr() -> None:
    opt = sgd(1.0, 1.0)
    sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=[0.05, 0.0])
    for _ in range(4):
        opt.step()
        sched.step(1.0)
    assert sched.get_last_lr() == pytest.approx([0.05, 1e-3])


def test_reduce_lr_on_plateau_extends_a_single_min_lr_to_groups_added_later() -> None:
    opt = sgd(1.0)
    sched = S.ReduceLROnPlateau(opt, patience=0, min_lr=0.5)
    opt.add_param_group({"params": [cr.tensor(np.zeros(1), requires_grad=True)], "lr": 2.0})
    for _ in range(2):
        sched.step(1.0)
    assert sched.get_last_lr() == [0.5, 0.5]


def test_reduce_lr_on_plateau_with_per_group_min_lrs_rejects_groups_added_later() -> None:
    opt = sgd(1.0)
    sched = S.ReduceLROnPlateau(opt, patience=0, min_lr=[0.5])
    opt.add_param_group({"params": [cr.tensor(np.zeros(1), requires_grad=True)]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match=r"param groups in the optimizer \(2\) differs"):
        sched.step(1.0)


BAD_ARGUMENTS = [
    (lambda o: S.StepLR(o, step_size=0), ValueError, "step_size must be >= 1"),
    (lambda o: S.StepLR(o, step_size=2.5), TypeError, "step_size must be an int"),
    (lambda o: S.StepLR(o, step_size=2, gamma=float("nan")), ValueError, "gamma must be finite"),
    (lambda o: S.ExponentialLR(o, gamma="0.9"), TypeError, "gamma must be a real number"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be positive"),
    (lambda o: S.StepLR(o, step_size=1, last_epoch=-2), ValueError, "last_epoch must be >= -1"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, r"Factor should be < 1.0"),
    (lambda o: S.ReduceLROnPlateau(o, mode="lowest"), ValueError, "mode 'lowest' is unknown"),
    (
        lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"),
        ValueError,
        "threshold mode 'x' is unknown",
    ),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be >= 0"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lrs"),
    (lambda o: S.StepLR(object(), step_size=1), TypeError, "object is not an Optimizer"),
    (lambda o: S.ReduceLROnPlateau([o]), TypeError, "list is not an Optimizer"),
]


@pytest.mark.parametrize("make, error, message", BAD_ARGUMENTS)
def test_bad_scheduler_arguments_are_rejected(make: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make(sgd(0.1))  # type: ignore[operator]
