"""Gradcheck cases for P3's pointwise math: trig, rounding, erf, special functions.

Shapes come from hypothesis (size-1 and size-0 axes, broadcasting pairs); values keep inside each
function's domain and away from its poles. Step functions (floor, round, …) are checked away from
their jumps, where the gradient is 0 on both sides.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import chainrule.functional as F
from gradcheck_support import SMALL, case, leaf, normal

#: As SMALL, with size-0 axes too.
ANY = {**SMALL, "min_side": 0}


def _shape(draw):
    return draw(array_shapes(**ANY))


def _pair(draw):
    return draw(mutually_broadcastable_shapes(num_shapes=2, **ANY)).input_shapes


@case("Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Asinh")
def trig_everywhere(draw):
    fn = draw(st.sampled_from([F.sin, F.cos, F.tan, F.atan, F.sinh, F.cosh, F.asinh]))
    return fn, [leaf(0.4 * normal(draw, _shape(draw)))]


@case("Asin", "Acos", "Atanh", "Erfinv")
def inside_minus_one_one(draw):
    fn = draw(st.sampled_from([F.asin, F.acos, F.atanh, F.erfinv]))
    return fn, [leaf(0.9 * np.tanh(normal(draw, _shape(draw))))]


@case("Acosh")
def above_one(draw):
    return F.acosh, [leaf(normal(draw, _shape(draw), low=1.2))]


@case("Atan2", "Hypot", "LogAddExp")
def binary_math(draw):
    sa, sb = _pair(draw)
    fn = draw(st.sampled_from([F.atan2, F.hypot, F.logaddexp]))
    return fn, [leaf(normal(draw, sa, away_from_zero=True)), leaf(normal(draw, sb))]


@case("Floor", "Ceil", "Trunc", "Sign", "Round", "Frac")
def steps_away_from_their_jumps(draw):
    decimals = draw(st.sampled_from([0, 1, -1]))
    fns = [
        F.floor,
        F.ceil,
        F.trunc,
        F.sign,
        F.frac,
        lambda x: F.round(x, decimals=decimals),
        lambda x: x.round() * x,
    ]
    return draw(st.sampled_from(fns)), [leaf(3 * normal(draw, _shape(draw), away_from_zero=True))]


@case("Fmod", "Remainder", "RoundedDiv")
def division_remainders(draw):
    sa, sb = _pair(draw)
    mode = draw(st.sampled_from(["trunc", "floor"]))
    fns = [
        F.fmod,
        F.remainder,
        lambda a, b: a % b,
        lambda a, b: F.div(a, b, rounding_mode=mode) * b,
    ]
    a = leaf(3 * normal(draw, sa))
    return draw(st.sampled_from(fns)), [a, leaf(normal(draw, sb, away_from_zero=True))]


@case("Erf", "Erfc", "Exp2", "Expm1", "Square")
def smooth_everywhere(draw):
    fn = draw(st.sampled_from([F.erf, F.erfc, F.exp2, F.expm1, F.square]))
    return fn, [leaf(1.5 * normal(draw, _shape(draw)))]


@case("Rsqrt", "Reciprocal", "Log1p", "Log2", "Log10")
def positive_domain(draw):
    fn = draw(st.sampled_from([F.rsqrt, F.reciprocal, F.log1p, F.log2, F.log10]))
    return fn, [leaf(normal(draw, _shape(draw), low=0.3))]


@case("Lerp")
def linear_interpolation(draw):
    shapes = draw(mutually_broadcastable_shapes(num_shapes=3, **ANY)).input_shapes
    a, b = leaf(normal(draw, shapes[0])), leaf(normal(draw, shapes[1]))
    if draw(st.booleans()):
        w = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0, 1.5]))
        return (lambda a, b: F.lerp(a, b, w)), [a, b]
    return F.lerp, [a, b, leaf(normal(draw, shapes[2]))]


@case("NanToNum")
def nan_to_num_passes_finite_values(draw):
    shape = _shape(draw)
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    special = rng.choice([np.nan, np.inf, -np.inf], size=shape)
    hole = rng.random(shape) < 0.3
    return (lambda x: F.nan_to_num(F.where(hole, special, x), nan=0.5, posinf=2.0)), [
        leaf(normal(draw, shape))
    ]
