"""NAdam, RAdam, Adamax, Adadelta, ASGD and Rprop without PyTorch: first steps worked by hand,
the option errors, and PyTorch's implementation switches (foreach, differentiable, capturable,
fused) on every optimizer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim


def _param(value: list[float]) -> cr.Tensor:
    p = cr.tensor(np.array(value, dtype=np.float64), requires_grad=True)
    p.grad = cr.tensor(np.array([2.0] * len(value)))
    return p


def test_adamax_first_step_moves_by_lr_times_sign() -> None:
    # m = (1−β₁)g, u = |g| + ε, step = lr/(1−β₁) · m/u ≈ lr·sign(g).
    p = _param([1.0])
    optim.Adamax([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.numpy(), [0.9], rtol=1e-15)


def test_adadelta_first_step_is_sqrt_eps_over_rms() -> None:
    p = _param([1.0])
    optim.Adadelta([p], lr=1.0, rho=0.9, eps=1e-6).step()
    delta = math.sqrt(1e-6) / math.sqrt(0.1 * 4 + 1e-6) * 2
    np.testing.assert_allclose(p.numpy(), [1.0 - delta], rtol=1e-14)


def test_radam_first_steps_are_momentum_sgd_until_rho_exceeds_five() -> None:
    p = _param([1.0])
    opt = optim.RAdam([p], lr=0.1)
    opt.step()
    # m̂ = g at step 1, rho_1 = 1 < 5: θ ← θ − lr·g.
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.1 * 2.0], rtol=1e-15)


def test_nadam_first_step_by_hand() -> None:
    p = _param([1.0])
    optim.NAdam([p], lr=0.1, eps=0.0).step()
    b1, psi = 0.9, 4e-3
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    m, denom = 0.1 * 2.0, 2.0  # √(v/(1−β₂)) = |g|
    expected = 1.0 - 0.1 * (1 - mu1) / (1 - mu1) * 2.0 / denom
    expected -= 0.1 * mu2 / (1 - mu1 * mu2) * m / denom
    np.testing.assert_allclose(p.numpy(), [expected], rtol=1e-14)


def test_asgd_averages_from_t0_and_decays_eta() -> None:
    p = _param([1.0])
    opt = optim.ASGD([p], lr=0.1, lambd=0.0, t0=0)
    opt.step()
    state = opt.state[p]
    np.testing.assert_allclose(p.numpy(), [0.8])
    np.testing.assert_allclose(state["ax"], [0.8])  # μ₁ = 1: the average is the iterate
    assert state["eta"] == 0.1 and state["mu"] == 1.0 and state["step"] == 1
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.6])
    assert state["mu"] == 0.5


def test_rprop_grows_steps_while_the_sign_holds_and_backs_off_when_it_flips() -> None:
    p = _param([0.0])
    opt = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(1e-3, 1.0))
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.1])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.3])  # same sign: step 0.2
    p.grad = cr.tensor(np.array([-1.0]))
    opt.step()  # flipped: step halves, no move, prev cleared
    np.testing.assert_allclose(p.numpy(), [-0.3])
    np.testing.assert_allclose(opt.state[p]["step_size"], [0.1])
    np.testing.assert_allclose(opt.state[p]["prev"], [0.0])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.2])


def test_new_optimizers_skip_parameters_without_grad() -> None:
    for cls in ("NAdam", "RAdam", "Adamax", "Adadelta", "ASGD", "Rprop"):
        p = cr.tensor(np.ones(3), requires_grad=True)
        opt = getattr(optim, cls)([p])
        opt.step()
        np.testing.assert_array_equal(p.numpy(), np.ones(3))
        assert opt.state == {}, cls


def test_float32_parameters_keep_float32_buffers() -> None:
    for cls in ("NAdam", "RAdam", "Adamax", "Adadelta", "ASGD", "Rprop"):
        p = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        p.grad = cr.tensor(np.full(3, 0.5, dtype=np.float32))
        opt = getattr(optim, cls)([p])
        opt.step()
        opt.step()
        assert p.numpy().dtype == np.float32, cls
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, (cls, key)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        ("NAdam", dict(lr=-1), "learning rate"),
        ("NAdam", dict(betas=(1.0, 0.9)), "beta parameter at index 0"),
        ("RAdam", dict(eps=-1), "epsilon"),
        ("Adamax", dict(weight_decay=-1), "weight_decay"),
        ("Adadelta", dict(rho=1.5), "rho"),
        ("ASGD", dict(lr=-0.1), "learning rate"),
        ("Rprop", dict(etas=(1.5, 2.0)), "Invalid eta values: 1.5, 2.0"),
        ("Rprop", dict(step_sizes=(1.0, 0.5)), "maximal step size"),
    ],
)
def test_out_of_range_options_raise_naming_the_option(cls: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(optim, cls)([cr.tensor(np.ones(2), requires_grad=True)], **kwargs)


ALL = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "NAdam", "RAdam", "Adamax", "Adadelta"]
ALL += ["ASGD", "Rprop"]


@pytest.mark.parametrize("cls", ALL)
def test_foreach_is_accepted_and_changes_nothing(cls: str) -> None:
    results = []
    for foreach in (None, False, True):
        p = _param([1.0, -2.0])
        getattr(optim, cls)([p], foreach=foreach).step()
        results.append(p.numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


@pytest.mark.parametrize("cls", ALL)
def test_differentiable_true_is_refused(cls: str) -> None:
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        getattr(optim, cls)([_param([1.0])], differentiable=True)


@pytest.mark.parametrize("cls", [c for c in ALL if c not in ("SGD", "Adagrad")])
def test_capturable_true_is_refused(cls: str) -> None:
    with pytest.raises(ValueError, match="capturable=True is not supported"):
        getattr(optim, cls)([_param([1.0])], capturable=True)


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_true_is_refused_and_false_accepted(cls: str) -> None:
    getattr(optim, cls)([_param([1.0])], fused=False)
    with pytest.raises(ValueError, match="fused=True is not supported"):
        getattr(optim, cls)([_param([1.0])], fused=True)


def test_foreach_must_be_a_flag_or_none() -> None:
    with pytest.raises(TypeError, match="foreach"):
        optim.Adam([_param([1.0])], foreach="yes")


def test_state_dict_step_saved_as_a_0d_array_loads_as_a_number() -> None:
    p = _param([1.0, 2.0])
    opt = optim.NAdam([p])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = np.array(1.0)
    sd["state"][0]["mu_product"] = np.array(sd["state"][0]["mu_product"])
    other = optim.NAdam([p])
    other.load_state_dict(sd)
    assert other.state[p]["step"] == 1.0 and isinstance(other.state[p]["mu_product"], float)
