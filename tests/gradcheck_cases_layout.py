"""Gradcheck cases for the layout family and F.pad's index modes: compositions of registered
moves, checked on random shapes with size-1 axes and negative dims."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule.functional as F
from gradcheck_support import NONEMPTY, case, leaf, normal


@case("GetItem", "Permute", "Expand", "Reshape", "Where")
def layout_moves(draw):
    shape = draw(array_shapes(**NONEMPTY))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    offset = draw(st.integers(-1, 1))  # drawn once: the function must be the same at every call
    fns = [
        lambda x: sum((p * (i + 1)).sum() for i, p in enumerate(F.split(x, 2, dim))),
        lambda x: F.flip(x, dim) * 2.0,
        lambda x: F.roll(x, 3, dim) * 2.0,
        lambda x: x.repeat(*([2] * (x.ndim + 1))),
        lambda x: F.repeat_interleave(x, 2, dim=dim),
        lambda x: F.movedim(x, dim, 0) * 2.0,
        lambda x: x.unfold(dim, min(2, n), 1),
        lambda x: F.narrow(x, dim, 0, n - 1 if n > 1 else 1) * 2.0,
    ]
    if len(shape) >= 2:
        fns += [
            lambda x: F.tril(x, -1) + F.triu(x, 1) * 3.0,
            lambda x: F.diagonal(x, 1 if shape[1] > 1 else 0, 0, 1),
            lambda x: F.diag_embed(x, offset),
        ]
    return draw(st.sampled_from(fns)), [leaf(normal(draw, shape))]


@case("GetItem")
def pad_index_modes(draw):
    shape = draw(array_shapes(min_dims=2, max_dims=4, min_side=2, max_side=4))
    k = draw(st.integers(1, min(3, len(shape) - 1)))
    pad = [draw(st.integers(0, 1)) for _ in range(2 * k)]
    mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    return (lambda x: F.pad(x, pad, mode=mode) * 2.0), [leaf(normal(draw, shape))]
