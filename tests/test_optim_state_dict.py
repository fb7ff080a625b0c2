"""Saving and loading optimizer and scheduler state: layout, exact resumption, and bad dicts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

F = cr.functional
sched_mod = optim.lr_scheduler

_rng = np.random.default_rng(7)
X = cr.tensor(_rng.standard_normal((12, 4)))
Y = cr.tensor(_rng.standard_normal((12, 3)))
W0, B0 = _rng.standard_normal((3, 4)), _rng.standard_normal(3)

OPTIMIZERS = {
    "sgd-nesterov": (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd-dampening": (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.1)),
    "adam-amsgrad": (optim.Adam, dict(lr=0.02, amsgrad=True, weight_decay=0.01)),
    "adamw": (optim.AdamW, dict(lr=0.02, weight_decay=0.1)),
    "rmsprop-centered-momentum": (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
    "adagrad-lr-decay": (optim.Adagrad, dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1)),
}
SCHEDULERS: dict[str, Callable[[optim.Optimizer], Any]] = {
    "step": lambda o: sched_mod.StepLR(o, step_size=3, gamma=0.5),
    "exponential": lambda o: sched_mod.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: sched_mod.CosineAnnealingLR(o, T_max=5, eta_min=1e-3),
    "plateau": lambda o: sched_mod.ReduceLROnPlateau(o, patience=1, factor=0.5, threshold=0.05),
}


def build(cls: Any, options: dict[str, Any], make_sched: Any, w0: Any, b0: Any) -> tuple:
    w = cr.tensor(w0, requires_grad=True)
    b = cr.tensor(b0, requires_grad=True)
    opt = cls([{"params": [w]}, {"params": [b], "lr": options.get("lr", 0.01) * 0.5}], **options)
    return w, b, opt, make_sched(opt)


def train(w: Any, b: Any, opt: Any, sched: Any, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(F.linear(X, w, b), Y)
        loss.backward()
        opt.step()
        if isinstance(sched, sched_mod.ReduceLROnPlateau):
            sched.step(loss.item())
        else:
            sched.step()


@pytest.mark.parametrize("make_sched", SCHEDULERS.values(), ids=SCHEDULERS.keys())
@pytest.mark.parametrize("cls, options", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_saving_loading_and_continuing_is_bit_identical_to_training_straight_through(
    cls: Any, options: dict[str, Any], make_sched: Any
) -> None:
    w, b, opt, sched = build(cls, options, make_sched, W0, B0)
    train(w, b, opt, sched, 15)

    w1, b1, opt1, sched1 = build(cls, options, make_sched, W0, B0)
    train(w1, b1, opt1, sched1, 7)
    saved = w1.numpy().copy(), b1.numpy().copy(), opt1.state_dict(), sched1.state_dict()
    snapshot = copy.deepcopy(saved)
    train(w1, b1, opt1, sched1, 3)  # training on must not change what was saved
    for before, after in zip(_leaves(snapshot), _leaves(saved)):
        np.testing.assert_array_equal(before, after)

    # A fresh optimizer with default options: loading restores every option too.
    w2, b2, opt2, sched2 = build(cls, {}, make_sched, saved[0], saved[1])
    sched2.load_state_dict(saved[3])
    opt2.load_state_dict(saved[2])
    train(w2, b2, opt2, sched2, 8)

    np.testing.assert_array_equal(w2.numpy(), w.numpy())
    np.testing.assert_array_equal(b2.numpy(), b.numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    for p, p2 in ((w, w2), (b, b2)):
        state, state2 = opt.state[p], opt2.state[p2]
        assert state.keys() == state2.keys()
        for key in state:
            np.testing.assert_array_equal(state2[key], state[key])


def _leaves(tree: Any) -> list[Any]:
    """Every array and number in nested dicts, lists and tuples, in order."""
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree, key=str) for leaf in _leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


# ----- layout ---------------------------------------------------------------------------------


def test_state_dict_numbers_parameters_across_groups_and_copies_arrays() -> None:
    a, b, c = (cr.tensor(np.ones(n), requires_grad=True) for n in (2, 3, 4))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    a.grad = cr.tensor(np.ones(2))
    c.grad = cr.tensor(np.ones(4))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert set(sd["param_groups"][0]) == {"params", *opt.defaults}
    assert set(sd["state"]) == {0, 2}  # b has no gradient, so no state
    assert sd["state"][0]["step"] == 1 and set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert not np.shares_memory(sd["state"][0]["exp_avg"], opt.state[a]["exp_avg"])
    sd["param_groups"][0]["lr"] = 99.0
    assert opt.param_groups[0]["lr"] == 0.1


def test_loaded_state_is_copied_into_the_parameters_dtype() -> None:
    p64 = cr.tensor(np.ones(3), requires_grad=True)
    opt64 = optim.RMSprop([p64], momentum=0.9, centered=True)
    p64.grad = cr.tensor(np.full(3, 0.5))
    opt64.step()
    sd = opt64.state_dict()
    p32 = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    opt32 = optim.RMSprop([p32])
    opt32.load_state_dict(sd)
    buffers = {k: v for k, v in opt32.state[p32].items() if isinstance(v, np.ndarray)}
    assert set(buffers) == {"square_avg", "momentum_buffer", "grad_avg"}
    assert all(v.dtype == np.float32 for v in buffers.values())
    assert opt32.param_groups[0]["momentum"] == 0.9 and opt32.param_groups[0]["params"][0] is p32
    assert not np.shares_memory(buffers["square_avg"], sd["state"][0]["square_avg"])


def test_adagrad_parameters_without_loaded_state_start_from_the_accumulator_value() -> None:
    p = cr.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    opt.load_state_dict({"state": {}, "param_groups": opt.state_dict()["param_groups"]})
    p.grad = cr.tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(opt.state[p]["sum"], [1.25, 1.25])
    assert opt.state[p]["step"] == 1


# ----- bad state dicts ------------------------------------------------------------------------


def _trained_sgd(*sizes: int) -> optim.SGD:
    params = [cr.tensor(np.ones(n), requires_grad=True) for n in sizes]
    opt = optim.SGD([{"params": [p]} for p in params], lr=0.1, momentum=0.9)
    for p in params:
        p.grad = cr.tensor(np.ones(p.shape))
    opt.step()
    return opt


def _unchanged_after(opt: optim.Optimizer, sd: Any, error: type, message: str) -> None:
    before = opt.state_dict()
    with pytest.raises(error, match=message):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    leaves_before, leaves_after = _leaves(before["state"]), _leaves(after["state"])
    assert len(leaves_after) == len(leaves_before)
    assert all(np.array_equal(x, y) for x, y in zip(leaves_after, leaves_before))


def test_loading_a_state_dict_with_another_number_of_groups_raises() -> None:
    sd = _trained_sgd(2, 3).state_dict()
    _unchanged_after(
        _trained_sgd(2), sd, ValueError, "has 2 parameter groups; this optimizer has 1"
    )


def test_loading_a_state_dict_whose_group_sizes_differ_raises() -> None:
    sd2 = _trained_sgd(2, 3).state_dict()
    sd2["param_groups"][1]["params"].append(7)
    _unchanged_after(
        _trained_sgd(2, 3),
        sd2,
        ValueError,
        "group 1 of the loaded state dict has 2 parameters; this optimizer's group 1 has 1",
    )


def test_loading_state_of_the_wrong_shape_raises_and_names_parameter_and_buffer() -> None:
    sd = _trained_sgd(2, 3).state_dict()
    _unchanged_after(
        _trained_sgd(2, 4),
        sd,
        ValueError,
        r"state 'momentum_buffer' of parameter 1 has shape \(3,\); the parameter has shape \(4,\)",
    )


def test_loading_another_optimizers_state_dict_raises() -> None:
    sd = _trained_sgd(2).state_dict()
    p = cr.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([p])
    with pytest.raises(ValueError, match=r"lacks the option\(s\) \['betas', 'eps', 'amsgrad'"):
        opt.load_state_dict(sd)


def test_loading_state_for_an_unknown_parameter_index_raises() -> None:
    sd = _trained_sgd(2).state_dict()
    sd["state"][5] = sd["state"].pop(0)
    _unchanged_after(_trained_sgd(2), sd, ValueError, "state for parameter 5, which no parameter")


def test_loading_out_of_range_options_raises() -> None:
    sd = _trained_sgd(2).state_dict()
    sd["param_groups"][0]["lr"] = -1.0
    _unchanged_after(_trained_sgd(2), sd, ValueError, "group 0 of the loaded state dict: invalid")


def test_loading_something_that_is_not_a_state_dict_raises() -> None:
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        _trained_sgd(2).load_state_dict({"state": {}})


def test_loading_another_schedulers_state_dict_raises() -> None:
    opt = _trained_sgd(2)
    sd = sched_mod.StepLR(opt, step_size=2).state_dict()
    cosine = sched_mod.CosineAnnealingLR(opt, T_max=3)
    with pytest.raises(ValueError, match="not a CosineAnnealingLR state dict"):
        cosine.load_state_dict(sd)
