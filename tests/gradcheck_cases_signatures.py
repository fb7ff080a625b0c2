"""Gradcheck cases for P1's ops: max/min along one dim (values follow the returned indices)."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule.functional as F
from gradcheck_support import SMALL, case, leaf, normal


@case("MaxDim", "MinDim")
def extreme_along_dim(draw):
    # Random normals have no ties, so the chosen index is the only element the value depends on.
    shape = draw(array_shapes(**{**SMALL, "min_side": 1}))
    ndim = len(shape)
    dim = draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))
    keepdim = draw(st.booleans())
    fn = draw(st.sampled_from([F.max, F.min]))
    return (lambda x: fn(x, dim, keepdim).values), [leaf(normal(draw, shape))]


@case("Mean")
def mean_with_size_0_axes(draw):
    # Over an empty axis the mean is NaN and x has no elements: the Jacobian is empty but must
    # still have x's shape (0 columns), which gradcheck verifies.
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = draw(st.booleans())
    return (lambda x: F.mean(x, dim=dim, keepdim=keepdim)), [leaf(normal(draw, shape))]


@case("Clone")
def clone_passes_the_gradient(draw):
    shape = draw(array_shapes(**SMALL))
    return (lambda x: F.clone(x) * 2.0), [leaf(normal(draw, shape))]
