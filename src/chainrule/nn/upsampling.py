"""``Upsample`` and its fixed-mode forms ``UpsamplingNearest2d`` and ``UpsamplingBilinear2d``:
:func:`chainrule.functional.interpolate` as layers."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module


class Upsample(Module):
    """Resample the spatial axes to ``size``, or by ``scale_factor``.

    Parameters
    ----------
    size : int or sequence of int, optional
        The output's spatial size.
    scale_factor : float or tuple of float, optional
        Multiplier of each spatial size (stored as float, as in PyTorch). Give ``size`` or
        ``scale_factor``.
    mode : str
        'nearest' (default), 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear' or
        'area'; see :func:`chainrule.functional.interpolate`.
    align_corners : bool, optional
        For the interpolating modes only.
    recompute_scale_factor : bool, optional
        True: derive the sampling step from the output size rather than ``scale_factor``.

    Shapes
    ------
    input ``(N, C, *spatial)`` (1 to 3 spatial axes, as the mode needs) → output
    ``(N, C, *size)``, or each spatial size times ``scale_factor``, rounded down.
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            # PyTorch's rule: a falsy factor (None, or 0) means none.
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        """interpolate(input) with this layer's settings."""
        return F.interpolate(
            as_tensor(input),
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for ``(N, C, H, W)`` inputs.

    Parameters
    ----------
    size : int or pair of int, optional
        The output's ``(H, W)``.
    scale_factor : float or pair of float, optional
        Multiplier of H and W.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, H_out, W_out)``.
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``.

    Parameters
    ----------
    size : int or pair of int, optional
        The output's ``(H, W)``.
    scale_factor : float or pair of float, optional
        Multiplier of H and W.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, H_out, W_out)``.
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
