"""Gradcheck cases for the transposed convolutions (strides, paddings, output paddings,
dilations and groups drawn at random) and for the window ops both kinds of convolution are
built from (Im2col, Col2im: asymmetric paddings, and fewer windows than fit)."""

from __future__ import annotations

from hypothesis import strategies as st

import chainrule.functional as F
from chainrule.ops.windows import Col2im, Im2col, out_size
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


def _window_geometry(draw):
    """Kernel, stride, dilation, (before, after) padding per axis, the input size and a window
    count per axis (at most the windows that fit: a transposed convolution may leave some out)."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    spans = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    size, out_hw = [], []
    for a in range(2):
        reach = dilation[a] * (kernel[a] - 1) + 1
        size.append(max(1, reach - sum(spans[a])) + draw(st.integers(0, 3)))
        fit = out_size(size[a], kernel[a], stride[a], *spans[a], dilation[a])
        out_hw.append(fit - draw(st.integers(0, fit - 1)))
    return kernel, stride, dilation, spans, tuple(size), tuple(out_hw)


@case("Im2col")
def im2col(draw):
    kernel, stride, dilation, spans, size, out_hw = _window_geometry(draw)
    params = {"kernel": kernel, "out_hw": out_hw, "stride": stride, "spans": spans}
    return (lambda x: Im2col.apply(x, dilation=dilation, **params)), [
        leaf(normal(draw, (2, 2, *size)))
    ]


@case("Col2im")
def col2im(draw):
    kernel, stride, dilation, spans, size, out_hw = _window_geometry(draw)
    params = {"size": size, "stride": stride, "spans": spans, "dilation": dilation}
    contiguous = draw(st.booleans())
    return (lambda c: Col2im.apply(c, contiguous=contiguous, **params)), [
        leaf(normal(draw, (2, 2, *kernel, *out_hw)))
    ]
