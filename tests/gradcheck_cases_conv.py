"""Gradcheck cases for the transposed convolutions (strides, paddings, output paddings,
dilations and groups drawn at random)."""

from __future__ import annotations

from hypothesis import strategies as st

import chainrule.functional as F
from gradcheck_support import case, leaf, normal


@case("ConvTranspose2d", "ConvTranspose1d")
def transposed_convolution(draw):
    k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    p = draw(st.integers(0, 1))
    op = draw(st.integers(0, max(s, d) - 1))
    groups = draw(st.sampled_from([1, 2]))
    size = 2 + draw(st.integers(0, 2))
    if (size - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
        p = 0
    if draw(st.booleans()):
        x, w = normal(draw, (2, 2, size, size + 1)), normal(draw, (2, 4 // groups, k, k))
        conv = F.conv_transpose2d
    else:
        x, w = normal(draw, (2, 2, size)), normal(draw, (2, 4 // groups, k))
        conv = F.conv_transpose1d
    return (lambda x, w, b: conv(x, w, b, s, p, op, groups, d)), [
        leaf(x),
        leaf(w),
        leaf(normal(draw, (4,))),
    ]
