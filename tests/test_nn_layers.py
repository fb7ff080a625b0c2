"""Layers, losses, init and clipping on their own: errors, dtypes, randomness, in-place updates.

Agreement with PyTorch's numbers lives in test_nn_torch_parity.py; these tests need no torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional
import chainrule.nn as nn
import chainrule.nn.functional as F


def f32(*shape: int, seed: int = 0) -> cr.Tensor:
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


# ----- Linear ------------------------------------------------------------------------------------


def test_linear_names_the_layer_and_the_bad_shape_when_the_input_does_not_fit() -> None:
    with pytest.raises(ValueError) as info:
        nn.Linear(4, 2)(f32(8, 3))
    assert str(info.value).startswith("Linear(in_features=4) got input of shape (8, 3); expected")
    assert "(..., 4)" in str(info.value)
    with pytest.raises(ValueError, match=r"got input of shape \(\)"):
        nn.Linear(4, 2)(cr.tensor(1.0))


def test_linear_has_pytorch_layout_and_the_requested_dtype() -> None:
    layer = nn.Linear(3, 5)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (5,)
    assert layer.weight.dtype == np.float32
    assert nn.Linear(3, 5, dtype="float64").bias.dtype == np.float64
    assert nn.Linear(3, 5, bias=False).bias is None
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Linear(3, 5, dtype=np.int64)
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 5)


def test_linear_init_is_reproducible_from_manual_seed_or_a_generator() -> None:
    cr.manual_seed(3)
    a = nn.Linear(4, 3)
    cr.manual_seed(3)
    b = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    c = nn.Linear(4, 3, generator=np.random.default_rng(1))
    d = nn.Linear(4, 3, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(c.weight.numpy(), d.weight.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())


def test_linear_accepts_arrays_and_leading_batch_axes() -> None:
    layer = nn.Linear(3, 2)
    assert layer(np.ones((2, 4, 3), dtype=np.float32)).shape == (2, 4, 2)


def test_a_float32_model_stays_float32_through_a_training_step() -> None:
    model = nn.Sequential(
        nn.Linear(4, 8),
        nn.BatchNorm1d(8),
        nn.GELU(),
        nn.Dropout(0.2),
        nn.Linear(8, 8),
        nn.Softplus(),
        nn.Linear(8, 3),
    )
    activations = []
    for layer in model:
        layer.register_forward_hook(lambda m, args, out: activations.append(out.dtype))
    loss = nn.CrossEntropyLoss(weight=np.ones(3, dtype=np.float32))(
        model(f32(6, 4)), np.array([0, 1, 2, 0, 1, 2])
    )
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    with cr.no_grad():
        for p in model.parameters():
            p.data -= 0.1 * p.grad.numpy()
    model.eval()
    model(f32(2, 4))
    float32 = np.dtype(np.float32)
    assert loss.dtype == float32 and set(activations) == {float32}
    assert {p.dtype for p in model.parameters()} == {float32}
    assert {p.grad.dtype for p in model.parameters()} == {float32}
    floats = [b for b in model.buffers() if b.dtype.kind == "f"]
    assert len(floats) == 2 and {b.dtype for b in floats} == {float32}


# ----- Dropout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest_to_keep_the_mean(p: float) -> None:
    x = cr.tensor(np.full((200, 500), 2.0))
    out = nn.Dropout(p, generator=np.random.default_rng(0))(x).numpy()
    dropped = (out == 0).mean()
    assert abs(dropped - p) < 4 * math.sqrt(p * (1 - p) / out.size)
    np.testing.assert_allclose(out[out != 0], 2.0 / (1 - p))
    assert out.mean() == pytest.approx(2.0, rel=0.02)


def test_dropout_is_the_identity_in_eval_mode_and_at_p_zero() -> None:
    x = f32(3, 4)
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).numpy().any()


def test_dropout_masks_repeat_under_manual_seed_and_vary_between_calls() -> None:
    layer, x = nn.Dropout(0.5), cr.tensor(np.ones(100))
    cr.manual_seed(11)
    first, second = layer(x).numpy(), layer(x).numpy()
    cr.manual_seed(11)
    np.testing.assert_array_equal(layer(x).numpy(), first)
    assert not np.array_equal(first, second)


def test_dropout_gradient_flows_through_the_kept_elements_only() -> None:
    x = cr.tensor(np.ones(50), requires_grad=True)
    out = nn.Dropout(0.5, generator=np.random.default_rng(2))(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())


def test_dropout_rejects_probabilities_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


# ----- BatchNorm1d -------------------------------------------------------------------------------


def test_batchnorm_training_output_has_zero_mean_unit_variance_per_channel() -> None:
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    x = cr.tensor(np.random.default_rng(0).normal(5.0, 3.0, (64, 3, 4)))
    out = bn(x).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2)), 1.0, rtol=1e-4)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_gradients_pass_gradcheck_in_training_mode() -> None:
    bn = nn.BatchNorm1d(2, dtype=np.float64, track_running_stats=False)
    rng = np.random.default_rng(1)
    bn.weight.numpy()[...] = rng.uniform(0.5, 2.0, 2)
    x = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 2, 3)))

    def weighted_sum(x, weight, bias):
        # gradcheck perturbs copies of its inputs: put the copies in the layer.
        bn._parameters.update(weight=weight, bias=bias)
        return (bn(x) * w).sum()

    assert cr.gradcheck(weighted_sum, [x, bn.weight, bn.bias])
    assert bn.weight.grad is not None and bn.weight.grad.numpy().any()


def test_batchnorm_eval_uses_running_stats_and_leaves_them_alone() -> None:
    bn = nn.BatchNorm1d(2).eval()
    x = f32(1, 2)  # one sample is fine in eval mode
    np.testing.assert_allclose(bn(x).numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)
    assert bn.num_batches_tracked.item() == 0 and not bn.running_mean.numpy().any()


def test_batchnorm_without_running_stats_has_no_buffers_and_uses_the_batch_in_eval() -> None:
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert list(bn.buffers()) == [] and list(bn.state_dict()) == ["weight", "bias"]
    out = bn(f32(5, 2)).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-6)


def test_batchnorm_names_the_layer_and_the_bad_shape() -> None:
    with pytest.raises(
        ValueError, match=r"BatchNorm1d\(num_features=3\) got input of shape \(4, 2\)"
    ):
        nn.BatchNorm1d(3)(f32(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(f32(1, 3))


def test_batchnorm_reset_restores_initial_state() -> None:
    bn = nn.BatchNorm1d(2)
    bn(f32(4, 2) * 3.0 + 1.0)
    bn.weight.numpy()[...] = 5.0
    bn.reset_parameters()
    assert bn.num_batches_tracked.item() == 0 and (bn.running_var.numpy() == 1).all()
    assert (bn.weight.numpy() == 1).all() and not bn.running_mean.numpy().any()


# ----- activations and losses --------------------------------------------------------------------


def test_softmax_modules_take_pytorch_dim_and_warn_when_it_is_implicit() -> None:
    x = f32(2, 3)
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy().sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        nn.LogSoftmax(dim=1)(x).numpy(), cr.functional.log_softmax(x, 1).numpy()
    )
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        implicit = nn.Softmax()(x)  # PyTorch's deprecated choice: dim 1 for a 2-D input
    np.testing.assert_allclose(implicit.numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_activation_settings_are_checked_when_the_layer_is_built() -> None:
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("exact")
    with pytest.raises(ValueError, match="beta"):
        nn.Softplus(beta=0.0)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=0.0)


def test_loss_weights_are_buffers_saved_and_converted_with_the_module() -> None:
    loss = nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 2.0]))
    assert list(loss.state_dict()) == ["pos_weight"] and loss.weight is None
    loss.float()
    assert loss.pos_weight.dtype == np.float32
    ce = nn.CrossEntropyLoss(weight=[1.0, 3.0])
    assert ce.weight.dtype == np.float32 and list(ce.state_dict()) == ["weight"]


def test_identity_and_flatten_keep_pytorch_semantics() -> None:
    x = f32(2, 3, 4)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, -2)(x).shape == (6, 4)


# ----- init --------------------------------------------------------------------------------------


INITS = [
    lambda t, g: nn.init.uniform_(t, generator=g),
    lambda t, g: nn.init.normal_(t, generator=g),
    lambda t, g: nn.init.xavier_uniform_(t, generator=g),
    lambda t, g: nn.init.xavier_normal_(t, generator=g),
    lambda t, g: nn.init.kaiming_uniform_(t, generator=g),
    lambda t, g: nn.init.kaiming_normal_(t, generator=g),
]


@pytest.mark.parametrize("fill", INITS)
def test_random_init_fills_in_place_keeping_dtype_and_repeats_under_manual_seed(fill) -> None:
    p = nn.Parameter(np.zeros((4, 5), dtype=np.float32))
    array = p.numpy()
    cr.manual_seed(5)
    assert fill(p, None) is p
    assert p.numpy() is array and array.dtype == np.float32 and array.any()
    first = array.copy()
    cr.manual_seed(5)
    fill(p, None)
    np.testing.assert_array_equal(array, first)
    fill(p, np.random.default_rng(6))  # an explicit generator is used instead
    assert not np.array_equal(array, first)


def test_constant_inits_fill_tensors_and_arrays() -> None:
    array = np.empty((2, 2))
    assert nn.init.constant_(array, 0.5) is array and (array == 0.5).all()
    t = nn.init.ones_(cr.tensor(np.empty(3)))
    assert (t.numpy() == 1).all() and not nn.init.zeros_(t).numpy().any()


def test_fans_and_gains_follow_pytorchs_formulas() -> None:
    assert nn.init.calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5))) == (75, 200)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    bound = math.sqrt(3) * nn.init.calculate_gain("relu") / math.sqrt(20)
    w = nn.init.kaiming_uniform_(np.empty((10, 20)), nonlinearity="relu", mode="fan_in")
    assert np.abs(w).max() <= bound


def test_init_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(np.empty(3))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal_(np.empty((2, 2)), mode="fan_avg")
    with pytest.raises(TypeError, match="floating-point"):
        nn.init.normal_(cr.tensor(np.zeros((2, 2), dtype=np.int64)))


def test_kaiming_init_of_an_empty_weight_is_a_no_op() -> None:
    assert nn.Linear(0, 3).weight.shape == (3, 0)


# ----- clipping ----------------------------------------------------------------------------------


def params_with_grads(dtype: type, *grads: list[float]) -> list[nn.Parameter]:
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(len(g), dtype=dtype))
        p.grad = cr.tensor(np.array(g, dtype=dtype))
        params.append(p)
    return params


def test_clip_grad_norm_scales_the_same_arrays_and_keeps_float32() -> None:
    params = params_with_grads(np.float32, [3.0], [4.0]) + [nn.Parameter(np.zeros(2, np.float32))]
    arrays = [p.grad.numpy() for p in params[:2]]
    total = nn.utils.clip_grad_norm_(iter(params), max_norm=1.0)
    assert total.dtype == np.float32 and total.item() == pytest.approx(5.0)
    assert all(p.grad.numpy() is a for p, a in zip(params, arrays, strict=False))
    assert arrays[0].dtype == np.float32
    np.testing.assert_allclose(np.concatenate(arrays), [0.6, 0.8], rtol=1e-5)
    assert params[2].grad is None


def test_clip_grad_norm_leaves_small_gradients_and_handles_edge_cases() -> None:
    (p,) = params_with_grads(np.float64, [0.3, -0.4])
    assert nn.utils.clip_grad_norm_(p, 1.0, norm_type="inf").item() == pytest.approx(0.4)
    np.testing.assert_array_equal(p.grad.numpy(), [0.3, -0.4])
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    (q,) = params_with_grads(np.float64, [np.inf, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([q], 1.0).item() == math.inf
    np.testing.assert_array_equal(q.grad.numpy(), [np.nan, 0.0])  # inf·0 and 1·0, as in torch
    # As PyTorch: a NaN anywhere makes the norm NaN, and without the check every grad NaN.
    p.grad.numpy()[0] = np.nan
    assert math.isnan(nn.utils.clip_grad_norm_([q, p], 1.0, norm_type=math.inf).item())
    assert np.isnan(q.grad.numpy()).all()


def test_clip_grad_value_clamps_in_place() -> None:
    (p,) = params_with_grads(np.float32, [-2.0, 0.5, 3.0])
    array = p.grad.numpy()
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.numpy() is array and array.tolist() == [-1.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="clip_value"):
        nn.utils.clip_grad_value_([p], -1.0)


# ----- namespaces --------------------------------------------------------------------------------


def test_nn_functional_is_chainrule_functional() -> None:
    assert F.__all__ == chainrule.functional.__all__
    for name in chainrule.functional.__all__:
        assert getattr(F, name) is getattr(chainrule.functional, name)
