"""Pooling over feature maps: max and average pooling (1-D and 2-D), adaptive pooling, unpooling.

Layout is PyTorch's: ``(N, C, H, W)``, or ``(N, C, L)`` for the 1-D forms, which run the 2-D
ops with H = 1. Window geometry (padding as ``(before, after)`` per axis, strided views and
their adjoint) comes from :mod:`chainrule.ops.windows`. ``ceil_mode`` adds a partial window at
the end when it still starts inside the input or its left padding (PyTorch's rule); the
extra cells it reads count as −∞ for max and are left out of the mean.

The backward passes are ops of their own (:class:`MaxPool2dAdjoint`, :class:`AvgPool2dAdjoint`),
run through :func:`~chainrule.ops.op_call.call`: plain NumPy on arrays, recorded on tensors
(``create_graph=True``), where their own backward is a gather at the window maxima and a window
sum, so second (and higher) derivatives follow.

Adaptive pooling uses PyTorch's windows: output cell ``i`` of ``out`` along an axis of length
``L`` covers ``[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)``. Adaptive average pooling is two constant
averaging matrices (one per axis) and adaptive max pooling a gather at the argmax, so both are
compositions of differentiable ops; unpooling is a scatter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import as_tensor
from chainrule.ops.indexing import Gather
from chainrule.ops.op_call import call
from chainrule.ops.shape import Pad, squeeze, unsqueeze
from chainrule.ops.windows import (
    check_input,
    crop,
    ntuple,
    offset_slices,
    out_size,
    pad_array,
    spans_of,
)

Pair = tuple[int, int]


def max_windows(x: np.ndarray, kernel: Pair, stride: Pair, spans: Any, dilation: Pair):
    """The largest value of every window and its position in the window (row-major, the first
    maximum on ties, NaN winning as in PyTorch): arrays ``(N, C, OH, OW)``."""
    spans = spans_of(spans)
    out_hw = tuple(
        out_size(x.shape[2 + a], kernel[a], stride[a], *spans[a], dilation[a]) for a in (0, 1)
    )
    if tiles(kernel, stride, spans, dilation):
        fast = max_tiles(x, kernel, out_hw)
        if fast is not None:
            return fast
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = pad_array(x, spans, low)
    # A running maximum over the kh·kw offset slices: no copy of the windows. Only a strictly
    # greater value takes over, so on ties the first maximum in row-major window order wins.
    index_type = np.min_scalar_type(kernel[0] * kernel[1] - 1)
    best = index = None
    for i, j, where in offset_slices(kernel, out_hw, stride, dilation):
        v = xp[where]
        if best is None:
            best, index = v.copy(), np.zeros(v.shape, dtype=index_type)
            continue
        better = v > best
        np.maximum(best, v, out=best)  # np.where beats copyto(where=) here by 2-3×
        index = np.where(better, index_type.type(i * kernel[1] + j), index)
    if x.dtype.kind == "f" and np.isnan(best).any():
        # PyTorch propagates NaN and routes the gradient to it: redo the indices exactly.
        index[...] = 0
        best = xp[next(offset_slices(kernel, out_hw, stride, dilation))[2]].copy()
        for i, j, where in offset_slices(kernel, out_hw, stride, dilation):
            v = xp[where]
            better = (v > best) | (v != v)
            best = np.where(better, v, best)
            index = np.where(better, index_type.type(i * kernel[1] + j), index)
    return best, index


def tiles(kernel: Pair, stride: Pair, spans: Any, dilation: Pair) -> bool:
    """Whether the windows are side by side without gaps or overlap and unpadded (the usual
    ``MaxPool2d(k)``): each input cell lies in at most one window."""
    unpadded = all(b == a == 0 for b, a in spans)
    return unpadded and tuple(kernel) == tuple(stride) and tuple(dilation) == (1, 1)


def chained_maximum(parts: list[np.ndarray]) -> np.ndarray:
    """``maximum(…maximum(maximum(p0, p1), p2)…)`` in a fresh array, left to right."""
    out = np.maximum(parts[0], parts[1]) if len(parts) > 1 else parts[0].copy()
    for part in parts[2:]:
        np.maximum(out, part, out=out)
    return out


def max_tiles(x: np.ndarray, kernel: Pair, out_hw: Pair):
    """:func:`max_windows` for non-overlapping, unpadded windows, with the same bits; None when
    a window holds a NaN (the general loop handles those as PyTorch does).

    Why faster: the maximum is taken along W first (on slices NumPy walks as one long strided
    run when W is a multiple of kw), then across the kh rows; the indices come from comparisons
    with the result instead of a running ``np.where``. Same bits: ``np.maximum`` returns its
    second argument on ties (±0), so any grouping in row-major order picks the same element.
    Plain form (what the general loop computes)::

        best = x[window 0]; index = 0
        for k, v in enumerate(x[window k] for each offset):
            index = where(v > best, k, index); best = maximum(best, v)
    """
    (kh, kw), (oh, ow) = kernel, out_hw
    x = x[:, :, : oh * kh, : ow * kw]  # the cells past the last whole window are never read
    rows = chained_maximum([x[:, :, :, j::kw] for j in range(kw)])  # (N, C, kh·OH, OW)
    best = chained_maximum([rows[:, :, i::kh] for i in range(kh)])
    if x.dtype.kind == "f" and np.isnan(best).any():
        return None
    # index = the first offset, in row-major window order, whose value equals the maximum.
    index_type = np.min_scalar_type(kh * kw - 1)
    later = np.ones(best.shape, dtype=bool)  # no earlier offset held the maximum
    index = np.zeros(best.shape, dtype=index_type)
    for k in range(kh * kw - 1):
        later &= x[:, :, k // kw :: kh, k % kw :: kw] != best
        index += later
    return best, index


def flat_indices(index, shape, kernel, stride, spans, dilation) -> np.ndarray:
    """Window positions as PyTorch's indices: ``row·W + col`` in the unpadded input."""
    oh, ow = index.shape[2:]
    i, j = np.divmod(index.astype(np.int64), kernel[1])
    rows = np.arange(oh)[:, None] * stride[0] + i * dilation[0] - spans[0][0]
    cols = np.arange(ow)[None, :] * stride[1] + j * dilation[1] - spans[1][0]
    return rows * shape[3] + cols


