"""PyTorch parity cases for the transposed convolutions (more geometries and the layers:
tests/test_nn_conv_transpose.py)."""

from __future__ import annotations

from parity_support import TF, F, case, inputs, randn, register

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
)
