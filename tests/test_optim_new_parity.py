"""Parity with torch.optim for NAdam, RAdam, Adamax, Adadelta, ASGD and Rprop, in float64.

Both libraries start from the same parameters — a matrix, a vector, a 0-d scalar and a
one-element vector — of a small least-squares problem, compute gradients with their own autograd
and take 20 steps with the same options: parameters and every state entry must agree to 1e-10
relative. A further parameter never gets a gradient and must be left alone. State dicts must move
between the libraries mid-training and give the same continuation. PyTorch keeps scalar state
(``step``, ``mu_product``, ``eta``, ``mu``) as tensors of the default dtype, so its default dtype
is float64 here, matching chainrule's Python floats. Skipped when torch is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-10, 1e-12
STEPS = 20

_rng = np.random.default_rng(7)
X = _rng.standard_normal((8, 4))
Y = _rng.standard_normal((8, 3))
START = {
    "w": _rng.standard_normal((3, 4)),
    "b": _rng.standard_normal(3),
    "s": np.array(0.7),
    "e": np.array([-0.4]),
    "frozen": _rng.standard_normal(2),
}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("nadam-default", "NAdam", dict(lr=0.05)),
    ("nadam-weight-decay", "NAdam", dict(lr=0.05, weight_decay=0.2, momentum_decay=0.01)),
    ("nadam-decoupled", "NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("nadam-maximize-betas", "NAdam", dict(lr=0.03, betas=(0.8, 0.95), eps=1e-4, maximize=True)),
    ("radam-default", "RAdam", dict(lr=0.05)),
    ("radam-early-rectified", "RAdam", dict(lr=0.05, betas=(0.9, 0.7))),
    ("radam-weight-decay", "RAdam", dict(lr=0.05, weight_decay=0.3, betas=(0.8, 0.8))),
    ("radam-decoupled", "RAdam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True)),
    ("radam-maximize", "RAdam", dict(lr=0.05, maximize=True, betas=(0.9, 0.8))),
    ("adamax-default", "Adamax", dict(lr=0.05)),
    ("adamax-weight-decay", "Adamax", dict(lr=0.05, weight_decay=0.2, betas=(0.7, 0.9))),
    ("adamax-maximize-eps", "Adamax", dict(lr=0.05, maximize=True, eps=1e-2)),
    ("adadelta-default", "Adadelta", dict()),
    ("adadelta-rho-eps", "Adadelta", dict(lr=0.5, rho=0.7, eps=1e-3)),
    ("adadelta-weight-decay-maximize", "Adadelta", dict(weight_decay=0.2, maximize=True)),
    ("asgd-default", "ASGD", dict(lr=0.05)),
    ("asgd-averaging", "ASGD", dict(lr=0.05, t0=5, lambd=0.01, alpha=0.5)),
    ("asgd-weight-decay-maximize", "ASGD", dict(lr=0.02, t0=3, weight_decay=0.1, maximize=True)),
    ("rprop-default", "Rprop", dict()),
    ("rprop-etas-sizes", "Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1))),
    ("rprop-maximize", "Rprop", dict(lr=0.02, maximize=True)),
]
# The older optimizers, with the 0-d and one-element parameters, and their state dicts.
CASES_WITH_OLD = CASES + [
    (
        "sgd-nesterov-weight-decay",
        "SGD",
        dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    ),
    ("sgd-dampening-maximize", "SGD", dict(lr=0.005, momentum=0.5, dampening=0.3, maximize=True)),
    ("adam-amsgrad-weight-decay", "Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("adamw-maximize", "AdamW", dict(lr=0.05, maximize=True)),
    ("adagrad-all", "Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("rmsprop-centered-momentum", "RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
]
IDS = [c[0] for c in CASES]
IDS_WITH_OLD = [c[0] for c in CASES_WITH_OLD]


@pytest.fixture(autouse=True)
def _torch_float64() -> Iterator[None]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _loss(lib: Any, p: dict[str, Any], x: Any, y: Any) -> Any:
    pred = lib.nn.functional.linear(x, p["w"], p["b"]) + p["s"] * p["e"]
    return lib.nn.functional.mse_loss(pred, y)


class _Run:
    """One library's parameters and optimizer, stepped on the least-squares problem."""

    def __init__(self, lib: Any, cls: str, options: dict[str, Any]) -> None:
        self.lib = lib
        self.p = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
        self.opt = getattr(lib.optim, cls)(list(self.p.values()), **options)
        self.x, self.y = lib.tensor(X), lib.tensor(Y)

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.opt.zero_grad()
            _loss(self.lib, self.p, self.x, self.y).backward()
            self.opt.step()

    def numpy(self, name: str) -> np.ndarray:
        return self.p[name].detach().numpy()  # both libraries: .data is a tensor


def _as_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item() if value.ndim == 0 else value.detach().numpy().copy()
    return value


def _torch_state_to_numpy(sd: dict[str, Any]) -> dict[str, Any]:
    state = {i: {k: _as_numpy(v) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": sd["param_groups"]}


def _numpy_state_to_torch(sd: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        return torch.tensor(v) if isinstance(v, np.ndarray) else torch.tensor(float(v))

    state = {i: {k: conv(v) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": sd["param_groups"]}


def _assert_same(ours: _Run, theirs: _Run) -> None:
    for name in START:
        np.testing.assert_allclose(
            ours.numpy(name), theirs.numpy(name), rtol=RTOL, atol=ATOL, err_msg=name
        )
        assert ours.p[name].numpy().dtype == np.float64
        our_state = ours.opt.state.get(ours.p[name], {})
        their_state = theirs.opt.state.get(theirs.p[name], {})
        assert set(our_state) == set(their_state), name
        for key, value in our_state.items():
            expected = _as_numpy(their_state[key])
            np.testing.assert_allclose(value, expected, rtol=RTOL, atol=ATOL, err_msg=key)
            if isinstance(value, np.ndarray):
                assert value.shape == ours.p[name].shape, key
    np.testing.assert_array_equal(ours.p["frozen"].numpy(), START["frozen"])


@pytest.mark.parametrize("cls, options", [c[1:] for c in CASES_WITH_OLD], ids=IDS_WITH_OLD)
def test_twenty_steps_match_torch_parameters_and_state(cls: str, options: dict) -> None:
    ours, theirs = _Run(cr, cls, options), _Run(torch, cls, {**options, "foreach": False})
    ours.steps(STEPS)
    theirs.steps(STEPS)
    _assert_same(ours, theirs)
    # Guards against passing vacuously (an lr so small nothing moves).
    assert np.abs(ours.numpy("w") - START["w"]).max() > 1e-3


@pytest.mark.parametrize("cls, options", [c[1:] for c in CASES_WITH_OLD], ids=IDS_WITH_OLD)
def test_torch_state_dict_loads_and_training_continues_identically(cls: str, options: dict) -> None:
    theirs = _Run(torch, cls, options)
    theirs.steps(10)
    ours = _Run(cr, cls, options)
    for name in START:
        ours.p[name].numpy()[...] = theirs.numpy(name)
    ours.opt.load_state_dict(_torch_state_to_numpy(theirs.opt.state_dict()))
    ours.steps(10)
    theirs.steps(10)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("cls, options", [c[1:] for c in CASES_WITH_OLD], ids=IDS_WITH_OLD)
def test_our_state_dict_loads_into_torch_and_training_continues_identically(
    cls: str, options: dict
) -> None:
    ours = _Run(cr, cls, options)
    ours.steps(10)
    theirs = _Run(torch, cls, options)
    with torch.no_grad():
        for name in START:
            theirs.p[name].copy_(torch.tensor(ours.numpy(name)))
    theirs.opt.load_state_dict(_numpy_state_to_torch(ours.opt.state_dict()))
    ours.steps(10)
    theirs.steps(10)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("cls", sorted({c[1] for c in CASES}))
def test_signature_and_defaults_are_torchs(cls: str) -> None:
    import inspect

    ours = inspect.signature(getattr(optim, cls))
    theirs = inspect.signature(getattr(torch.optim, cls))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()
    ]
    our_defaults = getattr(optim, cls)([cr.tensor(np.zeros(2), requires_grad=True)]).defaults
    their_defaults = getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)]).defaults
    assert our_defaults == their_defaults


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_existing_optimizers_take_torchs_arguments_in_torchs_order(cls: str) -> None:
    import inspect

    ours = inspect.signature(getattr(optim, cls)).parameters
    theirs = inspect.signature(getattr(torch.optim, cls)).parameters
    assert [(n, p.kind, p.default) for n, p in ours.items()] == [
        (n, p.kind, p.default) for n, p in theirs.items()
    ]
