"""Pooling against PyTorch in float64: every option (ceil_mode, count_include_pad,
divisor_override, dilation, return_indices), the 1-D forms, adaptive pooling with uneven
windows and max unpooling; values, indices and gradients to 1e-10. Torch-free worked examples
and error messages beside them."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RTOL, ATOL = 1e-10, 1e-12


def distinct(*shape: int, seed: int = 0) -> np.ndarray:
    """Well-separated values, so that no window has a tie within rounding."""
    return np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1 - 3.0


def compare(ours_fn, torch_fn, x):
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = ours_fn(xo), torch_fn(xt)
    if isinstance(want, tuple):
        (out, idx), (want, want_idx) = out, want
        assert idx.dtype == np.int64
        np.testing.assert_array_equal(idx.numpy(), want_idx.numpy())
    assert out.shape == tuple(want.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=RTOL, atol=ATOL)
    up = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(up)
    want.backward(torch.from_numpy(up))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL)


MAX_2D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 0), "dilation": (1, 2)},
    {"kernel_size": 2, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 3, "padding": 1, "dilation": 2, "ceil_mode": True},
]


@pytest.mark.parametrize("kw", MAX_2D, ids=str)
def test_max_pool2d_values_indices_and_gradients_match_torch(kw):
    x = distinct(2, 2, 7, 6)
    compare(
        lambda x: F.max_pool2d(x, **kw, return_indices=True),
        lambda x: TF.max_pool2d(x, **kw, return_indices=True),
        x,
    )
    layer, twin = nn.MaxPool2d(**kw, return_indices=True), torch.nn.MaxPool2d(**kw)
    assert layer.extra_repr() == twin.extra_repr()


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
    ],
    ids=str,
)
def test_max_pool1d_and_its_layer_match_torch(kw):
    x = distinct(2, 3, 9)
    compare(
        lambda x: nn.MaxPool1d(**kw, return_indices=True)(x),
        lambda x: torch.nn.MaxPool1d(**kw, return_indices=True)(x),
        x,
    )
    assert nn.MaxPool1d(**kw).extra_repr() == torch.nn.MaxPool1d(**kw).extra_repr()


def test_max_pool2d_with_indices_and_ties_after_relu_match_torch():
    x = np.maximum(np.random.default_rng(2).standard_normal((2, 2, 6, 6)), 0.0)
    compare(
        lambda x: F.max_pool2d_with_indices(x, 3, 2, 1),
        lambda x: TF.max_pool2d_with_indices(x, 3, 2, 1),
        x,
    )


AVG_2D = [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (2, 3), "stride": (3, 2), "ceil_mode": True, "divisor_override": 5},
    {"kernel_size": 2, "padding": 1, "divisor_override": -3},
]


@pytest.mark.parametrize("kw", AVG_2D, ids=str)
def test_avg_pool2d_options_match_torch(kw):
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 6))
    compare(lambda x: nn.AvgPool2d(**kw)(x), lambda x: torch.nn.AvgPool2d(**kw)(x), x)
    assert nn.AvgPool2d(**kw).extra_repr() == torch.nn.AvgPool2d(**kw).extra_repr()


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 3},
        {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True},
        {
            "kernel_size": 4,
            "stride": 3,
            "padding": 2,
            "ceil_mode": True,
            "count_include_pad": False,
        },
    ],
    ids=str,
)
def test_avg_pool1d_options_match_torch(kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 10))
    compare(lambda x: nn.AvgPool1d(**kw)(x), lambda x: torch.nn.AvgPool1d(**kw)(x), x)
    compare(lambda x: F.avg_pool1d(x, **kw), lambda x: TF.avg_pool1d(x, **kw), x)
    assert nn.AvgPool1d(**kw).extra_repr() == torch.nn.AvgPool1d(**kw).extra_repr()


@pytest.mark.parametrize("size", [1, 3, (4, 2), (None, 4), (7, 6), (5, 5)], ids=str)
def test_adaptive_max_pool2d_matches_torch(size):
    compare(
        lambda x: nn.AdaptiveMaxPool2d(size, True)(x),
        lambda x: torch.nn.AdaptiveMaxPool2d(size, True)(x),
        distinct(2, 2, 7, 6),
    )
    assert nn.AdaptiveMaxPool2d(size).extra_repr() == torch.nn.AdaptiveMaxPool2d(size).extra_repr()


@pytest.mark.parametrize("size", [1, 3, 4, 9])
def test_adaptive_1d_pools_match_torch(size):
    x = distinct(2, 3, 9)
    compare(
        lambda x: F.adaptive_max_pool1d(x, size, True),
        lambda x: TF.adaptive_max_pool1d(x, size, True),
        x,
    )
    compare(
        lambda x: nn.AdaptiveAvgPool1d(size)(x), lambda x: torch.nn.AdaptiveAvgPool1d(size)(x), x
    )


@pytest.mark.parametrize(
    "kw,output_size",
    [
        ({"kernel_size": 2}, None),
        ({"kernel_size": 3, "stride": 2, "padding": 1}, (7, 6)),
        ({"kernel_size": 2}, (2, 2, 7, 7)),
    ],
    ids=str,
)
def test_max_unpool2d_matches_torch(kw, output_size):
    x = distinct(2, 2, 7, 6)
    _, idx = F.max_pool2d(cr.tensor(x), **kw, return_indices=True)
    pooled = np.random.default_rng(4).standard_normal(idx.shape)
    compare(
        lambda p: nn.MaxUnpool2d(**kw)(p, idx, output_size),
        lambda p: torch.nn.MaxUnpool2d(**kw)(p, torch.from_numpy(idx.numpy()), output_size),
        pooled,
    )
    assert nn.MaxUnpool2d(**kw).extra_repr() == torch.nn.MaxUnpool2d(**kw).extra_repr()


def test_max_unpool1d_matches_torch():
    _, idx = F.max_pool1d(cr.tensor(distinct(2, 2, 9)), 3, 2, 1, return_indices=True)
    pooled = np.random.default_rng(4).standard_normal(idx.shape)
    compare(
        lambda p: F.max_unpool1d(p, idx, 3, 2, 1),
        lambda p: TF.max_unpool1d(p, torch.from_numpy(idx.numpy()), 3, 2, 1),
        pooled,
    )


def test_integer_max_pooling_matches_torch():
    x = np.random.default_rng(0).integers(-50, 50, (2, 2, 7, 6)).astype(np.int32)
    ours, idx = F.max_pool2d(cr.tensor(x), 3, 2, 1, ceil_mode=True, return_indices=True)
    want, want_idx = TF.max_pool2d(
        torch.from_numpy(x), 3, 2, 1, ceil_mode=True, return_indices=True
    )
    assert ours.dtype == np.int32 and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), want.numpy())
    np.testing.assert_array_equal(idx.numpy(), want_idx.numpy())


# ----- torch-free: worked examples and errors ---------------------------------------------------


def test_ceil_mode_adds_a_last_window_only_if_it_starts_inside():
    x = cr.tensor(np.arange(5.0).reshape(1, 1, 5))
    assert F.max_pool1d(x, 2).tolist() == [[[1.0, 3.0]]]
    assert F.max_pool1d(x, 2, ceil_mode=True).tolist() == [[[1.0, 3.0, 4.0]]]
    # Length 4, kernel 2, stride 2, padding 1: windows start at −1, 1, 3; a fourth would start
    # at 5, past the input and its left padding, so ceil_mode does not add it.
    x4 = cr.tensor(np.arange(4.0).reshape(1, 1, 4))
    assert F.max_pool1d(x4, 2, 2, 1, ceil_mode=True).tolist() == [[[0.0, 2.0, 3.0]]]


def test_average_divisors_worked_example():
    x = cr.tensor(np.array([[[2.0, 4.0, 6.0]]]))
    # Windows over [0, 2, 4, 6, 0] with kernel 2, stride 2, padding 1: [0, 2], [4, 6].
    assert F.avg_pool1d(x, 2, 2, 1).tolist() == [[[1.0, 5.0]]]
    assert F.avg_pool1d(x, 2, 2, 1, count_include_pad=False).tolist() == [[[2.0, 5.0]]]
    x2 = cr.tensor(np.ones((1, 1, 2, 2)))
    assert F.avg_pool2d(x2, 2, divisor_override=8).tolist() == [[[[0.5]]]]


def test_adaptive_windows_overlap_as_pytorch():
    x = cr.tensor(np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]]))
    # Windows for 5 → 3: [0, 2), [1, 4), [3, 5).
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).numpy(), [[[1.5, 3.0, 4.5]]])
    values, idx = F.adaptive_max_pool1d(x, 3, return_indices=True)
    assert values.tolist() == [[[2.0, 4.0, 5.0]]] and idx.tolist() == [[[1, 3, 4]]]


def test_unpool_puts_values_back_where_pooling_found_them():
    x = cr.tensor(np.array([[[[1.0, 5.0], [3.0, 2.0]]]]))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.tolist() == [[[[1]]]]
    assert F.max_unpool2d(y, idx, 2).tolist() == [[[[0.0, 5.0], [0.0, 0.0]]]]


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda x: F.max_pool2d(x, 2, padding=2), "pad should be at most half of effective"),
        (lambda x: F.avg_pool1d(x[:, :, 0], 3, padding=2), "pad should be at most half"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
        (lambda x: F.max_pool2d(x, 7), "output size is too small"),
        (lambda x: F.max_pool1d(x, 2), r"expected input of shape \(N, C, L\)"),
        (lambda x: F.adaptive_max_pool2d(x, 0), "output_size must be a positive"),
        (
            lambda x: F.max_unpool2d(
                x, cr.zeros(1, 1, 6, 6, dtype=cr.int64), 2, output_size=(14, 9)
            ),
            r'invalid output_size "\(14, 9\)" \(dim 0 must be between 10 and 14\)',
        ),
        (
            lambda x: F.max_unpool2d(x, cr.zeros(1, 1, 2, 2, dtype=cr.int64), 2),
            "Expected shape of indices to be same",
        ),
        (
            lambda x: F.max_unpool2d(x, cr.full((1, 1, 6, 6), 200, dtype=cr.int64), 2),
            "Found an invalid max index: 200",
        ),
    ],
)
def test_bad_pooling_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call(cr.zeros(1, 1, 6, 6))
