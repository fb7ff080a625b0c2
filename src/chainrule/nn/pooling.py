"""Pooling layers over ``(N, C, L)`` and ``(N, C, H, W)`` feature maps, with PyTorch's
signatures, attributes and ``extra_repr``: max, average, adaptive pooling and max unpooling."""

from __future__ import annotations

from typing import Any

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module

Size = int | tuple[int, ...]


def _ntuple(value: Any, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def _pool(self, input: Any, fn: Any) -> Any:
        return fn(
            as_tensor(input), self.kernel_size, self.stride, self.padding, self.dilation,
            ceil_mode=self.ceil_mode, return_indices=self.return_indices,
        )  # fmt: skip


class MaxPool2d(_MaxPoolNd):
    """Largest value of each ``kernel_size`` window; see :func:`chainrule.functional.max_pool2d`.

    ``stride`` defaults to ``kernel_size``; padding counts as −∞ and may be at most half the
    (dilated) kernel; ``ceil_mode`` keeps a last partial window that starts inside the input or
    its left padding. Integer inputs stay integer. On ties the gradient goes to the first maximum
    of the window, as in PyTorch. With ``return_indices`` the layer returns ``(values, indices)``
    for :class:`MaxUnpool2d`.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, OH, OW)``,
    ``OH = ⌊(H + 2·ph − dh·(kh − 1) − 1)/sh⌋ + 1`` (⌈·⌉ with ``ceil_mode``).
    """

    def forward(self, input: Tensor) -> Any:
        """Max-pool ``input`` ``(N, C, H, W)`` → ``(N, C, OH, OW)`` (and the indices)."""
        return self._pool(input, F.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """:class:`MaxPool2d` over ``(N, C, L)`` → ``(N, C, OL)``; indices are positions in L."""

    def forward(self, input: Tensor) -> Any:
        """Max-pool ``input`` ``(N, C, L)`` → ``(N, C, OL)`` (and the indices)."""
        return self._pool(input, F.max_pool1d)


class AvgPool2d(Module):
    """Mean of each ``kernel_size`` window; see :func:`chainrule.functional.avg_pool2d`.

    ``stride`` defaults to ``kernel_size``; zero padding counts in the mean unless
    ``count_include_pad=False``; ``divisor_override`` divides every window by one number.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, OH, OW)``, ``OH = ⌊(H + 2·ph − kh)/sh⌋ + 1``
    (⌈·⌉ with ``ceil_mode``).
    """

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        """Average-pool ``input`` ``(N, C, H, W)`` → ``(N, C, OH, OW)``."""
        return F.avg_pool2d(
            as_tensor(input), self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """:class:`AvgPool2d` over ``(N, C, L)`` → ``(N, C, OL)`` (no ``divisor_override``, as
    PyTorch); sizes are kept as 1-tuples, as PyTorch does."""

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        """Average-pool ``input`` ``(N, C, L)`` → ``(N, C, OL)``."""
        return F.avg_pool1d(
            as_tensor(input), self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed ``output_size`` (``None`` keeps that axis); 1 gives global
    average pooling. Window ``i`` of ``out`` over ``L`` cells is ``[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)``.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, oh, ow)``.
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        """Pool ``input`` ``(N, C, H, W)`` → ``(N, C, oh, ow)``."""
        return F.adaptive_avg_pool2d(as_tensor(input), self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """:class:`AdaptiveAvgPool2d` over ``(N, C, L)`` → ``(N, C, output_size)``."""

    def forward(self, input: Tensor) -> Tensor:
        """Pool ``input`` ``(N, C, L)`` → ``(N, C, output_size)``."""
        return F.adaptive_avg_pool1d(as_tensor(input), self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max-pool to a fixed ``output_size`` over PyTorch's adaptive windows; with
    ``return_indices`` also the indices ``row·W + col`` of the maxima.

    Shapes
    ------
    input ``(N, C, H, W)`` → output ``(N, C, oh, ow)``.
    """

    def forward(self, input: Tensor) -> Any:
        """Pool ``input`` ``(N, C, H, W)`` → ``(N, C, oh, ow)`` (and the indices)."""
        return F.adaptive_max_pool2d(as_tensor(input), self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptivePool):
    """:class:`AdaptiveMaxPool2d` over ``(N, C, L)`` → ``(N, C, output_size)``."""

    def forward(self, input: Tensor) -> Any:
        """Pool ``input`` ``(N, C, L)`` → ``(N, C, output_size)`` (and the indices)."""
        return F.adaptive_max_pool1d(as_tensor(input), self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    dims = 2

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: Size = 0) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self.dims)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self.dims)
        self.padding = _ntuple(padding, self.dims)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """Undo :class:`MaxPool2d` with ``return_indices``: each value back at its index, zeros
    elsewhere.

    Shapes
    ------
    input and indices ``(N, C, H, W)`` → output ``(N, C, (H − 1)·sh − 2·ph + kh, …)``, or
    ``output_size``.
    """

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        """Unpool ``input`` ``(N, C, H, W)`` with ``indices`` of the same shape."""
        return F.max_unpool2d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool1d(_MaxUnpoolNd):
    """:class:`MaxUnpool2d` over ``(N, C, L)`` → ``(N, C, (L − 1)·s − 2p + k)``."""

    dims = 1

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        """Unpool ``input`` ``(N, C, L)`` with ``indices`` of the same shape."""
        return F.max_unpool1d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )
