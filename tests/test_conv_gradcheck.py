"""Convolution and pooling: central-difference gradients over a grid of geometries, and values
against a naive loop implementation written independently of the strided one.

The grid covers kernel sizes 1, 2, 3, 5, strides 1, 2, 3, paddings 0, 1, 2 and dilations 1, 2
on an odd height and an even width, so that (H + 2p − span) is often not divisible by the stride
and the last rows and columns are dropped. Geometries whose kernel does not fit are skipped.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

H, W = 7, 6  # odd and even


def leaf(a: np.ndarray) -> cr.Tensor:
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def fits(k: int, p: int, d: int) -> bool:
    return d * (k - 1) + 1 <= min(H, W) + 2 * p


GRID = [
    (k, s, p, d)
    for k, s, p, d in itertools.product((1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2))
    if fits(k, p, d)
]


def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output value at a time."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding : padding + h, padding : padding + wd] = x
    oh = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for b_, oc, y, xx in itertools.product(range(n), range(o), range(oh), range(ow)):
        g = oc // og
        total = 0.0 if b is None else b[oc]
        for ic, i, j in itertools.product(range(cg), range(kh), range(kw)):
            total += (
                w[oc, ic, i, j]
                * xp[b_, g * cg + ic, y * stride + i * dilation, xx * stride + j * dilation]
            )
        out[b_, oc, y, xx] = total
    return out


def naive_pool(x, k, stride, padding, reduce, pad_value):
    n, c, h, wd = x.shape
    xp = np.full((n, c, h + 2 * padding, wd + 2 * padding), pad_value)
    xp[:, :, padding : padding + h, padding : padding + wd] = x
    oh, ow = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for y, xx in itertools.product(range(oh), range(ow)):
        out[:, :, y, xx] = reduce(
            xp[:, :, y * stride : y * stride + k, xx * stride : xx * stride + k], axis=(2, 3)
        )
    return out


@pytest.mark.parametrize("k,s,p,d", GRID, ids=lambda v: str(v))
def test_conv2d_gradcheck_over_geometry_grid(k, s, p, d):
    rng = np.random.default_rng(k * 1000 + s * 100 + p * 10 + d)
    x = leaf(rng.standard_normal((1, 2, H, W)))
    w = leaf(rng.standard_normal((3, 2, k, k)))
    b = leaf(rng.standard_normal(3))
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p, dilation=d)  # noqa: E731
    assert cr.gradcheck(fn, [x, w, b], eps=1e-6, atol=1e-7, rtol=1e-6)
    want = naive_conv2d(x.numpy(), w.numpy(), b.numpy(), s, p, d, 1)
    np.testing.assert_allclose(fn(x, w, b).numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups,kh,kw,stride", [(2, 3, 2, 2), (4, 1, 3, 1), (1, 2, 5, 3)])
def test_grouped_and_rectangular_conv2d(groups, kh, kw, stride):
    rng = np.random.default_rng(groups)
    x = leaf(rng.standard_normal((2, 4, H, W)))
    w = leaf(rng.standard_normal((4, 4 // groups, kh, kw)))
    fn = lambda x, w: F.conv2d(x, w, stride=stride, padding=1, groups=groups)  # noqa: E731
    assert cr.gradcheck(fn, [x, w], eps=1e-6, atol=1e-7, rtol=1e-6)
    want = naive_conv2d(x.numpy(), w.numpy(), None, stride, 1, 1, groups)
    np.testing.assert_allclose(fn(x, w).numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k,s,p,d", [(3, 2, 1, 1), (2, 1, 0, 2), (5, 3, 2, 1)])
def test_conv1d_gradcheck_and_values(k, s, p, d):
    rng = np.random.default_rng(k)
    x = leaf(rng.standard_normal((2, 3, 11)))
    w = leaf(rng.standard_normal((2, 3, k)))
    b = leaf(rng.standard_normal(2))
    fn = lambda x, w, b: F.conv1d(x, w, b, stride=s, padding=p, dilation=d)  # noqa: E731
    assert cr.gradcheck(fn, [x, w, b], eps=1e-6, atol=1e-7, rtol=1e-6)
    # Conv1d is Conv2d on a height-1 map: the naive 2-D loop on (L padded by hand) checks it.
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (p, p)))[:, :, None]
    want = naive_conv2d(xp, w.numpy()[:, :, None], b.numpy(), s, 0, d, 1)[:, :, 0]
    np.testing.assert_allclose(fn(x, w, b).numpy(), want, rtol=1e-12, atol=1e-12)


POOL_GRID = [(k, s, p) for k in (1, 2, 3) for s in (1, 2, 3) for p in (0, 1) if 2 * p <= k]


@pytest.mark.parametrize("k,s,p", POOL_GRID, ids=lambda v: str(v))
def test_pooling_gradcheck_and_values(k, s, p):
    rng = np.random.default_rng(k * 100 + s * 10 + p)
    # A permutation of well-separated values: no ties, so max-pool is differentiable here.
    x = leaf(rng.permutation(2 * 2 * H * W).reshape(2, 2, H, W) * 0.1)
    mx = lambda x: F.max_pool2d(x, k, s, p)  # noqa: E731
    av = lambda x: F.avg_pool2d(x, k, s, p)  # noqa: E731
    assert cr.gradcheck(mx, [x], eps=1e-6, atol=1e-7, rtol=1e-6)
    assert cr.gradcheck(av, [x], eps=1e-6, atol=1e-7, rtol=1e-6)
    np.testing.assert_allclose(mx(x).numpy(), naive_pool(x.numpy(), k, s, p, np.max, -np.inf))
    np.testing.assert_allclose(
        av(x).numpy(), naive_pool(x.numpy(), k, s, p, np.mean, 0.0), rtol=1e-12
    )


def test_adaptive_avg_pool_gradcheck():
    x = leaf(np.random.default_rng(0).standard_normal((2, 3, H, W)))
    assert cr.gradcheck(lambda x: F.adaptive_avg_pool2d(x, 1), [x], atol=1e-7, rtol=1e-6)
    assert F.adaptive_avg_pool2d(x, 1).shape == (2, 3, 1, 1)


def test_max_pool_ties_route_gradient_to_first_maximum():
    x = cr.tensor(np.ones((1, 1, 2, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])
