"""chainrule.optim optimizers: param groups, state, in-place updates, dtypes and input checks."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

F = cr.functional

# Every optimizer with every state buffer switched on (and gradients that are modified first).
FULL_OPTIONS: dict[str, tuple[type[optim.Optimizer], dict[str, Any]]] = {
    "sgd": (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    "sgd-dampening": (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    "adam": (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    "adamw": (optim.AdamW, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    "rmsprop": (
        optim.RMSprop,
        dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True),
    ),
    "rmsprop-no-momentum": (optim.RMSprop, dict(lr=0.01, weight_decay=0.1)),
    "adagrad": (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, maximize=True)),
}
ALL = pytest.mark.parametrize("cls, options", FULL_OPTIONS.values(), ids=list(FULL_OPTIONS.keys()))
CLASSES = [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad]


def param(shape: tuple[int, ...] = (3, 2), dtype: Any = np.float64, seed: int = 0) -> cr.Tensor:
    return cr.tensor(
        np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True
    )


def set_grad(p: cr.Tensor, seed: int) -> None:
    p.grad = cr.tensor(np.random.default_rng(seed).standard_normal(p.shape).astype(p.dtype))


def arrays(state: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: v for k, v in state.items() if isinstance(v, np.ndarray)}


# ----- the step -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES)
def test_step_decreases_a_least_squares_loss(cls: type[optim.Optimizer]) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 3))
    x, y = cr.tensor(x), cr.tensor(x @ rng.standard_normal((3, 2)))  # the minimum is 0
    w = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    opt = cls([w], lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.mse_loss(F.linear(x, w), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@ALL
def test_step_updates_param_data_and_state_buffers_in_place(cls: Any, options: Any) -> None:
    p = param()
    data = p.numpy()
    opt = cls([p], **options)
    set_grad(p, 1)
    opt.step()
    buffers = arrays(opt.state[p])
    assert buffers
    for seed in range(2, 6):
        set_grad(p, seed)
        opt.step()
        assert p.numpy() is data
        after = arrays(opt.state[p])
        assert after.keys() == buffers.keys()
        assert all(after[k] is buffers[k] for k in buffers)
    assert not np.shares_memory(p.numpy(), p.grad.numpy())


@ALL
def test_steps_after_the_first_allocate_no_parameter_sized_arrays(cls: Any, options: Any) -> None:
    p = param((50_000,))  # 400 kB, so a single temporary would dwarf the allowance
    set_grad(p, 1)
    opt = cls([p], **options)
    opt.step()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - baseline < 20_000


@ALL
def test_step_leaves_the_gradient_untouched(cls: Any, options: Any) -> None:
    p = param()
    opt = cls([p], **options)
    for seed in range(3):
        set_grad(p, seed)
        grad, before = p.grad, p.grad.numpy().copy()
        opt.step()
        assert p.grad is grad
        np.testing.assert_array_equal(p.grad.numpy(), before)


@ALL
def test_float32_parameters_keep_float32_values_and_state(cls: Any, options: Any) -> None:
    p32, p64 = param(dtype=np.float32), param(dtype=np.float64)
    # NumPy float64 hyperparameters must not upcast the update either.
    options32 = {k: np.float64(v) if type(v) is float else v for k, v in options.items()}
    opt32, opt64 = cls([p32], **options32), cls([p64], **options)
    for seed in range(5):
        set_grad(p32, seed)
        set_grad(p64, seed)
        opt32.step()
        opt64.step()
    assert p32.dtype == np.float32
    assert all(v.dtype == np.float32 for v in arrays(opt32.state[p32]).values())
    np.testing.assert_allclose(p32.numpy(), p64.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", CLASSES)
def test_float32_training_on_engine_gradients_stays_float32(cls: Any) -> None:
    rng = np.random.default_rng(3)
    x = cr.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    y = cr.tensor(rng.standard_normal((8, 2)).astype(np.float32))
    w = cr.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    b = cr.tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = cls([w, b], lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(F.linear(x, w, b), y).backward()
        opt.step()
    for p in (w, b):
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
        assert all(v.dtype == np.float32 for v in arrays(opt.state[p]).values())


def test_float64_gradient_on_a_float32_parameter_keeps_float32() -> None:
    p = param(dtype=np.float32)
    opt = optim.Adam([p], lr=0.1)
    p.grad = cr.Tensor(np.ones(p.shape, np.float64))
    opt.step()
    assert p.dtype == np.float32
    assert {v.dtype for v in arrays(opt.state[p]).values()} == {np.dtype(np.float32)}


@pytest.mark.parametrize("cls", CLASSES)
def test_parameters_without_grad_are_skipped_and_get_no_step(cls: Any) -> None:
    a, b = param(seed=1), param(seed=2)
    before = b.numpy().copy()
    opt = cls([a, b], lr=0.1)
    set_grad(a, 0)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    assert not np.array_equal(a.numpy(), param(seed=1).numpy())
    # Adagrad creates its sums up front, as PyTorch does; nothing has counted a step for b.
    assert opt.state.get(b, {}).get("step", 0) == 0
    if cls is not optim.Adagrad:
        assert b not in opt.state


def test_plain_sgd_step_is_theta_minus_lr_times_grad() -> None:
    p = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    p.grad = cr.tensor(np.array([0.5, 4.0]))
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.numpy(), [0.95, -2.4])


def test_first_adam_step_moves_each_coordinate_by_about_lr() -> None:
    p = cr.tensor(np.zeros(3), requires_grad=True)
    p.grad = cr.tensor(np.array([1e-3, -5.0, 200.0]))
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.numpy(), [-0.01, 0.01, -0.01], rtol=1e-4)


def test_closure_runs_with_gradients_on_and_its_loss_is_returned() -> None:
    p = param()
    opt = optim.SGD([p], lr=0.1)

    def closure() -> cr.Tensor:
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(float((param().numpy() ** 2).sum()))
    np.testing.assert_allclose(p.numpy(), 0.8 * param().numpy())


def test_zero_grad_drops_gradients_or_zeroes_them_in_place() -> None:
    a, b = param(seed=1), param(seed=2)
    opt = optim.SGD([a, b])
    set_grad(a, 0)
    set_grad(b, 1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    set_grad(a, 0)
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and not grad.numpy().any() and b.grad is None


def test_changing_a_groups_lr_takes_effect_at_the_next_step() -> None:
    p = cr.tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = 0.5
    p.grad = cr.tensor(np.array([1.0]))
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.5])


# ----- param groups ---------------------------------------------------------------------------


def test_group_options_override_defaults_and_missing_ones_are_filled_in() -> None:
    a, b = param(seed=1), param(seed=2)
    opt = optim.SGD(
        [{"params": [a]}, {"params": b, "lr": 0.5, "tag": "head"}], lr=0.1, momentum=0.9
    )
    g0, g1 = opt.param_groups
    assert g0["lr"] == 0.1 and g1["lr"] == 0.5 and g1["momentum"] == 0.9
    assert len(g1["params"]) == 1 and g1["params"][0] is b  # a lone tensor is wrapped
    assert g1["tag"] == "head"  # extra keys are kept, as in PyTorch
    assert set(g0) == {"params", *opt.defaults}


def test_add_param_group_adds_parameters_that_step_with_their_own_options() -> None:
    a, b = param(seed=1), param(seed=2)
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 1.0})
    set_grad(b, 0)
    before = b.numpy().copy()
    opt.step()
    np.testing.assert_allclose(b.numpy(), before - b.grad.numpy())
    assert len(opt.param_groups) == 2


def test_adagrad_uses_each_groups_own_initial_accumulator_value() -> None:
    # PyTorch fills every sum with the constructor's value; chainrule honours the group's.
    a, b = param(seed=1), param(seed=2)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 2.0}])
    opt.add_param_group({"params": [param(seed=3)], "initial_accumulator_value": 3.0})
    assert [float(s["sum"].flat[0]) for s in opt.state.values()] == [0.0, 2.0, 3.0]


def test_adam_amsgrad_switched_on_mid_training_starts_its_maximum() -> None:
    p = param()
    opt = optim.Adam([p], lr=0.01)
    set_grad(p, 0)
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"], opt.state[p]["exp_avg_sq"])


def test_repr_lists_groups_and_options() -> None:
    text = repr(optim.SGD([param()], lr=0.25))
    assert text.startswith("SGD (") and "1 params" in text and "lr=0.25" in text


# ----- bad input ------------------------------------------------------------------------------


def test_a_single_tensor_instead_of_an_iterable_is_rejected() -> None:
    with pytest.raises(TypeError, match="single Tensor; wrap it in a list"):
        optim.SGD(param())


def test_an_empty_parameter_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_a_set_of_parameters_is_rejected_because_its_order_is_not_stable() -> None:
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD({param()})
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD([{"params": {param()}}])


def test_non_tensor_parameters_are_rejected_with_their_position() -> None:
    with pytest.raises(TypeError, match="param group 0, parameter 1 is a ndarray"):
        optim.SGD([param(), np.zeros(3)])


def test_non_float_parameters_are_rejected() -> None:
    with pytest.raises(
        TypeError, match="floating-point tensors, but param group 0, parameter 0 is int64"
    ):
        optim.SGD([cr.tensor(np.arange(3))])


def test_non_leaf_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="non-leaf tensor .*computed by Mul"):
        optim.SGD([param() * 2])


def test_duplicate_parameters_are_rejected_within_and_across_groups() -> None:
    p, q = param(), param()
    with pytest.raises(ValueError, match="same tensor twice \\(parameters 0 and 2\\)"):
        optim.SGD([p, q, p])
    with pytest.raises(ValueError, match="param group 1 are already in param group 0"):
        optim.SGD([{"params": [p]}, {"params": [q, p]}])
    opt = optim.SGD([p])
    with pytest.raises(ValueError, match="already in param group 0"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1


def test_param_groups_must_be_dicts_with_params() -> None:
    with pytest.raises(TypeError, match="param group must be a dict, got Tensor"):
        optim.SGD([{"params": [param()]}, param()])
    with pytest.raises(ValueError, match="needs a 'params' entry"):
        optim.SGD([{"lr": 0.1}])


BAD_OPTIONS = [
    (optim.SGD, dict(lr=-0.1), ValueError, "invalid learning rate: -0.1"),
    (optim.SGD, dict(lr=float("nan")), ValueError, "invalid learning rate"),
    (optim.SGD, dict(lr="0.1"), TypeError, "learning rate must be a real number"),
    (optim.SGD, dict(momentum=-0.5), ValueError, "invalid momentum"),
    (optim.SGD, dict(weight_decay=-1), ValueError, "invalid weight_decay"),
    (optim.SGD, dict(momentum=0.9, dampening=1.5), ValueError, "invalid dampening"),
    (optim.SGD, dict(nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
    (optim.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), ValueError, "zero dampening"),
    (optim.SGD, dict(maximize="yes"), TypeError, "maximize must be True or False"),
    (optim.Adam, dict(lr=-1e-3), ValueError, "invalid learning rate"),
    (optim.Adam, dict(betas=(1.0, 0.999)), ValueError, "beta parameter at index 0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
    (optim.Adam, dict(betas=0.9), TypeError, "betas must be a pair"),
    (optim.Adam, dict(eps=-1e-8), ValueError, "invalid epsilon value"),
    (optim.AdamW, dict(weight_decay=-0.01), ValueError, "invalid weight_decay"),
    (optim.AdamW, dict(amsgrad=1), TypeError, "amsgrad must be True or False"),
    (optim.RMSprop, dict(alpha=-0.5), ValueError, "invalid alpha value"),
    (optim.RMSprop, dict(momentum=-0.1), ValueError, "invalid momentum"),
    (optim.RMSprop, dict(eps=-1.0), ValueError, "invalid epsilon value"),
    (optim.Adagrad, dict(lr_decay=-0.1), ValueError, "invalid lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), ValueError, "initial_accumulator_value"),
    (optim.Adagrad, dict(eps=-1e-10), ValueError, "invalid epsilon value"),
]


@pytest.mark.parametrize("cls, options, error, message", BAD_OPTIONS)
def test_out_of_range_options_are_rejected(
    cls: Any, options: Any, error: Any, message: str
) -> None:
    with pytest.raises(error, match=message):
        cls([param()], **options)


def test_out_of_range_group_options_are_rejected_with_the_groups_index() -> None:
    with pytest.raises(ValueError, match="param group 1: invalid learning rate: -1"):
        optim.Adam([{"params": [param()]}, {"params": [param()], "lr": -1}])
    opt = optim.SGD([param()])
    with pytest.raises(ValueError, match="param group 1: Nesterov"):
        opt.add_param_group({"params": [param()], "nesterov": True})


def test_optimizer_step_bumps_each_parameters_version_so_a_stale_graph_raises():
    w = cr.tensor(np.ones(3), requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    before = w._version
    opt.step()
    assert w._version == before + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
