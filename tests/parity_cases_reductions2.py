"""PyTorch parity: std, var_mean, prod, amax, scans, sort, topk, kthvalue, median, mode.

Inputs are tie-free (values at least 0.1 apart) except where a case pins torch's tie rule;
indices are compared in ``test_sorting_parity.py``.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.ops.sorting import ScatterAlong
from parity_support import case, fixed, inputs, randn, register, torch


def distinct(*shape: int):
    def make(rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.3 + rng.uniform(-0.05, 0.05, n) - n * 0.15).reshape(shape)

    return make


X = inputs(x=randn(3, 4, 5))
D = inputs(x=distinct(3, 4, 5))
#: Where a (3, 4)-shaped source lands along dim 1 of a (3, 6) result: repeats add up.
SCATTER_INDEX = np.array([[0, 0, 5, 2], [1, 3, 3, 3], [5, 4, 2, 0]], dtype=np.int64)

CASES = [
    case("std-all", "Std", X, lambda t: t.x.std(), lambda t: t.x.std()),
    case(
        "std-dim1-keepdim",
        "Std",
        X,
        lambda t: t.x.std(1, keepdim=True),
        lambda t: t.x.std(1, keepdim=True),
    ),
    case(
        "std-dims-correction0",
        "Std",
        X,
        lambda t: t.x.std((0, 2), correction=0),
        lambda t: t.x.std((0, 2), correction=0),
    ),
    case(
        "std-unbiased-false", "Std", X, lambda t: t.x.std(-1, False), lambda t: t.x.std(-1, False)
    ),
    case(
        "std-of-constant-has-gradient-zero",
        "Std",
        inputs(x=fixed([[2.0, 2.0], [1.0, 3.0]])),
        lambda t: t.x.std(1),
        lambda t: t.x.std(1),
    ),
    case(
        "std_mean",
        "Std",
        X,
        lambda t: sum(cr.std_mean(t.x, 1)),
        lambda t: sum(torch.std_mean(t.x, 1)),
    ),
    case(
        "var_mean-correction2",
        "Var",
        X,
        lambda t: sum(cr.var_mean(t.x, 2, correction=2)),
        lambda t: sum(torch.var_mean(t.x, 2, correction=2)),
    ),
    case("prod-all", "Prod", X, lambda t: t.x.prod(), lambda t: t.x.prod()),
    case(
        "prod-dim-keepdim",
        "Prod",
        X,
        lambda t: t.x.prod(1, keepdim=True),
        lambda t: t.x.prod(1, keepdim=True),
    ),
    case(
        "prod-one-zero",
        "Prod",
        inputs(x=fixed([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]])),
        lambda t: t.x.prod(1),
        lambda t: t.x.prod(1),
    ),
    case("amax-dims", "Max", D, lambda t: t.x.amax((0, 2)), lambda t: t.x.amax((0, 2))),
    case(
        "amin-ties-split",
        "Min",
        inputs(x=fixed([[1.0, 1.0, 2.0], [3.0, 0.5, 0.5]])),
        lambda t: t.x.amin(1),
        lambda t: t.x.amin(1),
    ),
    case("cumsum", "CumSum", X, lambda t: t.x.cumsum(1), lambda t: t.x.cumsum(1)),
    case("cumprod", "CumProd", X, lambda t: t.x.cumprod(-1), lambda t: t.x.cumprod(-1)),
    case(
        "cumprod-zeros",
        "CumProd",
        inputs(x=fixed([[2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 2.0, 0.5, 3.0, 0.0]])),
        lambda t: t.x.cumprod(1),
        lambda t: t.x.cumprod(1),
    ),
    case(
        "logcumsumexp",
        "LogCumSumExp",
        inputs(x=randn(3, 4, scale=30.0)),
        lambda t: t.x.logcumsumexp(0),
        lambda t: t.x.logcumsumexp(0),
    ),
    case("cummax", "CumMax", D, lambda t: t.x.cummax(2).values, lambda t: t.x.cummax(2).values),
    case(
        "cummin-ties",
        "CumMin",
        inputs(x=fixed([2.0, 1.0, 1.0, 3.0, 1.0])),
        lambda t: t.x.cummin(0).values,
        lambda t: t.x.cummin(0).values,
    ),
    case("sort", "Sort", D, lambda t: t.x.sort(1).values, lambda t: t.x.sort(1).values),
    case(
        "sort-descending",
        "Sort",
        D,
        lambda t: t.x.sort(0, descending=True).values,
        lambda t: t.x.sort(0, descending=True).values,
    ),
    case("topk", "TopK", D, lambda t: t.x.topk(2).values, lambda t: t.x.topk(2).values),
    case(
        "topk-smallest-dim0",
        "TopK",
        D,
        lambda t: t.x.topk(2, 0, largest=False).values,
        lambda t: t.x.topk(2, 0, largest=False).values,
    ),
    case(
        "kthvalue",
        "KthValue",
        D,
        lambda t: t.x.kthvalue(3, 1).values,
        lambda t: t.x.kthvalue(3, 1).values,
    ),
    case(
        "median-dim",
        "Median",
        D,
        lambda t: t.x.median(-1, keepdim=True).values,
        lambda t: t.x.median(-1, keepdim=True).values,
    ),
    case(
        "scatter-along-adds-repeats",
        "ScatterAlong",
        inputs(v=randn(3, 4)),
        lambda t: ScatterAlong.apply(t.v, indices=SCATTER_INDEX, axis=1, shape=(3, 6)),
        lambda t: torch.zeros(3, 6, dtype=t.v.dtype).scatter_add(
            1, torch.from_numpy(SCATTER_INDEX), t.v
        ),
    ),
    case("median-all", "MedianAll", D, lambda t: t.x.median(), lambda t: t.x.median()),
    case(
        "median-all-ties-split",
        "MedianAll",
        inputs(x=fixed([1.0, 2.0, 2.0, 3.0])),
        lambda t: t.x.median(),
        lambda t: t.x.median(),
    ),
    case(
        "mode",
        "Mode",
        inputs(x=fixed([[3.0, 1.0, 3.0, 1.0, 2.0], [5.0, 5.0, 4.0, 4.0, 6.0]])),
        lambda t: t.x.mode(1).values,
        lambda t: t.x.mode(1).values,
    ),
]


register(*CASES)
