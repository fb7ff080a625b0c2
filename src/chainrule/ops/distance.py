"""Distances and similarities: ``cosine_similarity``, ``pairwise_distance``, ``cdist`` and
``pdist``, composed of broadcasting, subtraction and :func:`chainrule.ops.norms.vector_norm`, so
they inherit its derivatives: the gradient of a zero distance is 0, as in PyTorch, not NaN.
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops.arithmetic import add, div, mul, sub
from chainrule.ops.loss_common import float_input
from chainrule.ops.norms import vector_norm
from chainrule.ops.reduction import sum
from chainrule.ops.shape import expand, getitem, unsqueeze

_COMPUTE_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def _broadcast(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Both tensors expanded to their common shape, or PyTorch's size-mismatch error."""
    if a.shape == b.shape:
        return a, b
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        for i in range(1, builtins.min(a.ndim, b.ndim) + 1):
            size_a, size_b = a.shape[-i], b.shape[-i]
            if size_a != size_b and 1 not in (size_a, size_b):
                raise RuntimeError(
                    f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                    f"at non-singleton dimension {builtins.max(a.ndim, b.ndim) - i}"
                ) from None
        raise
    return expand(a, *shape), expand(b, *shape)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim``, after broadcasting.

    Each norm is clamped at ``eps`` separately (PyTorch 2's rule); as in PyTorch the clamp
    changes the value only, and the gradient flows through the norm as if unclamped.
    Shapes: ``x1``, ``x2`` broadcastable → their common shape without ``dim``.
    """
    a = float_input("cosine_similarity", x1)
    a, b = _broadcast(a, float_input("cosine_similarity", x2))
    nd = builtins.max(a.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})"
        )
    scaled = []
    for x in (a, b):
        n = vector_norm(x, 2, dim=dim, keepdim=True)
        # The clamp as a constant shift: max(n, eps) in value, the identity in the gradient.
        n = add(n, np.maximum(n._data, eps) - n._data)
        scaled.append(div(x, n))
    return sum(mul(scaled[0], scaled[1]), dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """‖x1 − x2 + eps‖ₚ along the last dimension, after broadcasting (``eps`` keeps the norm
    away from 0, as PyTorch adds it). Shapes: ``(N, D)`` or ``(D,)`` each → ``(N,)`` or ``()``
    (the last dim kept as 1 with ``keepdim``)."""
    a = float_input("pairwise_distance", x1)
    b = float_input("pairwise_distance", x2)
    a, b = _broadcast(a, b)
    diff = add(sub(a, b), a._data.dtype.type(eps))
    if diff.ndim == 0:
        return vector_norm(diff, p)
    return vector_norm(diff, p, dim=-1, keepdim=keepdim)


def _check_p(name: str, p: float) -> None:
    if not p >= 0:
        raise RuntimeError(f"{name} only supports non-negative p values")


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """The p-norm distance between every row of ``x1`` and every row of ``x2``.

    Shapes: ``x1`` ``(B…, P, M)``, ``x2`` ``(B…, R, M)`` with broadcastable batch dims →
    ``(B…, P, R)``. Every ``compute_mode`` computes the differences directly (never the
    matrix-product shortcut), so the result is the exact-difference value PyTorch gives with
    ``'donot_use_mm_for_euclid_dist'``; a zero distance has gradient 0.
    """
    a, b = float_input("cdist", x1), float_input("cdist", x2)
    for label, t in (("X1", a), ("X2", b)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {label} got: {t.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}"
        )
    _check_p("cdist", p)
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    # (…, P, 1, M) − (…, 1, R, M): every pair's difference, normed along M.
    diff = sub(unsqueeze(a, -2), unsqueeze(b, -3))
    return vector_norm(diff, p, dim=-1)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between every pair of rows i < j of ``input``, row-major: the upper
    triangle of ``cdist(input, input)`` without its diagonal.

    Shapes: ``(N, M)`` → ``(N(N − 1)/2,)``.
    """
    x = float_input("pdist", input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    _check_p("pdist", p)
    i, j = np.triu_indices(x.shape[0], k=1)
    diff = sub(getitem(x, i), getitem(x, j))
    return vector_norm(diff, p, dim=-1)
