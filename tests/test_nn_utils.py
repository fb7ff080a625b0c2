"""nn.utils as a package: the clipping split into get_total_norm and clip_grads_with_norm_,
flattening parameters to a vector and back, and the old import paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import clip_grad, convert_parameters


def with_grads(*grads: list[float]) -> list[nn.Parameter]:
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(len(g)))
        p.grad = cr.tensor(np.array(g))
        params.append(p)
    return params


def test_the_package_keeps_the_flat_names_and_gains_its_submodules() -> None:
    assert nn.utils.clip_grad_norm_ is clip_grad.clip_grad_norm_
    assert nn.utils.parameters_to_vector is convert_parameters.parameters_to_vector
    assert nn.utils.clip_grad is clip_grad and nn.utils.convert_parameters is convert_parameters


def test_get_total_norm_is_the_norm_of_the_tensors_concatenated() -> None:
    tensors = [cr.tensor(np.array([3.0, 4.0])), None, cr.tensor(np.array([12.0]))]
    assert nn.utils.get_total_norm(tensors).item() == pytest.approx(13.0)
    assert nn.utils.get_total_norm(tensors, norm_type=1).item() == pytest.approx(19.0)
    assert nn.utils.get_total_norm(tensors, norm_type=math.inf).item() == 12.0
    assert nn.utils.get_total_norm([]).item() == 0.0
    bad = [cr.tensor(np.array([np.nan]))]
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        nn.utils.get_total_norm(bad, error_if_nonfinite=True)


def test_clip_grads_with_norm_scales_by_a_given_norm_only_when_above() -> None:
    params = with_grads([3.0, 4.0])
    nn.utils.clip_grads_with_norm_(params, 1.0, cr.tensor(10.0))
    np.testing.assert_allclose(params[0].grad.numpy(), [0.3, 0.4], rtol=1e-6)
    nn.utils.clip_grads_with_norm_(params, 1.0, 0.5)  # a float norm; below max: unchanged
    np.testing.assert_allclose(params[0].grad.numpy(), [0.3, 0.4], rtol=1e-6)


def test_clip_grad_norm_takes_a_generator_and_foreach() -> None:
    params = with_grads([3.0], [4.0])
    total = nn.utils.clip_grad_norm_((p for p in params), 1.0, foreach=True)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose([p.grad.item() for p in params], [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm(params, 10.0).item() == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(TypeError, match="foreach must be None, True or False"):
        nn.utils.clip_grad_value_(params, 1.0, foreach="yes")


def test_parameters_to_vector_and_back_round_trip_in_place() -> None:
    model = nn.Linear(3, 2, dtype=np.float64)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.numpy()[:6], model.weight.numpy().reshape(-1))
    weight, version = model.weight.numpy(), model.weight._version
    nn.utils.vector_to_parameters(cr.tensor(np.arange(8.0)), model.parameters())
    assert model.weight.numpy() is weight and model.weight._version == version + 1
    np.testing.assert_array_equal(model.bias.numpy(), [6.0, 7.0])


def test_parameters_to_vector_is_differentiable() -> None:
    model = nn.Linear(2, 1, dtype=np.float64)
    (nn.utils.parameters_to_vector(model.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), 2 * model.weight.numpy())


def test_vector_to_parameters_refuses_non_tensors_and_wrong_lengths() -> None:
    params = list(nn.Linear(2, 1).parameters())
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0, 2.0, 3.0], params)
    with pytest.raises(ValueError, match="1-D with 3 elements"):
        nn.utils.vector_to_parameters(cr.tensor(np.zeros(4)), params)
    with pytest.raises(TypeError, match="single Tensor"):
        nn.utils.parameters_to_vector(params[0])


def eval_pair(layer: nn.Module, bn: nn.Module, rng: np.random.Generator) -> None:
    """Give ``bn`` non-trivial statistics and affine parameters; both to eval mode."""
    n = bn.num_features
    bn.running_mean.numpy()[...] = rng.standard_normal(n)
    bn.running_var.numpy()[...] = rng.random(n) + 0.5
    bn.weight.numpy()[...] = rng.standard_normal(n)
    bn.bias.numpy()[...] = rng.standard_normal(n)
    layer.eval()
    bn.eval()


def test_fused_conv_and_linear_compute_what_the_pair_computed() -> None:
    rng = np.random.default_rng(4)
    conv, bn = nn.Conv2d(3, 4, 3, bias=False, dtype=np.float64), nn.BatchNorm2d(4, dtype=np.float64)
    eval_pair(conv, bn, rng)
    x = cr.tensor(rng.standard_normal((2, 3, 6, 6)))
    fused = nn.utils.fuse_conv_bn_eval(conv, bn)
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-12, atol=1e-12)
    assert conv.bias is None and isinstance(fused.bias, nn.Parameter)  # the original is kept
    linear, bn1 = nn.Linear(3, 5, dtype=np.float64), nn.BatchNorm1d(5, dtype=np.float64)
    eval_pair(linear, bn1, rng)
    x = cr.tensor(rng.standard_normal((7, 3)))
    fused = nn.utils.fuse_linear_bn_eval(linear, bn1)
    np.testing.assert_allclose(fused(x).numpy(), bn1(linear(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_fusion_is_for_eval_mode_and_matching_sizes_only() -> None:
    linear, bn = nn.Linear(3, 5), nn.BatchNorm1d(5)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_linear_bn_eval(linear, bn)
    with pytest.raises(AssertionError, match="out_features must equal bn.num_features"):
        nn.utils.fuse_linear_bn_eval(linear.eval(), nn.BatchNorm1d(4).eval())
