"""Second derivatives of pointwise math, activations, norms and losses against PyTorch (float64).

For each op ``f``: ``g = grad(f(x), x, v, create_graph=True)`` and ``h = grad((g * w).sum(), x)``
(and with respect to a second differentiable operand where there is one), in both libraries, on
random inputs. Binary ops get broadcasting shapes; losses run with each reduction, class
weights, ``ignore_index`` and label smoothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from double_backward_support import away, compare_with_torch, normal, positive

torch = pytest.importorskip("torch")
tF = torch.nn.functional

SHAPES = [(3,), (2, 3), (2, 1, 3)]


def _compare(f, arrays, seed):
    compare_with_torch(f, arrays, seed, rtol=1e-7, atol=1e-9)


def unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def above_one(rng, shape):
    return 1.2 + rng.random(shape) * 2


# name -> (input maker, f(lib, x))
UNARY = {
    "exp": (normal, lambda m, x: m.exp(x)),
    "log": (positive, lambda m, x: m.log(x)),
    "sqrt": (positive, lambda m, x: m.sqrt(x)),
    "abs": (away, lambda m, x: m.abs(x) ** 2),
    "rsqrt": (positive, lambda m, x: m.rsqrt(x)),
    "reciprocal": (away, lambda m, x: m.reciprocal(x)),
    "square": (normal, lambda m, x: m.square(x)),
    "log1p": (positive, lambda m, x: m.log1p(x)),
    "expm1": (normal, lambda m, x: m.expm1(x)),
    "log2": (positive, lambda m, x: m.log2(x)),
    "log10": (positive, lambda m, x: m.log10(x)),
    "exp2": (normal, lambda m, x: m.exp2(x)),
    "pow-scalar": (positive, lambda m, x: x**-1.5),
    "pow-int": (normal, lambda m, x: x**3),
    "erf": (normal, lambda m, x: m.erf(x)),
    "erfc": (normal, lambda m, x: m.erfc(x)),
    "erfinv": (unit, lambda m, x: m.erfinv(x)),
    "sin": (normal, lambda m, x: m.sin(x)),
    "cos": (normal, lambda m, x: m.cos(x)),
    "tan": (unit, lambda m, x: m.tan(x)),
    "asin": (unit, lambda m, x: m.asin(x)),
    "acos": (unit, lambda m, x: m.acos(x)),
    "atan": (normal, lambda m, x: m.atan(x)),
    "sinh": (normal, lambda m, x: m.sinh(x)),
    "cosh": (normal, lambda m, x: m.cosh(x)),
    "tanh": (normal, lambda m, x: m.tanh(x)),
    "asinh": (normal, lambda m, x: m.asinh(x)),
    "acosh": (above_one, lambda m, x: m.acosh(x)),
    "atanh": (unit, lambda m, x: m.atanh(x)),
    "sigmoid": (normal, lambda m, x: m.sigmoid(x)),
    "clamp": (normal, lambda m, x: m.clamp(x, -0.5, 0.5) ** 2),
    "relu": (away, lambda m, x: (F if m is cr else tF).relu(x) ** 2),
    "leaky_relu": (away, lambda m, x: (F if m is cr else tF).leaky_relu(x, 0.2) ** 2),
    "elu": (away, lambda m, x: (F if m is cr else tF).elu(x, 1.3)),
    "selu": (away, lambda m, x: (F if m is cr else tF).selu(x)),
    "celu": (away, lambda m, x: (F if m is cr else tF).celu(x, 0.7)),
    "gelu": (normal, lambda m, x: (F if m is cr else tF).gelu(x)),
    "gelu-tanh": (normal, lambda m, x: (F if m is cr else tF).gelu(x, approximate="tanh")),
    "silu": (normal, lambda m, x: (F if m is cr else tF).silu(x)),
    "mish": (normal, lambda m, x: (F if m is cr else tF).mish(x)),
    "softplus": (normal, lambda m, x: (F if m is cr else tF).softplus(x, beta=1.5)),
    "logsigmoid": (normal, lambda m, x: (F if m is cr else tF).logsigmoid(x)),
    "hardtanh": (away, lambda m, x: (F if m is cr else tF).hardtanh(x) ** 2),
    "softsign": (normal, lambda m, x: (F if m is cr else tF).softsign(x)),
    "softmax": (normal, lambda m, x: (F if m is cr else tF).softmax(x, -1)),
    "log_softmax": (normal, lambda m, x: (F if m is cr else tF).log_softmax(x, -1)),
    "norm-2": (away, lambda m, x: m.linalg.vector_norm(x, 2, -1)),
    "norm-3": (away, lambda m, x: m.linalg.vector_norm(x, 3, -1)),
    "norm-1": (away, lambda m, x: m.linalg.vector_norm(x, 1, -1) ** 2),
    "normalize": (away, lambda m, x: (F if m is cr else tF).normalize(x, dim=-1)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("seed", range(3))
def test_unary_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    make, f = UNARY[name]
    _compare(f, [make(rng, SHAPES[seed])], seed)


BINARY = {
    "mul": (normal, normal, lambda m, a, b: a * b * a),
    "div": (normal, away, lambda m, a, b: a / b),
    "pow": (positive, normal, lambda m, a, b: a**b),
    "maximum": (normal, normal, lambda m, a, b: m.maximum(a, b) ** 2),
    "atan2": (normal, away, lambda m, a, b: m.atan2(a, b)),
    "hypot": (away, away, lambda m, a, b: m.hypot(a, b)),
    "logaddexp": (normal, normal, lambda m, a, b: m.logaddexp(a, b)),
    "lerp": (normal, normal, lambda m, a, b: m.lerp(a, b, b * a)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1), (3,)), ((3,), (2, 1, 3))])
def test_binary_second_derivative_matches_torch(name, shapes):
    rng = np.random.default_rng(len(name))
    make_a, make_b, f = BINARY[name]
    _compare(f, [make_a(rng, shapes[0]), make_b(rng, shapes[1])], 1)


def _lib(m):
    return F if m is cr else tF


def _w(m, w):
    return None if w is None else (w if m is cr else torch.tensor(w))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_second_derivatives_match_torch(reduction, weighted):
    rng = np.random.default_rng(7)
    shape = (3, 4)
    w = rng.random(shape) + 0.5 if weighted else None
    cw = rng.random(4) + 0.5 if weighted else None
    labels = rng.integers(0, 4, 3)
    labels[0] = 2
    probs = rng.random(shape)
    probs /= probs.sum(1, keepdims=True)
    cases = [
        (lambda m, x, t: _lib(m).mse_loss(x, t, reduction=reduction), [normal, normal]),
        (lambda m, x, t: _lib(m).huber_loss(x, t, reduction, delta=0.7), [normal, normal]),
        (
            lambda m, p, t: _lib(m).binary_cross_entropy(p, t, _w(m, w), reduction=reduction),
            [lambda r, s: r.uniform(0.05, 0.95, s), lambda r, s: r.random(s)],
        ),
        (
            lambda m, x, t: _lib(m).binary_cross_entropy_with_logits(
                x, t, _w(m, w), reduction=reduction
            ),
            [normal, lambda r, s: r.random(s)],
        ),
        (
            lambda m, x: _lib(m).cross_entropy(
                x,
                labels if m is cr else torch.tensor(labels),
                _w(m, cw),
                ignore_index=2,
                reduction=reduction,
                label_smoothing=0.2,
            ),
            [normal],
        ),
        (
            lambda m, x: _lib(m).cross_entropy(
                x, labels if m is cr else torch.tensor(labels), _w(m, cw), reduction=reduction
            ),
            [normal],
        ),
        (
            lambda m, x, t: _lib(m).cross_entropy(x, t, _w(m, cw), reduction=reduction),
            [normal, lambda r, s: probs],
        ),
        (
            lambda m, x: _lib(m).nll_loss(
                _lib(m).log_softmax(x, 1),
                labels if m is cr else torch.tensor(labels),
                _w(m, cw),
                ignore_index=2,
                reduction=reduction,
            ),
            [normal],
        ),
    ]
    for f, makers in cases:
        _compare(f, [mk(rng, shape) for mk in makers], 3)


# name -> (f(lib, *xs), input makers): the remaining activations, kinks and composed losses.
MORE = {
    "hardswish": (lambda m, x: _lib(m).hardswish(x), [away]),
    "glu": (lambda m, x: _lib(m).glu(x, -1), [normal]),
    "softmin": (lambda m, x: _lib(m).softmin(x, -1), [normal]),
    "where": (lambda m, a, b: m.where(a > 0, a * a, b * a), [normal, normal]),
    "minimum": (lambda m, a, b: m.minimum(a, b) ** 2, [normal, normal]),
    "cosine_similarity": (lambda m, a, b: _lib(m).cosine_similarity(a, b, dim=-1), [normal] * 2),
    "pairwise_distance": (lambda m, a, b: _lib(m).pairwise_distance(a, b), [normal, normal]),
    "smooth_l1": (lambda m, a, b: _lib(m).smooth_l1_loss(a, b, beta=0.5), [normal, normal]),
    "kl_div": (lambda m, a, b: _lib(m).kl_div(a, b, reduction="batchmean"), [normal, positive]),
    "norm-inf": (lambda m, x: m.linalg.vector_norm(x, float("inf"), -1) ** 2, [away]),
    "norm-half": (lambda m, x: m.linalg.vector_norm(x, 0.5, -1), [away]),
    "poisson_nll": (lambda m, a, b: _lib(m).poisson_nll_loss(a, b), [normal, positive]),
    "gaussian_nll": (
        lambda m, a, b, c: _lib(m).gaussian_nll_loss(a, b, c),
        [normal, normal, positive],
    ),
    "frac": (lambda m, x: m.frac(x) ** 2, [away]),
    "sign": (lambda m, x: m.sign(x) * x * x, [away]),
    "nan_to_num": (lambda m, x: m.nan_to_num(x) ** 3, [normal]),
}


@pytest.mark.parametrize("name", sorted(MORE))
@pytest.mark.parametrize("seed", range(2))
def test_more_second_derivatives_match_torch(name, seed):
    rng = np.random.default_rng(seed)
    f, makers = MORE[name]
    _compare(f, [mk(rng, (3, 4)) for mk in makers], seed)
