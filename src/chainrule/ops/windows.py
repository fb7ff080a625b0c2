"""Sliding windows over ``(N, C, H, W)`` arrays, shared by convolution and pooling.

Padding is given per spatial axis as ``(before, after)``: PyTorch's ``padding='same'`` with an
even kernel and pooling's ``ceil_mode`` both need more on one side than on the other.
The forward passes view the padded input as its windows (``as_strided``, no copy); the backward
passes undo that gathering by looping over the kernel offsets, one strided slice each.

Convolutions gather and scatter their columns through two ops, :class:`Im2col` and
:class:`Col2im`, each the other's adjoint (and backward). Called through
:func:`~chainrule.ops.op_call.call`, they are the plain array code on a first-order pass and
recorded ops on a ``create_graph`` pass, so a convolution's backward is differentiable again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops.op_call import call

Pair = tuple[int, int]
Spans = tuple[Pair, Pair]


def spans_of(padding: Any) -> Spans:
    """``(ph, pw)`` (symmetric) or ``((top, bottom), (left, right))`` as the second form."""
    return tuple((p, p) if isinstance(p, (int, np.integer)) else tuple(p) for p in padding)


def pad_array(x: np.ndarray, spans: Spans, value: Any = 0) -> np.ndarray:
    """``x`` ``(N, C, H, W)`` with ``value`` added around its last two axes."""
    (top, bottom), (left, right) = spans
    if top == bottom == left == right == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def crop(gp: np.ndarray, spans: Spans) -> np.ndarray:
    """Undo :func:`pad_array`: the interior of the padded ``gp``."""
    (top, bottom), (left, right) = spans
    return gp[:, :, top : gp.shape[2] - bottom, left : gp.shape[3] - right]


def out_size(size: int, k: int, stride: int, before: int, after: int, dilation: int) -> int:
    """Windows along one axis: ``⌊(size + before + after − d·(k − 1) − 1)/s⌋ + 1``."""
    return (size + before + after - dilation * (k - 1) - 1) // stride + 1


def windows(xp: np.ndarray, kernel: Pair, out: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """Read-only view ``(N, C, kh, kw, OH, OW)``: ``[n, c, i, j, y, x] = xp[n, c, y·sh + i·dh,
    x·sw + j·dw]``. Kernel axes come before output axes so that reshaping to columns
    ``(N, C·kh·kw, OH·OW)`` lines up with a weight's ``(out, C·kh·kw)`` layout."""
    s0, s1, s2, s3 = xp.strides
    shape = (xp.shape[0], xp.shape[1], *kernel, *out)
    strides = (s0, s1, s2 * dilation[0], s3 * dilation[1], s2 * stride[0], s3 * stride[1])
    return as_strided(xp, shape, strides, writeable=False)


def offset_slices(
    kernel: Pair, out: Pair, stride: Pair, dilation: Pair
) -> Iterator[tuple[int, int, tuple[slice, ...]]]:
    """For each kernel offset (i, j): the strided slice of the padded input it touches."""
    for i in range(kernel[0]):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0])
        for j in range(kernel[1]):
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1])
            yield i, j, (slice(None), slice(None), rows, cols)


def col2im(
    cols: np.ndarray, padded_shape: tuple[int, ...], stride: Pair, dilation: Pair
) -> np.ndarray:
    """The adjoint of :func:`windows`: ``cols`` ``(N, C, kh, kw, OH, OW)`` added back into a
    zero array of ``padded_shape``, one vectorized addition per kernel offset."""
    kernel, out = cols.shape[2:4], cols.shape[4:]
    gp = np.zeros(padded_shape, dtype=cols.dtype)
    for i, j, where in offset_slices(kernel, out, stride, dilation):
        gp[where] += cols[:, :, i, j]
    return gp


