"""Adaptive pooling and max unpooling, as compositions of differentiable ops.

Output cell ``i`` of ``out`` along an axis of length ``L`` covers ``[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)``,
PyTorch's windows (they overlap when ``out`` does not divide ``L``). Average pooling is then a
constant averaging matrix per axis, max pooling a gather at each window's first maximum and
unpooling a scatter, so the gradients are those of matmul, gather and scatter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import as_tensor, matmul
from chainrule.ops.indexing import gather, scatter
from chainrule.ops.pooling import GlobalAvgPool2d
from chainrule.ops.shape import reshape, squeeze, unsqueeze
from chainrule.ops.windows import check_input, ntuple

Pair = tuple[int, int]


def window_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the ``out`` adaptive windows over ``size`` cells."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _output_size(op: str, x: Tensor, output_size: Any, dims: int) -> tuple[int, ...]:
    values = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    sizes = x.shape[2:]
    if len(values) == dims:  # None keeps the input's size along that axis, as PyTorch
        values = tuple(sizes[a] if v is None else v for a, v in enumerate(values))
    return ntuple(op, "output_size", values, 1, dims)


def _averaging(size: int, out: int, dtype: Any) -> np.ndarray:
    starts, ends = window_bounds(size, out)
    cells = np.arange(size)
    inside = (cells >= starts[:, None]) & (cells < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


def adaptive_avg_pool2d(input: Tensor, output_size: int | Pair) -> Tensor:
    """Average pooling to a fixed output size, PyTorch's ``adaptive_avg_pool2d``.

    Shapes: ``(N, C, H, W)`` -> ``(N, C, oh, ow)``; a ``None`` size keeps that axis. Output 1×1
    is global average pooling; otherwise ``A_h · x · A_wᵀ`` with the averaging matrices of the
    windows.
    """
    x = as_float(input)
    check_input("AdaptiveAvgPool2d", x, 2)
    oh, ow = _output_size("AdaptiveAvgPool2d", x, output_size, 2)
    h, w = x.shape[2:]
    if (oh, ow) == (1, 1):
        return GlobalAvgPool2d.apply(x)
    if (oh, ow) != (h, w):
        a_h = Tensor._wrap(_averaging(h, oh, x.dtype))
        a_w = Tensor._wrap(_averaging(w, ow, x.dtype).T.copy())
        x = matmul(x, a_w) if oh == h else matmul(matmul(a_h, x), a_w)
    return x


def adaptive_avg_pool1d(input: Tensor, output_size: int) -> Tensor:
    """:func:`adaptive_avg_pool2d` over ``(N, C, L)`` -> ``(N, C, out)``."""
    x = as_float(input)
    check_input("AdaptiveAvgPool1d", x, 1)
    (out,) = _output_size("AdaptiveAvgPool1d", x, output_size, 1)
    return squeeze(adaptive_avg_pool2d(unsqueeze(x, 2), (1, out)), 2)


def _adaptive_argmax(x: np.ndarray, out: Pair) -> np.ndarray:
    """Flat index ``row·W + col`` of each window's first maximum (NaN wins, as PyTorch)."""
    n, c, h, w = x.shape
    (hs, he), (ws, we) = window_bounds(h, out[0]), window_bounds(w, out[1])
    idx = np.empty((n, c, *out), dtype=np.int64)
    for i in range(out[0]):
        for j in range(out[1]):
            block = x[:, :, hs[i] : he[i], ws[j] : we[j]].reshape(n, c, -1)
            best = np.argmax(block, axis=2)  # NumPy's argmax: first maximum, first NaN
            rows, cols = np.divmod(best, we[j] - ws[j])
            idx[:, :, i, j] = (hs[i] + rows) * w + ws[j] + cols
    return idx


def _adaptive_max(op: str, input: Any, output_size: Any, dims: int) -> tuple[Tensor, Tensor]:
    x = as_tensor(input)
    x = x if x._data.dtype.kind in "iu" else as_float(x)
    check_input(op, x, dims)
    out = _output_size(op, x, output_size, dims)
    x2 = unsqueeze(x, 2) if dims == 1 else x
    out2 = (1, *out) if dims == 1 else out
    idx = _adaptive_argmax(x2._data, out2)
    n, c = x.shape[:2]
    flat = reshape(x2, (n, c, -1))
    values = reshape(gather(flat, 2, idx.reshape(n, c, -1)), (n, c, *out))
    return values, Tensor._wrap(idx.reshape(n, c, *out))


def adaptive_max_pool2d(
    input: Tensor, output_size: int | Pair, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a fixed output size, PyTorch's ``adaptive_max_pool2d``.

    Shapes: ``(N, C, H, W)`` -> ``(N, C, oh, ow)``; with ``return_indices`` also the int64
    indices ``row·W + col`` of the maxima. The gradient goes to each window's first maximum.
    """
    values, idx = _adaptive_max("AdaptiveMaxPool2d", input, output_size, 2)
    return (values, idx) if return_indices else values


def adaptive_max_pool1d(
    input: Tensor, output_size: int, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool2d` over ``(N, C, L)`` -> ``(N, C, out)``."""
    values, idx = _adaptive_max("AdaptiveMaxPool1d", input, output_size, 1)
    return (values, idx) if return_indices else values


def _max_unpool(op, input, indices, kernel_size, stride, padding, output_size, dims):
    x = as_float(input)
    check_input(op, x, dims)
    kernel = ntuple(op, "kernel_size", kernel_size, 1, dims)
    st = kernel if stride is None else ntuple(op, "stride", stride, 1, dims)
    pad = ntuple(op, "padding", padding, 0, dims)
    default = tuple((x.shape[2 + a] - 1) * st[a] - 2 * pad[a] + kernel[a] for a in range(dims))
    size = default if output_size is None else tuple(int(v) for v in output_size)[-dims:]
    for d, (v, base, s) in enumerate(zip(size, default, st)):
        if not base - s < v < base + s:  # PyTorch's range: the sizes a pool maps to this one
            raise ValueError(
                f'invalid output_size "{tuple(output_size)}" (dim {d} must be between '
                f"{base - s} and {base + s})"
            )
    idx = np.asarray(as_tensor(indices)._data)
    if idx.shape != x.shape:
        raise ValueError(
            f"{op}: Expected shape of indices to be same as that of the input tensor "
            f"({x.shape}) but got indices tensor with shape: {idx.shape}"
        )
    cells = int(np.prod(size))
    if idx.size and (idx.min() < 0 or idx.max() >= cells):
        raise ValueError(f"{op}: Found an invalid max index: {int(idx.max())} (output volumes "
                         f"are of size {'x'.join(map(str, size))})")  # fmt: skip
    n, c = x.shape[:2]
    base = Tensor._wrap(np.zeros((n, c, cells), dtype=x.dtype))
    flat = reshape(x, (n, c, -1))
    out = scatter(base, 2, idx.reshape(n, c, -1).astype(np.int64), flat)
    return reshape(out, (n, c, *size))


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    output_size: Any = None,
) -> Tensor:
    """The adjoint of :func:`max_pool2d` with ``return_indices``: each value written at its index
    in a zero map. Shapes: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``, by default
    ``OH = (H − 1)·sh − 2·ph + kh``; ``output_size`` may ask for another size."""
    return _max_unpool("MaxUnpool2d", input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    output_size: Any = None,
) -> Tensor:
    """:func:`max_unpool2d` over ``(N, C, L)`` -> ``(N, C, (L − 1)·s − 2p + k)``."""
    return _max_unpool("MaxUnpool1d", input, indices, kernel_size, stride, padding, output_size, 1)
