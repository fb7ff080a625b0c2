"""``PixelShuffle`` and ``PixelUnshuffle``: trade channels for spatial resolution and back."""

from __future__ import annotations

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module


class PixelShuffle(Module):
    """Rearrange ``(*, C·r², H, W)`` into ``(*, C, H·r, W·r)`` (sub-pixel convolution's last
    step), r = ``upscale_factor``.

    Parameters
    ----------
    upscale_factor : int
        The factor r by which H and W grow.

    Shapes
    ------
    input ``(*, C·r², H, W)`` → output ``(*, C, H·r, W·r)``.
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        """pixel_shuffle(input, upscale_factor)."""
        return F.pixel_shuffle(as_tensor(input), self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of :class:`PixelShuffle`: ``(*, C, H·r, W·r)`` into ``(*, C·r², H, W)``.

    Parameters
    ----------
    downscale_factor : int
        The factor r by which H and W shrink (it must divide both).

    Shapes
    ------
    input ``(*, C, H·r, W·r)`` → output ``(*, C·r², H, W)``.
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        """pixel_unshuffle(input, downscale_factor)."""
        return F.pixel_unshuffle(as_tensor(input), self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
