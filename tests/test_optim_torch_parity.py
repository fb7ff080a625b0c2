"""Parity with torch.optim: every optimizer and scheduler gives PyTorch's numbers in float64.

Optimizers: both libraries start from the same float64 parameters of a small least-squares
problem, ``mse(x wᵀ + b, y)``, compute its gradients with their own autograd, and take 20 steps
with the same options; parameters and every state buffer must agree to 1e-8. A third parameter
never gets a gradient and must be left alone by both. Schedulers: the same param groups, stepped
30+ epochs, must see the same lrs. Skipped when torch is not installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")
F = cr.functional
TF = torch.nn.functional

RTOL, ATOL = 1e-8, 1e-10
STEPS = 20

_rng = np.random.default_rng(20240611)
X = _rng.standard_normal((10, 4))
Y = _rng.standard_normal((10, 3))
START = {
    "w": _rng.standard_normal((3, 4)),
    "b": _rng.standard_normal(3),
    "frozen": _rng.standard_normal(2),
}


# ----- optimizers -----------------------------------------------------------------------------

# (id, class name, constructor options, per-group options or None for a single group of w and b)
OPTIMIZER_CASES: list[tuple[str, str, dict[str, Any], list[dict[str, Any]] | None]] = [
    ("sgd-plain", "SGD", dict(lr=0.1), None),
    ("sgd-momentum", "SGD", dict(lr=0.05, momentum=0.9), None),
    ("sgd-momentum-dampening", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3), None),
    ("sgd-nesterov", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True), None),
    ("sgd-weight-decay", "SGD", dict(lr=0.1, weight_decay=0.2), None),
    ("sgd-maximize", "SGD", dict(lr=0.05, maximize=True), None),
    (
        "sgd-nesterov-weight-decay-maximize",
        "SGD",
        dict(lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.1, maximize=True),
        None,
    ),
    (
        "sgd-momentum-dampening-weight-decay-maximize",
        "SGD",
        dict(lr=0.03, momentum=0.9, dampening=0.5, weight_decay=0.05, maximize=True),
        None,
    ),
    ("adam-default", "Adam", dict(lr=0.05), None),
    ("adam-betas-eps", "Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3), None),
    ("adam-weight-decay", "Adam", dict(lr=0.05, weight_decay=0.3), None),
    ("adam-amsgrad", "Adam", dict(lr=0.05, amsgrad=True), None),
    ("adam-maximize", "Adam", dict(lr=0.05, maximize=True), None),
    (
        "adam-amsgrad-weight-decay-maximize",
        "Adam",
        dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True),
        None,
    ),
    ("adamw-default", "AdamW", dict(lr=0.05), None),
    ("adamw-weight-decay", "AdamW", dict(lr=0.05, weight_decay=0.5), None),
    (
        "adamw-amsgrad-maximize",
        "AdamW",
        dict(lr=0.05, weight_decay=0.2, amsgrad=True, maximize=True),
        None,
    ),
    ("rmsprop-default", "RMSprop", dict(lr=0.01), None),
    ("rmsprop-alpha-eps", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-2), None),
    ("rmsprop-centered", "RMSprop", dict(lr=0.01, centered=True), None),
    ("rmsprop-momentum", "RMSprop", dict(lr=0.01, momentum=0.9), None),
    ("rmsprop-centered-momentum", "RMSprop", dict(lr=0.01, centered=True, momentum=0.8), None),
    (
        "rmsprop-weight-decay-maximize",
        "RMSprop",
        dict(lr=0.01, weight_decay=0.1, maximize=True),
        None,
    ),
    (
        "rmsprop-all-options",
        "RMSprop",
        dict(lr=0.005, alpha=0.95, centered=True, momentum=0.5, weight_decay=0.2),
        None,
    ),
    ("adagrad-default", "Adagrad", dict(lr=0.1), None),
    ("adagrad-lr-decay", "Adagrad", dict(lr=0.1, lr_decay=0.05), None),
    ("adagrad-weight-decay", "Adagrad", dict(lr=0.1, weight_decay=0.3), None),
    ("adagrad-initial-accumulator", "Adagrad", dict(lr=0.1, initial_accumulator_value=0.5), None),
    ("adagrad-maximize-eps", "Adagrad", dict(lr=0.1, maximize=True, eps=1e-3), None),
    (
        "adagrad-all-options",
        "Adagrad",
        dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
        None,
    ),
    (
        "sgd-groups-with-own-options",
        "SGD",
        dict(lr=0.05, momentum=0.9),
        [dict(params=["w"], nesterov=True), dict(params=["b", "frozen"], lr=0.2, momentum=0.0)],
    ),
    (
        "adam-groups-with-own-options",
        "Adam",
        dict(lr=0.05),
        [dict(params=["w"], amsgrad=True, betas=(0.5, 0.6)), dict(params=["b"], weight_decay=0.4)],
    ),
    (
        "rmsprop-groups-with-own-options",
        "RMSprop",
        dict(lr=0.01),
        [dict(params=["b"], centered=True), dict(params=["w", "frozen"], momentum=0.6, lr=0.02)],
    ),
    (
        "adagrad-groups-with-own-options",
        "Adagrad",
        dict(lr=0.1),
        [dict(params=["w"], lr_decay=0.1), dict(params=["b"], weight_decay=0.2, maximize=True)],
    ),
]


def _groups(params: dict[str, Any], groups: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if groups is None:
        return [{"params": [params["w"], params["b"], params["frozen"]]}]
    return [{**g, "params": [params[name] for name in g["params"]]} for g in groups]


def _run_chainrule(cls: str, options: dict[str, Any], groups: Any) -> tuple[dict, Any]:
    params = {k: cr.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = getattr(optim, cls)(_groups(params, groups), **options)
    x, y = cr.tensor(X), cr.tensor(Y)
    for _ in range(STEPS):
        opt.zero_grad()
        F.mse_loss(F.linear(x, params["w"], params["b"]), y).backward()
        opt.step()
    return params, opt


def _run_torch(cls: str, options: dict[str, Any], groups: Any) -> tuple[dict, Any]:
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    # foreach=False: the per-parameter ("single tensor") code path, which the docs describe.
    opt = getattr(torch.optim, cls)(_groups(params, groups), foreach=False, **options)
    x, y = torch.tensor(X), torch.tensor(Y)
    for _ in range(STEPS):
        opt.zero_grad()
        TF.mse_loss(TF.linear(x, params["w"], params["b"]), y).backward()
        opt.step()
    return params, opt


@pytest.mark.parametrize(
    "cls, options, groups", [c[1:] for c in OPTIMIZER_CASES], ids=[c[0] for c in OPTIMIZER_CASES]
)
def test_twenty_steps_match_torch_parameters_and_state(
    cls: str, options: dict[str, Any], groups: Any
) -> None:
    ours, opt = _run_chainrule(cls, options, groups)
    theirs, topt = _run_torch(cls, options, groups)
    for name in START:
        np.testing.assert_allclose(
            ours[name].numpy(), theirs[name].detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=name
        )
        assert ours[name].numpy().dtype == np.float64
        our_state, their_state = opt.state.get(ours[name], {}), topt.state.get(theirs[name], {})
        assert set(our_state) == set(their_state), name
        for key, value in our_state.items():
            expected = their_state[key]
            expected = expected.item() if expected.ndim == 0 else expected.numpy()
            np.testing.assert_allclose(value, expected, rtol=RTOL, atol=ATOL, err_msg=key)
    np.testing.assert_array_equal(ours["frozen"].numpy(), START["frozen"])


def test_parameters_actually_move_in_every_optimizer_case() -> None:
    # Guards the parity cases against passing vacuously (e.g. lr so small nothing changes).
    for case_id, cls, options, groups in OPTIMIZER_CASES:
        params, _ = _run_chainrule(cls, options, groups)
        assert np.abs(params["w"].numpy() - START["w"]).max() > 1e-2, case_id


def test_optimizer_defaults_are_torchs() -> None:
    for cls in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(optim, cls)([cr.tensor(np.zeros(2), requires_grad=True)]).defaults
        theirs = getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)]).defaults
        for key, value in ours.items():
            if key == "decoupled_weight_decay" and key not in theirs:
                continue
            assert theirs[key] == value, (cls, key)


# ----- schedulers ----------------------------------------------------------------------------

GROUP_LRS = (0.1, 0.03, 1.0)
EPOCHS = 35


def _scheduled_lrs(lib: Any, make: Any, metrics: list[float] | None = None) -> list[list[float]]:
    """Each epoch's lrs (as the param groups hold them) for three groups of different lrs."""
    if lib is torch:
        params = [torch.zeros(2, requires_grad=True) for _ in GROUP_LRS]
        opt = torch.optim.SGD(
            [{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)], lr=0.5
        )
        scheds = make(torch.optim.lr_scheduler, opt)
    else:
        params = [cr.tensor(np.zeros(2), requires_grad=True) for _ in GROUP_LRS]
        opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)], lr=0.5)
        scheds = make(optim.lr_scheduler, opt)
    history = [[g["lr"] for g in opt.param_groups]]
    for epoch in range(EPOCHS):
        opt.step()
        for s in scheds:
            s.step() if metrics is None else s.step(metrics[epoch])
        lrs = [g["lr"] for g in opt.param_groups]
        assert scheds[-1].get_last_lr() == lrs
        history.append(lrs)
    return history