class MaxPool2d(Function):
    """y = max over each window:  dy/dxⱼ = 1 for the window's first maximal xⱼ, else 0."""

    def forward(self, x, *, result, kernel, stride, padding, dilation):
        best, self.index = result
        self.kernel, self.out_hw = kernel, best.shape[2:]
        self.stride, self.spans, self.dilation = stride, spans_of(padding), dilation
        self.xp_shape = (*x.shape[:2], *(x.shape[2 + a] + sum(self.spans[a]) for a in (0, 1)))
        return best

    def backward(self, grad):
        adjoint = call(
            MaxPool2dAdjoint, grad, index=self.index, kernel=self.kernel, stride=self.stride,
            spans=self.spans, dilation=self.dilation, xp_shape=self.xp_shape,
        )  # fmt: skip
        return (adjoint,)


class MaxPool2dAdjoint(Function):
    """y = Σ_windows g·e(argmax): d y/d g_w = 1 at window w's maximum (a Gather, see backward).

    Max pooling's input gradient: ``g`` ``(N, C, OH, OW)`` routed to each window's maximum
    (``index``, row-major within the window) in zeros of the padded ``xp_shape``, cropped to
    ``(N, C, H, W)``. Linear in ``g``; the indices are constants of the derivative.
    """

    def forward(self, g, *, index, kernel, stride, spans, dilation, xp_shape):
        self.index, self.kernel, self.stride = index, kernel, stride
        self.spans, self.dilation, self.xp_shape = spans, dilation, xp_shape
        kw = kernel[1]
        reach = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        disjoint = all(s >= r for s, r in zip(stride, reach))
        if disjoint:
            return crop(route_disjoint(g, index, kernel, stride, dilation, xp_shape), spans)
        gp = np.zeros(xp_shape, dtype=g.dtype)
        for i, j, where in offset_slices(kernel, g.shape[2:], stride, dilation):
            gp[where] += g * (index == i * kw + j)  # float × bool keeps g's dtype
        return crop(gp, spans)

    def backward(self, grad):
        (top, bottom), (left, right) = self.spans
        if top or bottom or left or right:
            widths = ((0, 0), (0, 0), (top, bottom), (left, right))
            grad = call(Pad, grad, widths=widths, value=0.0)
        pos = window_positions(self.index, self.kernel, self.stride, self.dilation, self.xp_shape)
        return (call(Gather, grad, pos=pos),)


def route_disjoint(g, index, kernel, stride, dilation, xp_shape) -> np.ndarray:
    """:class:`MaxPool2dAdjoint`'s scatter when every input cell is in at most one window:
    each offset's share written straight into its cells (no read-add-write, no temporaries);
    ``np.empty`` when the windows cover the whole padded array, so no zero fill either.

    Plain form: ``gp = zeros(xp_shape); gp[offset k's cells] = g * (index == k)`` for each k.
    """
    out_hw = g.shape[2:]
    covered = all(
        s == k and o * s == size for s, k, o, size in zip(stride, kernel, out_hw, xp_shape[2:])
    ) and tuple(dilation) == (1, 1)
    gp = (np.empty if covered else np.zeros)(xp_shape, dtype=g.dtype)
    hit = np.empty(index.shape, dtype=bool)
    for i, j, where in offset_slices(kernel, out_hw, stride, dilation):
        np.equal(index, i * kernel[1] + j, out=hit)
        np.multiply(g, hit, out=gp[where])  # g·1 or g·0 (−0 for g < 0), the plain form's bits
    return gp


def window_positions(index, kernel, stride, dilation, xp_shape) -> np.ndarray:
    """Flat positions in an array of the padded ``xp_shape`` ``(N, C, Hp, Wp)`` of each window's
    cell ``index`` (row-major within the window): int64 ``(N, C, OH, OW)``."""
    n, c, hp, wp = xp_shape
    oh, ow = index.shape[2:]
    i, j = np.divmod(index.astype(np.int64), kernel[1])
    rows = np.arange(oh)[:, None] * stride[0] + i * dilation[0]
    cols = np.arange(ow)[None, :] * stride[1] + j * dilation[1]
    planes = np.arange(n * c).reshape(n, c, 1, 1)
    return (planes * hp + rows) * wp + cols


def _divisor(divisor: Any, dtype: Any) -> Any:
    """The divisor (an int, or int counts per output cell) in the floating ``dtype``."""
    return divisor if isinstance(divisor, int) else divisor.astype(dtype)


class AvgPool2d(Function):
    """y = (1/dᵧₓ) Σ_window x:  dy/dxⱼ = 1/dᵧₓ for every xⱼ in the window (dᵧₓ: the divisor).

    ``divisor``: None (the window's cell count), an int, or int counts ``(OH, OW)`` (integers,
    so that a ``create_graph`` twin holds them as constants).
    """

    def forward(self, x, kernel, stride, padding, divisor=None):
        spans = spans_of(padding)
        out_hw = tuple(out_size(x.shape[2 + a], kernel[a], stride[a], *spans[a], 1) for a in (0, 1))
        xp = pad_array(x, spans)
        out = np.zeros((*x.shape[:2], *out_hw), dtype=x.dtype)
        for _, _, where in offset_slices(kernel, out_hw, stride, (1, 1)):
            out += xp[where]
        self.divisor = kernel[0] * kernel[1] if divisor is None else divisor
        out /= _divisor(self.divisor, x.dtype)
        self.xp_shape, self.kernel, self.stride, self.spans = xp.shape, kernel, stride, spans
        return out

    def backward(self, grad):
        g = grad / _divisor(self.divisor, grad.dtype)
        adjoint = call(
            AvgPool2dAdjoint, g, kernel=self.kernel, stride=self.stride, spans=self.spans,
            xp_shape=self.xp_shape,
        )  # fmt: skip
        return (adjoint,)


