"""ReLU's backward multiplies by the mask its forward pass kept: the same bits as the plain
``grad * (relu(x) > 0)``, signed zeros and NaN inputs included, on both backward passes."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

INPUTS = [-1.0, 0.0, 2.0, float("nan"), -0.0, 3.5, -2.5]
UPSTREAM = [3.0, -4.0, 5.0, 6.0, -7.0, -1.5, -8.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_gradient_has_the_bits_of_grad_times_positive_output(dtype) -> None:
    x = cr.tensor(np.asarray(INPUTS, dtype=dtype), requires_grad=True)
    g = np.asarray(UPSTREAM, dtype=dtype)
    F.relu(x).backward(cr.tensor(g))
    with np.errstate(invalid="ignore"):
        expected = g * (np.maximum(x.numpy(), 0) > 0)
    got = x.grad.numpy()
    assert got.dtype == dtype
    assert np.array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))  # -0.0 stays -0.0


def test_relu_gradient_of_the_gradient_is_the_mask_for_the_upstream_and_zero_for_the_input():
    x = cr.tensor(np.array([-1.0, 2.0, 0.0, 4.0]), requires_grad=True)
    v = cr.tensor(np.array([1.0, -2.0, 3.0, 0.5]), requires_grad=True)
    (gx,) = cr.autograd.grad(F.relu(x), x, grad_outputs=v, create_graph=True)
    assert gx.tolist() == [0.0, -2.0, 0.0, 0.5]
    dx, dv = cr.autograd.grad(gx.sum(), [x, v], allow_unused=True)
    assert dv.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert dx is None or dx.tolist() == [0.0, 0.0, 0.0, 0.0]
