"""Every lr scheduler against PyTorch's: the same lrs (and cycled momenta), step for step.

Each case builds the same optimizer in both libraries (two param groups of different lrs,
SGD with momentum unless stated), steps it and the schedulers for 120 steps, and compares
every group's lr and momentum in float64: equal, or within 1e-12 relative.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

STEPS = 120
GROUP_LRS = (0.1, 0.02)


def make_optimizer(lib: Any, kind: str) -> Any:
    """Two param groups of different lrs, in ``lib`` (chainrule or torch)."""
    if lib is torch:
        params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in GROUP_LRS]
        mod = torch.optim
    else:
        params = [cr.tensor(np.zeros(2), requires_grad=True) for _ in GROUP_LRS]
        mod = optim
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)]
    if kind == "adam":
        return mod.Adam(groups, betas=(0.9, 0.99))
    return mod.SGD(groups, lr=0.5, momentum=0.9)


def momenta(opt: Any) -> list[float]:
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def history(lib: Any, make: Any, kind: str = "sgd", steps: int = STEPS) -> np.ndarray:
    """Per step: every group's lr, then every group's momentum."""
    opt = make_optimizer(lib, kind)
    mod = torch.optim.lr_scheduler if lib is torch else optim.lr_scheduler
    scheds = make(mod, opt)
    rows = [[g["lr"] for g in opt.param_groups] + momenta(opt)]
    for _ in range(steps):
        opt.step()
        for s in scheds:
            s.step()
        lrs = [g["lr"] for g in opt.param_groups]
        assert scheds[-1].get_last_lr() == lrs
        rows.append(lrs + momenta(opt))
    return np.array(rows, dtype=np.float64)


def assert_same(ours: np.ndarray, theirs: np.ndarray) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-16)


def chained(m: Any, o: Any) -> list:
    return [
        m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=7), m.ExponentialLR(o, 0.98)])
    ]


def warmup_then_cosine(m: Any, o: Any) -> list:
    warm = m.LinearLR(o, start_factor=0.1, total_iters=10)
    return [m.SequentialLR(o, [warm, m.CosineAnnealingLR(o, T_max=40, eta_min=1e-4)], [10])]


class Halving:
    """A callable object (saved in state dicts by its attributes)."""

    def __init__(self) -> None:
        self.base = 0.5

    def __call__(self, epoch: int) -> float:
        return self.base ** (epoch // 10)


CASES: dict[str, Any] = {
    "lambda": lambda m, o: [m.LambdaLR(o, lambda e: 1 / (1 + 0.05 * e))],
    "lambda-per-group": lambda m, o: [m.LambdaLR(o, [lambda e: 0.97**e, Halving()])],
    "multiplicative": lambda m, o: [m.MultiplicativeLR(o, lambda e: 0.95 if e % 3 else 1.01)],
    "step": lambda m, o: [m.StepLR(o, step_size=7, gamma=0.6)],
    "multistep-repeated": lambda m, o: [m.MultiStepLR(o, [10, 30, 30, 75], gamma=0.5)],
    "constant": lambda m, o: [m.ConstantLR(o, factor=0.25, total_iters=20)],
    "linear": lambda m, o: [m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40)],
    "exponential": lambda m, o: [m.ExponentialLR(o, gamma=0.97)],
    "polynomial": lambda m, o: [m.PolynomialLR(o, total_iters=60, power=2.0)],
    "cosine-restarts-recursive": lambda m, o: [m.CosineAnnealingLR(o, T_max=25, eta_min=1e-3)],
    "cosine-t-max-1": lambda m, o: [m.CosineAnnealingLR(o, T_max=1)],
    "warm-restarts": lambda m, o: [m.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=1e-3)],
    "warm-restarts-t-mult": lambda m, o: [m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2)],
    "cyclic-triangular": lambda m, o: [m.CyclicLR(o, 0.01, 0.1, step_size_up=9)],
    "cyclic-triangular2-lists": lambda m, o: [
        m.CyclicLR(
            o,
            [0.01, 0.002],
            [0.1, 0.05],
            6,
            14,
            mode="triangular2",
            base_momentum=[0.8, 0.7],
            max_momentum=[0.9, 0.95],
        )
    ],  # fmt: skip
    "cyclic-exp-range": lambda m, o: [m.CyclicLR(o, 0.01, 0.1, 8, mode="exp_range", gamma=0.99)],
    "cyclic-scale-fn-iterations": lambda m, o: [
        m.CyclicLR(o, 0.01, 0.1, 5, scale_fn=lambda x: 1 / (1 + x / 50), scale_mode="iterations")
    ],
    "cyclic-no-momentum": lambda m, o: [m.CyclicLR(o, 0.01, 0.1, 10, cycle_momentum=False)],
    "one-cycle-cos": lambda m, o: [m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS)],
    "one-cycle-linear-lists": lambda m, o: [
        m.OneCycleLR(
            o,
            [0.5, 0.2],
            epochs=12,
            steps_per_epoch=10,
            anneal_strategy="linear",
            base_momentum=[0.8, 0.85],
            max_momentum=[0.9, 0.99],
            pct_start=0.25,
        )
    ],  # fmt: skip
    "one-cycle-three-phase": lambda m, o: [
        m.OneCycleLR(
            o, 0.3, total_steps=130, three_phase=True, div_factor=10.0, final_div_factor=100.0
        )
    ],  # fmt: skip
    "one-cycle-no-momentum": lambda m, o: [m.OneCycleLR(o, 0.3, STEPS, cycle_momentum=False)],
    "sequential-warmup-cosine": warmup_then_cosine,
    "sequential-three-with-multiplicative": lambda m, o: [
        m.SequentialLR(
            o,
            [m.ConstantLR(o, 0.5, 15), m.MultiplicativeLR(o, lambda e: 0.9), m.StepLR(o, 10, 0.5)],
            [15, 50],
        )
    ],
    "sequential-into-warm-restarts-and-cyclic": lambda m, o: [
        m.SequentialLR(
            o,
            [
                m.LinearLR(o, 0.1, total_iters=5),
                m.CosineAnnealingWarmRestarts(o, 10),
                m.CyclicLR(o, 0.01, 0.1, 6),
            ],
            [5, 60],
        )
    ],  # fmt: skip
    "chained": chained,
    "chained-explicit-optimizer": lambda m, o: [
        m.ChainedScheduler([m.StepLR(o, 9, 0.7), m.CyclicLR(o, 0.01, 0.1, 7)], optimizer=o)
    ],
    "two-schedulers-stepped-together": lambda m, o: [
        m.LinearLR(o, start_factor=0.5, total_iters=30),
        m.MultiStepLR(o, [40, 80]),
    ],
}
ADAM_CASES = {
    "cyclic-adam-beta1": lambda m, o: [m.CyclicLR(o, 0.001, 0.01, 10, base_momentum=0.85)],
    "one-cycle-adam-beta1": lambda m, o: [m.OneCycleLR(o, 0.01, total_steps=STEPS)],
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_lrs_and_momenta_match_torch_over_120_steps_with_sgd(make: Any) -> None:
    ours, theirs = history(cr, make), history(torch, make)
    assert_same(ours, theirs)
    assert len({tuple(row) for row in ours}) > 1  # the schedule does move


@pytest.mark.parametrize("make", ADAM_CASES.values(), ids=ADAM_CASES.keys())
def test_lrs_and_beta1_match_torch_with_adam(make: Any) -> None:
    ours, theirs = history(cr, make, "adam"), history(torch, make, "adam")
    assert_same(ours, theirs)
    assert ours[:, 2].min() < ours[0, 2]  # betas[0] is cycled


def test_one_cycle_raises_like_torch_when_stepped_past_total_steps() -> None:
    for lib in (cr, torch):
        opt = make_optimizer(lib, "sgd")
        mod = torch.optim.lr_scheduler if lib is torch else optim.lr_scheduler
        sched = mod.OneCycleLR(opt, 0.1, total_steps=4)
        for _ in range(4):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 5 times. The specified number of"):
            sched.step()


def stepped_with_epochs(lib: Any, make: Any, epochs: list[float]) -> list[list[float]]:
    opt = make_optimizer(lib, "sgd")
    mod = torch.optim.lr_scheduler if lib is torch else optim.lr_scheduler
    sched = make(mod, opt)
    out = []
    for epoch in epochs:
        opt.step()
        sched.step(epoch)
        out.append(sched.get_last_lr())
    return out


def test_warm_restarts_fractional_epochs_match_torch() -> None:
    epochs = [e + i / 7 for e in range(40) for i in range(7)] + [3.5, 100.25, 0.0]
    make = lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001)  # noqa: E731
    assert_same(
        np.array(stepped_with_epochs(cr, make, epochs)),
        np.array(stepped_with_epochs(torch, make, epochs)),
    )


CLOSED_FORMS = {
    "step": lambda m, o: m.StepLR(o, 4, 0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, [3, 3, 9]),
    "constant": lambda m, o: m.ConstantLR(o, 0.3, 6),
    "linear": lambda m, o: m.LinearLR(o, 0.2, 0.8, 10),
    "exponential": lambda m, o: m.ExponentialLR(o, 0.9),
    "polynomial": lambda m, o: m.PolynomialLR(o, 12, 1.5),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, 8, 0.01),
    "lambda-has-no-closed-form": lambda m, o: m.LambdaLR(o, lambda e: 0.9**e),
}


@pytest.mark.parametrize("make", CLOSED_FORMS.values(), ids=CLOSED_FORMS.keys())
def test_step_with_an_epoch_warns_and_uses_the_closed_form_as_torch(make: Any) -> None:
    epochs = [5, 2, 17, 0, 9, 9, 30]
    with pytest.warns(UserWarning, match="deprecated"):
        ours = stepped_with_epochs(cr, make, epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = stepped_with_epochs(torch, make, epochs)
    assert_same(np.array(ours), np.array(theirs))


PLATEAU_METRICS = [1 / (1 + i) + 0.3 * math.sin(i / 3) ** 2 for i in range(STEPS)]


@pytest.mark.parametrize(
    "options",
    [
        dict(mode="min", patience=2, cooldown=3, min_lr=[0.01, 1e-4], threshold=0.01),
        dict(mode="max", factor=0.5, patience=1, threshold_mode="abs", threshold=0.02, eps=1e-3),
    ],
    ids=["min-rel-cooldown-min-lr-list", "max-abs-eps"],
)
def test_reduce_lr_on_plateau_matches_torch_over_120_steps(options: dict[str, Any]) -> None:
    results = []
    for lib in (cr, torch):
        opt = make_optimizer(lib, "sgd")
        mod = torch.optim.lr_scheduler if lib is torch else optim.lr_scheduler
        sched = mod.ReduceLROnPlateau(opt, **options)
        rows = []
        for metric in PLATEAU_METRICS:
            opt.step()
            sched.step(metric)
            rows.append(sched.get_last_lr())
        results.append(np.array(rows))
    assert_same(*results)
    assert len(np.unique(results[0][:, 1])) > 2


STATE_KEY_CASES = {**CASES, **ADAM_CASES}


@pytest.mark.parametrize("name", sorted(STATE_KEY_CASES))
def test_state_dict_keys_are_torchs(name: str) -> None:
    kind = "adam" if name in ADAM_CASES else "sgd"
    ours = STATE_KEY_CASES[name](optim.lr_scheduler, make_optimizer(cr, kind))[-1].state_dict()
    theirs = STATE_KEY_CASES[name](torch.optim.lr_scheduler, make_optimizer(torch, kind))[-1]
    theirs = theirs.state_dict()
    assert set(ours) == set(theirs)
    for key in ("_schedulers",):
        if key in ours:
            assert [set(d) for d in ours[key]] == [set(d) for d in theirs[key]]
    if "lr_lambdas" in ours:
        assert ours["lr_lambdas"] == theirs["lr_lambdas"]


def test_reduce_lr_on_plateau_state_dict_keys_are_torchs() -> None:
    ours = optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(cr, "sgd")).state_dict()
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(torch, "sgd"))
    assert ours == theirs.state_dict()


def test_every_scheduler_has_torchs_signature() -> None:
    import inspect

    names = torch.optim.lr_scheduler.__all__
    assert sorted(optim.lr_scheduler.__all__) == sorted(names)
    for name in names:
        ours = inspect.signature(getattr(optim.lr_scheduler, name))
        theirs = inspect.signature(getattr(torch.optim.lr_scheduler, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        for p in theirs.parameters.values():
            assert ours.parameters[p.name].default == p.default, (name, p.name)


def run(opt: Any, scheds: list, steps: int) -> list[list[float]]:
    rows = []
    for _ in range(steps):
        opt.step()
        for s in scheds:
            s.step()
        rows.append([g["lr"] for g in opt.param_groups] + momenta(opt))
    return rows


@pytest.mark.parametrize("name", sorted(STATE_KEY_CASES))
def test_state_dict_saved_at_step_37_resumes_the_same_schedule(name: str) -> None:
    kind = "adam" if name in ADAM_CASES else "sgd"
    make = STATE_KEY_CASES[name]
    opt = make_optimizer(cr, kind)
    scheds = make(optim.lr_scheduler, opt)
    run(opt, scheds, 37)
    saved_opt, saved = opt.state_dict(), [s.state_dict() for s in scheds]
    expected = run(opt, scheds, STEPS - 37)

    # PyTorch's order: build the schedulers, then load the optimizer, then the schedulers.
    opt2 = make_optimizer(cr, kind)
    scheds2 = make(optim.lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    for s, state in zip(scheds2, saved):
        s.load_state_dict(state)
    assert run(opt2, scheds2, STEPS - 37) == expected


RESUMABLE = {
    "step": lambda m, o, e: m.StepLR(o, 7, 0.6, last_epoch=e),
    "multistep": lambda m, o, e: m.MultiStepLR(o, [15, 30, 30], last_epoch=e),
    "exponential": lambda m, o, e: m.ExponentialLR(o, 0.97, last_epoch=e),
    "linear": lambda m, o, e: m.LinearLR(o, 0.2, 0.9, 40, last_epoch=e),
    "polynomial": lambda m, o, e: m.PolynomialLR(o, 60, 2.0, last_epoch=e),
    "cosine": lambda m, o, e: m.CosineAnnealingLR(o, 25, 1e-3, last_epoch=e),
    "lambda": lambda m, o, e: m.LambdaLR(o, lambda k: 0.99**k, last_epoch=e),
    "warm-restarts": lambda m, o, e: m.CosineAnnealingWarmRestarts(o, 5, 2, last_epoch=e),
    "cyclic": lambda m, o, e: m.CyclicLR(o, 0.01, 0.1, 9, last_epoch=e),
}


@pytest.mark.parametrize("make", RESUMABLE.values(), ids=RESUMABLE.keys())
def test_resuming_with_last_epoch_matches_torch(make: Any) -> None:
    results = []
    for lib in (cr, torch):
        opt = make_optimizer(lib, "sgd")
        for group, initial in zip(opt.param_groups, (0.4, 0.05)):
            group["initial_lr"] = initial
        sched = make(torch.optim.lr_scheduler if lib is torch else optim.lr_scheduler, opt, 10)
        rows = [[g["lr"] for g in opt.param_groups]]
        for _ in range(60):
            opt.step()
            sched.step()
            rows.append(sched.get_last_lr() + [sched.last_epoch])
        results.append(np.array(rows[1:]))
    assert_same(*results)


def test_resuming_without_initial_lr_raises_torchs_key_error() -> None:
    for lib in (cr, torch):
        mod = torch.optim.lr_scheduler if lib is torch else optim.lr_scheduler
        with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
            mod.StepLR(make_optimizer(lib, "sgd"), 3, last_epoch=5)


def test_nested_composites_match_torch() -> None:
    def make(m: Any, o: Any) -> list:
        seq = m.SequentialLR(o, [m.ConstantLR(o, 0.5, 5), m.ExponentialLR(o, 0.95)], [8])
        return [m.ChainedScheduler([seq, m.StepLR(o, 11, 0.8)])]

    assert_same(history(cr, make), history(torch, make))


def test_calling_get_lr_outside_step_warns_as_torch() -> None:
    sched = optim.lr_scheduler.StepLR(make_optimizer(cr, "sgd"), 3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        ours = sched.get_lr()
    theirs = torch.optim.lr_scheduler.StepLR(make_optimizer(torch, "sgd"), 3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        assert theirs.get_lr() == ours


@pytest.mark.parametrize(
    "name", ["step", "multistep-repeated", "cyclic-triangular", "one-cycle-cos", "chained"]
)
def test_a_torch_scheduler_state_dict_loads_into_ours(name: str) -> None:
    make = CASES[name]
    theirs_opt = make_optimizer(torch, "sgd")
    theirs = make(torch.optim.lr_scheduler, theirs_opt)
    run(theirs_opt, theirs, 37)
    opt = make_optimizer(cr, "sgd")
    ours = make(optim.lr_scheduler, opt)
    for group, saved in zip(opt.param_groups, theirs_opt.state_dict()["param_groups"]):
        group.update({k: v for k, v in saved.items() if k != "params"})
    for s, t in zip(ours, theirs):
        s.load_state_dict(t.state_dict())
    assert_same(np.array(run(opt, ours, 50)), np.array(run(theirs_opt, theirs, 50)))
