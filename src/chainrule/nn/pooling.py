"""Pooling layers over ``(N, C, H, W)`` feature maps: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""

from __future__ import annotations

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module

Size = int | tuple[int, int]


class MaxPool2d(Module):
    """Largest value of each ``kernel_size`` window; see :func:`chainrule.functional.max_pool2d`.

    ``stride`` defaults to ``kernel_size``; padding counts as −∞ and may be at most half the
    kernel. On ties the gradient goes to the first maximum of the window, as in PyTorch.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, OH, OW)``,
    ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1``.
    """

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.padding, self.dilation = padding, dilation

    def forward(self, input: Tensor) -> Tensor:
        """Max-pool ``input`` ``(N, C, H, W)`` → ``(N, C, OH, OW)``."""
        return F.max_pool2d(
            as_tensor(input), self.kernel_size, self.stride, self.padding, self.dilation
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
            f"padding={self.padding}, dilation={self.dilation}"
        )


class AvgPool2d(Module):
    """Mean of each ``kernel_size`` window; see :func:`chainrule.functional.avg_pool2d`.

    ``stride`` defaults to ``kernel_size``; zero padding counts in the mean
    (PyTorch's default ``count_include_pad=True``).

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, OH, OW)``, ``OH = ⌊(H + 2·ph − kh)/sh⌋ + 1``.
    """

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: Size = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input: Tensor) -> Tensor:
        """Average-pool ``input`` ``(N, C, H, W)`` → ``(N, C, OH, OW)``."""
        return F.avg_pool2d(as_tensor(input), self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
            f"padding={self.padding}"
        )


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed ``output_size``; 1 gives global average pooling.

    Sizes other than 1 must divide the input's H and W (NotImplementedError otherwise).

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, oh, ow)``.
    """

    def __init__(self, output_size: Size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        """Pool ``input`` ``(N, C, H, W)`` → ``(N, C, oh, ow)``."""
        return F.adaptive_avg_pool2d(as_tensor(input), self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
