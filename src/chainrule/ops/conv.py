"""Convolution over feature maps: conv2d and conv1d (cross-correlation, PyTorch's layouts).

Layout is PyTorch's: inputs ``(N, C, H, W)`` (``(N, C, L)`` for 1-D), weights
``(out, in/groups, kh, kw)``. The forward pass views the padded input as its sliding windows
(:func:`~chainrule.ops.windows.windows`, no copy), gathers them once into columns
(:class:`~chainrule.ops.windows.Im2col`) and takes one batched matrix product. The backward
pass to the input is a transposed convolution: the columns' gradient added back by
:class:`~chainrule.ops.windows.Col2im`, kh·kw vectorized additions, never a loop over pixels.
:mod:`chainrule.ops.conv_transpose` runs the same two halves the other way round.

Both passes are written with matrix products, reshapes and those two ops (each the other's
backward), so with ``create_graph=True`` the same code records a differentiable gradient.

Every function keeps the input's float dtype: float32 in, float32 out, gradients included.
The pooling functions that used to live here are re-exported from :mod:`chainrule.ops.pooling`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import as_tensor, cast
from chainrule.ops.op_call import call
from chainrule.ops.pooling import avg_pool2d, max_pool2d
from chainrule.ops.pooling_adaptive import adaptive_avg_pool2d
from chainrule.ops.windows import (
    Col2im,
    Im2col,
    check_fits,
    check_input,
    col2im_rows,
    crop,
    ntuple,
    out_size,
    spans_of,
)

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "max_pool2d"]

Pair = tuple[int, int]


class Conv2d(Function):
    """y = W ⋆ x + b:  dL/dx = col2im(Wᵀ G),  dL/dW = Σₙ G colsᵀ,  dL/db = Σ_{n,y,x} G."""

    def forward(self, x, weight, bias=None, *, stride, padding, dilation, groups):
        n = x.shape[0]
        o, cg, kh, kw = weight.shape
        spans = spans_of(padding)
        out_hw = tuple(
            out_size(x.shape[2 + a], (kh, kw)[a], stride[a], *spans[a], dilation[a]) for a in (0, 1)
        )
        k = cg * kh * kw
        # The one copy of the forward pass: windows gathered into columns (N, G, Cg·kh·kw, P).
        cols = call(
            Im2col, x, kernel=(kh, kw), out_hw=out_hw, stride=stride, spans=spans,
            dilation=dilation,
        ).reshape(n, groups, k, out_hw[0] * out_hw[1])  # fmt: skip
        wmat = weight.reshape(groups, o // groups, k)
        out = np.matmul(wmat, cols)  # (N, G, O/G, P)
        if bias is not None:
            out += bias.reshape(groups, o // groups, 1)  # before the reshape: not a view
        self.cols, self.wmat, self.x_shape = cols, wmat, tuple(x.shape)
        self.kernel, self.out_hw = (kh, kw), out_hw
        self.stride, self.spans, self.dilation = stride, spans, dilation
        return out.reshape(n, o, *out_hw)

    def backward(self, grad):
        need = self.needs_input_grad
        n, groups, k, p = self.cols.shape
        g = grad.reshape(n, groups, self.wmat.shape[1], p)  # no -1: N may be 0
        gx = gw = gb = None
        if need[0] and isinstance(grad, np.ndarray) and self.stride == (1, 1):
            gx = self.input_grad_rows(g)
        elif need[0]:  # the plain form, and the one that records on tensors (create_graph)
            dcols = np.matmul(np.swapaxes(self.wmat, 1, 2), g)
            dcols = dcols.reshape(n, self.x_shape[1], *self.kernel, *self.out_hw)
            gx = call(
                Col2im, dcols, size=self.x_shape[2:], stride=self.stride, spans=self.spans,
                dilation=self.dilation,
            )  # fmt: skip
        if need[1]:
            # Batched per-sample products then a sum over N: one big (O, N·P) @ (N·P, K) GEMM
            # is slower here, and much slower under OpenBLAS for these skinny shapes.
            gw = np.matmul(g, np.swapaxes(self.cols, 2, 3)).sum(axis=0)
            gw = gw.reshape(-1, self.x_shape[1] // groups, *self.kernel)
        if len(need) > 2 and need[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb

    def input_grad_rows(self, g: np.ndarray) -> np.ndarray:
        """dL/dx for stride 1 on arrays: ``g`` ``(N, G, O/G, OH·OW)`` widened with zero columns
        to the padded width Wp, so that ``Wᵀ G`` comes out in :func:`col2im_rows`' layout.

        Same sums in the same order as the plain form (below, in ``backward``); float64 results
        are bit-identical, float32 ones may differ in the last bit (OpenBLAS picks other kernels
        for the wider product): within 1e-7 of the largest gradient in the cases measured.
        """
        n, groups, og, _ = g.shape
        (oh, ow), c = self.out_hw, self.x_shape[1]
        hp, wp = (self.x_shape[2 + a] + sum(self.spans[a]) for a in (0, 1))
        wide = np.zeros((n, groups, og, oh, wp), dtype=g.dtype)
        wide[..., :ow] = g.reshape(n, groups, og, oh, ow)
        dcols = np.matmul(np.swapaxes(self.wmat, 1, 2), wide.reshape(n, groups, og, oh * wp))
        dcols = dcols.reshape(n, c, *self.kernel, oh * wp)
        return crop(col2im_rows(dcols, (n, c, hp, wp), self.kernel, self.dilation), self.spans)


class Conv1d(Conv2d):
    """y = W ⋆ x + b on (N, C, L):  dL/dx, dL/dW, dL/db are Conv2d's with H = 1."""

    def forward(self, x, weight, bias=None, *, stride, padding, dilation, groups):
        return super().forward(
            x[:, :, None, :],
            weight[:, :, None, :],
            bias,
            stride=(1, stride),
            padding=((0, 0), padding),
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


# ----- argument checking --------------------------------------------------------------------


def padding_spans(op: str, padding: Any, kernel: Any, stride: Any, dilation: Any, dims: int):
    """``(before, after)`` per spatial axis for an int, a tuple, ``'valid'`` or ``'same'``.

    ``'same'`` pads ``d·(k − 1)`` in total, the odd one on the right (after), as PyTorch.
    """
    if not isinstance(padding, str):
        return tuple((p, p) for p in ntuple(op, "padding", padding, 0, dims))
    if padding == "valid":
        return ((0, 0),) * dims
    if padding != "same":
        raise ValueError(
            f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
        )
    if any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _check_weight(name: str, x: Tensor, weight: Tensor, groups: Any, dims: int) -> None:
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


def common_dtype(x: Tensor, weight: Tensor, bias: Any, size: int) -> tuple:
    """``x``, ``weight`` and ``bias`` in one dtype: the layer's wins, as in ``linear()``
    (float64 data meets float32 weights in float32). ``bias`` must have shape ``(size,)``."""
    if x._data.dtype is not weight._data.dtype:
        dtype = weight._data.dtype if weight._data.dtype.kind == "f" else x._data.dtype
        x, weight = cast(x, dtype), cast(weight, dtype)
    if bias is not None:
        bias = cast(as_tensor(bias), x._data.dtype)
        if bias.shape != (size,):
            raise ValueError(f"bias has shape {bias.shape}; expected ({size},)")
    return x, weight, bias


def _conv(op, x, weight, bias, stride, padding, dilation, groups, dims):
    name = op.op_name
    x, weight = as_float(x), as_tensor(weight)
    check_input(name, x, dims)
    _check_weight(name, x, weight, groups, dims)
    st = ntuple(name, "stride", stride, 1, dims)
    dil = ntuple(name, "dilation", dilation, 1, dims)
    spans = padding_spans(name, padding, weight.shape[2:], st, dil, dims)
    check_fits(name, x, weight.shape[2:], spans, dil)
    try:
        x, weight, bias = common_dtype(x, weight, bias, weight.shape[0])
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    if dims == 1:
        st, spans, dil = st[0], spans[0], dil[0]
    params = {"stride": st, "padding": spans, "dilation": dil, "groups": int(groups)}
    if bias is None:
        return op.apply(x, weight, **params)
    return op.apply(x, weight, bias, **params)


# ----- public functions ---------------------------------------------------------------------


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, PyTorch's ``conv2d``.

    Shapes: input ``(N, C, H, W)``, weight ``(O, C/groups, kh, kw)``, bias ``(O,)`` ->
    ``(N, O, OH, OW)`` with ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1`` (likewise OW).
    Input channels are split into ``groups`` blocks, each seen by ``O/groups`` filters.
    ``padding`` may also be ``'valid'`` (none) or ``'same'`` (OH = H; stride 1 only; an odd
    total ``dh·(kh − 1)`` puts the extra row at the bottom, as PyTorch).
    """
    return _conv(Conv2d, input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation, PyTorch's ``conv1d``.

    Shapes: input ``(N, C, L)``, weight ``(O, C/groups, k)``, bias ``(O,)`` -> ``(N, O, OL)``
    with ``OL = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1``; ``padding`` may be ``'valid'`` or ``'same'``.
    """
    return _conv(Conv1d, input, weight, bias, stride, padding, dilation, groups, 1)
