"""``Flatten``: merge a range of axes into one (by default all but the batch axis)."""

from __future__ import annotations

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module


class Flatten(Module):
    """Merge axes ``start_dim`` to ``end_dim`` (inclusive) into one.

    Parameters
    ----------
    start_dim : int
        First axis to merge; 1 by default, which keeps the batch axis.
    end_dim : int
        Last axis to merge; -1 (the last axis) by default.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C·H·W)`` with the defaults; in general the merged
    axes become one axis of their product's size.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        """``input`` with axes ``start_dim..end_dim`` merged."""
        return F.flatten(as_tensor(input), self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
