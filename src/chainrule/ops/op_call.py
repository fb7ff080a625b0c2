"""``call(Op, *values, **params)``: one op, run on arrays or recorded on tensors.

A backward that needs a step NumPy cannot express differentiably (a scatter-add) calls that
step's op through :func:`call`: on arrays (the first-order pass) it runs the op's ``forward``
directly, at the cost of the plain NumPy code; on tensors (a ``create_graph`` pass) it records
the op with ``Op.apply``, so that the step has a backward of its own.
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function


def call(op: type[Function], *values: Any, **params: Any) -> Any:
    """``op.apply(*values, **params)`` if any value is a tensor, else ``op().forward(...)``."""
    for v in values:
        if isinstance(v, Tensor):
            return op.apply(*values, **params)
    return op().forward(*values, **params)
