"""Normalization over features: ``LayerNorm``, ``RMSNorm``, ``GroupNorm``, ``LocalResponseNorm``.

Batch normalization lives in :mod:`chainrule.nn.batchnorm` (as in PyTorch's layout) and is
re-exported here, so ``chainrule.nn.normalization.BatchNorm1d`` keeps working.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.batchnorm import BatchNorm1d, BatchNorm2d
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "LayerNorm",
    "LocalResponseNorm",
    "RMSNorm",
]


def _normalized_shape(value: Any) -> tuple[int, ...]:
    shape = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise TypeError(f"normalized_shape must be an int or a sequence of ints; got {value!r}")
    return tuple(int(s) for s in shape)


class _AffineNorm(Module):
    """What LayerNorm, RMSNorm and GroupNorm share: a per-element scale (init 1) and shift
    (init 0) over the normalized shape, either of which may be switched off."""

    def _affine(self, shape: Any, weight: bool, bias: bool | None, dtype: Any) -> None:
        """Register ``weight`` and ``bias`` of ``shape`` (None where off); ``bias=None`` means
        the layer has no bias at all (RMSNorm)."""
        d = float_dtype(dtype)
        self.register_parameter("weight", Parameter(np.ones(shape, dtype=d)) if weight else None)
        if bias is not None:
            shift = Parameter(np.zeros(shape, dtype=d)) if weight and bias else None
            self.register_parameter("bias", shift)

    def reset_parameters(self) -> None:
        """Weight to 1 and bias (where there is one) to 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if getattr(self, "bias", None) is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    """Layer normalization over the trailing ``normalized_shape`` axes of every sample.

    ``y = (x − E[x]) / √(Var[x] + eps) · weight + bias``, the mean and the biased variance
    taken over the last ``len(normalized_shape)`` axes; one fused op (see
    :func:`chainrule.functional.layer_norm`).

    Parameters
    ----------
    normalized_shape : int or sequence of int
        The trailing shape normalized over.
    eps : float
        Added to the variance for numerical stability.
    elementwise_affine : bool
        Learn ``weight`` (init 1) and ``bias`` (init 0) of shape ``normalized_shape``.
    bias : bool
        With ``elementwise_affine``, whether to learn the shift.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.

    Shapes
    ------
    input ``(*, *normalized_shape)`` → output the same shape.
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.LayerNorm")
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, bias, dtype)

    def forward(self, input: Tensor) -> Tensor:
        """Normalize ``input`` of shape ``(*, *normalized_shape)``; same shape out."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class RMSNorm(_AffineNorm):
    """Root-mean-square normalization: ``y = x / √(mean(x²) + eps) · weight``.

    The mean is over the trailing ``normalized_shape`` axes; nothing is subtracted.

    Parameters
    ----------
    normalized_shape : int or sequence of int
        The trailing shape normalized over.
    eps : float or None
        Added to the mean square; None means ``finfo(input.dtype).eps``, as PyTorch.
    elementwise_affine : bool
        Learn ``weight`` (init 1) of shape ``normalized_shape``.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.

    Shapes
    ------
    input ``(*, *normalized_shape)`` → output the same shape.
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.RMSNorm")
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._affine(self.normalized_shape, elementwise_affine, None, dtype)

    def forward(self, input: Tensor) -> Tensor:
        """Normalize ``input`` of shape ``(*, *normalized_shape)``; same shape out."""
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class GroupNorm(_AffineNorm):
    """Group normalization: each sample's channels split into ``num_groups`` groups, each group
    normalized over its channels and positions, then a per-channel affine.

    Parameters
    ----------
    num_groups : int
        Number of groups; must divide ``num_channels``.
    num_channels : int
        C, the number of channels.
    eps : float
        Added to the variance for numerical stability.
    affine : bool
        Learn per-channel ``weight`` (init 1) and ``bias`` (init 0) of shape ``(C,)``.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.
    bias : bool, keyword-only
        With ``affine``, whether to learn the shift.

    Shapes
    ------
    input ``(N, C, *)`` → output the same shape.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.GroupNorm")
        if num_groups <= 0 or num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        self._affine(self.num_channels, affine, bias, dtype)

    def forward(self, input: Tensor) -> Tensor:
        """Normalize ``input`` of shape ``(N, C, *)``; same shape out."""
        x = as_tensor(input)
        if x.ndim >= 2 and x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm(num_channels={self.num_channels}) got input of shape {x.shape}; "
                f"expected (N, {self.num_channels}, *)"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LocalResponseNorm(Module):
    """Local response normalization across channels.

    ``y_c = x_c / (k + alpha/size · Σ x_{c'}²)^beta``, the sum over the ``size`` channels
    centred on c (zero-padded at the ends: ``size//2`` before, ``(size−1)//2`` after).

    Parameters
    ----------
    size : int
        Number of neighbouring channels summed over.
    alpha, beta, k : float
        The multiplicative factor, the exponent and the additive constant.

    Shapes
    ------
    input ``(N, C, *)`` → output the same shape.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        """Normalize ``input`` of shape ``(N, C, *)``; same shape out."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
