"""What a recorded graph looks like from outside: node names, edges, leaves, hook handles.

``tensor.grad_fn`` is the op node itself (a :class:`~chainrule.autograd.function.Function`);
this module gives it PyTorch's face: ``grad_fn.name()`` is ``"MulBackward0"``,
``grad_fn.next_functions`` pairs each input's node with 0 (PyTorch's output index: every
chainrule op has one output), and a leaf that requires grad appears as an
:class:`AccumulateGrad`, the node that stores its ``.grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# PyTorch's node names where they are not simply "<op name>Backward0". Only names a user sees
# when printing a graph matter; the rest fall back to the rule.
_TORCH_NAMES = {
    "MatMul": "MmBackward0",
    "IndexPut": "CopySlices",
    "Linear": "AddmmBackward0",
    "PowScalar": "PowBackward0",
    "Pow": "PowBackward1",
    "ReLU": "ReluBackward0",
    "GELU": "GeluBackward0",
    "ELU": "EluBackward0",
    "LeakyReLU": "LeakyReluBackward0",
    "Reshape": "ViewBackward0",
    "GetItem": "IndexBackward0",
    "Clip": "ClampBackward1",
    "Cast": "ToCopyBackward0",
    "Concatenate": "CatBackward0",
    "MSELoss": "MseLossBackward0",
    "Extreme": "MaxBackward1",
    "LogSumExp": "LogsumexpBackward0",
}


def node_name(node: Any) -> str:
    """PyTorch's name for a built-in op's node: ``MulBackward0``."""
    op_name = type(node).op_name
    return _TORCH_NAMES.get(op_name) or f"{op_name.rsplit('.', 1)[-1]}Backward0"


class AccumulateGrad:
    """The graph's node for a leaf that requires grad: backward ends here, in ``.grad``.

    ``variable`` is the leaf. Two of these compare equal when they stand for the same leaf, so
    a walk over ``next_functions`` can tell that two edges reach the same parameter.
    """

    __slots__ = ("variable",)
    next_functions: tuple[tuple[Any, int], ...] = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        """``"torch::autograd::AccumulateGrad"``, as PyTorch prints it."""
        return "torch::autograd::AccumulateGrad"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def edge_node(t: Any) -> Any:
    """The node a gradient for ``t`` goes to: its op, an AccumulateGrad, or None."""
    if t._ctx is not None:
        return t._ctx
    return AccumulateGrad(t) if t._requires_grad else None


class RemovableHandle:
    """What ``Tensor.register_hook`` returns: ``handle.remove()`` unregisters the hook.

    Calling the handle also removes it (chainrule's earlier API returned a function), and it is
    a context manager that removes the hook on exit.
    """

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list[Callable[..., Any]], hook: Callable[..., Any]) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        """Unregister the hook; removing it twice is harmless."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __call__(self) -> None:
        self.remove()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
