"""``Flatten``: merge a range of axes into one (by default all but the batch axis), and
``Unflatten``, which splits one axis into several."""

from __future__ import annotations

from collections.abc import Sequence

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


class Unflatten(Module):
    """Split axis ``dim`` into the axes ``unflattened_size`` (the inverse of :class:`Flatten`).

    Parameters
    ----------
    dim : int
        The axis to split (negative counts from the end).
    unflattened_size : tuple or list of int
        The new axes' sizes; their product must be the size of axis ``dim``, and one of them
        may be -1 (inferred). Named dimensions (a str ``dim`` with named sizes) are not
        supported.

    Shapes
    ------
    input ``(*, S, *)`` → output ``(*, U₁, …, Uₖ, *)`` with ``U₁·…·Uₖ = S``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(dim, str):
            raise TypeError(
                "Unflatten: named dimensions (a str dim) are not supported; give an int dim"
            )
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                "unflattened_size must be a tuple of ints, but found type "
                f"{type(unflattened_size).__name__}"
            )
        for i, size in enumerate(unflattened_size):
            if isinstance(size, bool) or not isinstance(size, int):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found element of type "
                    f"{type(size).__name__} at pos {i}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        """``input`` with axis ``dim`` split into ``unflattened_size``."""
        x = as_tensor(input)
        size = x.shape[self.dim] if -x.ndim <= self.dim < x.ndim else None
        sizes = tuple(self.unflattened_size)
        product = 1
        for s in sizes:
            product *= s
        if size is not None and -1 not in sizes and product != size:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                f"{self.dim} ({size}) in the input tensor"
            )
        return F.unflatten(x, self.dim, sizes)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
