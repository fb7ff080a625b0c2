"""``InstanceNorm1d``, ``InstanceNorm2d``: normalize every channel of every sample on its own.

They hold the same parameters and optional running buffers as batch norm (:class:`NormBase`),
so state dicts move to and from PyTorch unchanged.
"""

from __future__ import annotations

import warnings
from typing import Any

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.batchnorm import NormBase


class InstanceNorm1d(NormBase):
    """Instance normalization of ``(N, C, L)`` (or unbatched ``(C, L)``) inputs.

    Each sample's channel is normalized over its L positions, then the optional per-channel
    affine. With ``track_running_stats`` the running estimates are updated in training (the
    batch mean of the per-sample statistics, variance unbiased) and used in evaluation;
    ``num_batches_tracked`` stays 0, as in PyTorch, and ``momentum=None`` means 0.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance for numerical stability.
    momentum : float or None
        Weight of each new batch in the running estimates.
    affine : bool
        Learn per-channel ``weight`` (init 1) and ``bias`` (init 0); False by default.
    track_running_stats : bool
        Keep running estimates; False by default.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.
    bias : bool, keyword-only
        With ``affine``, whether to learn the shift.

    Shapes
    ------
    input ``(N, C, L)`` or ``(C, L)`` → output the same shape.
    """

    _spatial = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input: Tensor) -> Tensor:
        """Normalize ``input``; same shape out."""
        x = as_tensor(input)
        batched = self._spatial + 2
        if x.ndim not in (batched - 1, batched):
            raise ValueError(f"expected {batched - 1}D or {batched}D input (got {x.ndim}D input)")
        unbatched = x.ndim == batched - 1
        if unbatched:
            x = F.unsqueeze(x, 0)
        if x.shape[1] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim=1 to match num_features "
                    f"({self.num_features}), but got: {x.shape[1]}."
                )
            warnings.warn(
                f"input has {x.shape[1]} channels at dim 1 but num_features is "
                f"{self.num_features}; num_features is unused because affine=False",
                stacklevel=2,
            )
        y = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return F.squeeze(y, 0) if unbatched else y


class InstanceNorm2d(InstanceNorm1d):
    """Instance normalization of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``) feature maps.

    Each sample's channel is normalized over its H·W positions; everything else is
    :class:`InstanceNorm1d`'s.

    Shapes
    ------
    input ``(N, C, H, W)`` or ``(C, H, W)`` → output the same shape.
    """

    _spatial = 2
