"""unfold (im2col) and fold (col2im) as functions, PyTorch's ``F.unfold`` and ``F.fold``.

``unfold`` lays every sliding window of a batch of images out as a column; ``fold`` adds
columns back into images (overlapping windows sum). They are the two ops convolution is built
from (:class:`chainrule.ops.windows.Im2col` and :class:`~chainrule.ops.windows.Col2im`, each
the other's adjoint), exposed with PyTorch's shapes: a convolution is ``unfold`` followed by
one matrix product, ``w.view(O, -1) @ unfold(x, k)``.
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.ops._common import as_float
from chainrule.ops.op_call import call
from chainrule.ops.windows import Col2im, Im2col, ntuple, out_size

Pair = tuple[int, int]


def _geometry(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any):
    """The four window settings as pairs, checked as PyTorch checks them."""
    return (
        ntuple(op, "kernel_size", kernel_size, 1),
        ntuple(op, "dilation", dilation, 1),
        ntuple(op, "padding", padding, 0),
        ntuple(op, "stride", stride, 1),
    )


def _blocks(op: str, size: Pair, kernel: Pair, dilation: Pair, padding: Pair, stride: Pair):
    """Windows per spatial axis (:func:`~chainrule.ops.windows.out_size` with ``pad`` on both
    sides), refused when none fits."""
    blocks = tuple(
        out_size(size[a], kernel[a], stride[a], padding[a], padding[a], dilation[a]) for a in (0, 1)
    )
    if min(blocks) < 1:
        raise ValueError(
            f"{op}: kernel size {kernel} (dilation {dilation}) does not fit the padded "
            f"spatial size {tuple(s + 2 * p for s, p in zip(size, padding))}"
        )
    return blocks


def unfold(
    input: Tensor,
    kernel_size: int | Pair,
    dilation: int | Pair = 1,
    padding: int | Pair = 0,
    stride: int | Pair = 1,
) -> Tensor:
    """Every sliding window as a column: ``(N, C, H, W)`` -> ``(N, C·kh·kw, L)``.

    ``L = OH·OW`` windows, ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1`` (likewise OW);
    column ``l = y·OW + x`` holds window ``(y, x)``, channel-major then kernel row and column.
    An unbatched ``(C, H, W)`` input gives ``(C·kh·kw, L)``.
    Derivative: dL/dx = fold(dL/dcols) (each window's gradient added back where it was read).
    """
    x = as_float(input)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"unfold: expected input of shape (N, C, H, W) or (C, H, W); got shape {x.shape}"
        )
    batched = x if x.ndim == 4 else x.reshape((1, *x.shape))
    kernel, dilation, padding, stride = _geometry("unfold", kernel_size, dilation, padding, stride)
    n, c, h, w = batched.shape
    blocks = _blocks("unfold", (h, w), kernel, dilation, padding, stride)
    cols = call(
        Im2col, batched, kernel=kernel, out_hw=blocks, stride=stride,
        spans=tuple((p, p) for p in padding), dilation=dilation,
    )  # fmt: skip
    out = cols.reshape((n, c * kernel[0] * kernel[1], blocks[0] * blocks[1]))
    return out if x.ndim == 4 else out.reshape(tuple(out.shape[1:]))


def fold(
    input: Tensor,
    output_size: int | Pair,
    kernel_size: int | Pair,
    dilation: int | Pair = 1,
    padding: int | Pair = 0,
    stride: int | Pair = 1,
) -> Tensor:
    """Columns added back into images: ``(N, C·kh·kw, L)`` -> ``(N, C, H, W)``, ``(H, W) =
    output_size``; where windows overlap their values sum. The adjoint of :func:`unfold`
    (``fold(unfold(x))`` is ``x`` times how many windows cover each pixel). An unbatched
    ``(C·kh·kw, L)`` input gives ``(C, H, W)``.
    Derivative: dL/dcols = unfold(dL/dx) (each column reads the gradient of the pixels it fed).
    """
    cols = as_float(input)
    if cols.ndim not in (2, 3):
        raise ValueError(
            f"fold: expected input of shape (N, C·kh·kw, L) or (C·kh·kw, L); got shape {cols.shape}"
        )
    batched = cols if cols.ndim == 3 else cols.reshape((1, *cols.shape))
    size = ntuple("fold", "output_size", output_size, 1)
    kernel, dilation, padding, stride = _geometry("fold", kernel_size, dilation, padding, stride)
    blocks = _blocks("fold", size, kernel, dilation, padding, stride)
    n, rows, length = batched.shape
    per_channel = kernel[0] * kernel[1]
    if rows % per_channel or length != blocks[0] * blocks[1]:
        raise ValueError(
            f"fold: input of shape {tuple(cols.shape)} does not fit kernel {kernel} and output "
            f"size {size}: expected (N, C·{per_channel}, {blocks[0] * blocks[1]}) for "
            f"{blocks[0]}×{blocks[1]} windows"
        )
    windows = batched.reshape((n, rows // per_channel, *kernel, *blocks))
    out = call(
        Col2im, windows, size=size, stride=stride, spans=tuple((p, p) for p in padding),
        dilation=dilation, contiguous=True,
    )  # fmt: skip
    return out if cols.ndim == 3 else out.reshape(tuple(out.shape[1:]))
