"""Gradcheck cases for the in-place family: IndexPut (``x[i] = v`` and the fills recorded on a
non-leaf), and in-place arithmetic recorded on a tensor's rebased history."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from gradcheck_support import case, leaf, normal


def _assigned(index):
    def fn(a, v):
        out = a * 1.0  # a non-leaf: the assignment is recorded (IndexPut), not refused
        out[index] = v
        return out

    return fn


@case("IndexPut")
def index_put(draw):
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["row", "slice", "mask", "broadcast", "all"]))
    a = leaf(normal(draw, (rows, cols)))
    if kind == "row":
        index, shape = draw(st.integers(-rows, rows - 1)), (cols,)
    elif kind == "slice":
        index, shape = (slice(None), slice(0, 1)), (rows, 1)
    elif kind == "mask":
        mask = np.random.default_rng(draw(st.integers(0, 99))).random((rows, cols)) < 0.5
        index, shape = mask, ()
    elif kind == "broadcast":
        index, shape = (slice(None),), (1, cols)
    else:
        index, shape = Ellipsis, ()
    v = leaf(normal(draw, shape))
    return _assigned(index), [a, v]


@case("Mul", "Add")
def arithmetic_in_place_on_a_non_leaf(draw):
    n = draw(st.integers(1, 4))

    def fn(a, b):
        out = a * 1.0
        out.mul_(b)
        out.add_(b, alpha=2.0)
        return out

    return fn, [leaf(normal(draw, (n,))), leaf(normal(draw, (n,)))]
