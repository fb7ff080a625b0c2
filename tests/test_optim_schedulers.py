"""The lr schedulers on worked examples (values computed by hand), saving, subclassing and bad
arguments. Their agreement with PyTorch is pinned in test_optim_schedulers_parity.py."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

S = optim.lr_scheduler


def params() -> list:
    return [cr.tensor(np.zeros(2), requires_grad=True)]


def sgd(lr: float = 1.0, momentum: float = 0.9) -> optim.SGD:
    return optim.SGD(params(), lr=lr, momentum=momentum)


def lrs_over(sched: Any, steps: int) -> list[float]:
    """The first group's lr at epoch 0 and after each of ``steps`` steps."""
    out = [sched.get_last_lr()[0]]
    for _ in range(steps):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_multistep_lr_applies_a_repeated_milestone_once_per_repeat() -> None:
    sched = S.MultiStepLR(sgd(), milestones=[2, 2, 4], gamma=0.5)
    assert lrs_over(sched, 5) == [1.0, 1.0, 0.25, 0.25, 0.125, 0.125]


def test_constant_lr_scales_until_total_iters() -> None:
    assert lrs_over(S.ConstantLR(sgd(), factor=0.5, total_iters=3), 4) == [0.5] * 3 + [1.0] * 2


def test_linear_lr_ramps_from_start_to_end_factor() -> None:
    sched = S.LinearLR(sgd(), start_factor=0.5, end_factor=1.0, total_iters=4)
    assert lrs_over(sched, 5) == pytest.approx([0.5, 0.625, 0.75, 0.875, 1.0, 1.0])


def test_polynomial_lr_reaches_zero_at_total_iters() -> None:
    sched = S.PolynomialLR(sgd(), total_iters=4, power=2.0)
    assert lrs_over(sched, 5) == pytest.approx([1, 0.5625, 0.25, 0.0625, 0, 0], abs=1e-15)


def test_lambda_lr_scales_the_initial_lr_and_multiplicative_lr_the_current_one() -> None:
    assert lrs_over(S.LambdaLR(sgd(0.1), lambda e: e + 1), 2) == pytest.approx([0.1, 0.2, 0.3])
    assert lrs_over(S.MultiplicativeLR(sgd(), lambda e: 0.5), 2) == [1.0, 0.5, 0.25]


def test_cyclic_lr_triangular_cycles_lr_up_and_momentum_down() -> None:
    opt = sgd()
    sched = S.CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2)
    momenta = [opt.param_groups[0]["momentum"]]
    lrs = [sched.get_last_lr()[0]]
    for _ in range(4):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs == pytest.approx([0.1, 0.55, 1.0, 0.55, 0.1])
    assert momenta == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9])


def test_cyclic_lr_triangular2_halves_the_amplitude_each_cycle() -> None:
    sched = S.CyclicLR(sgd(), 0.1, 1.0, step_size_up=2, mode="triangular2")
    assert lrs_over(sched, 6)[6] == pytest.approx(0.1 + 0.9 / 2)


def test_cyclic_lr_cycles_adams_first_beta() -> None:
    opt = optim.Adam(params(), betas=(0.5, 0.99))
    sched = S.CyclicLR(opt, 0.01, 0.1, step_size_up=1)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["betas"] == pytest.approx((0.8, 0.99))


def test_one_cycle_lr_warms_up_to_max_lr_then_anneals_to_min_lr() -> None:
    opt = sgd()
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10)  # rises until step 0.3*10 - 1 = 2
    lrs = lrs_over(sched, 9)
    assert lrs[0] == pytest.approx(1 / 25) and lrs[2] == pytest.approx(1.0)
    assert lrs[9] == pytest.approx(1 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    opt.step()
    sched.step()  # step 10 = total_steps is still allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()


def test_one_cycle_lr_takes_epochs_times_steps_per_epoch() -> None:
    sched = S.OneCycleLR(sgd(), 0.1, epochs=3, steps_per_epoch=7, cycle_momentum=False)
    assert sched.total_steps == 21


def test_warm_restarts_restart_after_t_0_then_t_mult_times_longer() -> None:
    lrs = lrs_over(S.CosineAnnealingWarmRestarts(sgd(), T_0=2, T_mult=2), 6)
    expected = [
        1,
        0.5,
        1,
        (1 + math.cos(math.pi / 4)) / 2,
        0.5,
        (1 + math.cos(3 * math.pi / 4)) / 2,
        1,
    ]
    assert lrs == pytest.approx(expected)


def test_warm_restarts_place_a_fractional_epoch_in_its_cycle() -> None:
    opt = sgd()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    opt.step()
    sched.step(2.5)  # cycles of 2 then 4 epochs: half an epoch into the second one
    assert (sched.T_cur, sched.T_i, sched.last_epoch) == (0.5, 4, 2)
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 0.5 / 4)) / 2)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched.step(-1)