SCHEDULER_CASES = {
    "step-lr": lambda m, o: [m.StepLR(o, step_size=3)],
    "step-lr-gamma": lambda m, o: [m.StepLR(o, step_size=4, gamma=0.7)],
    "step-lr-every-epoch": lambda m, o: [m.StepLR(o, step_size=1, gamma=0.9)],
    "exponential-lr": lambda m, o: [m.ExponentialLR(o, gamma=0.9)],
    "cosine-annealing": lambda m, o: [m.CosineAnnealingLR(o, T_max=10)],
    "cosine-annealing-eta-min-past-t-max": lambda m, o: [
        m.CosineAnnealingLR(o, T_max=7, eta_min=0.01)
    ],
    "cosine-annealing-t-max-1": lambda m, o: [m.CosineAnnealingLR(o, T_max=1, eta_min=0.001)],
    "exponential-then-step-chained": lambda m, o: [
        m.ExponentialLR(o, gamma=0.95),
        m.StepLR(o, step_size=5, gamma=0.5),
    ],
}


@pytest.mark.parametrize("make", SCHEDULER_CASES.values(), ids=SCHEDULER_CASES.keys())
def test_scheduler_lrs_match_torch_over_35_epochs_with_three_groups(make: Any) -> None:
    ours = _scheduled_lrs(cr, make)
    theirs = _scheduled_lrs(torch, make)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len({tuple(lrs) for lrs in ours}) > 1  # the schedule does change the lrs


