"""Distance modules: :class:`CosineSimilarity` and :class:`PairwiseDistance`, wrappers over
:mod:`chainrule.ops.distance` with PyTorch's constructor signatures and attribute names."""

from __future__ import annotations

from chainrule import functional as F
from chainrule._tensor import Tensor
from chainrule.nn.module import Module


class CosineSimilarity(Module):
    """Cosine similarity Σx1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim``.

    Parameters
    ----------
    dim : int
        The dimension compared; 1 by default.
    eps : float
        Each norm's floor; 1e-8 by default.

    Shapes
    ------
    x1, x2: broadcastable → output: their common shape without ``dim``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The similarities."""
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm distance ‖x1 − x2 + eps‖ₚ along the last dimension.

    Parameters
    ----------
    p : float
        The norm's order (kept as the attribute ``norm``, as in PyTorch); 2 by default.
    eps : float
        Added to the differences; 1e-6 by default.
    keepdim : bool
        Keep the last dimension as size 1.

    Shapes
    ------
    x1, x2: ``(N, D)`` or ``(D,)``, broadcastable → output: ``(N,)`` or ``()``.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The distances."""
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
