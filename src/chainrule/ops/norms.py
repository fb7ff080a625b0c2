"""Norms: ``norm`` (``torch.norm``), and ``chainrule.linalg``'s ``norm``, ``vector_norm`` and
``matrix_norm``.

One op, :class:`VectorNorm`, computes ‖x‖ₚ = (Σ|x|ᵖ)^(1/p) over some axes for any real ``p``
(inf: max |x|, −inf: min |x|, 0: the number of non-zeros). Matrix norms ('fro', 1, −1, inf,
−inf) are built from it and from abs, sum and amax.

Subgradients follow PyTorch: the gradient is 0 where the norm is 0 and where xⱼ = 0 (so
‖0‖₂ has gradient 0, not NaN); for p = ±inf ties share the gradient evenly; p = 0 has none.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import refuse_out
from chainrule.ops.pointwise import abs as abs_
from chainrule.ops.reduction import sum as sum_
from chainrule.ops.shape import squeeze
from chainrule.ops.statistics import amax, amin, resolve_dims, resolve_keepdim


class VectorNorm(Function):
    """d‖x‖ₚ/dxⱼ = sign(xⱼ)·|xⱼ|ᵖ⁻¹ / ‖x‖ₚᵖ⁻¹ (p = ±inf: sign(xⱼ)/k at the k extreme |xⱼ|)."""

    def forward(self, x, ord, axes, keepdims):
        a = np.abs(x)
        if ord == math.inf or ord == -math.inf:
            out = (np.max if ord > 0 else np.min)(a, axis=axes, keepdims=True)
        elif ord == 0:
            out = np.sum(x != 0, axis=axes, keepdims=True).astype(x.dtype)  # count_nonzero
        elif ord == 1:
            out = a.sum(axis=axes, keepdims=True)
        elif ord == 2:
            out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            with np.errstate(divide="ignore", over="ignore"):
                out = (a**ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        # Only the input and the output are saved: a create_graph backward then differentiates
        # the norm in the backward formula through this op again, with its subgradient at 0.
        self.out = out if keepdims else np.squeeze(out, axis=axes)
        self.x, self.ord, self.axes, self.keepdims = x, ord, axes, keepdims
        return self.out

    def backward(self, grad):
        x, p = self.x, self.ord
        g = grad if self.keepdims else np.expand_dims(grad, self.axes)
        if p == 0:
            return (np.zeros_like(x),)
        if p == 1:
            return (g * np.sign(x),)
        out = self.out if self.keepdims else np.expand_dims(self.out, self.axes)
        if p == math.inf or p == -math.inf:
            hit = np.abs(x) == out
            return (g * np.sign(x) * hit / hit.sum(axis=self.axes, keepdims=True),)
        a = x if p == 2 else np.abs(x)  # p = 2 needs only where x is 0
        hole = (out == 0) | (a == 0)
        # Safe operands where the ratio is masked: no 0/0 or 0⁻ᵏ whose derivative a create_graph
        # backward would take (the masked entries' values are never used).
        safe = np.where(out == 0, 1.0, out)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2:
                ratio = x / safe
            else:
                ratio = np.sign(x) * (np.where(hole, 1.0, a) / safe) ** (p - 1)
            ratio = np.where(hole, 0.0, ratio)
        return (g * ratio.astype(x.dtype, copy=False),)


def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: int | tuple[int, ...] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    axis: Any = None,
    keepdims: bool | None = None,
    out: None = None,
) -> Tensor:
    """‖x‖_ord over ``dim`` (every element by default), treating the slices as vectors.

    ``ord`` is any real number or ±inf. Shape: ``x.shape`` without ``dim``.
    """
    refuse_out("linalg.vector_norm", out)
    x = as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise TypeError(f"linalg.vector_norm() needs a floating-point tensor; got {x.dtype}")
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm(): ord must be a number, got {ord!r}")
    axes = resolve_dims("vector_norm", x, dim, axis)
    if x._data.size == 0 and ord < 0:
        raise RuntimeError(f"linalg.vector_norm(): ord={ord} of an empty tensor is undefined")
    return VectorNorm.apply(x, ord=ord, axes=axes, keepdims=resolve_keepdim(keepdim, keepdims))


def matrix_norm(
    A: Tensor,
    ord: str | float = "fro",
    dim: tuple[int, int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: None = None,
) -> Tensor:
    """Norm of the matrices over the two dims ``dim``: 'fro' (Frobenius), 1 / −1 (max / min
    column sum of |A|), inf / −inf (max / min row sum). Shape: ``A.shape`` without ``dim``."""
    refuse_out("linalg.matrix_norm", out)
    A = as_tensor(A)
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError(
            f"linalg.matrix_norm(): A must have at least 2 dims; got {tuple(A.shape)}"
        )
    rows, cols = resolve_dims("matrix_norm", A, dim, None) if len(dim) == 2 else (None, None)
    if rows is None or rows == cols:
        raise ValueError(f"linalg.matrix_norm(): dim must be two different dims, got {dim}")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"linalg.matrix_norm(ord={ord!r}) needs singular values (svd), not in chainrule yet"
        )
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"linalg.matrix_norm(): unsupported ord {ord!r}")
    summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = sum_(abs_(A), summed, True)
    result = (amax if ord > 0 else amin)(sums, other, True)
    return result if keepdim else squeeze(result, (rows, cols))


def linalg_norm(
    A: Tensor,
    ord: str | float | None = None,
    dim: int | tuple[int, ...] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: None = None,
) -> Tensor:
    """``chainrule.linalg.norm``: a vector norm for 1 dim, a matrix norm for 2 dims.

    ``ord=None`` is the 2-norm of the flattened tensor (Frobenius for matrices); with
    ``dim=None`` and an ``ord``, ``A`` must be 1-D or 2-D.
    """
    refuse_out("linalg.norm", out)
    A = as_tensor(A)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm(): with ord={ord!r}, A must be 1-D or 2-D")
        dim = tuple(range(A.ndim))
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def norm(
    input: Tensor,
    p: str | float | None = "fro",
    dim: int | tuple[int, ...] | None = None,
    keepdim: bool = False,
    out: None = None,
    dtype: Any = None,
) -> Tensor:
    """``torch.norm``: 'fro' (or None) is the 2-norm over ``dim``; a number ``p`` is the p-norm
    of the slices over ``dim`` (all elements by default); 'nuc' is not available."""
    refuse_out("norm", out)
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(p={p!r}) needs singular values (svd), not in chainrule")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)
