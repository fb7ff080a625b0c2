"""Gradcheck cases for statistics, scans and sorting (std, prod, cumsum … sort, topk, median)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
from chainrule.ops.sorting import ScatterAlong
from gradcheck_support import NONEMPTY, SMALL, axis_for, case, leaf, normal

WITH_EMPTY = {"min_dims": 1, "max_dims": 3, "min_side": 0, "max_side": 4}


def distinct(draw, shape):
    """Values at least 0.1 apart (a permutation, shifted by noise): no ties to break."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 + rng.uniform(-0.05, 0.05, n) - n * 0.15).reshape(shape)


def dim_for(draw, ndim):
    return draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


@case("Std")
def std_with_correction(draw):
    shape = draw(array_shapes(**SMALL))
    axis = axis_for(draw, len(shape))
    keep = draw(st.booleans())
    n = int(np.prod([shape[a] for a in np.atleast_1d(axis)])) if axis is not None else 0
    correction = draw(st.sampled_from([0, 1] if (n or np.prod(shape)) > 1 else [0]))
    x = leaf(normal(draw, shape))
    return (lambda x: cr.std(x, axis, keepdim=keep, correction=correction)), [x]


@case("Prod")
def prod_over_dims(draw):
    shape = draw(array_shapes(**WITH_EMPTY))
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keep = draw(st.booleans())
    x = normal(draw, shape, away_from_zero=True)
    if x.size and draw(st.booleans()):  # an exact zero (or two): the product's kink
        x.reshape(-1)[draw(st.integers(0, x.size - 1))] = 0.0
    return (lambda x: cr.prod(x, dim, keep)), [leaf(x)]


@case("CumSum", "CumProd", "LogCumSumExp")
def scans(draw):
    shape = draw(array_shapes(**{**WITH_EMPTY, "min_dims": 0}))
    dim = dim_for(draw, len(shape))
    x = normal(draw, shape, away_from_zero=True)
    which = draw(st.sampled_from(["cumsum", "cumprod", "cumprod_zero", "logcumsumexp"]))
    if which == "cumprod_zero" and x.size:
        x.reshape(-1)[draw(st.integers(0, x.size - 1))] = 0.0
    fn = {"cumsum": cr.cumsum, "logcumsumexp": cr.logcumsumexp}.get(which, cr.cumprod)
    return (lambda x: fn(x, dim)), [leaf(x)]


@case("CumMax", "CumMin")
def running_extremes(draw):
    shape = draw(array_shapes(**{**WITH_EMPTY, "min_dims": 0}))
    dim = dim_for(draw, len(shape))
    fn = draw(st.sampled_from([cr.cummax, cr.cummin]))
    return (lambda x: fn(x, dim).values), [leaf(distinct(draw, shape))]


@case("Sort", "TopK")
def sort_and_topk(draw):
    shape = draw(array_shapes(**{**WITH_EMPTY, "min_dims": 0}))
    dim = dim_for(draw, len(shape))
    descending = draw(st.booleans())
    n = shape[dim] if shape else 1
    k = draw(st.integers(0, n))
    x = leaf(distinct(draw, shape))
    if draw(st.booleans()):
        return (lambda x: cr.sort(x, dim, descending).values), [x]
    return (lambda x: cr.topk(x, k, dim, largest=descending).values), [x]


@case("KthValue", "Median", "Mode", "MedianAll")
def order_statistics(draw):
    shape = draw(array_shapes(**{**NONEMPTY, "min_dims": 0}))
    dim = dim_for(draw, len(shape))
    keep = draw(st.booleans())
    n = shape[dim] if shape else 1
    k = draw(st.integers(1, n))
    x = leaf(distinct(draw, shape))
    which = draw(st.sampled_from(["kth", "median", "mode", "median_all"]))
    fns = {
        "kth": lambda x: cr.kthvalue(x, k, dim, keep).values,
        "median": lambda x: cr.median(x, dim, keep).values,
        "mode": lambda x: cr.mode(x, dim, keep).values,
        "median_all": cr.median,
    }
    return fns[which], [x]


@case("ScatterAlong")
def scatter_along(draw):
    # The adjoint of Selection (the backward of sort, cummax, max(x, dim)...): repeats add up.
    shape = draw(array_shapes(**NONEMPTY))
    axis = draw(st.integers(0, len(shape) - 1))
    size = draw(st.integers(0, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index_shape = shape[:axis] + (size,) + shape[axis + 1 :]
    index = rng.integers(0, shape[axis], index_shape).astype(np.int64)
    distinct = size == 1 and draw(st.booleans())  # one index per slice: written, not added
    v = leaf(normal(draw, index_shape))
    params = {"indices": index, "axis": axis, "shape": shape, "distinct": distinct}
    return (lambda v: ScatterAlong.apply(v, **params)), [v]
