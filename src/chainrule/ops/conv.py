"""Convolution and pooling over feature maps: conv2d, conv1d, max/avg pooling, adaptive average.

Layout is PyTorch's: inputs ``(N, C, H, W)`` (``(N, C, L)`` for 1-D), weights
``(out, in/groups, kh, kw)``. The forward pass views the padded input as its sliding windows
(``as_strided``, no copy), gathers them once into columns and takes one batched matrix product.
The backward pass undoes the gathering (col2im) by looping over the kh·kw kernel offsets and adding
one strided slice of the gradient per offset: kh·kw vectorized additions, never a loop over pixels.

Every function keeps the input's float dtype: float32 in, float32 out, gradients included.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import as_tensor, cast

Pair = tuple[int, int]


# ----- window helpers (arrays only) -------------------------------------------------------


def _pad(x: np.ndarray, padding: Pair, value: float = 0.0) -> np.ndarray:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _out_size(size: int, k: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _windows(xp: np.ndarray, kernel: Pair, out: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """Read-only view ``(N, C, kh, kw, OH, OW)``: ``[n, c, i, j, y, x] = xp[n, c, y·sh + i·dh,
    x·sw + j·dw]``. Kernel axes come before output axes so that reshaping to columns
    ``(N, C·kh·kw, OH·OW)`` lines up with the weight's ``(out, C·kh·kw)`` layout."""
    s0, s1, s2, s3 = xp.strides
    shape = (xp.shape[0], xp.shape[1], *kernel, *out)
    strides = (s0, s1, s2 * dilation[0], s3 * dilation[1], s2 * stride[0], s3 * stride[1])
    return as_strided(xp, shape, strides, writeable=False)


def _offset_slices(kernel: Pair, out: Pair, stride: Pair, dilation: Pair):
    """For each kernel offset (i, j): the strided slice of the padded input it touches."""
    for i in range(kernel[0]):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0])
        for j in range(kernel[1]):
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1])
            yield i, j, (slice(None), slice(None), rows, cols)


def _crop(gp: np.ndarray, padding: Pair) -> np.ndarray:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return gp
    return gp[:, :, ph : gp.shape[2] - ph, pw : gp.shape[3] - pw]


# ----- ops ----------------------------------------------------------------------------------


