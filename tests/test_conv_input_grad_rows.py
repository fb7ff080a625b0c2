"""A stride-1 convolution's input gradient on arrays goes through whole padded rows
(``windows.col2im_rows``); these pin it to the plain form (Wᵀ G then ``Col2im``): bit for bit in
float64, to float32 rounding in float32, over padding (symmetric, 'same' with an even kernel),
dilation, groups, 1-D, a size-0 batch and non-finite gradients; strided convolutions and
``create_graph`` keep the plain form."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.ops.conv import Conv2d
from chainrule.ops.windows import Col2im

CASES = [
    # (N, C, H, W), (O, C/groups, kh, kw), padding, dilation, groups
    ((64, 8, 13, 13), (16, 8, 3, 3), 0, 1, 1),  # the LeNet step's second convolution
    ((3, 2, 9, 7), (4, 2, 3, 3), 1, 1, 1),
    ((2, 4, 10, 9), (6, 2, 3, 2), 2, 2, 2),
    ((2, 3, 8, 8), (5, 3, 2, 4), "same", 1, 1),
    ((2, 3, 6, 11), (2, 3, 1, 1), 0, 1, 1),
    ((0, 3, 6, 6), (2, 3, 3, 3), 1, 1, 1),
]


def plain_input_grad(x, w, g, spans, dilation, groups):
    """Wᵀ G and Col2im, as Conv2d.backward writes them for tensors."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    fn = Conv2d()
    fn.forward(x, w, stride=(1, 1), padding=spans, dilation=dilation, groups=groups)
    gg = g.reshape(n, groups, o // groups, g.shape[2] * g.shape[3])
    dcols = np.matmul(np.swapaxes(fn.wmat, 1, 2), gg).reshape(n, c, kh, kw, *fn.out_hw)
    out = Col2im().forward(dcols, size=x.shape[2:], stride=(1, 1), spans=spans, dilation=dilation)
    return np.ascontiguousarray(out)


def padding_spans(padding, kernel, dilation):
    if padding == "same":
        totals = [dilation * (k - 1) for k in kernel]
        return tuple((t // 2, t - t // 2) for t in totals)
    return ((padding, padding), (padding, padding))


def ours(x, w, g, padding, dilation, groups):
    xt = cr.tensor(x, requires_grad=True)
    out = F.conv2d(xt, cr.tensor(w), padding=padding, dilation=dilation, groups=groups)
    out.backward(cr.tensor(g))
    return xt.grad.numpy()


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_stride_one_input_gradient_matches_the_plain_form(case, dtype):
    xs, ws, padding, dilation, groups = case
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    out_shape = F.conv2d(cr.tensor(x), cr.tensor(w), None, 1, padding, dilation, groups).shape
    g = rng.standard_normal(out_shape).astype(dtype)
    g[g < 0] *= 0.0  # as after a ReLU's backward: many -0.0
    spans = padding_spans(padding, ws[2:], dilation)
    got = ours(x, w, g, padding, dilation, groups)
    want = plain_input_grad(x, w, g, spans, (dilation, dilation), groups)
    assert got.shape == want.shape and got.dtype == want.dtype
    if dtype == np.float64:
        assert got.tobytes() == want.tobytes()
    else:  # OpenBLAS may round the wider float32 product differently in the last bit
        scale = max(float(np.abs(want).max(initial=0.0)), 1.0)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * scale)


def test_a_non_finite_gradient_stays_in_its_own_cells():
    x = np.zeros((1, 1, 6, 6))
    w = np.ones((1, 1, 3, 3))
    g = np.zeros((1, 1, 4, 4))
    g[0, 0, 1, 3] = np.inf  # the last column: the widened rows must not carry it elsewhere
    got = ours(x, w, g, 0, 1, 1)
    want = plain_input_grad(x, w, g, ((0, 0), (0, 0)), (1, 1), 1)
    np.testing.assert_array_equal(got, want)


def test_conv1d_input_gradient_matches_the_plain_form():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4, 17)), rng.standard_normal((5, 4, 3))
    xt = cr.tensor(x, requires_grad=True)
    out = F.conv1d(xt, cr.tensor(w), padding=2, dilation=2)
    g = rng.standard_normal(out.shape)
    out.backward(cr.tensor(g))
    want = plain_input_grad(
        x[:, :, None], w[:, :, None], g[:, :, None], ((0, 0), (2, 2)), (1, 2), 1
    )
    assert xt.grad.numpy().tobytes() == want[:, :, 0].tobytes()


@pytest.mark.parametrize("stride", [2, (1, 2)], ids=str)
def test_strided_and_second_order_input_gradients_still_agree_with_central_differences(stride):
    rng = np.random.default_rng(2)
    x = cr.tensor(rng.standard_normal((2, 2, 7, 7)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    assert cr.autograd.gradcheck(lambda a, b: F.conv2d(a, b, stride=stride, padding=1), (x, w))
    assert cr.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))