class AvgPool2dAdjoint(Function):
    """y = Σ over the windows holding each cell of g: d y/d g = the window sums (AvgPool2d, ÷1).

    The adjoint of a window sum: ``g`` ``(N, C, OH, OW)`` added into every cell of its window in
    zeros of the padded ``xp_shape``, cropped to ``(N, C, H, W)``.
    """

    def forward(self, g, *, kernel, stride, spans, xp_shape):
        self.kernel, self.stride, self.spans = kernel, stride, spans
        gp = np.zeros(xp_shape, dtype=g.dtype)
        for _, _, where in offset_slices(kernel, g.shape[2:], stride, (1, 1)):
            gp[where] += g
        return crop(gp, spans)

    def backward(self, grad):
        sums = call(
            AvgPool2d, grad, kernel=self.kernel, stride=self.stride, padding=self.spans, divisor=1
        )
        return (sums,)


class GlobalAvgPool2d(Function):
    """y = (1/(H·W)) Σ_{h,w} x:  dy/dx_{hw} = 1/(H·W)."""

    def forward(self, x):
        self.shape = x.shape
        return x.mean(axis=(2, 3), keepdims=True)

    def backward(self, grad):
        # A read-only broadcast view (as Mean's); on tensors, an Expand.
        return (np.broadcast_to(grad / (self.shape[2] * self.shape[3]), self.shape),)


# ----- argument checking --------------------------------------------------------------------


def _ceil_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length; ``ceil_mode`` keeps a last window only if it starts
    inside the input or its left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode, dims=2):
    """Checked ``(kernel, stride, spans, dilation, padding)`` of a pooling call on ``x``
    ``(N, C, H, W)``; ``spans`` adds on the right what ``ceil_mode``'s last window reads."""
    kernel = ntuple(op, "kernel_size", kernel_size, 1, dims)
    st = kernel if stride is None or stride == () else ntuple(op, "stride", stride, 1, dims)
    pad = ntuple(op, "padding", padding, 0, dims)
    dil = ntuple(op, "dilation", dilation, 1, dims)
    if dims == 1:
        kernel, st, pad, dil = (1, *kernel), (1, *st), (0, *pad), (1, *dil)
    for k, p, d in zip(kernel, pad, dil):
        if 2 * p > d * (k - 1) + 1:
            raise ValueError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    spans = []
    for a in (0, 1):
        size = x.shape[2 + a]
        out = _ceil_out(size, kernel[a], st[a], pad[a], dil[a], ceil_mode)
        if out < 1:
            raise ValueError(
                f"{op}: given input size {tuple(x.shape[2:])}, the calculated output size "
                f"along spatial axis {a} is {out}: output size is too small (kernel "
                f"{kernel[a]}, dilation {dil[a]}, padding {pad[a]})"
            )
        need = (out - 1) * st[a] + dil[a] * (kernel[a] - 1) + 1 - size - pad[a]
        spans.append((pad[a], max(need, 0)))
    return kernel, st, tuple(spans), dil, pad


def _as_2d(op: str, input: Any, dims: int, floating: bool = True) -> Tensor:
    x = as_float(input) if floating else as_tensor(input)
    check_input(op, x, dims)
    return unsqueeze(x, 2) if dims == 1 else x


def _max_pool(op, input, kernel_size, stride, padding, dilation, ceil_mode, dims):
    x = as_tensor(input)
    x = _as_2d(op, x, dims, floating=x._data.dtype.kind not in "iu")
    kernel, st, spans, dil, _ = pool_geometry(
        op, x, kernel_size, stride, padding, dilation, ceil_mode, dims
    )
    result = max_windows(x._data, kernel, st, spans, dil)
    out = MaxPool2d.apply(x, result=result, kernel=kernel, stride=st, padding=spans, dilation=dil)
    idx = flat_indices(result[1], x.shape, kernel, st, spans, dil)
    if dims == 1:
        return squeeze(out, 2), Tensor._wrap(idx[:, :, 0])
    return out, Tensor._wrap(idx)


# ----- public functions ---------------------------------------------------------------------


def max_pool2d(
    input: Tensor,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Largest value of each window, PyTorch's ``max_pool2d`` (padding counts as −∞).

    Shapes: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``, ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋
    + 1`` (⌈·⌉ with ``ceil_mode``); ``stride`` defaults to ``kernel_size``. Integer inputs stay
    integer (without gradients). The gradient goes to one element per window: the first maximum
    in row-major order on ties, as PyTorch does. With ``return_indices`` also the int64 indices
    ``row·W + col`` of the maxima, as :func:`max_unpool2d` takes them.
    """
    if not return_indices:
        x = as_tensor(input)
        x = _as_2d("MaxPool2d", x, 2, floating=x._data.dtype.kind not in "iu")
        kernel, st, spans, dil, _ = pool_geometry(
            "MaxPool2d", x, kernel_size, stride, padding, dilation, ceil_mode
        )
        result = max_windows(x._data, kernel, st, spans, dil)
        return MaxPool2d.apply(
            x, result=result, kernel=kernel, stride=st, padding=spans, dilation=dil
        )
    return _max_pool("MaxPool2d", input, kernel_size, stride, padding, dilation, ceil_mode, 2)


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
    return_indices: bool = True,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool2d` returning ``(values, indices)``, both ``(N, C, OH, OW)``."""
    return _max_pool("MaxPool2d", input, kernel_size, stride, padding, dilation, ceil_mode, 2)


def max_pool1d(
    input: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """:func:`max_pool2d` over ``(N, C, L)`` -> ``(N, C, OL)``; indices are positions in L."""
    out, idx = _max_pool("MaxPool1d", input, kernel_size, stride, padding, dilation, ceil_mode, 1)
    return (out, idx) if return_indices else out


def _avg_pool(op, input, kernel_size, stride, padding, ceil_mode, include_pad, divisor, dims):
    x = _as_2d(op, input, dims)
    kernel, st, spans, _, pad = pool_geometry(
        op, x, kernel_size, stride, padding, 1, ceil_mode, dims
    )
    if divisor is not None and (
        isinstance(divisor, bool) or not isinstance(divisor, (int, np.integer)) or divisor == 0
    ):
        raise ValueError(f"{op}: divisor must be not zero; got divisor_override={divisor!r}")
    counts = []
    for a in (0, 1):
        size, k, s, p = x.shape[2 + a], kernel[a], st[a], pad[a]
        n_out = out_size(size, k, s, *spans[a], 1)
        start = np.arange(n_out) * s - p
        end = np.minimum(start + k, size + p)  # cells past the right padding never count
        if not include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    if divisor is not None:
        div = int(divisor)
    elif include_pad and not ceil_mode:
        div = None  # every window is whole: one scalar divisor, as the plain form
    else:
        div = np.outer(counts[0], counts[1]).astype(np.int64)
    out = AvgPool2d.apply(x, kernel=kernel, stride=st, padding=spans, divisor=div)
    return squeeze(out, 2) if dims == 1 else out


def avg_pool2d(
    input: Tensor,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean of each window, PyTorch's ``avg_pool2d``.

    Shapes: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``; ``stride`` defaults to ``kernel_size``.
    The divisor is the window's cell count, zero padding included (``count_include_pad``,
    the default) or not; ``divisor_override`` replaces it by one number.
    """
    return _avg_pool(
        "AvgPool2d", input, kernel_size, stride, padding, ceil_mode,
        count_include_pad, divisor_override, 2,
    )  # fmt: skip


def avg_pool1d(
    input: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """:func:`avg_pool2d` over ``(N, C, L)`` -> ``(N, C, OL)``."""
    return _avg_pool(
        "AvgPool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1
    )