class Conv2d(Function):
    """y = W ⋆ x + b:  dL/dx = col2im(Wᵀ G),  dL/dW = Σₙ G colsᵀ,  dL/db = Σ_{n,y,x} G."""

    def forward(self, x, weight, bias=None, *, stride, padding, dilation, groups):
        n, c, _, _ = x.shape
        o, cg, kh, kw = weight.shape
        xp = _pad(x, padding)
        out_hw = (
            _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0]),
            _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1]),
        )
        k = cg * kh * kw
        # The one copy of the forward pass: windows gathered into columns (N, G, Cg·kh·kw, P).
        cols = _windows(xp, (kh, kw), out_hw, stride, dilation).reshape(n, groups, k, -1)
        wmat = weight.reshape(groups, o // groups, k)
        out = np.matmul(wmat, cols).reshape(n, o, *out_hw)
        if bias is not None:
            out += bias.reshape(o, 1, 1)
        self.cols, self.wmat, self.xp_shape, self.x_shape = cols, wmat, xp.shape, x.shape
        self.kernel, self.out_hw = (kh, kw), out_hw
        self.stride, self.padding, self.dilation = stride, padding, dilation
        return out

    def backward(self, grad):
        need = self.needs_input_grad
        n, groups, k, p = self.cols.shape
        g = grad.reshape(n, groups, -1, p)
        gx = gw = gb = None
        if need[0]:
            dcols = np.matmul(self.wmat.transpose(0, 2, 1), g)
            dcols = dcols.reshape(n, self.x_shape[1], *self.kernel, *self.out_hw)
            gp = np.zeros(self.xp_shape, dtype=grad.dtype)
            for i, j, where in _offset_slices(self.kernel, self.out_hw, self.stride, self.dilation):
                gp[where] += dcols[:, :, i, j]
            gx = _crop(gp, self.padding)
        if need[1]:
            # Batched per-sample products then a sum over N: one big (O, N·P) @ (N·P, K) GEMM
            # is slower here, and much slower under OpenBLAS for these skinny shapes.
            gw = np.matmul(g, self.cols.transpose(0, 1, 3, 2)).sum(axis=0)
            gw = gw.reshape(-1, self.x_shape[1] // groups, *self.kernel)
        if len(need) > 2 and need[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb


class Conv1d(Conv2d):
    """y = W ⋆ x + b on (N, C, L):  dL/dx, dL/dW, dL/db are Conv2d's with H = 1."""

    def forward(self, x, weight, bias=None, *, stride, padding, dilation, groups):
        return super().forward(
            x[:, :, None, :],
            weight[:, :, None, :],
            bias,
            stride=(1, stride),
            padding=(0, padding),
            dilation=(1, dilation),
            groups=groups,
        )[:, :, 0, :]

    def backward(self, grad):
        gx, gw, gb = super().backward(grad[:, :, None, :])
        return (
            None if gx is None else gx[:, :, 0, :],
            None if gw is None else gw[:, :, 0, :],
            gb,
        )


class MaxPool2d(Function):
    """y = max over each window:  dy/dxⱼ = 1 for the window's first maximal xⱼ, else 0."""

    def forward(self, x, kernel, stride, padding, dilation):
        n, c = x.shape[:2]
        out_hw = tuple(
            _out_size(x.shape[2 + a], kernel[a], stride[a], padding[a], dilation[a]) for a in (0, 1)
        )
        xp = _pad(x, padding, -np.inf)
        # A running maximum over the kh·kw offset slices: no copy of the windows. Only a strictly
        # greater value takes over, so on ties the first maximum in row-major window order keeps
        # the gradient, as in PyTorch.
        index_type = np.min_scalar_type(kernel[0] * kernel[1] - 1)
        best = index = None
        for i, j, where in _offset_slices(kernel, out_hw, stride, dilation):
            v = xp[where]
            if best is None:
                best, index = v.copy(), np.zeros(v.shape, dtype=index_type)
                continue
            better = v > best
            np.maximum(best, v, out=best)  # np.where beats copyto(where=) here by 2-3×
            index = np.where(better, index_type.type(i * kernel[1] + j), index)
        if np.isnan(best).any():
            # PyTorch propagates NaN and routes the gradient to it: redo the indices exactly.
            index[...] = 0
            best = xp[next(_offset_slices(kernel, out_hw, stride, dilation))[2]].copy()
            for i, j, where in _offset_slices(kernel, out_hw, stride, dilation):
                v = xp[where]
                better = (v > best) | (v != v)
                best = np.where(better, v, best)
                index = np.where(better, index_type.type(i * kernel[1] + j), index)
        self.index, self.xp_shape, self.kernel, self.out_hw = index, xp.shape, kernel, out_hw
        self.stride, self.padding, self.dilation = stride, padding, dilation
        return best

    def backward(self, grad):
        gp = np.zeros(self.xp_shape, dtype=grad.dtype)
        kw = self.kernel[1]
        spans = [d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel)]
        disjoint = all(s >= span for s, span in zip(self.stride, spans))
        for i, j, where in _offset_slices(self.kernel, self.out_hw, self.stride, self.dilation):
            routed = grad * (self.index == i * kw + j)  # float × bool keeps grad's dtype
            if disjoint:  # each input element is in one window: write instead of read-add-write
                gp[where] = routed
            else:
                gp[where] += routed
        return (_crop(gp, self.padding),)


class AvgPool2d(Function):
    """y = (1/(kh·kw)) Σ_window x:  dy/dxⱼ = 1/(kh·kw) for every xⱼ in the window (pads count)."""

    def forward(self, x, kernel, stride, padding):
        out_hw = tuple(
            _out_size(x.shape[2 + a], kernel[a], stride[a], padding[a], 1) for a in (0, 1)
        )
        xp = _pad(x, padding)
        out = np.zeros((*x.shape[:2], *out_hw), dtype=x.dtype)
        for _, _, where in _offset_slices(kernel, out_hw, stride, (1, 1)):
            out += xp[where]
        out /= kernel[0] * kernel[1]
        self.xp_shape, self.kernel, self.out_hw = xp.shape, kernel, out_hw
        self.stride, self.padding = stride, padding
        return out

    def backward(self, grad):
        g = grad / (self.kernel[0] * self.kernel[1])
        gp = np.zeros(self.xp_shape, dtype=grad.dtype)
        for _, _, where in _offset_slices(self.kernel, self.out_hw, self.stride, (1, 1)):
            gp[where] += g
        return (_crop(gp, self.padding),)


class GlobalAvgPool2d(Function):
    """y = (1/(H·W)) Σ_{h,w} x:  dy/dx_{hw} = 1/(H·W)."""

    def forward(self, x):
        self.shape = x.shape
        return x.mean(axis=(2, 3), keepdims=True)

    def backward(self, grad):
        out = np.empty(self.shape, dtype=grad.dtype)
        out[...] = grad / (self.shape[2] * self.shape[3])
        return (out,)


# ----- argument checking --------------------------------------------------------------------


def _pair(op: str, name: str, value: Any, minimum: int, dims: int = 2) -> tuple[int, ...]:
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


def _check_input(op: str, x: Tensor, dims: int) -> None:
    spatial = ("H", "W") if dims == 2 else ("L",)
    if x.ndim != dims + 2:
        raise ValueError(
            f"{op}: expected input of shape (N, C, {', '.join(spatial)}); got shape {x.shape}"
        )


def _check_fits(op: str, x: Tensor, kernel, stride, padding, dilation) -> None:
    """Refuse a kernel that does not fit inside the padded input at least once."""
    for a, size in enumerate(x.shape[2:]):
        span = dilation[a] * (kernel[a] - 1) + 1
        if span > size + 2 * padding[a]:
            raise ValueError(
                f"{op}: kernel size {tuple(kernel)} (dilation {tuple(dilation)}) spans {span} "
                f"but the padded input is only {size + 2 * padding[a]} along spatial axis {a} "
                f"(input {x.shape}, padding {tuple(padding)})"
            )


def _conv(op, x, weight, bias, stride, padding, dilation, groups, dims):
    name = op.op_name
    x, weight = as_float(x), as_tensor(weight)
    _check_input(name, x, dims)
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{name}: weight must have shape (out, in/groups, {'kh, kw' if dims == 2 else 'k'}); "
            f"got {weight.shape}"
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer; got {groups!r}")
    out_c, in_per_group = weight.shape[:2]
    if x.shape[1] % groups or out_c % groups:
        raise ValueError(
            f"{name}: groups={groups} must divide both the input channels ({x.shape[1]}) and "
            f"the output channels ({out_c})"
        )
    if x.shape[1] != in_per_group * groups:
        raise ValueError(
            f"{name}: weight {weight.shape} with groups={groups} expects {in_per_group * groups} "
            f"input channels; got input of shape {x.shape}"
        )
    st = _pair(name, "stride", stride, 1, dims)
    pad = _pair(name, "padding", padding, 0, dims)
    dil = _pair(name, "dilation", dilation, 1, dims)
    _check_fits(name, x, weight.shape[2:], st, pad, dil)
    if x.data.dtype is not weight.data.dtype:
        # The layer's dtype wins, as in linear(): float64 data meets float32 weights in float32.
        dtype = weight.data.dtype if weight.data.dtype.kind == "f" else x.data.dtype
        x, weight = cast(x, dtype), cast(weight, dtype)
    if dims == 1:
        st, pad, dil = st[0], pad[0], dil[0]
    params = {"stride": st, "padding": pad, "dilation": dil, "groups": int(groups)}
    if bias is None:
        return op.apply(x, weight, **params)
    bias = cast(as_tensor(bias), x.data.dtype)
    if bias.shape != (out_c,):
        raise ValueError(f"{name}: bias has shape {bias.shape}; expected ({out_c},)")
    return op.apply(x, weight, bias, **params)


# ----- public functions ---------------------------------------------------------------------


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, PyTorch's ``conv2d``.

    Shapes: x ``(N, C, H, W)``, weight ``(O, C/groups, kh, kw)``, bias ``(O,)`` ->
    ``(N, O, OH, OW)`` with ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1`` (likewise OW).
    Input channels are split into ``groups`` blocks, each seen by ``O/groups`` filters.
    """
    return _conv(Conv2d, x, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation, PyTorch's ``conv1d``.

    Shapes: x ``(N, C, L)``, weight ``(O, C/groups, k)``, bias ``(O,)`` -> ``(N, O, OL)`` with
    ``OL = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1``.
    """
    return _conv(Conv1d, x, weight, bias, stride, padding, dilation, groups, 1)


def _pool_args(op: str, x: Tensor, kernel_size, stride, padding, dilation=1):
    _check_input(op, x, 2)
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    st = kernel if stride is None or stride == () else _pair(op, "stride", stride, 1)
    pad = _pair(op, "padding", padding, 0)
    dil = _pair(op, "dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(pad, kernel)):
        raise ValueError(
            f"{op}: padding {pad} must be at most half the kernel size {kernel}, as in PyTorch"
        )
    _check_fits(op, x, kernel, st, pad, dil)
    return kernel, st, pad, dil


def max_pool2d(
    x: Tensor,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
) -> Tensor:
    """Largest value of each window, PyTorch's ``max_pool2d`` (padding counts as −∞).

    Shapes: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``; ``stride`` defaults to ``kernel_size``.
    The gradient goes to one element per window: the first maximum in row-major order on ties,
    as PyTorch does.
    """
    x = as_float(x)
    kernel, st, pad, dil = _pool_args("MaxPool2d", x, kernel_size, stride, padding, dilation)
    return MaxPool2d.apply(x, kernel=kernel, stride=st, padding=pad, dilation=dil)


def avg_pool2d(
    x: Tensor,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
) -> Tensor:
    """Mean of each window, PyTorch's ``avg_pool2d`` with ``count_include_pad=True``.

    Shapes: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``; ``stride`` defaults to ``kernel_size``.
    Zero padding counts in the denominator: every window divides by ``kh·kw``.
    """
    x = as_float(x)
    kernel, st, pad, _ = _pool_args("AvgPool2d", x, kernel_size, stride, padding)
    return AvgPool2d.apply(x, kernel=kernel, stride=st, padding=pad)


def adaptive_avg_pool2d(x: Tensor, output_size: int | Pair) -> Tensor:
    """Average pooling to a fixed output size, PyTorch's ``adaptive_avg_pool2d``.

    Shapes: ``(N, C, H, W)`` -> ``(N, C, oh, ow)``. Output 1×1 (global average pooling) works
    for any H, W; other sizes only when they divide H and W evenly (then it is ``avg_pool2d``).
    """
    x = as_float(x)
    _check_input("AdaptiveAvgPool2d", x, 2)
    oh, ow = _pair("AdaptiveAvgPool2d", "output_size", output_size, 1)
    h, w = x.shape[2:]
    if (oh, ow) == (1, 1):
        return GlobalAvgPool2d.apply(x)
    if h % oh or w % ow:
        raise NotImplementedError(
            f"adaptive_avg_pool2d: output size {(oh, ow)} must divide the input size {(h, w)} "
            "evenly (or be 1); PyTorch's uneven windows are not implemented"
        )
    return avg_pool2d(x, (h // oh, w // ow))
