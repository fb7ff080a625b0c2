"""``chainrule.linalg``: the part of ``torch.linalg`` chainrule has.

Norms (``norm``, ``vector_norm``, ``matrix_norm``), products (``matmul``, ``multi_dot``,
``vecdot``, ``matrix_power``). Decompositions, solvers and inverses (``svd``, ``qr``, ``inv``,
``solve``, ``det``, ``eigh``…) are not here yet: asking for one raises ``AttributeError``
naming it.
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.ops.arithmetic import matmul, mul
from chainrule.ops.linalg import matrix_power, multi_dot
from chainrule.ops.norms import linalg_norm as norm
from chainrule.ops.norms import matrix_norm, vector_norm
from chainrule.ops.reduction import sum as _sum

__all__ = ["matmul", "matrix_norm", "matrix_power", "multi_dot", "norm", "vecdot", "vector_norm"]


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Σ x·y over ``dim`` (the two broadcast together first), as ``torch.linalg.vecdot``."""
    return _sum(mul(x, y), dim)


def __getattr__(name: str) -> Any:
    raise AttributeError(
        f"chainrule.linalg has no {name!r}: torch.linalg.{name} is not implemented in chainrule "
        f"(available: {', '.join(__all__)})"
    )
