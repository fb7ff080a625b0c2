"""Gradcheck cases for the normalization and look-up ops: the fused layer norm (with and without
its affine part, over one or two trailing axes, and reused by group and instance norm) and the
embedding look-up (repeated indices)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import chainrule as cr
import chainrule.functional as F
from gradcheck_support import case, leaf, normal


@case("LayerNorm")
def layer_norm_trailing_axes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    k = draw(st.integers(1, len(shape) - 1))
    trailing = shape[len(shape) - k :]
    x = leaf(normal(draw, shape))
    if trailing == (1,) * k:  # one value per row: the output is 0 and so is every gradient
        x = leaf(normal(draw, shape + (2,)))
        trailing = trailing + (2,)
    w, b = leaf(normal(draw, trailing)), leaf(normal(draw, trailing))
    fns = [
        lambda x, w, b: F.layer_norm(x, trailing, w, b),
        lambda x, w, b: F.layer_norm(x, trailing, w) + 0 * b.sum(),
        lambda x, w, b: F.layer_norm(x, trailing, None, b, eps=0.1) * w,
    ]
    return draw(st.sampled_from(fns)), [x, w, b]


@case("LayerNorm")
def group_and_instance_norm(draw):
    n, groups, per, length = (draw(st.integers(1, 3)) for _ in range(4))
    c = groups * per
    x = leaf(normal(draw, (n, c, length + 1)))
    w, b = leaf(normal(draw, (c,))), leaf(normal(draw, (c,)))
    fns = [
        lambda x, w, b: F.group_norm(x, groups, w, b),
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
    ]
    return draw(st.sampled_from(fns)), [x, w, b]


@case("Embedding")
def embedding_lookup(draw):
    rows, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    idx = cr.tensor(rng.integers(0, rows, shape))
    # Neither padding_idx nor scale_grad_by_freq here: both change the gradient by convention
    # away from the derivative (the parity cases pin them against PyTorch instead).
    w = leaf(normal(draw, (rows, dim)))
    return (lambda w: F.embedding(idx, w)), [w]
