"""Convolution layers ``Conv1d``, ``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d``,
with PyTorch's signatures, parameter layouts, initialization and ``extra_repr``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.devices import DeviceLike, check_cpu
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.random import GeneratorLike, resolve_generator

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


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


def _padding(padding: Any, dims: int, stride: tuple[int, ...]) -> tuple[int, ...] | str:
    if not isinstance(padding, str):
        return _tuple("padding", padding, dims, 0)
    if padding not in ("valid", "same"):
        raise ValueError(
            f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
        )
    if padding == "same" and any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    return padding


class _ConvNd(Module):
    """Shared construction, checking, initialization and printing of the convolution layers."""

    dims = 2
    spatial = "H, W"
    transposed = False

    def _setup(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups):
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
        self.dilation = _tuple("dilation", dilation, self.dims, 1)
        self.padding = _padding(padding, self.dims, self.stride)

    def _parameters_of(self, shape, bias, device, dtype, generator) -> None:
        check_cpu(device, f"nn.{type(self).__name__}")
        d = float_dtype(dtype)
        self.weight = Parameter(np.empty(shape, dtype=d))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """PyTorch's default: U(±1/√fan_in) for weight and bias, fan_in = weight.shape[1]·∏k
        (``in/groups·∏k`` for a convolution, ``out/groups·∏k`` for a transposed one)."""
        generator = resolve_generator(generator)  # once: one stream for weight and bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
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
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: DeviceLike = None,
        dtype: Any = None,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                "padding_mode must be one of {'reflect', 'zeros', 'replicate', 'circular'}, "
                f"but got padding_mode={padding_mode!r}"
            )
        self.padding_mode, self.output_padding = padding_mode, (0,) * self.dims
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self._parameters_of(shape, bias, device, dtype, generator)

    def pad_widths(self) -> tuple[int, ...]:
        """``F.pad``'s widths (last axis first, before then after) for ``padding_mode``; for
        ``'same'`` the odd cell goes after, as PyTorch."""
        widths: list[int] = []
        for k, d, p in zip(self.kernel_size, self.dilation, self._symmetric()):
            total = d * (k - 1) if self.padding == "same" else 2 * p
            widths[:0] = [total // 2, total - total // 2]
        return tuple(widths)

    def _symmetric(self) -> tuple[int, ...]:
        return (0,) * self.dims if isinstance(self.padding, str) else self.padding

    def _conv(self, input: Any, fn: Any) -> Tensor:
        x = self._check(input)
        if self.padding_mode == "zeros":
            return fn(
                x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        x = F.pad(x, self.pad_widths(), mode=self.padding_mode)
        return fn(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` feature maps.

    Parameters
    ----------
    in_channels, out_channels : int
        C of the input and of the output.
    kernel_size, stride, dilation : int or (int, int)
        Window size; step between windows (≥ 1); spacing between kernel taps (≥ 1).
    padding : int, (int, int), 'valid' or 'same'
        Cells added on each side (≥ 0); 'valid' is none, 'same' keeps H and W (stride 1 only;
        an odd total puts the extra cell at the bottom or right, as PyTorch).
    groups : int
        Split channels into this many independent blocks; must divide both channel counts.
    bias : bool
        Learn a per-output-channel bias.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
        What the padding cells hold.
    device : 'cpu' or None
        Any other device raises.
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
        return self._conv(input, F.conv2d)


class Conv1d(_Conv):
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
        return self._conv(input, F.conv1d)


class _ConvTransposeNd(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        output_padding: int | tuple[int, ...] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        device: DeviceLike = None,
        dtype: Any = None,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an integer or a tuple; got {padding!r}")
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.output_padding = _tuple("output_padding", output_padding, self.dims, 0)
        self.padding_mode, self.transposed = padding_mode, True
        shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        self._parameters_of(shape, bias, device, dtype, generator)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """The ``output_padding`` that gives ``output_size`` (its last ``dims`` entries)."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(int(v) for v in output_size)[-self.dims :]
        smallest = tuple(
            (x.shape[2 + a] - 1) * self.stride[a] - 2 * self.padding[a]
            + self.dilation[a] * (self.kernel_size[a] - 1) + 1
            for a in range(self.dims)
        )  # fmt: skip
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if len(wanted) != self.dims or not all(
            lo <= v <= hi for v, lo, hi in zip(wanted, smallest, largest)
        ):
            raise ValueError(
                f"requested an output size of {tuple(output_size)}, but valid sizes range from "
                f"{list(smallest)} to {list(largest)} (for an input of {tuple(x.shape[2:])})"
            )
        return tuple(v - m for v, m in zip(wanted, smallest))

    def _conv(self, input: Any, output_size: Any, fn: Any) -> Tensor:
        x = self._check(input)
        opad = self._output_padding(x, output_size)
        return fn(
            x, self.weight, self.bias, self.stride, self.padding, opad, self.groups, self.dilation
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution, the gradient of :class:`Conv2d` with respect to its input.

    Parameters
    ----------
    in_channels, out_channels : int
        C of the input and of the output.
    kernel_size, stride, dilation : int or (int, int)
        As for the convolution this layer is the adjoint of.
    padding : int or (int, int)
        Cells cropped from each side of the output (≥ 0).
    output_padding : int or (int, int)
        Extra rows (bottom) and columns (right), smaller than the stride or the dilation: which
        of the sizes a strided convolution maps to H the output has.
    groups : int
        Independent channel blocks; must divide both channel counts.
    bias : bool
        Learn a per-output-channel bias.
    padding_mode : 'zeros'
        The only mode PyTorch supports here.
    device, dtype, generator
        As for :class:`Conv2d`.

    Attributes
    ----------
    weight : Parameter of shape (in_channels, out_channels/groups, kh, kw)
        U(±1/√fan_in), fan_in = out_channels/groups·kh·kw, as PyTorch.
    bias : Parameter of shape (out_channels,) or None
        U(±1/√fan_in).

    Shapes
    ------
    input ``(N, in_channels, H, W)`` → output ``(N, out_channels, OH, OW)``,
    ``OH = (H − 1)·sh − 2·ph + dh·(kh − 1) + oph + 1``.
    """

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """Transposed-convolve ``input`` ``(N, C, H, W)``; ``output_size`` (``(OH, OW)``, or
        with N and C in front) picks the output padding instead of ``output_padding``."""
        return self._conv(input, output_size, F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over ``(N, C, L)``; the parameters are
    :class:`ConvTranspose2d`'s.

    Shapes
    ------
    weight ``(in_channels, out_channels/groups, k)``; input ``(N, in_channels, L)`` → output
    ``(N, out_channels, (L − 1)·s − 2p + d·(k − 1) + output_padding + 1)``.
    """

    dims = 1
    spatial = "L"

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """Transposed-convolve ``input`` ``(N, C, L)`` → ``(N, out_channels, OL)``."""
        return self._conv(input, output_size, F.conv_transpose1d)
