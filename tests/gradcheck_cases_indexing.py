"""Gradcheck cases: gather, scatter, scatter_reduce (every reduction), index_add; random shapes
with size-1 and size-0 axes, negative dims and repeated indices."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule.functional as F
from chainrule.ops.indexing import ScatterAddFlat
from chainrule.ops.shape import IndexAccumulate
from gradcheck_support import NONEMPTY, case, leaf, normal

WITH_EMPTY = {"min_dims": 1, "max_dims": 3, "min_side": 0, "max_side": 4}


def _index(draw, shape, dim):
    """An int64 index no larger than ``shape`` outside ``dim`` (up to 4 long along it, so that
    positions repeat), values in ``[0, shape[dim])``."""
    ishape = [draw(st.integers(0, n if d != dim else 4)) for d, n in enumerate(shape)]
    if shape[dim] == 0:
        ishape[dim] = 0
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.integers(0, max(shape[dim], 1), ishape).astype(np.int64)


@case("Gather")
def gather(draw):
    shape = draw(array_shapes(**WITH_EMPTY))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = _index(draw, shape, dim % len(shape))
    return (lambda x: F.gather(x, dim, index)), [leaf(normal(draw, shape))]


@case("Scatter")
def scatter(draw):
    shape = draw(array_shapes(**NONEMPTY))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    # Distinct targets along dim (a permutation prefix), so that no write is ambiguous.
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    k = draw(st.integers(0, shape[d]))
    ishape = shape[:d] + (k,) + shape[d + 1 :]
    index = np.argsort(rng.random(shape), axis=d).take(range(k), axis=d).reshape(ishape)
    src = leaf(normal(draw, ishape))
    if draw(st.booleans()):
        return (lambda x: F.scatter(x, dim, index, 0.25) * 2.0), [leaf(normal(draw, shape))]
    return (lambda x, s: F.scatter(x, dim, index, s)), [leaf(normal(draw, shape)), src]


@case("ScatterReduce")
def scatter_reduce(draw):
    shape = draw(array_shapes(**NONEMPTY))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = _index(draw, shape, dim % len(shape))
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    include_self = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    # amax/amin: distinct, well-separated values (no ties within central differences).
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + 0.05
    s = rng.permutation(index.size).reshape(index.shape) * 0.1 + 0.12
    if reduce in ("sum", "prod", "mean"):
        x, s = normal(draw, shape, away_from_zero=True), normal(draw, index.shape, low=0.5)

    def fn(x, s):
        return F.scatter_reduce(x, dim, index, s, reduce, include_self=include_self)

    return fn, [leaf(x), leaf(s)]


@case("IndexAdd")
def index_add(draw):
    shape = draw(array_shapes(**NONEMPTY))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    index = rng.integers(0, shape[d], draw(st.integers(0, 5)))
    src_shape = shape[:d] + (index.size,) + shape[d + 1 :]
    alpha = draw(st.sampled_from([1, -0.5, 2.0]))
    return (lambda x, s: F.index_add(x, dim, index, s, alpha=alpha)), [
        leaf(normal(draw, shape)),
        leaf(normal(draw, src_shape)),
    ]


@case("ScatterAddFlat")
def scatter_add_flat(draw):
    # Gather's backward: values summed into zeros at flat positions (repeats add up).
    shape = draw(array_shapes(**NONEMPTY))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pos = rng.integers(0, int(np.prod(shape)), draw(st.integers(0, 6))).astype(np.int64)
    return (lambda v: ScatterAddFlat.apply(v, pos=pos, shape=shape)), [
        leaf(normal(draw, pos.shape))
    ]


@case("IndexAccumulate")
def index_accumulate(draw):
    # GetItem's backward: zeros with the values added at the index (repeats add up).
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (3, 4)
    index = draw(st.sampled_from(["basic", "repeats", "int_first"]))
    if index == "basic":
        params, vshape = {"index": (slice(1, 3), 2), "first": None, "basic": True}, (2,)
    elif index == "repeats":
        idx = (rng.integers(0, 3, 5),)
        params, vshape = {"index": idx, "first": None, "basic": False}, (5, 4)
    else:  # x[1, [0, 3, 0]]: integer first, then the list
        params = {"index": (np.array([0, 3, 0]),), "first": (1,), "basic": False}
        vshape = (3,)
    return (lambda v: IndexAccumulate.apply(v, shape=shape, **params)), [leaf(normal(draw, vshape))]
