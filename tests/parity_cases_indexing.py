"""PyTorch parity: gather, scatter, scatter_add, scatter_reduce, index_select, index_add,
masked_fill, masked_select, take_along_dim, and PyTorch's integer-first ``x[index]``."""

from __future__ import annotations

import numpy as np

from chainrule.ops.indexing import ScatterAddFlat
from chainrule.ops.shape import IndexAccumulate
from parity_support import F, case, fixed, inputs, mask, randn, register, torch

IDX = fixed([[0, 2, 1, 2], [1, 1, 0, 0]], np.int64)  # repeats in every column
ROWS = fixed([2, 0, 2], np.int64)
FLAT = np.array([4, 0, 4, 5, 1], dtype=np.int64)
ROW_INDEX = np.array([2, 0, 2], dtype=np.int64)


def _t(a):
    return a if isinstance(a, torch.Tensor) else torch.as_tensor(a)


CASES = [
    case(
        "gather-dim0-repeats",
        "Gather",
        inputs(x=randn(3, 5), i=IDX),
        lambda t: F.gather(t.x, 0, t.i),
        lambda t: torch.gather(t.x, 0, t.i),
    ),
    case(
        "gather-method-negative-dim",
        "Gather",
        inputs(x=randn(2, 6), i=IDX),
        lambda t: t.x.gather(-1, t.i),
        lambda t: t.x.gather(-1, t.i),
    ),
    case(
        "scatter-src",
        "Scatter",
        inputs(x=randn(3, 5), s=randn(2, 5), i=fixed([[0, 2, 1, 2, 0], [1, 0, 0, 1, 2]], np.int64)),
        lambda t: F.scatter(t.x, 0, t.i, t.s),
        lambda t: torch.scatter(t.x, 0, t.i, t.s),
    ),
    case(
        "scatter-value",
        "Scatter",
        inputs(x=randn(3, 5), i=fixed([[0, 2], [1, 0]], np.int64)),
        lambda t: F.scatter(t.x, 1, t.i, 2.5),
        lambda t: torch.scatter(t.x, 1, t.i, 2.5),
    ),
    case(
        "scatter-add-repeats",
        "ScatterReduce",
        inputs(x=randn(3, 5), s=randn(2, 4), i=IDX),
        lambda t: F.scatter_add(t.x, 0, t.i, t.s),
        lambda t: torch.scatter_add(t.x, 0, t.i, t.s),
    ),
]
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        CASES.append(
            case(
                f"scatter-reduce-{reduce}-self={include_self}",
                "ScatterReduce",
                inputs(x=randn(3, 5), s=randn(2, 4), i=IDX),
                lambda t, r=reduce, s=include_self: F.scatter_reduce(
                    t.x, 0, t.i, t.s, r, include_self=s
                ),
                lambda t, r=reduce, s=include_self: torch.scatter_reduce(
                    t.x, 0, t.i, t.s, r, include_self=s
                ),
            )
        )
