"""PyTorch parity: split, chunk, unbind, flip, roll, repeat, tile, repeat_interleave, tril, triu,
diag, diagonal, diag_embed, narrow, movedim, swapaxes, unflatten, meshgrid, unfold, F.pad modes."""

from __future__ import annotations

import numpy as np

from parity_support import TF, F, case, fixed, inputs, randn, register, torch


def _cat(ts):
    return sum((t.reshape(-1) * (i + 1.0)).sum() for i, t in enumerate(ts))


CASES = [
    case(
        "split-size",
        "GetItem",
        inputs(x=randn(7, 3)),
        lambda t: _cat(F.split(t.x, 3)),
        lambda t: _cat(torch.split(t.x, 3)),
    ),
    case(
        "split-sections-dim1",
        "GetItem",
        inputs(x=randn(2, 6)),
        lambda t: _cat(t.x.split([1, 0, 5], dim=1)),
        lambda t: _cat(t.x.split([1, 0, 5], dim=1)),
    ),
    case(
        "chunk-uneven",
        "GetItem",
        inputs(x=randn(2, 5)),
        lambda t: _cat(F.chunk(t.x, 3, -1)),
        lambda t: _cat(torch.chunk(t.x, 3, -1)),
    ),
    case(
        "unbind-dim1",
        "GetItem",
        inputs(x=randn(2, 3)),
        lambda t: _cat(F.unbind(t.x, 1)),
        lambda t: _cat(torch.unbind(t.x, 1)),
    ),
    case(
        "flip-two-dims",
        "GetItem",
        inputs(x=randn(2, 3, 4)),
        lambda t: t.x.flip(0, -1),
        lambda t: t.x.flip(0, -1),
    ),
    case(
        "roll-dims",
        "GetItem",
        inputs(x=randn(3, 4)),
        lambda t: F.roll(t.x, (1, -5), (0, 1)),
        lambda t: torch.roll(t.x, (1, -5), (0, 1)),
    ),
    case(
        "roll-flat",
        "GetItem",
        inputs(x=randn(3, 4)),
        lambda t: F.roll(t.x, 5),
        lambda t: torch.roll(t.x, 5),
    ),
    case(
        "repeat-extra-dims",
        "Expand Reshape",
        inputs(x=randn(2, 3)),
        lambda t: t.x.repeat(2, 1, 3),
        lambda t: t.x.repeat(2, 1, 3),
    ),
    case(
        "tile-short-dims",
        "Expand Reshape",
        inputs(x=randn(2, 3)),
        lambda t: F.tile(t.x, (2,)),
        lambda t: torch.tile(t.x, (2,)),
    ),
    case(
        "repeat-interleave-counts",
        "GetItem",
        inputs(x=randn(3, 2), r=fixed([2, 0, 1], np.int64)),
        lambda t: F.repeat_interleave(t.x, t.r, dim=0),
        lambda t: torch.repeat_interleave(t.x, t.r, dim=0),
    ),
    case(
        "repeat-interleave-flat",
        "GetItem",
        inputs(x=randn(2, 2)),
        lambda t: t.x.repeat_interleave(2),
        lambda t: t.x.repeat_interleave(2),
    ),
    case(
        "tril-offset",
        "Where",
        inputs(x=randn(2, 3, 4)),
        lambda t: F.tril(t.x, -1),
        lambda t: torch.tril(t.x, -1),
    ),
    case(
        "triu-offset", "Where", inputs(x=randn(4, 3)), lambda t: t.x.triu(1), lambda t: t.x.triu(1)
    ),
    case(
        "diag-of-vector",
        "Pad Reshape GetItem",
        inputs(x=randn(3)),
        lambda t: F.diag(t.x, 1),
        lambda t: torch.diag(t.x, 1),
    ),
    case(
        "diag-of-matrix",
        "GetItem",
        inputs(x=randn(3, 4)),
        lambda t: F.diag(t.x, -1),
        lambda t: torch.diag(t.x, -1),
    ),
    case(
        "diagonal-dims",
        "GetItem Permute",
        inputs(x=randn(2, 3, 4)),
        lambda t: t.x.diagonal(1, 2, 0),
        lambda t: t.x.diagonal(1, 2, 0),
    ),
    case(
        "diag-embed-dims",
        "Pad Permute",
        inputs(x=randn(2, 3)),
        lambda t: F.diag_embed(t.x, -1, 0, 2),
        lambda t: torch.diag_embed(t.x, -1, 0, 2),
    ),
    case(
        "narrow-negative-start",
        "GetItem",
        inputs(x=randn(3, 5)),
        lambda t: t.x.narrow(1, -3, 2),
        lambda t: t.x.narrow(1, -3, 2),
    ),
    case(
        "movedim-pairs",
        "Permute",
        inputs(x=randn(2, 3, 4, 5)),
        lambda t: F.movedim(t.x, (0, 3), (2, 0)),
        lambda t: torch.movedim(t.x, (0, 3), (2, 0)),
    ),
    case(
        "swapaxes",
        "Permute",
        inputs(x=randn(2, 3, 4)),
        lambda t: F.swapaxes(t.x, 0, -1),
        lambda t: torch.swapaxes(t.x, 0, -1),
    ),
    case(
        "unflatten-minus-one",
        "Reshape",
        inputs(x=randn(2, 12)),
        lambda t: F.unflatten(t.x, 1, (3, -1)),
        lambda t: torch.unflatten(t.x, 1, (3, -1)),
    ),
    case(
        "meshgrid-xy",
        "Expand",
        inputs(a=randn(3), b=randn(2), c=randn(4)),
        lambda t: _cat(F.meshgrid(t.a, t.b, t.c, indexing="xy")),
        lambda t: _cat(torch.meshgrid(t.a, t.b, t.c, indexing="xy")),
    ),
    case(
        "tensor-unfold",
        "GetItem Permute",
        inputs(x=randn(2, 7, 3)),
        lambda t: t.x.unfold(1, 3, 2),
        lambda t: t.x.unfold(1, 3, 2),
    ),
]
for mode in ("reflect", "replicate", "circular"):
    CASES += [
        case(
            f"pad-{mode}-1d",
            "GetItem",
            inputs(x=randn(2, 3, 5)),
            lambda t, m=mode: F.pad(t.x, (2, 3), mode=m),
            lambda t, m=mode: TF.pad(t.x, (2, 3), mode=m),
        ),
        case(
            f"pad-{mode}-2d",
            "GetItem",
            inputs(x=randn(1, 2, 4, 5)),
            lambda t, m=mode: F.pad(t.x, (1, 2, 3, 0), mode=m),
            lambda t, m=mode: TF.pad(t.x, (1, 2, 3, 0), mode=m),
        ),
    ]
CASES.extend(
    [
        case(
            "pad-constant-value",
            "Pad",
            inputs(x=randn(2, 3)),
            lambda t: F.pad(t.x, (1, 1), "constant", 0.5),
            lambda t: TF.pad(t.x, (1, 1), "constant", 0.5),
        ),
        case(
            "pad-constant-negative-crops",
            "Pad",
            inputs(x=randn(3, 5, 4)),
            lambda t: F.pad(t.x, (-1, 2, 1, -3), value=0.25),
            lambda t: TF.pad(t.x, (-1, 2, 1, -3), value=0.25),
        ),
    ]
)

register(*CASES)
