"""Folding an eval-mode batch norm into the layer before it, as ``torch.nn.utils.fusion``.

In eval mode batch norm is the affine map ``y = (x − μ)·γ/√(σ² + ε) + β`` per channel, so a
convolution or linear layer followed by it equals one layer with rescaled weights and a new
bias: one op less at inference, the same outputs up to round-off.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

import numpy as np

from chainrule._tensor import Tensor
from chainrule.nn.parameter import Parameter

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]

L = TypeVar("L")


def _values(t: Tensor | None, like: np.ndarray, fill: float) -> np.ndarray:
    return np.full_like(like, fill) if t is None else t._data


def _bn_scale(
    bn_rm: Tensor, bn_rv: Tensor, bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per channel ``(γ/√(σ² + ε), β)``, γ = 1 and β = 0 without affine parameters."""
    scale = _values(bn_w, bn_rm._data, 1.0) / np.sqrt(bn_rv._data + bn_eps)
    return scale, _values(bn_b, bn_rm._data, 0.0)


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution that includes the batch norm after it.

    Shapes: ``conv_w`` ``(out, in/groups, *kernel)`` (``(in, out/groups, *kernel)`` with
    ``transpose``), the others ``(out,)``. ``W' = W·s`` along the output channels and
    ``b' = (b − μ)·s + β``, with ``s = γ/√(σ² + ε)``. The new parameters have ``conv_w``'s
    dtype and ``requires_grad``.
    """
    scale, shift = _bn_scale(bn_rm, bn_rv, bn_eps, bn_w, bn_b)
    shape = [1] * conv_w.ndim
    shape[1 if transpose else 0] = -1
    weight = (conv_w._data * scale.reshape(shape)).astype(conv_w.dtype)
    bias = ((_values(conv_b, bn_rm._data, 0.0) - bn_rm._data) * scale + shift).astype(conv_w.dtype)
    grad = conv_w.requires_grad
    return Parameter(weight, grad), Parameter(bias, grad)


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The weight ``(out, in)`` and bias ``(out,)`` of a linear layer that includes the batch
    norm (of ``out`` or 1 features) after it: ``W' = diag(s)·W``, ``b' = (b − μ)·s + β``."""
    scale, shift = _bn_scale(bn_rm, bn_rv, bn_eps, bn_w, bn_b)
    weight = (linear_w._data * scale[:, None]).astype(linear_w.dtype)
    bias = (_values(linear_b, bn_rm._data, 0.0) - bn_rm._data) * scale + shift
    grad = linear_w.requires_grad
    return Parameter(weight, grad), Parameter(bias.astype(linear_w.dtype), grad)


def _check_eval(layer: Any, bn: Any) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fusion needs the batch norm's running statistics (track_running_stats)")


def fuse_conv_bn_eval(conv: L, bn: Any, transpose: bool = False) -> L:
    """A copy of ``conv`` (in eval mode) that also applies ``bn`` (in eval mode) after it."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    stats = (bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    weight, bias = fuse_conv_bn_weights(fused.weight, fused.bias, *stats, transpose)
    fused.weight, fused.bias = weight, bias
    return fused


def fuse_linear_bn_eval(linear: L, bn: Any) -> L:
    """A copy of ``linear`` (in eval mode) that also applies ``bn`` (in eval mode) after it."""
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features must equal bn.num_features or bn.num_features must be 1"
        )
    fused = copy.deepcopy(linear)
    weight, bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    fused.weight, fused.bias = weight, bias
    return fused
