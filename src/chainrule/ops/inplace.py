"""In-place ops: ``add_``, ``mul_``, ``x[i] = v``… — PyTorch's trailing-underscore methods.

Each is its out-of-place op written back into the tensor by
:func:`chainrule.autograd.inplace.update`, which counts the write (``_version``), refuses a
leaf that requires grad while recording, and records the op (rebasing the tensor's history)
when the tensor or the other operand requires grad. ``IndexPut`` is the one op of its own
here: ``out = a`` with ``out[index] = v`` — assignment, ``fill_``, ``copy_``, ``masked_fill_``
and the random fills are all that op with different indices and values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule import random
from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state
from chainrule.autograd.inplace import bump, update
from chainrule.ops.shape import plain_index

_ALL = Ellipsis


class IndexPut(Function):
    """out = a with out[index] = v;  d/da = g with g[index] = 0,  d/dv = g[index]."""

    def forward(self, a, v, index):
        self.index, self.v_shape = index, v.shape
        out = a.copy()
        out[index] = v
        return out

    def backward(self, grad):
        ga, gv = self.needs_input_grad
        grad_a = grad_v = None
        if ga:
            kept = np.ones(grad.shape, dtype=bool)
            kept[self.index] = False
            grad_a = np.where(kept, grad, 0)
        if gv:
            grad_v = grad[self.index]
            # NumPy lets a value with extra leading size-1 axes fill a region; give them back.
            if grad_v.ndim < len(self.v_shape):
                grad_v = grad_v.reshape((1,) * (len(self.v_shape) - grad_v.ndim) + grad_v.shape)
        return grad_a, grad_v


def put(t: Tensor, index: Any, value: Any) -> Tensor:
    """``t[index] = value`` in place (``Tensor.__setitem__``); recorded when grads are needed."""
    if state.grad_enabled and (
        t._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    ):
        return update(t, lambda s: IndexPut.apply(s, as_tensor(value, s), index=index))
    t._data[index] = value._data if isinstance(value, Tensor) else value
    bump(t)
    return t


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value`` with tensors and lists in ``index`` made NumPy indices."""
    put(t, plain_index(index), value)


def _scaled(other: Any, alpha: Any) -> Any:
    return other if alpha == 1 else F.mul(other, alpha)


def add_(t: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``t += alpha * other`` in place."""
    return update(t, lambda s: F.add(s, _scaled(other, alpha)))


def sub_(t: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``t -= alpha * other`` in place."""
    return update(t, lambda s: F.sub(s, _scaled(other, alpha)))


def mul_(t: Tensor, other: Any) -> Tensor:
    """``t *= other`` in place."""
    return update(t, lambda s: F.mul(s, other))


def div_(t: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``t /= other`` in place (``rounding_mode`` as :func:`chainrule.div`)."""
    if rounding_mode is None:
        return update(t, lambda s: F.div(s, other))
    return update(t, lambda s: F.div(s, other, rounding_mode=rounding_mode))


def clamp_(t: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Clamp to ``[min, max]`` in place."""
    return update(t, lambda s: F.clip(s, min, max))


def neg_(t: Tensor) -> Tensor:
    """``t = -t`` in place."""
    return update(t, F.neg)


def exp_(t: Tensor) -> Tensor:
    """``t = exp(t)`` in place."""
    return update(t, F.exp)


def fill_(t: Tensor, value: Any) -> Tensor:
    """Every element set to ``value`` (a number or a 0-d tensor)."""
    return put(t, _ALL, value)


def zero_(t: Tensor) -> Tensor:
    """Every element set to 0."""
    return put(t, _ALL, 0)


def copy_(t: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """``src``'s values (broadcast to ``t``'s shape, cast to its dtype) copied into ``t``."""
    src_shape = np.shape(src._data if isinstance(src, Tensor) else src)
    try:
        fits = np.broadcast_shapes(src_shape, t.shape) == t.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"copy_(): the source of shape {list(src_shape)} does not broadcast to the "
            f"destination's shape {list(t.shape)}"
        )
    return put(t, _ALL, src)


def masked_fill_(t: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` written where ``mask`` is true (see :func:`chainrule.masked_fill`)."""
    return update(t, lambda s: F.masked_fill(s, mask, value))


def index_add_(t: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """``alpha * source`` added to the slices ``index`` along ``dim`` in place."""
    return update(t, lambda s: F.index_add(s, dim, index, source, alpha=alpha))


def scatter_(
    t: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: Any = None
) -> Tensor:
    """``src`` (or ``value``) written where ``index`` points, in place (see ``scatter``)."""
    return update(t, lambda s: F.scatter(s, dim, index, src, value=value, reduce=reduce))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with draws from U(a, b) (from chainrule's generator, or ``generator``)."""
    rng = random.resolve_generator(generator)
    return put(t, _ALL, rng.uniform(a, b, t.shape).astype(t.dtype, copy=False))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with draws from N(mean, std²) (from chainrule's generator, or ``generator``)."""
    rng = random.resolve_generator(generator)
    return put(t, _ALL, rng.normal(mean, std, t.shape).astype(t.dtype, copy=False))
