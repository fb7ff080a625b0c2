"""Transposed convolution: conv_transpose2d and conv_transpose1d, the adjoints of conv2d/conv1d.

A transposed convolution is the gradient of a convolution with respect to its input, so the
two halves of :mod:`chainrule.ops.conv` swap roles: the forward pass multiplies by the weight's
transpose and adds the columns back into the output (:class:`~chainrule.ops.windows.Col2im`),
the backward pass to the input gathers the gradient's windows
(:class:`~chainrule.ops.windows.Im2col`) and multiplies by the weight (a plain convolution).
Weight layout is PyTorch's ``(in, out/groups, kh, kw)``. Products, reshapes and the two window
ops only: with ``create_graph=True`` the same code records a differentiable gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import as_tensor
from chainrule.ops.conv import common_dtype
from chainrule.ops.op_call import call
from chainrule.ops.windows import Col2im, Im2col, check_input, ntuple

Pair = tuple[int, int]


class ConvTranspose2d(Function):
    """y = Wᵀ ⋆ᵀ x + b:  dL/dx = W ⋆ G (a convolution),  dL/dW = Σₙ x colsᵀ(G),  dL/db = Σ G."""

    def forward(self, x, weight, bias=None, *, stride, padding, output_padding, dilation, groups):
        n, cin, h, w = x.shape
        _, og, kh, kw = weight.shape
        wmat = weight.reshape(groups, cin // groups, og * kh * kw)
        xm = x.reshape(n, groups, cin // groups, h * w)
        cols = np.matmul(np.swapaxes(wmat, 1, 2), xm).reshape(n, groups * og, kh, kw, h, w)
        size = tuple(
            (x.shape[2 + a] - 1) * stride[a] + dilation[a] * ((kh, kw)[a] - 1) + 1
            + output_padding[a] - 2 * padding[a]
            for a in (0, 1)
        )  # fmt: skip
        self.spans = tuple((p, p) for p in padding)
        out = call(
            Col2im, cols, size=size, stride=stride, spans=self.spans, dilation=dilation,
            contiguous=True,
        )  # fmt: skip
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        self.x, self.wmat, self.w_shape, self.in_hw = xm, wmat, tuple(weight.shape), (h, w)
        self.stride, self.dilation = stride, dilation
        return out

    def backward(self, grad):
        need = self.needs_input_grad
        n, groups, cing, p = self.x.shape
        gcols = call(
            Im2col, grad, kernel=self.w_shape[2:], out_hw=self.in_hw, stride=self.stride,
            spans=self.spans, dilation=self.dilation,
        ).reshape(n, groups, -1, p)  # fmt: skip
        gx = gw = gb = None
        if need[0]:
            gx = np.matmul(self.wmat, gcols).reshape(n, groups * cing, *self.in_hw)
        if need[1]:
            gw = np.matmul(self.x, np.swapaxes(gcols, 2, 3)).sum(axis=0).reshape(self.w_shape)
        if len(need) > 2 and need[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb


class ConvTranspose1d(ConvTranspose2d):
    """y = Wᵀ ⋆ᵀ x + b on (N, C, L):  dL/dx, dL/dW, dL/db are ConvTranspose2d's with H = 1."""

    def forward(self, x, weight, bias=None, *, stride, padding, output_padding, dilation, groups):
        return super().forward(
            x[:, :, None, :],
            weight[:, :, None, :],
            bias,
            stride=(1, stride),
            padding=(0, padding),
            output_padding=(0, output_padding),
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


def _check_weight(name: str, x: Tensor, weight: Tensor, groups: Any, dims: int) -> None:
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{name}: weight must have shape (in, out/groups, {'kh, kw' if dims == 2 else 'k'}); "
            f"got {weight.shape}"
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer; got {groups!r}")
    if x.shape[1] % groups:
        raise ValueError(f"{name}: groups={groups} must divide the input channels ({x.shape[1]})")
    if weight.shape[0] != x.shape[1]:
        raise ValueError(
            f"{name}: weight {weight.shape} expects {weight.shape[0]} input channels; got "
            f"input of shape {x.shape}"
        )


def _geometry(name, x, kernel, stride, padding, output_padding, dilation, dims):
    st = ntuple(name, "stride", stride, 1, dims)
    pad = ntuple(name, "padding", padding, 0, dims)
    opad = ntuple(name, "output_padding", output_padding, 0, dims)
    dil = ntuple(name, "dilation", dilation, 1, dims)
    if any(o >= s and o >= d for o, s, d in zip(opad, st, dil)):
        raise ValueError(
            f"{name}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={opad}, stride={st} and dilation={dil}"
        )
    for a in range(dims):
        size = (x.shape[2 + a] - 1) * st[a] - 2 * pad[a] + dil[a] * (kernel[a] - 1) + opad[a] + 1
        if size < 1:
            raise ValueError(
                f"{name}: given input size {tuple(x.shape[2:])}, the calculated output size "
                f"along spatial axis {a} is {size}: output size is too small"
            )
    return st, pad, opad, dil


def _conv_transpose(op, x, weight, bias, stride, padding, output_padding, groups, dilation, dims):
    name = op.op_name
    x, weight = as_float(x), as_tensor(weight)
    check_input(name, x, dims)
    _check_weight(name, x, weight, groups, dims)
    geometry = _geometry(name, x, weight.shape[2:], stride, padding, output_padding, dilation, dims)
    try:
        x, weight, bias = common_dtype(x, weight, bias, weight.shape[1] * int(groups))
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    if dims == 1:
        geometry = tuple(g[0] for g in geometry)
    st, pad, opad, dil = geometry
    params = {
        "stride": st, "padding": pad, "output_padding": opad, "dilation": dil,
        "groups": int(groups),
    }  # fmt: skip
    if bias is None:
        return op.apply(x, weight, **params)
    return op.apply(x, weight, bias, **params)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    output_padding: int | Pair = 0,
    groups: int = 1,
    dilation: int | Pair = 1,
) -> Tensor:
    """2-D transposed convolution, PyTorch's ``conv_transpose2d`` (the gradient of conv2d).

    Shapes: input ``(N, C, H, W)``, weight ``(C, O/groups, kh, kw)``, bias ``(O,)`` ->
    ``(N, O, OH, OW)`` with ``OH = (H − 1)·sh − 2·ph + dh·(kh − 1) + oph + 1``. ``padding``
    crops the output; ``output_padding`` (smaller than the stride or the dilation) adds rows at
    the bottom and columns at the right, choosing among the sizes a strided conv2d maps to H.
    """
    return _conv_transpose(
        ConvTranspose2d, input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    groups: int = 1,
    dilation: int = 1,
) -> Tensor:
    """1-D transposed convolution, PyTorch's ``conv_transpose1d``.

    Shapes: input ``(N, C, L)``, weight ``(C, O/groups, k)``, bias ``(O,)`` -> ``(N, O, OL)``
    with ``OL = (L − 1)·s − 2p + d·(k − 1) + output_padding + 1``.
    """
    return _conv_transpose(
        ConvTranspose1d, input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )
