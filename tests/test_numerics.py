"""Numerical stability: finite and exact values and gradients at ±1e4, with no NumPy warnings.

Pytest turns every warning into an error (pyproject.toml), so an overflow inside NumPy fails these
tests even when the returned number happens to be right.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

BIG = 1e4
DTYPES = [np.float32, np.float64]


def value_and_grad(fn, values, dtype):
    x = cr.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
    out = fn(x)
    out.sum().backward()
    return out.numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("name", "fn", "expected", "expected_grad"),
    [
        ("sigmoid", F.sigmoid, [0.0, 0.5, 1.0], [0.0, 0.25, 0.0]),
        ("tanh", F.tanh, [-1.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
        ("softplus", F.softplus, [0.0, np.log(2.0), BIG], [0.0, 0.5, 1.0]),
        ("relu", F.relu, [0.0, 0.0, BIG], [0.0, 0.0, 1.0]),
        ("elu", F.elu, [-1.0, 0.0, BIG], [0.0, 1.0, 1.0]),
        ("gelu", F.gelu, [0.0, 0.0, BIG], [0.0, 0.5, 1.0]),
        ("gelu_tanh", lambda x: F.gelu(x, "tanh"), [0.0, 0.0, BIG], [0.0, 0.5, 1.0]),
    ],
)
def test_activation_is_exact_at_the_limits(name, fn, expected, expected_grad, dtype):
    value, grad = value_and_grad(fn, [-BIG, 0.0, BIG], dtype)
    assert value.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_family_is_exact_for_huge_logits(dtype):
    logits = [BIG, -BIG, 0.0]
    value, grad = value_and_grad(lambda x: F.softmax(x) * cr.tensor([1.0, 2.0, 3.0]), logits, dtype)
    np.testing.assert_array_equal(value, [1.0, 0.0, 0.0])
    assert np.isfinite(grad).all()
    value, grad = value_and_grad(F.log_softmax, logits, dtype)
    np.testing.assert_allclose(value, [0.0, -2 * BIG, -BIG])
    np.testing.assert_allclose(grad, [1 - 3.0, 1.0, 1.0], atol=1e-6)
    value, grad = value_and_grad(F.logsumexp, logits, dtype)
    np.testing.assert_allclose(value, BIG)
    np.testing.assert_allclose(grad, [1.0, 0.0, 0.0])


def test_logsumexp_of_all_minus_infinity_is_minus_infinity_without_warning():
    x = cr.tensor(np.array([-np.inf, -np.inf]))
    assert F.logsumexp(x).item() == -np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_is_exact_for_huge_logits(dtype):
    x = cr.tensor(np.array([BIG, -BIG, BIG, -BIG], dtype=dtype), requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [0.0, 0.0, BIG, BIG])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_is_exact_for_huge_logits(dtype):
    x = cr.tensor(np.array([[BIG, -BIG], [BIG, -BIG]], dtype=dtype), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [0.0, 2 * BIG])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0], [1.0, -1.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_clamps_each_log_at_minus_100(dtype):
    p = cr.tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    t = cr.tensor(np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    # The target's gradient is the derivative of the clamped loss: log(1 − p) − log p.
    np.testing.assert_array_equal(t.grad.numpy(), [100.0, -100.0, 100.0, -100.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.huber_loss], ids=["mse", "l1", "huber"])
def test_regression_losses_stay_finite_at_large_errors(loss, dtype):
    x = cr.tensor(np.array([BIG, -BIG], dtype=dtype), requires_grad=True)
    out = loss(x, np.array([-BIG, BIG], dtype=dtype))
    out.backward()
    assert np.isfinite(out.numpy()) and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize(
    ("name", "fn", "at_zero"),
    [
        ("relu", F.relu, 0.0),
        ("abs", F.abs, 0.0),
        ("l1", lambda x: F.l1_loss(x, np.zeros(1)), 0.0),
        ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), 0.1),
        ("clip_at_bound", lambda x: F.clip(x, 0.0, 1.0), 1.0),
    ],
)
def test_subgradient_at_the_kink_is_the_documented_one(name, fn, at_zero):
    _, grad = value_and_grad(fn, [0.0], np.float64)
    assert grad[0] == at_zero


def test_max_and_min_split_the_gradient_evenly_between_ties():
    _, grad = value_and_grad(lambda x: x.max(), [1.0, 3.0, 3.0], np.float64)
    np.testing.assert_array_equal(grad, [0.0, 0.5, 0.5])
    _, grad = value_and_grad(lambda x: F.minimum(x, cr.tensor(np.ones(2))), [1.0, 2.0], np.float64)
    np.testing.assert_array_equal(grad, [0.5, 0.0])


def test_sqrt_gradient_at_zero_is_infinite_and_pow_zero_exponent_has_zero_gradient():
    _, grad = value_and_grad(F.sqrt, [0.0], np.float64)
    assert grad[0] == np.inf
    _, grad = value_and_grad(lambda x: x**0, [0.0], np.float64)
    assert grad[0] == 0.0


def test_pow_gradient_with_respect_to_exponent_at_zero_base_is_zero_not_nan():
    base = cr.tensor(np.array([0.0]), requires_grad=True)
    exponent = cr.tensor(np.array([2.0]), requires_grad=True)
    (base**exponent).sum().backward()
    assert exponent.grad.numpy()[0] == 0.0 and base.grad.numpy()[0] == 0.0