def col2im_rows(
    cols: np.ndarray, padded_shape: tuple[int, ...], kernel: Pair, dilation: Pair
) -> np.ndarray:
    """:func:`col2im` for stride 1 from columns laid out a whole padded row wide:
    ``cols`` ``(N, C, kh, kw, OH·Wp)``, ``[n, c, i, j, y·Wp + x]`` the gradient of window
    ``(y, x)`` at offset ``(i, j)`` for ``x < OW`` and **zero** for ``OW ≤ x < Wp``.

    Why: in that layout each kernel offset's cells are one contiguous run of the flattened
    padded plane, so each of the kh·kw additions walks runs of OH·Wp elements instead of OH·N·C
    rows of OW. The zero columns land on cells that are also reached by real columns (or on
    ``slack`` cells past the plane, dropped): adding ±0 changes no sum, whose order is that of
    :func:`col2im`, so the result has its bits. Returns a view ``(N, C, Hp, Wp)``.
    Plain form: :func:`col2im` of ``cols[..., :OW]`` (in ``(N, C, kh, kw, OH, OW)``).
    """
    n, c, hp, wp = padded_shape
    (kh, kw), run = kernel, cols.shape[-1]
    slack = dilation[1] * (kw - 1)  # the zero columns of the last row reach this far past it
    flat = np.zeros((n, c, hp * wp + slack), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            start = i * dilation[0] * wp + j * dilation[1]
            flat[:, :, start : start + run] += cols[:, :, i, j]
    return flat[:, :, : hp * wp].reshape(n, c, hp, wp)


class Im2col(Function):
    """cols = windows of pad(x):  dL/dx = Col2im(dL/dcols) (each window's gradient added back).

    ``x`` ``(N, C, H, W)`` -> contiguous ``(N, C, kh, kw, OH, OW)`` with ``[n, c, i, j, y, x] =
    xp[n, c, y·sh + i·dh, x·sw + j·dw]``, ``xp`` the input padded by ``spans``. ``out_hw`` may
    leave windows out at the end (a transposed convolution's output padding).
    """

    def forward(self, x, *, kernel, out_hw, stride, spans, dilation):
        self.size, self.stride, self.spans, self.dilation = x.shape[2:], stride, spans, dilation
        xp = pad_array(x, spans)
        return np.ascontiguousarray(windows(xp, kernel, out_hw, stride, dilation))

    def backward(self, grad):
        gx = call(
            Col2im, grad, size=self.size, stride=self.stride, spans=self.spans,
            dilation=self.dilation,
        )  # fmt: skip
        return (gx,)


class Col2im(Function):
    """x = crop(Σ_windows cols placed back):  dL/dcols = Im2col(dL/dx) (the gradient's windows).

    ``cols`` ``(N, C, kh, kw, OH, OW)`` added into zeros ``(N, C, H, W)`` (``size`` = ``(H,
    W)``) padded by ``spans``, then cropped: the adjoint of :class:`Im2col`. The result is a
    view of the padded buffer unless ``contiguous``.
    """

    def forward(self, cols, *, size, stride, spans, dilation, contiguous=False):
        self.kernel, self.out_hw = cols.shape[2:4], cols.shape[4:]
        self.stride, self.spans, self.dilation = stride, spans, dilation
        xp_shape = (*cols.shape[:2], *(size[a] + spans[a][0] + spans[a][1] for a in (0, 1)))
        out = crop(col2im(cols, xp_shape, stride, dilation), spans)
        return np.ascontiguousarray(out) if contiguous else out

    def backward(self, grad):
        gcols = call(
            Im2col, grad, kernel=self.kernel, out_hw=self.out_hw, stride=self.stride,
            spans=self.spans, dilation=self.dilation,
        )  # fmt: skip
        return (gcols,)


# ----- argument checking --------------------------------------------------------------------


def ntuple(op: str, name: str, value: Any, minimum: int, dims: int = 2) -> tuple[int, ...]:
    """``value`` (an int or a tuple of ``dims`` ints) as a tuple, each at least ``minimum``."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    ok = len(values) == dims and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
        for v in values
    )
    if not ok:
        bound = "positive" if minimum > 0 else "non-negative"
        raise ValueError(
            f"{op}: {name} must be a {bound} integer or a tuple of {dims}; got {value!r}"
        )
    return tuple(int(v) for v in values)


def check_input(op: str, x: Tensor, dims: int) -> None:
    """Refuse an input that is not ``(N, C, H, W)`` (``(N, C, L)`` when ``dims`` is 1)."""
    spatial = ("H", "W") if dims == 2 else ("L",)
    if x.ndim != dims + 2:
        raise ValueError(
            f"{op}: expected input of shape (N, C, {', '.join(spatial)}); got shape {x.shape}"
        )


def check_fits(op: str, x: Tensor, kernel: Any, spans: Any, dilation: Any) -> None:
    """Refuse a kernel that does not fit inside the padded input at least once."""
    for a, size in enumerate(x.shape[2:]):
        span = dilation[a] * (kernel[a] - 1) + 1
        padded = size + sum(spans[a])
        if span > padded:
            raise ValueError(
                f"{op}: kernel size {tuple(kernel)} (dilation {tuple(dilation)}) spans {span} "
                f"but the padded input is only {padded} along spatial axis {a} "
                f"(input {x.shape}, padding {tuple(spans)})"
            )
