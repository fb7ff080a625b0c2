"""PyTorch parity cases for the transposed convolutions (more geometries and the layers:
tests/test_nn_conv_transpose.py), and for the window ops of both convolutions: Im2col is
PyTorch's ``unfold`` (columns ``(N, C, kh, kw, OH, OW)`` are its ``(N, C·kh·kw, L)``), Col2im
its ``fold``."""

from __future__ import annotations

from chainrule.ops.windows import Col2im, Im2col
from parity_support import TF, F, case, inputs, randn, register

# kernel (3, 2), stride (2, 1), padding (1, 0), dilation (1, 2) on a 7×6 input: 4×4 windows.
_WINDOWS = {"stride": (2, 1), "spans": ((1, 1), (0, 0)), "dilation": (1, 2)}
_TORCH_WINDOWS = {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}

register(
    case(
        "conv-transpose2d-stride-padding-output-padding-groups-dilation",
        "ConvTranspose2d",
        inputs(x=randn(2, 4, 4, 3), w=randn(4, 3, 3, 2), b=randn(6)),
        lambda t: F.conv_transpose2d(t.x, t.w, t.b, 2, 1, 1, 2, 2),
        lambda t: TF.conv_transpose2d(t.x, t.w, t.b, 2, 1, 1, 2, 2),
    ),
    case(
        "conv-transpose1d-stride-padding",
        "ConvTranspose1d",
        inputs(x=randn(2, 3, 6), w=randn(3, 2, 4), b=randn(2)),
        lambda t: F.conv_transpose1d(t.x, t.w, t.b, stride=3, padding=1, output_padding=2),
        lambda t: TF.conv_transpose1d(t.x, t.w, t.b, stride=3, padding=1, output_padding=2),
    ),
    case(
        "im2col-strided-padded-dilated",
        "Im2col",
        inputs(x=randn(2, 3, 7, 6)),
        lambda t: Im2col.apply(t.x, kernel=(3, 2), out_hw=(4, 4), **_WINDOWS).reshape(2, 18, 16),
        lambda t: TF.unfold(t.x, **_TORCH_WINDOWS),
    ),
    case(
        "col2im-strided-padded-dilated",
        "Col2im",
        inputs(c=randn(2, 3, 3, 2, 4, 4)),
        lambda t: Col2im.apply(t.c, size=(7, 6), **_WINDOWS),
        lambda t: TF.fold(t.c.reshape(2, 18, 16), (7, 6), **_TORCH_WINDOWS),
    ),
)