CASES += [
    case(
        "scatter-reduce-amax-ties",
        "ScatterReduce",
        inputs(
            x=fixed([[1.0, 2.0], [0.5, 3.0]]), s=fixed([[1.0, 3.0]]), i=fixed([[0, 1]], np.int64)
        ),
        lambda t: F.scatter_reduce(t.x, 0, t.i, t.s, "amax"),
        lambda t: torch.scatter_reduce(t.x, 0, t.i, t.s, "amax"),
    ),
    case(
        "scatter-reduce-prod-zeros",
        "ScatterReduce",
        inputs(
            x=fixed([[0.0, 2.0], [0.5, 0.0]]),
            s=fixed([[0.0, 3.0], [2.0, 0.0]]),
            i=fixed([[0, 1], [0, 1]], np.int64),
        ),
        lambda t: F.scatter_reduce(t.x, 0, t.i, t.s, "prod"),
        lambda t: torch.scatter_reduce(t.x, 0, t.i, t.s, "prod"),
    ),
    case(
        "index-select-repeats",
        "GetItem",
        inputs(x=randn(4, 3, 2), i=ROWS),
        lambda t: F.index_select(t.x, 1, t.i),
        lambda t: torch.index_select(t.x, 1, t.i),
    ),
    case(
        "index-add-alpha",
        "IndexAdd",
        inputs(x=randn(3, 4), s=randn(3, 3), i=ROWS),
        lambda t: F.index_add(t.x, 1, t.i[:3] % 4, t.s, alpha=1.5),
        lambda t: torch.index_add(t.x, 1, t.i[:3] % 4, t.s, alpha=1.5),
    ),
    case(
        "index-add-rows",
        "IndexAdd",
        inputs(x=randn(3, 4), s=randn(3, 4), i=ROWS),
        lambda t: t.x.index_add(0, t.i, t.s),
        lambda t: t.x.index_add(0, t.i, t.s),
    ),
    case(
        "masked-fill-broadcast-mask",
        "Where",
        inputs(x=randn(3, 4), m=mask(4)),
        lambda t: F.masked_fill(t.x, t.m, -1.5),
        lambda t: t.x.masked_fill(t.m, -1.5),
    ),
    case(
        "masked-fill-tensor-value",
        "Where",
        inputs(x=randn(3, 4), v=randn(), m=mask(3, 4)),
        lambda t: t.x.masked_fill(t.m, t.v),
        lambda t: t.x.masked_fill(t.m, t.v),
    ),
    case(
        "masked-select-broadcast",
        "GetItem Expand",
        inputs(x=randn(4), m=mask(3, 4)),
        lambda t: F.masked_select(t.x, t.m),
        lambda t: torch.masked_select(t.x, t.m),
    ),
    case(
        "take-along-dim-broadcast",
        "Gather",
        inputs(x=randn(3, 5), i=fixed([[0, 4]], np.int64)),
        lambda t: F.take_along_dim(t.x, t.i, 1),
        lambda t: torch.take_along_dim(t.x, t.i, 1),
    ),
    case(
        "take-along-dim-flat",
        "Gather",
        inputs(x=randn(3, 5), i=fixed([14, 0, 3], np.int64)),
        lambda t: F.take_along_dim(t.x, t.i),
        lambda t: torch.take_along_dim(t.x, t.i),
    ),
    case(
        "getitem-int-slice-list",
        "GetItem",
        inputs(x=randn(3, 4, 5)),
        lambda t: t.x[0, :, [1, 2, 1]],
    ),
    case(
        "getitem-int-between-lists",
        "GetItem",
        inputs(x=randn(3, 4, 5, 2)),
        lambda t: t.x[[0, 2], 1, :, [1, 0]],
    ),
    case(
        "getitem-int-none-mask",
        "GetItem",
        inputs(x=randn(3, 4, 5), m=mask(5)),
        lambda t: t.x[-1, None, :, t.m],
    ),
]
CASES += [
    case(
        "scatter-add-flat-repeats",
        "ScatterAddFlat",
        inputs(v=randn(5)),
        lambda t: ScatterAddFlat.apply(t.v, pos=FLAT, shape=(2, 3)),
        lambda t: (
            torch.zeros(6, dtype=t.v.dtype).index_add(0, torch.from_numpy(FLAT), t.v).reshape(2, 3)
        ),
    ),
    case(
        "index-accumulate-repeats",
        "IndexAccumulate",
        inputs(v=randn(3, 4)),
        lambda t: IndexAccumulate.apply(
            t.v, shape=(3, 4), index=(ROW_INDEX,), first=None, basic=False
        ),
        lambda t: torch.zeros(3, 4, dtype=t.v.dtype).index_put(
            (torch.from_numpy(ROW_INDEX),), t.v, accumulate=True
        ),
    ),
]

register(*CASES)
