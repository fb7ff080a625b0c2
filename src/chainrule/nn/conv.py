"""Convolution layers ``Conv2d`` and ``Conv1d``, with PyTorch's layouts and initialization."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.random import GeneratorLike, resolve_generator


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _tuple(name: str, value: Any, dims: int, minimum: int) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
        for v in values
    ):
        bound = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{name} must be a {bound} integer or a tuple of {dims}; got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    """Shared construction, checking and initialization of Conv1d and Conv2d."""

    dims = 2
    spatial = "H, W"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        dtype: Any = None,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels = _positive("in_channels", in_channels)
        self.out_channels = _positive("out_channels", out_channels)
        self.groups = _positive("groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels ({in_channels}) and "
                f"out_channels ({out_channels})"
            )
        self.kernel_size = _tuple("kernel_size", kernel_size, self.dims, 1)
        self.stride = _tuple("stride", stride, self.dims, 1)
        self.padding = _tuple("padding", padding, self.dims, 0)
        self.dilation = _tuple("dilation", dilation, self.dims, 1)
        d = float_dtype(dtype)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=d))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """PyTorch's default: U(±1/√fan_in) for weight and bias, fan_in = in/groups·∏kernel."""
        generator = resolve_generator(generator)  # once: one stream for weight and bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound, generator)

    def _check(self, input: Any) -> Tensor:
        x = as_tensor(input)
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}(in_channels={self.in_channels}) expected input of shape "
                f"(N, {self.in_channels}, {self.spatial}); got {x.shape}"
            )
        return x

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if any(self.padding):
            s += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` feature maps.

    Parameters
    ----------
    in_channels, out_channels : int
        C of the input and of the output.
    kernel_size, stride, padding, dilation : int or (int, int)
        Window size; step between windows (≥ 1); zeros added on each side (≥ 0); spacing
        between kernel taps (≥ 1).
    groups : int
        Split channels into this many independent blocks; must divide both channel counts.
    bias : bool
        Learn a per-output-channel bias.
    dtype : dtype, optional
        float32 (default) or float64.
    generator : numpy.random.Generator, int seed or None
        Draws the initial values (chainrule's global generator by default).

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels/groups, kh, kw)
        Initialized from U(±1/√fan_in), PyTorch's ``kaiming_uniform_(a=√5)``.
    bias : Parameter of shape (out_channels,) or None
        Initialized from U(±1/√fan_in).

    Shapes
    ------
    input ``(N, in_channels, H, W)`` → output ``(N, out_channels, OH, OW)``,
    ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1``.
    """

    def forward(self, input: Tensor) -> Tensor:
        """Convolve ``input`` ``(N, C, H, W)`` → ``(N, out_channels, OH, OW)``."""
        x = self._check(input)
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C, L)`` sequences; the parameters are :class:`Conv2d`'s.

    Shapes
    ------
    weight ``(out_channels, in_channels/groups, k)``; input ``(N, in_channels, L)`` → output
    ``(N, out_channels, OL)``, ``OL = ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1``.
    """

    dims = 1
    spatial = "L"

    def forward(self, input: Tensor) -> Tensor:
        """Convolve ``input`` ``(N, C, L)`` → ``(N, out_channels, OL)``."""
        x = self._check(input)
        return F.conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )
