"""Gradcheck cases for the pooling adjoints, the ops that max and average pooling's backward
passes record under ``create_graph=True``: each is the input gradient of a pooling call as a
function of the upstream gradient ``v`` (with padding, strides, dilation and ``ceil_mode``)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import chainrule as cr
import chainrule.functional as F
from gradcheck_support import case, leaf, normal


def _geometry(draw):
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2))
    h, w = k + draw(st.integers(0, 3)), k + draw(st.integers(0, 3))
    return k, s, p, h, w, draw(st.booleans())


def _input_gradient(pool, x: np.ndarray):
    """``v ↦ ∂⟨pool(x), v⟩/∂x`` at the fixed ``x``, recorded (``create_graph``)."""

    def fn(v):
        xt = cr.tensor(x, requires_grad=True)
        (gx,) = cr.autograd.grad(pool(xt), [xt], v, create_graph=True)
        return gx

    return fn


@case("MaxPool2dAdjoint")
def max_pool_adjoint(draw):
    k, s, p, h, w, ceil = _geometry(draw)
    d = draw(st.integers(1, 2)) if k > 1 and 2 * p <= k - 1 else 1
    h, w = h + (d - 1) * (k - 1), w + (d - 1) * (k - 1)  # the dilated window fits
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    x = rng.permutation(2 * h * w).reshape(1, 2, h, w) * 0.1  # no ties

    def pool(t):
        return F.max_pool2d(t, k, s, p, dilation=d, ceil_mode=ceil)

    out_shape = pool(cr.tensor(x)).shape
    return _input_gradient(pool, x), [leaf(normal(draw, out_shape))]


@case("AvgPool2dAdjoint")
def avg_pool_adjoint(draw):
    k, s, p, h, w, ceil = _geometry(draw)
    include_pad = draw(st.booleans())
    x = normal(draw, (2, 1, h, w))

    def pool(t):
        return F.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=include_pad)

    out_shape = pool(cr.tensor(x)).shape
    return _input_gradient(pool, x), [leaf(normal(draw, out_shape))]
