"""``Size``: a tensor's shape, a tuple of ints as ``torch.Size`` is."""

from __future__ import annotations

import math
from typing import Any, SupportsIndex, overload


class Size(tuple):
    """The shape of a tensor: ``x.shape`` and ``x.size()``. A tuple (it compares equal to the
    plain tuple, unpacks, indexes and hashes like one) with PyTorch's ``numel()``; slices and
    ``+`` give a Size again.

    >>> Size((2, 3)).numel()
    6
    """

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Size: ...
    def __getitem__(self, index: Any) -> Any:
        got = tuple.__getitem__(self, index)
        return Size(got) if isinstance(index, slice) else got

    def __add__(self, other: Any) -> Size:  # type: ignore[override]
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __repr__(self) -> str:
        return f"chainrule.Size([{', '.join(str(n) for n in self)}])"

    # str() stays the tuple's "(2, 3)": every error message that shows a shape reads the same
    # whether it got x.shape or an ndarray's shape (torch prints "torch.Size([2, 3])" for both).
    __str__ = tuple.__repr__
