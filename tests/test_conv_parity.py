"""Conv, pooling and BatchNorm2d against PyTorch in float64: values and every gradient to 1e-10.

Layers are compared with identical parameters (copied from chainrule's into torch's), so these
also pin down PyTorch's weight layouts; the initialization test checks the bounds of the default
U(±1/√fan_in) draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RTOL, ATOL = 1e-10, 1e-12


def compare(cr_fn, torch_fn, *arrays, seed=0):
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = cr_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=RTOL, atol=ATOL)
    up = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(up)
    want.backward(torch.from_numpy(up))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{i}"
        )


CONV2D = [
    # (x shape, weight shape, kwargs)
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {"stride": 2, "padding": 1}),
    ((1, 4, 10, 7), (6, 2, 3, 2), {"stride": (2, 3), "padding": (2, 0), "groups": 2}),
    ((2, 2, 11, 11), (3, 2, 5, 5), {"stride": 3, "padding": 2, "dilation": 2}),
    ((3, 4, 6, 6), (4, 1, 3, 3), {"padding": 1, "groups": 4}),  # depthwise
    ((2, 3, 5, 5), (2, 3, 1, 1), {}),
]


@pytest.mark.parametrize("xs,ws,kw", CONV2D, ids=str)
def test_conv2d_matches_torch(xs, ws, kw):
    rng = np.random.default_rng(len(xs) + ws[0])
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    compare(
        lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw), x, w, b
    )


@pytest.mark.parametrize(
    "kw", [{}, {"stride": 2, "padding": 1}, {"dilation": 3, "padding": 2}, {"groups": 2}], ids=str
)
def test_conv1d_matches_torch(kw):
    rng = np.random.default_rng(1)
    g = kw.get("groups", 1)
    x, w, b = (
        rng.standard_normal((2, 4, 13)),
        rng.standard_normal((6, 4 // g, 3)),
        rng.standard_normal(6),
    )
    compare(
        lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw), x, w, b
    )


@pytest.mark.parametrize(
    "k,s,p,d", [(2, None, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), ((2, 3), (1, 2), (1, 1), 1)]
)
def test_max_pool2d_matches_torch(k, s, p, d):
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 8))
    compare(lambda x: F.max_pool2d(x, k, s, p, d), lambda x: TF.max_pool2d(x, k, s, p, d), x)


def test_max_pool2d_ties_match_torch():
    x = np.round(np.random.default_rng(3).standard_normal((2, 2, 6, 6)))  # many ties
    compare(lambda x: F.max_pool2d(x, 3, 1, 1), lambda x: TF.max_pool2d(x, 3, 1, 1), x)


@pytest.mark.parametrize("k,s,p", [(2, None, 0), (3, 2, 1), ((3, 2), (2, 1), (1, 0))])
def test_avg_pool2d_matches_torch(k, s, p):
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8))
    compare(lambda x: F.avg_pool2d(x, k, s, p), lambda x: TF.avg_pool2d(x, k, s, p), x)


@pytest.mark.parametrize("size", [1, (3, 2), (9, 8), 4, (5, None), (9, 3), (2, 8)])
def test_adaptive_avg_pool2d_matches_torch(size):
    x = np.random.default_rng(5).standard_normal((2, 3, 9, 8))
    compare(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size), x)


def torch_twin(ours: nn.Module, theirs):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            dict(theirs.named_parameters())[name].copy_(torch.from_numpy(p.numpy()))
    return theirs


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm2d_matches_torch(train):
    rng = np.random.default_rng(6)
    ours = nn.BatchNorm2d(3, momentum=0.2, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2, dtype=torch.float64)
    ours.weight.numpy()[...] = rng.standard_normal(3)
    ours.bias.numpy()[...] = rng.standard_normal(3)
    torch_twin(ours, theirs)
    for _ in range(3):  # running statistics after a few training batches
        batch = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
        ours(cr.tensor(batch))
        theirs(torch.from_numpy(batch))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=RTOL)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=RTOL)
    ours.train(train)
    theirs.train(train)
    x = rng.standard_normal((4, 3, 5, 6))
    compare(ours, theirs, x)
    for name, p in ours.named_parameters():
        want = dict(theirs.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("cls", ["Conv2d", "Conv1d"])
def test_conv_layers_match_torch_layers(cls):
    kwargs = {"stride": 2, "padding": 1, "groups": 2}
    ours = getattr(nn, cls)(4, 6, 3, dtype=np.float64, **kwargs)
    theirs = torch_twin(ours, getattr(torch.nn, cls)(4, 6, 3, dtype=torch.float64, **kwargs))
    shape = (2, 4, 9, 8) if cls == "Conv2d" else (2, 4, 9)
    compare(ours, theirs, np.random.default_rng(7).standard_normal(shape))
    for name, p in ours.named_parameters():
        want = dict(theirs.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=RTOL, atol=ATOL)


def test_conv2d_default_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Conv2d(8, 64, (3, 5), groups=2, generator=np.random.default_rng(0))
    bound = 1 / math.sqrt(8 // 2 * 3 * 5)
    assert layer.weight.shape == (64, 4, 3, 5)
    for p in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(p).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.95 * bound  # fills the range, not a narrower one
    assert abs(layer.weight.numpy().std() - bound / math.sqrt(3)) < 0.05 * bound


def test_max_pool2d_propagates_nan_like_torch():
    x = np.random.default_rng(8).standard_normal((2, 2, 6, 7))
    x[0, 0, 1, 1] = x[1, 1, 2, 3] = x[0, 1, 0, 0] = x[0, 1, 0, 1] = np.nan
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = F.max_pool2d(ours, 3, 2, 1), TF.max_pool2d(theirs, 3, 2, 1)
    np.testing.assert_array_equal(out.numpy(), want.detach().numpy())
    out.sum().backward()
    want.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
