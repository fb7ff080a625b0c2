"""Gradcheck cases for P3's activations: silu, mish, hardtanh, relu6, hardswish, hardsigmoid,
selu, celu, softsign, logsigmoid, softmin, glu and normalize (random shapes, negative dims)."""

from __future__ import annotations

import math

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule.functional as F
from gradcheck_support import NONEMPTY, SMALL, case, leaf, normal

ANY = {**SMALL, "min_side": 0}


@case("SiLU", "Mish", "SELU", "CELU", "Softsign", "LogSigmoid")
def smooth_activations(draw):
    alpha = draw(st.floats(0.3, 2.0))
    fns = [F.silu, F.mish, F.selu, lambda x: F.celu(x, alpha), F.softsign, F.logsigmoid]
    x = leaf(2 * normal(draw, draw(array_shapes(**ANY)), away_from_zero=True))
    return draw(st.sampled_from(fns)), [x]


@case("Hardtanh", "Hardswish", "Hardsigmoid")
def piecewise_linear_activations(draw):
    lo = draw(st.floats(-2.0, 0.0))
    fns = [
        F.hardtanh,
        lambda x: F.hardtanh(x, min_val=lo, max_val=lo + 1.5),
        F.relu6,
        F.hardswish,
        F.hardsigmoid,
    ]
    x = leaf(4 * normal(draw, draw(array_shapes(**ANY))))
    return draw(st.sampled_from(fns)), [x]


@case("GLU", "Softmax")
def gated_and_softmin(draw):
    shape = list(draw(array_shapes(**NONEMPTY)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    if draw(st.booleans()):
        shape[dim] *= 2
        return (lambda x: F.glu(x, dim)), [leaf(normal(draw, tuple(shape)))]
    return (lambda x: F.softmin(x, dim=dim)), [leaf(2 * normal(draw, tuple(shape)))]


@case("Normalize")
def lp_normalize(draw):
    shape = draw(array_shapes(**NONEMPTY))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    p = draw(st.sampled_from([2.0, 1.0, 3.0, 1.5, math.inf]))
    x = leaf(normal(draw, shape, away_from_zero=True))
    return (lambda x: F.normalize(x, p=p, dim=dim)), [x]
