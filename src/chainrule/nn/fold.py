"""``Unfold`` and ``Fold``: sliding windows as columns (im2col) and columns back into images."""

from __future__ import annotations

from typing import Any

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module


class Unfold(Module):
    """Every sliding window of a batch of images as a column, PyTorch's ``nn.Unfold``.

    Parameters
    ----------
    kernel_size, dilation, padding, stride : int or pair of int
        The windows' size, spacing of their taps, zero padding on each side and step.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C·kh·kw, L)``, L the number of windows
    (see :func:`chainrule.functional.unfold`).
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        """unfold(input, kernel_size, dilation, padding, stride)."""
        return F.unfold(
            as_tensor(input), self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Fold(Module):
    """Columns added back into images (overlaps sum), PyTorch's ``nn.Fold``: the adjoint of
    :class:`Unfold`.

    Parameters
    ----------
    output_size : int or pair of int
        (H, W) of the images.
    kernel_size, dilation, padding, stride : int or pair of int
        As for :class:`Unfold`.

    Shapes
    ------
    input ``(N, C·kh·kw, L)`` → output ``(N, C, H, W)``.
    """

    def __init__(
        self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
        stride: Any = 1,
    ) -> None:  # fmt: skip
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        """fold(input, output_size, kernel_size, dilation, padding, stride)."""
        return F.fold(
            as_tensor(input), self.output_size, self.kernel_size, self.dilation, self.padding,
            self.stride,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
