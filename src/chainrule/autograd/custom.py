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
without ``ctx``, as in PyTorch 2. ``forward`` may return several tensors (a tuple); ``backward``
then receives one gradient per output. Such classes are registered in ``chainrule.OPS`` like every
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
        # create_graph=True hands a tensor: the user's backward then records the ops it runs.
        graph = isinstance(grad, Tensor)
        previous = state.grad_enabled
        state.grad_enabled = graph
        try:
            split = self._split(grad)
            grads_out = split if graph else [Tensor._wrap(g) for g in split]
            result = self.function.backward(self, *grads_out)  # type: ignore[call-arg]
        finally:
            state.grad_enabled = previous
        grads = result if isinstance(result, tuple) else (result,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {len(self.inputs)}, got {len(grads)})"
            )
        return grads if graph else tuple(_as_array(g) for g in grads)

    def _split(self, grad: np.ndarray) -> list[np.ndarray]:
        """The gradient of each output of forward: ``grad`` itself for one output; for several,
        the packed gradient cut back into their shapes (zeros for outputs with no gradient)."""
        layout = self.__dict__.get("layout")
        if layout is None:
            return [grad]
        grads, start = [], 0
        for shape, dtype, live in layout:
            if not live:
                grads.append(np.zeros(shape, dtype if dtype.kind == "f" else grad.dtype))
                continue
            n = int(np.prod(shape, dtype=np.int64))
            grads.append(grad[start : start + n].reshape(shape).astype(dtype, copy=False))
            start += n
        return grads


def _as_array(g: Any) -> np.ndarray | None:
    if g is None:
        return None
    return g._data if isinstance(g, Tensor) else np.asarray(g)


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
    record = previous and True in node.needs_input_grad
    if isinstance(output, (tuple, list)):
        return _several_outputs(node, args, output, record)
    data = output._data if isinstance(output, Tensor) else np.asarray(output)
    if not record or id(output) in node.__dict__.get("non_differentiable", ()):
        return Tensor._wrap(data)
    return Tensor._from_op(data, _record(node, args))


def _record(node: CustomNode, args: tuple) -> CustomNode:
    """Fill in what the engine reads on a node: inputs, their versions, the write-clock stamp."""
    node.inputs = tuple(a if isinstance(a, Tensor) else Tensor._wrap(_CONSTANT) for a in args)
    node.versions = tuple(t._version for t in node.inputs)
    node.stamp = write_clock.count
    node.released = False
    return node


def _several_outputs(node: CustomNode, args: tuple, outputs: Any, record: bool) -> Any:
    """The outputs of a forward that returned several tensors.

    The engine's nodes have one output each, so the differentiable (float, unmarked) outputs are
    packed into one flat array, the node's output, and each comes back as a view of its slice
    through an :class:`Unpack` node. Backward then sees one gradient per output of forward (zeros
    for an output that was not used or carries no gradient), as PyTorch passes them.
    """
    datas = [o._data if isinstance(o, Tensor) else np.asarray(o) for o in outputs]
    marked = node.__dict__.get("non_differentiable", ())
    live = [record and d.dtype.kind == "f" and id(o) not in marked for o, d in zip(outputs, datas)]
    if True not in live:
        return type(outputs)(Tensor._wrap(d) for d in datas)
    dtype = np.result_type(*[d for d, keep in zip(datas, live) if keep])
    node.layout = [(d.shape, d.dtype, keep) for d, keep in zip(datas, live)]
    flat = np.concatenate([d.ravel() for d, keep in zip(datas, live) if keep]).astype(dtype)
    packed = Tensor._from_op(flat, _record(node, args))
    result, start = [], 0
    for d, keep in zip(datas, live):
        if not keep:
            result.append(Tensor._wrap(d))
            continue
        result.append(Unpack.apply(packed, start=start, shape=d.shape, dtype=d.dtype))
        start += d.size
    return type(outputs)(result)


class Unpack(Function, register=False):
    """One output of a several-output custom op, cut from the packed array: the gradient goes
    back into its slice of a zero array, d packed / d out = the slice's indicator."""

    def forward(self, packed, start, shape, dtype):
        self.size, self.start = packed.size, start
        self.stop = start + int(np.prod(shape, dtype=np.int64))
        return packed[start : self.stop].reshape(shape).astype(dtype, copy=False)

    def backward(self, grad):
        out = np.zeros(self.size, dtype=grad.dtype)
        out[self.start : self.stop] = grad.ravel()
        return (out,)


def _defined(cls: type) -> set[str]:
    """Names defined by ``cls`` or a base between it and Function."""
    names: set[str] = set()
    for base in cls.__mro__:
        if base is Function:
            break
        names.update(vars(base))
    return names
