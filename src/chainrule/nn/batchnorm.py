"""``BatchNorm1d``, ``BatchNorm2d``: normalize each channel over the batch, and
:class:`NormBase`, the parameters and running buffers they share with the instance norms.

The layers are built from mean, var, sqrt and arithmetic ops rather than a fused op, so their
backward is the chain rule through them; they match PyTorch's fused kernel to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter


class NormBase(Module):
    """Per-channel affine parameters and running estimates, as batch and instance norms hold them.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance for numerical stability.
    momentum : float or None
        Weight of each new batch in the running estimates; None gives the cumulative average
        over all batches so far.
    affine : bool
        Learn a per-channel scale ``weight`` (init 1) and shift ``bias`` (init 0).
    track_running_stats : bool
        Keep running estimates (buffers ``running_mean``, ``running_var``,
        ``num_batches_tracked``, all of shape ``(C,)`` but the last, a 0-d int64 count).
        When False the buffers are None and batch statistics are used in both modes.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64 for parameters and running estimates; the default float dtype when
        omitted.
    bias : bool, keyword-only
        With ``affine``, whether to learn the shift (PyTorch 2.13's option).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, f"nn.{type(self).__name__}")
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise ValueError(f"num_features must be a positive integer; got {num_features!r}")
        if num_features < 1:
            raise ValueError(f"num_features must be a positive integer; got {num_features!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        d = float_dtype(dtype)
        c = self.num_features
        if affine:
            self.weight = Parameter(np.ones(c, dtype=d))
            if bias:
                self.bias = Parameter(np.zeros(c, dtype=d))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype=d))
            self.register_buffer("running_var", np.ones(c, dtype=d))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.running_mean is not None:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running estimates, and weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(NormBase):
    """Batch normalization over ``(N, C)`` or ``(N, C, L)`` inputs, per channel C.

    ``y = (x − mean) / √(var + eps) · weight + bias``. In training mode mean and var are the
    batch's (var biased, dividing by the n values per channel), and the running estimates are
    updated with the unbiased var, as PyTorch does::

        running = (1 − momentum)·running + momentum·batch_statistic

    In evaluation mode the running estimates are used, unless ``track_running_stats`` is False.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance for numerical stability.
    momentum : float or None
        Weight of each new batch in the running estimates; None gives the cumulative average
        over all batches so far.
    affine : bool
        Learn a per-channel scale ``weight`` (init 1) and shift ``bias`` (init 0).
    track_running_stats : bool
        Keep running estimates (buffers ``running_mean``, ``running_var``,
        ``num_batches_tracked``). When False the buffers are None and batch statistics are used
        in both modes.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64 for parameters and running estimates; the default float dtype when
        omitted.
    bias : bool, keyword-only
        With ``affine``, whether to learn the shift (PyTorch 2.13's option).

    Shapes
    ------
    input ``(N, C)`` or ``(N, C, L)`` → output the same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        """Normalize ``input`` of shape ``(N, C)`` or ``(N, C, L)``; same shape out."""
        x = as_tensor(input)
        shape, c = x.shape, self.num_features
        axes, channel_shape = self._layout(x)
        if self.training or self.running_mean is None:
            n = x.numel() // c
            if n <= 1:
                raise ValueError(
                    f"{type(self).__name__} needs more than 1 value per channel to compute batch "
                    f"statistics; got input of shape {shape}"
                )
            mean = F.mean(x, axes, keepdims=True)
            var = F.var(x, axes, keepdims=True, correction=0)
            if self.training and self.running_mean is not None:
                self._track(mean._data.reshape(c), var._data.reshape(c), n)
            y = (x - mean) / F.sqrt(var + self.eps)
        else:
            inv_std = 1.0 / np.sqrt(self.running_var._data + self.eps)
            y = (x - self.running_mean._data.reshape(channel_shape)) * inv_std.reshape(
                channel_shape
            )
        if self.weight is not None:
            y = y * F.reshape(self.weight, channel_shape)
        if self.bias is not None:
            y = y + F.reshape(self.bias, channel_shape)
        return y

    def _layout(self, x: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes statistics are taken over, and the shape per-channel vectors broadcast as."""
        c = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != c:
            raise ValueError(
                f"BatchNorm1d(num_features={c}) got input of shape {x.shape}; expected shape "
                f"(N, {c}) or (N, {c}, L)"
            )
        # Per-channel vectors broadcast against (N, C) as (C,), against (N, C, L) as (C, 1).
        return ((0,), (c,)) if x.ndim == 2 else ((0, 2), (c, 1))

    def _track(self, batch_mean: np.ndarray, batch_var: np.ndarray, n: int) -> None:
        """Fold one batch's statistics into the running estimates, in place."""
        self.num_batches_tracked._data += 1
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked._data)
        else:
            factor = self.momentum
        running_mean, running_var = self.running_mean._data, self.running_var._data
        running_mean *= 1.0 - factor
        running_mean += factor * batch_mean
        running_var *= 1.0 - factor
        running_var += (factor * n / (n - 1)) * batch_var


class BatchNorm2d(BatchNorm1d):
    """Batch normalization of ``(N, C, H, W)`` feature maps, per channel C.

    Statistics are taken over N, H and W (``n = N·H·W`` values per channel); everything else,
    parameters and buffers included, is :class:`BatchNorm1d`'s.

    Shapes
    ------
    input ``(N, C, H, W)`` → output the same shape.
    """

    def _layout(self, x: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
        c = self.num_features
        if x.ndim != 4 or x.shape[1] != c:
            raise ValueError(
                f"BatchNorm2d(num_features={c}) got input of shape {x.shape}; expected shape "
                f"(N, {c}, H, W)"
            )
        return (0, 2, 3), (c, 1, 1)
