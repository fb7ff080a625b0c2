"""Max pooling over side-by-side windows (kernel == stride, no padding, no dilation: the usual
``MaxPool2d(k)``) takes its own path; these pin that it gives the general loop's bits and
PyTorch's values, indices and gradients: ties to the first maximum in row-major window order,
NaN windows, odd sizes, the ``ceil_mode`` / padding / dilation geometries that stay on the
general loop, ``return_indices``, integer inputs, a size-0 batch and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.ops import pooling

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def tied(*shape: int, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """Few distinct values (and zeros, as after a ReLU): most windows hold a tie."""
    rng = np.random.default_rng(seed)
    return np.maximum(rng.integers(-2, 3, shape), 0).astype(dtype)


def ours(x: np.ndarray, up: np.ndarray, **kw):
    t = cr.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(t, **kw, return_indices=True)
    out.backward(cr.tensor(up))
    return out.numpy(), idx.numpy(), t.grad.numpy()


def theirs(x: np.ndarray, up: np.ndarray, **kw):
    t = torch.tensor(x, requires_grad=True)
    out, idx = TF.max_pool2d(t, **kw, return_indices=True)
    out.backward(torch.from_numpy(up))
    return out.detach().numpy(), idx.numpy(), t.grad.numpy()


def upstream(x: np.ndarray, **kw) -> np.ndarray:
    shape = TF.max_pool2d(torch.from_numpy(x), **kw).shape
    return np.random.default_rng(1).standard_normal(tuple(shape)).astype(x.dtype)


GEOMETRIES = [
    {"kernel_size": 2},  # the LeNet case: the tiled path
    {"kernel_size": 3},  # tiled, 3×3
    {"kernel_size": (2, 3)},  # tiled, rectangular
    {"kernel_size": 2, "ceil_mode": True},  # a partial last window: the general loop
    {"kernel_size": 2, "padding": 1},  # padded: the general loop
    {"kernel_size": 2, "dilation": 2},  # dilated: the general loop
    {"kernel_size": 3, "stride": 2},  # overlapping: the general loop
]


@pytest.mark.parametrize("kw", GEOMETRIES, ids=str)
@pytest.mark.parametrize("size", [(8, 8), (11, 11), (7, 10)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_tied_windows_route_the_gradient_to_the_first_maximum_as_torch(kw, size, dtype):
    x = tied(3, 2, *size, dtype=dtype)
    up = upstream(x, **kw)
    (out, idx, grad), (want, want_idx, want_grad) = ours(x, up, **kw), theirs(x, up, **kw)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(idx, want_idx)
    # Overlapping windows add two upstream values into one cell, in an order torch may not share.
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=0)


@pytest.mark.parametrize("kw", GEOMETRIES[:3], ids=str)
def test_tiled_path_gives_the_general_loops_bits(kw, monkeypatch):
    # Signed zeros and ties: the value returned for a window of ±0 depends on how the maxima
    # are grouped, so this compares bits, not values.
    rng = np.random.default_rng(3)
    x = rng.choice(np.array([-0.0, 0.0, 1.0, -1.0], dtype=np.float32), size=(4, 3, 9, 12))
    up = np.random.default_rng(4).standard_normal(upstream(x, **kw).shape).astype(np.float32)
    fast = ours(x, up, **kw)
    monkeypatch.setattr(pooling, "tiles", lambda *args: False)
    plain = ours(x, up, **kw)
    for a, b in zip(fast, plain):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def test_windows_with_nan_propagate_it_and_route_the_gradient_as_torch():
    x = tied(2, 2, 6, 6)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = x[1, 1, 4, 5] = np.nan  # one window with two NaNs
    up = upstream(x, kernel_size=2)
    (out, idx, grad), (want, want_idx, want_grad) = (
        ours(x, up, kernel_size=2),
        theirs(x, up, kernel_size=2),
    )
    np.testing.assert_array_equal(out, want)  # NaN == NaN for assert_array_equal
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(grad, want_grad)


def test_integer_input_stays_integer_on_the_tiled_path():
    x = np.arange(2 * 3 * 6 * 6, dtype=np.int32).reshape(2, 3, 6, 6) % 7
    out = F.max_pool2d(cr.tensor(x), 2)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out.numpy(), TF.max_pool2d(torch.from_numpy(x), 2).numpy())


def test_a_size_zero_batch_pools_to_an_empty_output_and_gradient():
    x = cr.zeros(0, 3, 8, 8, requires_grad=True)
    out = F.max_pool2d(x, 2)
    assert out.shape == (0, 3, 4, 4)
    out.sum().backward()
    assert x.grad.shape == (0, 3, 8, 8)


def test_second_derivatives_through_the_tiled_path_match_torch():
    x = tied(2, 2, 6, 6)
    w = np.random.default_rng(5).standard_normal((2, 2, 3, 3))
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (go,) = cr.autograd.grad((F.max_pool2d(xo, 2) ** 2 * cr.tensor(w)).sum(), xo, create_graph=True)
    (gt,) = torch.autograd.grad(
        (TF.max_pool2d(xt, 2) ** 2 * torch.from_numpy(w)).sum(), xt, create_graph=True
    )
    np.testing.assert_allclose(go.numpy(), gt.detach().numpy(), rtol=1e-12, atol=0)
    go.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0)
