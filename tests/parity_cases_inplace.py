"""PyTorch parity for the in-place family: assignment and fills recorded on a non-leaf
(IndexPut, PyTorch's CopySlices) and in-place arithmetic on a rebased history."""

from __future__ import annotations

from parity_support import case, inputs, randn, register


def _put(index):
    def fn(t):
        out = t.a * 1.0
        out[index] = t.v
        return out

    return fn


def _arith(t):
    out = t.a * 1.0
    out.mul_(t.b)
    out.sub_(t.b, alpha=0.5)
    out.clamp_(-1.0, 1.0)
    return out


def _fills(t):
    out = t.a * 1.0
    out[0] = 3.0
    out.masked_fill_(t.a > 1.0, 0.0)
    return out


CASES = [
    case("setitem-row", "IndexPut", inputs(a=randn(3, 4), v=randn(4)), _put(1)),
    case("setitem-slice", "IndexPut", inputs(a=randn(3, 4), v=randn(3)), _put((slice(None), 2))),
    case("setitem-broadcast", "IndexPut", inputs(a=randn(3, 4), v=randn(1, 4)), _put(slice(1, 3))),
    case("inplace-fills", "IndexPut Where", inputs(a=randn(3, 4)), _fills),
    case("inplace-arithmetic", "Mul Sub Clip", inputs(a=randn(5), b=randn(5)), _arith),
]

register(*CASES)
