"""Parity cases for P1's ops and signatures: max/min along a dim, PyTorch's argument names."""

from __future__ import annotations

from parity_support import F, case, fixed, inputs, randn, register, torch

SIGNATURE_CASES = [
    case(
        "max-dim-values",
        "MaxDim",
        inputs(x=randn(3, 4, 5)),
        lambda t: F.max(t.x, 1).values,
        lambda t: torch.max(t.x, 1).values,
    ),
    case(
        "min-dim-keepdim-negative-values",
        "MinDim",
        inputs(x=randn(3, 4, 5)),
        lambda t: t.x.min(dim=-1, keepdim=True).values,
        lambda t: t.x.min(dim=-1, keepdim=True).values,
    ),
    case(
        # Ties: the gradient goes to the first extreme element, the index both return.
        "max-dim-ties-first-index",
        "MaxDim",
        inputs(x=fixed([[2, 0, 2, 1], [1, 3, 3, 3], [0, 0, 0, 0]])),
        lambda t: t.x.max(1)[0],
        lambda t: t.x.max(1)[0],
    ),
    case(
        "min-dim-ties-axis-alias",
        "MinDim",
        inputs(x=fixed([[2, 0, 2, 0], [1, 1, 1, 3], [0, 5, 0, 0]])),
        lambda t: t.x.min(axis=0).values,
        lambda t: t.x.min(axis=0).values,
    ),
    case(
        "reductions-pytorch-names",
        "Sum Mean Var LogSumExp Add",
        inputs(x=randn(3, 4, 5)),
        lambda t: (
            t.x.sum(dim=1, keepdim=True)
            + t.x.mean(1, True)
            + t.x.var(1, False, True)
            + t.x.var(dim=1, unbiased=True, keepdim=True)
            + F.logsumexp(t.x, dim=1, keepdim=True)
        ),
        lambda t: (
            t.x.sum(dim=1, keepdim=True)
            + t.x.mean(1, True)
            + t.x.var(1, False, True)
            + t.x.var(dim=1, unbiased=True, keepdim=True)
            + torch.logsumexp(t.x, dim=1, keepdim=True)
        ),
    ),
    case(
        "sum-dtype-float64-from-float64",
        "Sum",
        inputs(x=randn(3, 4)),
        lambda t: t.x.sum(-1, dtype=F.sum(t.x).dtype),
        lambda t: t.x.sum(-1, dtype=torch.float64),
    ),
]

BASICS_CASES = [
    case(
        "clone-t-view-methods",
        "Clone Permute Reshape Mul",
        inputs(x=randn(3, 4)),
        lambda t: t.x.clone().t().view(-1) * t.x.t().reshape(12),
        lambda t: t.x.clone().t().reshape(-1) * t.x.t().reshape(12),
    ),
]

register(*SIGNATURE_CASES, *BASICS_CASES)
