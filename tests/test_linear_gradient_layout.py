"""The gradients of ``F.linear``: the weight's comes out in the parameter's own (out, in) layout,
and both it and the bias's have the bits of the plain NumPy products and sums."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F


def _layer(shape: tuple[int, ...], dtype) -> tuple[cr.Tensor, cr.Tensor, cr.Tensor, np.ndarray]:
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal(shape).astype(dtype))
    w = cr.tensor(rng.standard_normal((5, shape[-1])).astype(dtype), requires_grad=True)
    b = cr.tensor(rng.standard_normal(5).astype(dtype), requires_grad=True)
    g = rng.standard_normal(shape[:-1] + (5,)).astype(dtype)
    F.linear(x, w, b).backward(cr.tensor(g))
    return x, w, b, g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_weight_gradient_is_a_contiguous_out_by_in_array_with_the_bits_of_g_t_x(dtype):
    x, w, _, g = _layer((7, 3), dtype)
    grad = w.grad.numpy()
    assert grad.shape == (5, 3) and grad.flags.c_contiguous and grad.dtype == dtype
    assert np.array_equal(grad, g.T @ x.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_bias_gradient_has_the_bits_of_the_sum_over_every_leading_axis(dtype):
    _, _, b, g = _layer((2, 4, 3), dtype)
    assert b.grad.dtype == dtype
    assert np.array_equal(b.grad.numpy(), g.reshape(-1, 5).sum(axis=0))
