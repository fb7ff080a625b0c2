"""Gradcheck cases for einsum (and the products built on it) and vector norms."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import chainrule as cr
from gradcheck_support import SMALL, axis_for, case, leaf, normal

EQUATIONS = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "bij,bjk->bik": [(2, 2, 3), (2, 3, 1)],
    "i,i->": [(3,), (3,)],
    "i,j->ij": [(2,), (3,)],
    "ii->i": [(3, 3)],
    "ii": [(3, 3)],
    "ij->": [(2, 0)],
    "ijk->kj": [(2, 3, 1)],
    "...ij,...jk": [(2, 1, 3), (3, 2)],
    "ij,jk,kl->il": [(2, 3), (3, 2), (2, 2)],
    "iij,j->ij": [(2, 2, 3), (3,)],
    "bi,bi->b": [(0, 3), (0, 3)],
}


@case("Einsum")
def einsum_equations(draw):
    equation = draw(st.sampled_from(sorted(EQUATIONS)))
    operands = [leaf(normal(draw, s)) for s in EQUATIONS[equation]]
    return (lambda *ts: cr.einsum(equation, *ts)), operands


@case("Einsum")
def tensordot_pairs(draw):
    a = leaf(normal(draw, (2, 3, 4)))
    b = leaf(normal(draw, (4, 3, 2)))
    dims = draw(st.sampled_from([0, 1, ([1, 2], [1, 0]), ([0], [2])]))
    if dims == 1:
        return (lambda a, b: cr.tensordot(a, b, 1)), [a, b]
    return (lambda a, b: cr.tensordot(a, b, dims)), [a, b]


@case("VectorNorm")
def vector_norms(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple))
    axis = axis_for(draw, len(shape))
    keep = draw(st.booleans())
    ord = draw(st.sampled_from([2, 1, 3, 0.5, -1.5, math.inf, -math.inf, 0]))
    x = normal(draw, shape, away_from_zero=True)
    if ord in (math.inf, -math.inf):  # distinct magnitudes: no tie at the extreme
        rng = np.random.default_rng(0)
        x = np.sign(x) * (rng.permutation(x.size).reshape(shape) * 0.2 + 0.5)
    return (lambda x: cr.linalg.vector_norm(x, ord, axis, keep)), [leaf(x)]


@case("VectorNorm")
def norm_at_zero_has_gradient_zero(draw):
    shape = draw(st.sampled_from([(3,), (2, 2)]))
    ord = draw(st.sampled_from([2, 3]))
    x = leaf(np.zeros(shape))
    # ‖x‖ is not differentiable at 0; its square is, and the chain rule with the 0 subgradient
    # must agree with it.
    return (lambda x: cr.linalg.vector_norm(x, ord) * 0.0 + cr.sum(x * x)), [x]


_ = SMALL