def test_cosine_annealing_follows_the_closed_form() -> None:
    params = [cr.tensor(np.zeros(1), requires_grad=True)]
    opt = optim.SGD(params, lr=0.2)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.02)
    for t in range(1, 40):
        opt.step()
        sched.step()
        expected = 0.02 + (0.2 - 0.02) * (1 + np.cos(np.pi * t / 6)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-10, abs=1e-14)


# A plateau, improvements below and above the threshold, and a late improvement.
METRICS = [
    1.0, 0.9, 0.9, 0.95, 0.9, 0.9, 0.8999, 0.85, 0.86, 0.87, 0.88, 0.5, 0.5, 0.5, 0.5, 0.5,
    0.49, 0.48, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
    0.3, 0.3,
]  # fmt: skip
PLATEAU_CASES = {
    "defaults": dict(),
    "patience-2": dict(patience=2),
    "patience-0-factor-half": dict(patience=0, factor=0.5),
    "cooldown": dict(patience=1, cooldown=2),
    "threshold-rel": dict(patience=1, threshold=0.05),
    "threshold-abs": dict(patience=1, threshold=0.02, threshold_mode="abs"),
    "min-lr-per-group": dict(patience=0, factor=0.5, min_lr=[0.01, 0.02, 0.3]),
    "min-lr-and-eps": dict(patience=0, factor=0.5, min_lr=0.004, eps=1e-3),
}


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("options", PLATEAU_CASES.values(), ids=PLATEAU_CASES.keys())
def test_reduce_lr_on_plateau_matches_torch_on_a_fixed_metric_sequence(
    options: dict[str, Any], mode: str
) -> None:
    metrics = METRICS if mode == "min" else [-m for m in METRICS]

    def make(m: Any, o: Any) -> list[Any]:
        return [m.ReduceLROnPlateau(o, mode=mode, **options)]

    ours = _scheduled_lrs(cr, make, metrics)
    theirs = _scheduled_lrs(torch, make, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    if options:
        assert len({tuple(lrs) for lrs in ours}) > 1