def test_sequential_lr_restarts_the_next_scheduler_at_its_epoch_zero() -> None:
    opt = sgd()
    warm = S.ConstantLR(opt, factor=0.1, total_iters=2)
    sched = S.SequentialLR(opt, [warm, S.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    assert lrs_over(sched, 4) == pytest.approx([0.1, 0.1, 1.0, 0.5, 0.25])


def test_chained_scheduler_composes_its_schedulers_each_step() -> None:
    opt = sgd()
    sched = S.ChainedScheduler([S.ConstantLR(opt, 0.5, 2), S.ExponentialLR(opt, 0.5)])
    assert sched.optimizer is opt
    assert lrs_over(sched, 3) == pytest.approx([0.5, 0.25, 0.25, 0.125])


def test_step_with_an_epoch_warns_that_it_is_deprecated() -> None:
    opt = sgd()
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="epoch to scheduler.step.. is deprecated"):
        sched.step(5)
    assert sched.get_last_lr() == [0.25]
    plateau = S.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning, match="deprecated"):
        plateau.step(1.0, epoch=3)
    assert plateau.last_epoch == 3


class Decay:
    """A callable object, so that its state is saved."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, epoch: int) -> float:
        return self.rate**epoch


def test_lambda_lr_saves_callable_objects_by_their_attributes_and_functions_as_none() -> None:
    opt = optim.SGD([{"params": params()}, {"params": params()}], lr=1.0)
    sched = S.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    fresh = S.LambdaLR(opt, [Decay(0.9), lambda e: 1.0])
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].rate == 0.5


def test_cyclic_lr_saves_a_callable_scale_fn_by_its_attributes() -> None:
    sched = S.CyclicLR(sgd(), 0.1, 1.0, 2, scale_fn=Decay(0.5))
    state = sched.state_dict()
    assert state["_scale_fn_custom"] == {"rate": 0.5}
    fresh = S.CyclicLR(sgd(), 0.1, 1.0, 2, scale_fn=Decay(0.7))
    fresh.load_state_dict(state)
    assert fresh._scale_fn_custom.rate == 0.5


def test_multistep_lr_keeps_a_counter_after_loading_a_plain_dict() -> None:
    sched = S.MultiStepLR(sgd(), [3, 3])
    state = sched.state_dict()
    state["milestones"] = dict(state["milestones"])  # as a file format would give it back
    sched.load_state_dict(state)
    assert lrs_over(sched, 3)[3] == pytest.approx(0.01)


class WarmupConstant(S.LRScheduler):
    """A subclass written as for PyTorch: get_lr() from base_lrs and last_epoch."""

    def __init__(self, optimizer: Any, warmup: int, last_epoch: int = -1) -> None:
        self.warmup = warmup
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if not self._get_lr_called_within_step:
            warnings.warn("use get_last_lr()", UserWarning, stacklevel=2)
        scale = min(1.0, (self.last_epoch + 1) / self.warmup)
        return [base * scale for base in self.base_lrs]


def test_a_pytorch_style_subclass_is_stepped_and_saved_like_the_built_ins() -> None:
    sched = WarmupConstant(sgd(), warmup=4)
    assert lrs_over(sched, 5) == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    state = sched.state_dict()
    assert {"warmup", "base_lrs", "last_epoch", "_step_count", "_last_lr"} <= set(state)
    fresh = WarmupConstant(sgd(), warmup=4)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 5
    assert issubclass(S._LRScheduler, S.LRScheduler)


BAD = [
    (lambda o: S.ConstantLR(o, factor=1.5), ValueError, "expected to be between 0 and 1"),
    (lambda o: S.LinearLR(o, start_factor=0), ValueError, "greater than 0 and less or equal"),
    (lambda o: S.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
    (lambda o: S.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
    (lambda o: S.LambdaLR(o, [lambda e: 1, lambda e: 2]), ValueError, "Expected 1 lr_lambdas"),
    (lambda o: S.CyclicLR(o, [0.1, 0.2], 1.0), ValueError, "base_lr must have the same length"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, "mode is invalid and scale_fn"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_up=0), ValueError, "step_size_up must be >= 1"),
    (lambda o: S.OneCycleLR(o, 0.1), ValueError, "either total_steps OR"),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=0), ValueError, "positive integer total_steps"),
    (lambda o: S.OneCycleLR(o, 0.1, 10, pct_start=0), ValueError, "float between 0 and 1"),
    (lambda o: S.OneCycleLR(o, 0.1, 10, anneal_strategy="cosine"), ValueError, "'cos' or"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 0), ValueError, "positive integer T_0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 2, 1.5), ValueError, "integer T_mult >= 1"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 1)], [3]), ValueError, "one more than the number"),
    (lambda o: S.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), ValueError, "does not support"),
    (lambda o: S.ChainedScheduler([S.StepLR(o, 1)], sgd()), ValueError, "same optimizer"),
]


@pytest.mark.parametrize("make, error, message", BAD)
def test_bad_arguments_raise_pytorchs_errors(make: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make(sgd())


def test_cycling_momentum_needs_an_optimizer_with_momentum_or_betas() -> None:
    opt = optim.Adagrad(params())
    for make in (lambda: S.CyclicLR(opt, 0.1, 1.0), lambda: S.OneCycleLR(opt, 0.1, 10)):
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            make()
    fresh = optim.Adagrad(params())  # OneCycleLR wrote its lrs into opt before it raised
    assert S.CyclicLR(fresh, 0.1, 1.0, cycle_momentum=False).get_last_lr() == [0.1]


class PlainStep(optim.SGD):
    """An optimizer whose step() does not go through Optimizer.step (and its count)."""

    def step(self, closure: Any = None) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.data -= group["lr"]


def test_an_optimizer_with_its_own_step_does_not_trigger_the_order_warning() -> None:
    opt = PlainStep(params(), lr=0.1)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()  # warnings are errors here: nothing may be raised
    assert sched.get_last_lr() == [0.05]
