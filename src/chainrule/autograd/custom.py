"""PyTorch's custom-op form of :class:`~chainrule.autograd.function.Function`.

A subclass whose ``forward`` is a ``@staticmethod`` is written as in PyTorch::

    class Cube(chainrule.autograd.Function):
        '''y = x³;  dy/dx = 3x².'''

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(x)

``forward`` and ``backward`` take and return tensors and run with recording off (first-order:
the ops inside ``backward`` are not themselves differentiated). ``ctx`` is the graph node, a
:class:`CustomNode`: what ``forward`` keeps on it is freed after the backward pass, as for the
built-in ops. A class that defines ``setup_context(ctx, inputs, output)`` gets a ``forward``
without ``ctx``, as in PyTorch 2. Such classes are registered in ``chainrule.OPS`` like every
other op (``register=False`` keeps a helper out).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state, write_clock

# The stand-in input for an argument that is not a tensor (a number, a flag): it never requires
# grad, so the engine passes it by. One shared array: nothing ever writes to it.
_CONSTANT = np.zeros(())


class CustomNode(Function, register=False):
    """The node (and ``ctx``) of one call of a ctx-style custom op."""

    __slots__ = ("function",)
    function: type[Function]

    @property
    def op_name(self) -> str:  # type: ignore[override]
        """The custom op's registered name, for the engine's error messages."""
        return self.function.op_name

    def name(self) -> str:
        """``CubeBackward`` for ``class Cube(Function)``, as PyTorch names it."""
        return f"{self.function.__name__}Backward"

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep ``tensors`` (inputs or outputs of ``forward``, or None) for ``backward``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward() takes tensors (or None), got {type(t).__name__}; "
                    "keep other values as attributes of ctx (ctx.k = k)"
                )
        self.__dict__["to_save"] = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to :meth:`save_for_backward`, in order."""
        if self.released:
            raise RuntimeError(
                f"{self.name()}: saved tensors were freed by the first backward(); call "
                "backward(retain_graph=True) the first time to backpropagate through it again"
            )
        return self.__dict__.get("to_save", ())

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Say that these outputs of ``forward`` carry no gradient (e.g. indices)."""
        self.__dict__.setdefault("non_differentiable", set()).update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Refused: a custom op that writes its inputs in place is not supported."""
        raise NotImplementedError(
            "ctx.mark_dirty() (a custom Function that modifies its inputs in place) is not "
            "supported by chainrule; return a new tensor instead"
        )

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for compatibility: chainrule always passes a gradient array to backward."""

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """Call the user's ``backward(ctx, grad)`` on tensors; return one array per input."""
        previous = state.grad_enabled
        state.grad_enabled = False
        try:
            result = self.function.backward(self, Tensor._wrap(grad))  # type: ignore[call-arg]
        finally:
            state.grad_enabled = previous
        grads = result if isinstance(result, tuple) else (result,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {len(self.inputs)}, got {len(grads)})"
            )
        return tuple(_as_array(g) for g in grads)


def _as_array(g: Any) -> np.ndarray | None:
    if g is None:
        return None
    return g.data if isinstance(g, Tensor) else np.asarray(g)


def apply_ctx_function(cls: type[Function], *args: Any, **kwargs: Any) -> Any:
    """``cls.apply(*args)`` for a ctx-style ``cls``: run forward, record a :class:`CustomNode`."""
    node = CustomNode()
    node.function = cls
    node.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        if "setup_context" in _defined(cls):
            output = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, output)  # type: ignore[attr-defined]
        else:
            output = cls.forward(node, *args, **kwargs)
    finally:
        state.grad_enabled = previous
    if isinstance(output, (tuple, list)):
        raise NotImplementedError(
            f"{cls.__name__}.forward returned {len(output)} values: custom Functions with "
            "several outputs are not supported by chainrule yet; return one tensor"
        )
    data = output.data if isinstance(output, Tensor) else np.asarray(output)
    marked = node.__dict__.get("non_differentiable", ())
    if not (previous and True in node.needs_input_grad) or id(output) in marked:
        return Tensor._wrap(data)
    node.inputs = tuple(a if isinstance(a, Tensor) else Tensor._wrap(_CONSTANT) for a in args)
    node.versions = tuple(t._version for t in node.inputs)
    node.stamp = write_clock.count
    node.released = False
    return Tensor._from_op(data, node)


def _defined(cls: type) -> set[str]:
    """Names defined by ``cls`` or a base between it and Function."""
    names: set[str] = set()
    for base in cls.__mro__:
        if base is Function:
            break
        names.update(vars(base))
    return names
