"""Second derivatives of pooling and normalization against PyTorch (float64).

For each op ``f`` on random shapes: ``g = grad(f(x, ...), inputs, v, create_graph=True)``, then
``h = grad(Σ g·w, inputs)`` for random ``v`` and ``w``, in both libraries; ``g`` and ``h`` must
agree to 1e-10. Pooling is piecewise linear, so its cases pool a square (``pool(x)²``, or
``pool(x²)``): the second derivative then runs through the pooling adjoints' own backward (a
gather at the window maxima, window sums). Max pooling gets inputs without ties.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from double_backward_support import compare_with_torch

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def _compare(f, arrays, seed):
    compare_with_torch(f, arrays, seed, rtol=1e-10, atol=1e-10, allow_unused=True)


def _fn(m):
    return F if m is cr else tF


def distinct(rng, shape):
    """Values without ties, well apart (max pooling's gradient is unique)."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - 20.0) / 7.0


def normal(rng, shape):
    return rng.standard_normal(shape)


# name -> (input shapes, maker of the first input, f(lib, *inputs))
POOLING = {
    "max_pool1d": ((2, 3, 9), distinct, lambda m, x: _fn(m).max_pool1d(x, 3, 2, 1) ** 2),
    "max_pool1d-ceil-dilated": (
        (1, 2, 10),
        distinct,
        lambda m, x: _fn(m).max_pool1d(x, 2, 3, 1, dilation=2, ceil_mode=True) ** 2,
    ),
    "max_pool2d": ((2, 2, 7, 6), distinct, lambda m, x: _fn(m).max_pool2d(x, 3, 2, 1) ** 2),
    "max_pool2d-disjoint": ((1, 3, 6, 8), distinct, lambda m, x: _fn(m).max_pool2d(x, 2) ** 2),
    "max_pool2d-ceil-dilated": (
        (1, 2, 8, 7),
        distinct,
        lambda m, x: _fn(m).max_pool2d(x, (2, 3), (2, 1), 1, dilation=2, ceil_mode=True) ** 2,
    ),
    "max_pool2d-of-square": ((2, 2, 6, 6), distinct, lambda m, x: _fn(m).max_pool2d(x * x, 2, 1)),
    "avg_pool1d": ((2, 3, 9), normal, lambda m, x: _fn(m).avg_pool1d(x, 3, 2, 1) ** 2),
    "avg_pool1d-ceil-exclude-pad": (
        (2, 2, 8),
        normal,
        lambda m, x: _fn(m).avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2,
    ),
    "avg_pool2d": ((2, 2, 6, 7), normal, lambda m, x: _fn(m).avg_pool2d(x, 2) ** 2),
    "avg_pool2d-padded-include-pad": (
        (2, 2, 7, 6),
        normal,
        lambda m, x: _fn(m).avg_pool2d(x, 3, 2, 1) ** 2,
    ),
    "avg_pool2d-ceil-exclude-pad": (
        (1, 3, 7, 8),
        normal,
        lambda m, x: (
            _fn(m).avg_pool2d(x, (3, 2), 2, 1, ceil_mode=True, count_include_pad=False) ** 2
        ),
    ),
    "avg_pool2d-ceil-include-pad": (
        (1, 2, 6, 7),
        normal,
        lambda m, x: _fn(m).avg_pool2d(x, 3, 2, 1, ceil_mode=True) ** 2,
    ),
    "avg_pool2d-divisor-override": (
        (2, 2, 6, 6),
        normal,
        lambda m, x: _fn(m).avg_pool2d(x, 3, 2, 1, divisor_override=4) ** 2,
    ),
    "avg_pool2d-of-square": ((2, 2, 6, 6), normal, lambda m, x: _fn(m).avg_pool2d(x * x, 3, 1)),
    "adaptive_avg_pool1d": ((2, 3, 10), normal, lambda m, x: _fn(m).adaptive_avg_pool1d(x, 4) ** 2),
    "adaptive_avg_pool2d": (
        (2, 2, 7, 5),
        normal,
        lambda m, x: _fn(m).adaptive_avg_pool2d(x, (3, 2)) ** 2,
    ),
    "adaptive_avg_pool2d-global": (
        (2, 3, 4, 5),
        normal,
        lambda m, x: _fn(m).adaptive_avg_pool2d(x, 1) ** 2,
    ),
    "adaptive_max_pool2d": (
        (2, 2, 7, 5),
        distinct,
        lambda m, x: _fn(m).adaptive_max_pool2d(x, (3, 2)) ** 2,
    ),
}


@pytest.mark.parametrize("name", sorted(POOLING))
@pytest.mark.parametrize("seed", range(2))
def test_pooling_second_derivative_matches_torch(name, seed):
    shape, make, f = POOLING[name]
    rng = np.random.default_rng(seed)
    _compare(f, [make(rng, shape)], seed)


def _layer_norm(shape, affine):
    def f(m, x, *wb):
        w, b = (wb + (None, None))[:2] if affine != "bias" else (None, wb[0])
        if m is torch and w is None and b is not None:
            # torch's layer_norm double backward fails with a bias but no weight ("Expected a
            # proper Tensor but got None"); the same function, with the bias added outside.
            return tF.layer_norm(x, shape, eps=1e-3) + b
        return _fn(m).layer_norm(x, shape, w, b, eps=1e-3)

    return f


# name -> (input shapes, f(lib, *inputs))
NORMALIZATION = {
    "layer_norm-one-axis": ([(3, 4, 5)], _layer_norm((5,), "")),
    "layer_norm-one-axis-weight": ([(3, 4, 5), (5,)], _layer_norm((5,), "weight")),
    "layer_norm-one-axis-bias": ([(3, 4, 5), (5,)], _layer_norm((5,), "bias")),
    "layer_norm-one-axis-affine": ([(3, 4, 5), (5,), (5,)], _layer_norm((5,), "both")),
    "layer_norm-two-axes": ([(2, 3, 4)], _layer_norm((3, 4), "")),
    "layer_norm-two-axes-affine": ([(2, 3, 4), (3, 4), (3, 4)], _layer_norm((3, 4), "both")),
    "group_norm": ([(2, 6, 3, 2)], lambda m, x: _fn(m).group_norm(x, 3)),
    "group_norm-affine": (
        [(2, 6, 5), (6,), (6,)],
        lambda m, x, w, b: _fn(m).group_norm(x, 2, w, b),
    ),
    "instance_norm": ([(2, 3, 5)], lambda m, x: _fn(m).instance_norm(x)),
    "instance_norm-affine": (
        [(2, 3, 4, 3), (3,), (3,)],
        lambda m, x, w, b: _fn(m).instance_norm(x, weight=w, bias=b),
    ),
    "batch_norm-training": (
        [(4, 3, 5), (3,), (3,)],
        lambda m, x, w, b: _fn(m).batch_norm(x, None, None, w, b, training=True),
    ),
    "batch_norm-training-2d-plain": (
        [(3, 2, 3, 4)],
        lambda m, x: _fn(m).batch_norm(x, None, None, training=True, eps=1e-3),
    ),
}


@pytest.mark.parametrize("name", sorted(NORMALIZATION))
@pytest.mark.parametrize("seed", range(2))
def test_normalization_second_derivative_matches_torch(name, seed):
    shapes, f = NORMALIZATION[name]
    rng = np.random.default_rng(seed)
    _compare(f, [rng.standard_normal(s) for s in shapes], seed)
