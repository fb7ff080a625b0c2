"""PyTorch parity: einsum, tensordot, mm/bmm/mv/dot/outer and the add* forms, norms."""

from __future__ import annotations

import math

import chainrule as cr
from parity_support import case, fixed, inputs, randn, register, torch


def both(name: str, ops: str, make, fn, const: str = ""):
    """A case spelled alike in both libraries: ``fn(lib, t)``."""
    return case(name, ops, make, lambda t: fn(cr, t), lambda t: fn(torch, t), const)


AB = inputs(a=randn(3, 4), b=randn(4, 5))
V = inputs(x=randn(3, 4, 5))

CASES = [
    both("einsum-matmul", "Einsum", AB, lambda m, t: m.einsum("ij,jk->ik", t.a, t.b)),
    both("einsum-implicit", "Einsum", AB, lambda m, t: m.einsum("ij,jk", t.a, t.b)),
    both("einsum-trace", "Einsum", inputs(a=randn(4, 4)), lambda m, t: m.einsum("ii", t.a)),
    both("einsum-diagonal", "Einsum", inputs(a=randn(4, 4)), lambda m, t: m.einsum("ii->i", t.a)),
    both(
        "einsum-ellipsis-broadcast",
        "Einsum",
        inputs(a=randn(2, 3, 4), b=randn(4, 2)),
        lambda m, t: m.einsum("...ij,jk->...ik", t.a, t.b),
    ),
    both(
        "einsum-three-operands-list",
        "Einsum",
        inputs(a=randn(2, 3), b=randn(3, 4), c=randn(4)),
        lambda m, t: m.einsum("ij,jk,k->i", [t.a, t.b, t.c]),
    ),
    both(
        "einsum-sum-only-in-one",
        "Einsum",
        inputs(a=randn(3, 4), b=randn(3)),
        lambda m, t: m.einsum("ij,i->i", t.a, t.b),
    ),
    both(
        "tensordot-int",
        "Einsum",
        inputs(a=randn(2, 3, 4), b=randn(3, 4, 5)),
        lambda m, t: m.tensordot(t.a, t.b, 2),
    ),
    both(
        "tensordot-pairs",
        "Einsum",
        inputs(a=randn(2, 3, 4), b=randn(4, 2, 5)),
        lambda m, t: m.tensordot(t.a, t.b, dims=([0, 2], [1, 0])),
    ),
    both("mm", "MatMul", AB, lambda m, t: m.mm(t.a, t.b)),
    both("bmm", "MatMul", inputs(a=randn(2, 3, 4), b=randn(2, 4, 5)), lambda m, t: m.bmm(t.a, t.b)),
    both("mv", "MatMul", inputs(a=randn(3, 4), v=randn(4)), lambda m, t: m.mv(t.a, t.v)),
    both("dot", "MatMul", inputs(a=randn(4), b=randn(4)), lambda m, t: t.a.dot(t.b)),
    both("outer", "Mul", inputs(a=randn(3), b=randn(4)), lambda m, t: m.outer(t.a, t.b)),
    both(
        "addmm-beta-alpha",
        "MatMul Mul Add",
        inputs(c=randn(5), a=randn(3, 4), b=randn(4, 5)),
        lambda m, t: m.addmm(t.c, t.a, t.b, beta=0.5, alpha=2.0),
    ),
    both(
        "addmv",
        "MatMul Add",
        inputs(c=randn(3), a=randn(3, 4), v=randn(4)),
        lambda m, t: m.addmv(t.c, t.a, t.v),
    ),
    both(
        "baddbmm",
        "MatMul Mul Add",
        inputs(c=randn(1, 3, 5), a=randn(2, 3, 4), b=randn(2, 4, 5)),
        lambda m, t: m.baddbmm(t.c, t.a, t.b, alpha=-1.5),
    ),
    both(
        "matrix_power-5",
        "MatMul",
        inputs(a=randn(2, 3, 3, scale=0.5)),
        lambda m, t: m.matrix_power(t.a, 5),
    ),
    both("norm-default", "VectorNorm", V, lambda m, t: m.norm(t.x)),
    both("norm-p1-dim", "VectorNorm", V, lambda m, t: t.x.norm(1, dim=1, keepdim=True)),
    both("norm-p3-dims", "VectorNorm", V, lambda m, t: m.norm(t.x, 3, (0, 2))),
    both("vector_norm-inf", "VectorNorm", V, lambda m, t: m.linalg.vector_norm(t.x, math.inf, -1)),
    both("vector_norm-ord0.5", "VectorNorm", V, lambda m, t: m.linalg.vector_norm(t.x, 0.5, 0)),
    both(
        "vector_norm-at-zero",
        "VectorNorm",
        inputs(x=fixed([[0.0, 0.0], [3.0, -4.0]])),
        lambda m, t: m.linalg.vector_norm(t.x, dim=1),
    ),
    both(
        "vector_norm-zero-entries",
        "VectorNorm",
        inputs(x=fixed([0.0, 1.0, -1.0])),
        lambda m, t: m.linalg.vector_norm(t.x, 3),
    ),
    both(
        "linalg.norm-vector",
        "VectorNorm",
        inputs(x=randn(5)),
        lambda m, t: m.linalg.norm(t.x, -1.5),
    ),
    both("matrix_norm-fro", "VectorNorm", V, lambda m, t: m.linalg.matrix_norm(t.x)),
    both(
        "matrix_norm-inf",
        "Max Abs Sum",
        inputs(x=randn(2, 3, 4)),
        lambda m, t: m.linalg.matrix_norm(t.x, math.inf),
    ),
    both(
        "linalg.norm-matrix-1",
        "Max Abs Sum",
        inputs(x=randn(3, 4)),
        lambda m, t: m.linalg.norm(t.x, 1),
    ),
    both(
        "matrix_norm-minus1-keepdim",
        "Min Abs Sum",
        inputs(x=randn(2, 3, 4)),
        lambda m, t: m.linalg.matrix_norm(t.x, -1, dim=(0, 2), keepdim=True),
    ),
]

register(*CASES)
