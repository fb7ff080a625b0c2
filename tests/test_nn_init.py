"""nn.init: distributions checked statistically (fixed seeds, tolerances from the sample size),
structured inits checked exactly, and every init's in-place contract (same array, version
counted, the tensor returned)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

N = 200_000  # samples: the mean of N draws of std s is within 5·s/√N with overwhelming odds


def within(value: float, expected: float, std: float, n: int = N) -> bool:
    return abs(value - expected) < 5 * std / math.sqrt(n)


def truncated_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Mean and std of N(mean, std²) truncated to [a, b] (textbook formulas)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - m * m
    return mean + std * m, std * math.sqrt(var)


@pytest.mark.parametrize(("mean", "std", "a", "b"), [(0, 1, -2, 2), (1, 2, 0, 6), (0, 1, 1, 3)])
def test_trunc_normal_has_the_truncated_distributions_moments_and_bounds(mean, std, a, b) -> None:
    x = nn.init.trunc_normal_(np.empty(N), mean, std, a, b, generator=0)
    want_mean, want_std = truncated_moments(mean, std, a, b)
    assert a <= x.min() and x.max() <= b
    assert within(x.mean(), want_mean, want_std)
    assert abs(x.std() - want_std) < 5 * want_std / math.sqrt(N) * 1.5


def test_trunc_normal_refuses_an_empty_interval() -> None:
    with pytest.raises(ValueError, match="a must be less than b"):
        nn.init.trunc_normal_(np.empty(3), a=1.0, b=1.0)


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (4, 2, 3), (5, 5)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_the_gain(shape) -> None:
    w = nn.init.orthogonal_(np.empty(shape), gain=2.0, generator=1)
    flat = w.reshape(shape[0], -1) / 2.0
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_is_uniformly_distributed_thanks_to_the_sign_correction() -> None:
    # Without the correction, Q's diagonal is biased towards negative values (NumPy's QR).
    diagonals = [np.diag(nn.init.orthogonal_(np.empty((3, 3)), generator=s)) for s in range(400)]
    mean = np.mean(diagonals)
    assert abs(mean) < 5 * math.sqrt(1 / 3) / math.sqrt(1200)


def test_orthogonal_refuses_vectors() -> None:
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(np.empty(4))


def test_sparse_zeroes_the_same_count_in_every_column_and_draws_the_rest_normally() -> None:
    w = nn.init.sparse_(np.empty((10, 2000)), sparsity=0.25, std=0.5, generator=2)
    assert ((w == 0).sum(axis=0) == 3).all()  # ceil(0.25 · 10)
    nonzero = w[w != 0]
    assert within(nonzero.mean(), 0.0, 0.5, nonzero.size)
    assert abs(nonzero.std() - 0.5) < 0.01
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse_(np.empty((2, 2, 2)), 0.1)


def test_eye_fills_rectangles_with_the_identity() -> None:
    np.testing.assert_array_equal(nn.init.eye_(np.empty((2, 3))), np.eye(2, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.eye_(np.empty(3))


def test_dirac_makes_a_convolution_copy_its_input_channels() -> None:
    w = nn.init.dirac_(cr.tensor(np.empty((3, 3, 3, 5))))
    x = cr.tensor(np.random.default_rng(0).standard_normal((1, 3, 6, 7)))
    np.testing.assert_allclose(
        cr.functional.conv2d(x, w, padding=(1, 2)).numpy(), x.numpy(), atol=1e-12
    )
    grouped = nn.init.dirac_(np.empty((4, 2, 3)), groups=2)
    assert grouped.sum() == 4 and grouped[2, 0, 1] == 1 and grouped[3, 1, 1] == 1
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        nn.init.dirac_(np.empty((5, 2, 3)), groups=2)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac_(np.empty((2, 2)))


INPLACE = [
    lambda t: nn.init.uniform_(t),
    lambda t: nn.init.normal_(t),
    lambda t: nn.init.constant_(t, 2.0),
    lambda t: nn.init.trunc_normal_(t),
    lambda t: nn.init.orthogonal_(t),
    lambda t: nn.init.sparse_(t, 0.5),
    lambda t: nn.init.eye_(t),
    lambda t: nn.init.xavier_normal_(t),
    lambda t: nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
]


@pytest.mark.parametrize("fill", INPLACE)
def test_every_init_writes_in_place_counts_the_write_and_returns_the_tensor(fill) -> None:
    p = nn.Parameter(np.zeros((4, 6), np.float32))
    array, version = p.numpy(), p._version
    assert fill(p) is p and p.numpy() is array and array.dtype == np.float32
    assert p._version == version + 1 and p.grad_fn is None and p.requires_grad


def test_an_init_invalidates_a_graph_that_saved_the_old_values() -> None:
    w = nn.Parameter(np.ones((2, 2)))
    y = (w * w).sum()
    nn.init.zeros_(w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_calculate_gain_covers_pytorchs_table_and_errors() -> None:
    for name in ("linear", "conv1d", "conv3d", "conv_transpose2d", "sigmoid"):
        assert nn.init.calculate_gain(name) == 1
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / 1.0001))
    assert nn.init.calculate_gain("leaky_relu", 1) == 1.0
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")
