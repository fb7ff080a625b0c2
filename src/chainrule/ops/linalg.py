"""Linear algebra: einsum, tensordot, mm, bmm, mv, dot, outer (ger), addmm, addmv, baddbmm,
matrix_power, multi_dot.

``einsum`` is the one new op: its backward is an einsum per operand (repeated subscripts such
as ``'ii->i'`` put the gradient on the diagonal; subscripts summed in one operand only get the
gradient broadcast along them). The products with fixed shapes (mm, bmm, mv, dot, outer) are
:func:`~chainrule.ops.arithmetic.matmul` after PyTorch's shape checks, so they share its
backward; the ``add*`` forms are ``beta·input + alpha·product``.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import refuse_out
from chainrule.ops.arithmetic import add, matmul, mul
from chainrule.ops.shape import reshape


class Einsum(Function):
    """d einsum(…, Aₖ, …)/dAₖ = einsum of the output gradient with the other operands."""

    def forward(self, *operands, subscripts, output):
        self.operands, self.subscripts, self.output = operands, subscripts, output
        equation = ",".join(subscripts) + "->" + output
        return np.einsum(equation, *operands, optimize=len(operands) > 2)

    def backward(self, grad):
        return tuple(
            self._operand_grad(grad, k) if need else None
            for k, need in enumerate(self.needs_input_grad)
        )

    def _operand_grad(self, grad: np.ndarray, k: int) -> np.ndarray:
        subs, target = self.subscripts, self.subscripts[k]
        others = [i for i in range(len(subs)) if i != k]
        known = set(self.output).union(*[subs[i] for i in others])
        sizes = dict(zip(target, self.operands[k].shape, strict=True))
        present = "".join(dict.fromkeys(c for c in target if c in known))
        equation = ",".join([self.output] + [subs[i] for i in others]) + "->" + present
        g = np.einsum(equation, grad, *[self.operands[i] for i in others])
        # Letters only this operand sums over: the gradient is constant along them.
        unique = "".join(dict.fromkeys(target))
        missing = [c for c in unique if c not in present]
        if missing:
            g = g.reshape(g.shape + (1,) * len(missing))
            g = np.broadcast_to(g, g.shape[: len(present)] + tuple(sizes[c] for c in missing))
        have = present + "".join(missing)
        if len(unique) == len(target):
            return np.einsum(have + "->" + target, g)
        # Repeated letters ('ii'): spread onto the diagonal with identity matrices.
        free = iter(c for c in string.ascii_letters if c not in target)
        spelled, eyes, first = [], [], set()
        for c in target:
            if c in first:
                fresh = next(free)
                spelled.append(fresh)
                eyes.append((c + fresh, np.eye(sizes[c], dtype=g.dtype)))
            else:
                first.add(c)
                spelled.append(c)
        equation = ",".join([have] + [e for e, _ in eyes]) + "->" + "".join(spelled)
        return np.einsum(equation, g, *[m for _, m in eyes])


def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit subscripts (ellipses spelled out with letters) and the output subscript."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum(): the equation names {len(terms)} operands but {len(shapes)} were given"
        )
    used = set(equation)
    spare = [c for c in string.ascii_letters if c not in used]
    widths = [len(s) - (len(t) - 3 if "..." in t else len(t)) for t, s in zip(terms, shapes)]
    for t, s, w in zip(terms, shapes, widths):
        if ("..." not in t and len(t) != len(s)) or w < 0:
            raise ValueError(f"einsum(): subscripts {t!r} do not fit an operand of shape {s}")
    ell = "".join(spare[: max(widths, default=0)])
    subs = [
        t.replace("...", ell[len(ell) - w :]) if "..." in t else t
        for t, w in zip(terms, widths, strict=True)
    ]
    if arrow:
        return subs, rhs.replace("...", ell)
    counts: dict[str, int] = {}
    for c in "".join(terms).replace(".", ""):
        counts[c] = counts.get(c, 0) + 1
    return subs, ell + "".join(sorted(c for c, n in counts.items() if n == 1))


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Operands may also come as one list. ``...`` stands for broadcast batch dimensions; without
    ``->`` the output has the letters used once, in alphabetical order.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [as_tensor(t) for t in operands]
    subs, output = _parse_einsum(equation, [tuple(t.shape) for t in tensors])
    return Einsum.apply(*tensors, subscripts=subs, output=output)


def tensordot(a: Tensor, b: Tensor, dims: int | Sequence[Any] = 2, out: None = None) -> Tensor:
    """Sum of products over ``dims``: the last ``dims`` axes of ``a`` with the first of ``b``,
    or the listed axis pairs ``([a axes], [b axes])``."""
    refuse_out("tensordot", out)
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise ValueError(f"tensordot(): dims must be non-negative, got {dims}")
        pairs = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    else:
        pairs = tuple([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(*pairs, strict=True):
        sb[j] = sa[i]
    contracted = {sa[i] for i in pairs[0]}
    output = [c for c in sa if c not in contracted] + [c for c in sb if c not in contracted]
    return Einsum.apply(a, b, subscripts=["".join(sa), "".join(sb)], output="".join(output))


def _check(name: str, t: Tensor, ndim: int, what: str) -> Tensor:
    t = as_tensor(t)
    if t.ndim != ndim:
        raise RuntimeError(
            f"{name}(): {what} must be a {ndim}-D tensor; got shape {tuple(t.shape)}"
        )
    return t


def _inner(name: str, a: Tensor, b: Tensor, ai: int, bi: int) -> None:
    if a.shape[ai] != b.shape[bi]:
        raise RuntimeError(
            f"{name}(): shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({a.shape[ai]} != {b.shape[bi]})"
        )


def mm(input: Tensor, mat2: Tensor, *, out: None = None) -> Tensor:
    """Matrix product of (n, m) and (m, p) matrices: shape (n, p)."""
    refuse_out("mm", out)
    a, b = _check("mm", input, 2, "input"), _check("mm", mat2, 2, "mat2")
    _inner("mm", a, b, 1, 0)
    return matmul(a, b)


def bmm(input: Tensor, mat2: Tensor, *, out: None = None) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p): shape (b, n, p); no broadcasting."""
    refuse_out("bmm", out)
    a, b = _check("bmm", input, 3, "input"), _check("bmm", mat2, 3, "mat2")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm(): batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    _inner("bmm", a, b, 2, 1)
    return matmul(a, b)


def mv(input: Tensor, vec: Tensor, *, out: None = None) -> Tensor:
    """Matrix-vector product of (n, m) and (m,): shape (n,)."""
    refuse_out("mv", out)
    a, v = _check("mv", input, 2, "input"), _check("mv", vec, 1, "vec")
    _inner("mv", a, v, 1, 0)
    return matmul(a, v)


def dot(input: Tensor, tensor: Tensor, *, out: None = None) -> Tensor:
    """Inner product of two 1-D tensors of the same length: a 0-d tensor."""
    refuse_out("dot", out)
    a, b = _check("dot", input, 1, "input"), _check("dot", tensor, 1, "tensor")
    if a.shape != b.shape:
        raise RuntimeError(
            f"dot(): 1-D tensors of different lengths: {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return matmul(a, b)


def outer(input: Tensor, vec2: Tensor, *, out: None = None) -> Tensor:
    """Outer product of (n,) and (m,): shape (n, m)."""
    refuse_out("outer", out)
    a, b = _check("outer", input, 1, "input"), _check("outer", vec2, 1, "vec2")
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


ger = outer


def _scaled_sum(input: Any, product: Tensor, beta: float, alpha: float) -> Tensor:
    scaled = product if alpha == 1 else mul(product, alpha)
    if beta == 0:  # as in PyTorch, input is ignored (NaN in it does not propagate)
        return scaled
    base = as_tensor(input)
    return add(base if beta == 1 else mul(base, beta), scaled)


def addmm(
    input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1, out=None
) -> Tensor:
    """β·input + α·(mat1 @ mat2); ``input`` broadcasts to (n, p)."""
    refuse_out("addmm", out)
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(
    input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1, out=None
) -> Tensor:
    """β·input + α·(mat @ vec); ``input`` broadcasts to (n,)."""
    refuse_out("addmv", out)
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def baddbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1, out=None
) -> Tensor:
    """β·input + α·bmm(batch1, batch2); ``input`` broadcasts to (b, n, p)."""
    refuse_out("baddbmm", out)
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1, out=None
) -> Tensor:
    """β·input + α·Σ_b batch1[b] @ batch2[b]; ``input`` broadcasts to (n, p)."""
    refuse_out("addbmm", out)
    b1, b2 = _check("addbmm", batch1, 3, "batch1"), _check("addbmm", batch2, 3, "batch2")
    return _scaled_sum(input, einsum("bij,bjk->ik", b1, b2), beta, alpha)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` (…, m, m) multiplied by itself ``n ≥ 0`` times (the identity for n = 0)."""
    a = as_tensor(input)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"matrix_power(): needs square matrices (..., m, m); got {tuple(a.shape)}"
        )
    if n < 0:
        raise NotImplementedError("matrix_power(): negative powers need inv(), not in chainrule")
    if n == 0:
        eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return Tensor._wrap(eye.copy())
    result, base = None, a
    while n:  # binary powering: O(log n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(tensors: Sequence[Tensor], *, out: None = None) -> Tensor:
    """The product of 2-D matrices (the first and last may be 1-D), left to right."""
    refuse_out("multi_dot", out)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors, got {len(tensors)}")
    result = as_tensor(tensors[0])
    for t in tensors[1:]:
        result = matmul(result, t)
    return result
