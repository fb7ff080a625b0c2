"""``Function``: one differentiable operation, its forward and backward side by side.

Every op in chainrule is a subclass of :class:`Function`. ``forward`` works on NumPy arrays and
may keep on ``self`` whatever ``backward`` will need; ``backward`` receives the gradient of the
loss with respect to the output and returns one gradient per input (or ``None`` for an input that
needs none). Gradients may have the broadcast shape of the output: the engine sums them back to
each input's shape in one place (:func:`chainrule.autograd.engine.unbroadcast`).

Defining a subclass registers it in :data:`OPS`, so tests and documentation can enumerate every
op. Names are unique (see :class:`Function`): give your ops a qualified name. A user-defined op::

    class Cube(chainrule.Function):
        '''y = x³;  dy/dx = 3x².'''

        op_name = "mypkg.Cube"  # after the docstring, which must come first

        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, grad):
            return (grad * 3 * self.x ** 2,)

    y = Cube.apply(x)
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import AnomalyError, state, write_clock

#: Stand-in versions of a released (or output-written) node: every comparison with a real
#: version fails. zip() stops at the shorter, so one tuple serves nodes of any arity ≤ 64;
#: the first input alone makes the comparison fail.
UNMATCHABLE = (-1,) * 64

#: Every registered op, by name. Filled by :class:`Function` subclasses as they are defined.
OPS: dict[str, type[Function]] = {}


class Function:
    """Base class of every differentiable operation.

    Attributes set by :meth:`apply` on the instance that becomes a graph node:

    - ``inputs``: the input tensors, in the order ``forward`` received them;
    - ``params``: the keyword settings ``forward`` was given (a higher-order backward runs
      ``forward`` again on tensors, see :mod:`chainrule.autograd.higher_order`);
    - ``needs_input_grad``: one bool per input; ``backward`` may skip work where it is False;
    - ``released``: True once a backward pass has freed what ``forward`` saved.

    Registration: a subclass is registered in :data:`OPS` under its ``op_name``, which is the
    class name unless the class body sets ``op_name = "mypkg.Cube"`` or the class statement
    passes ``name="mypkg.Cube"``. Subclass keyword ``register=False`` keeps a helper class out
    of :data:`OPS`.

    Names are unique: defining an op whose name another class already holds (``class
    Mul(Function)`` next to the built-in ``Mul``) raises ``TypeError`` naming both classes,
    instead of silently replacing the built-in in :data:`OPS`. Give your op a qualified name
    (``op_name = "mypkg.Mul"``). Defining the *same* class again (same module and qualified
    name: a re-run notebook cell, ``importlib.reload``) replaces the old definition.
    """

    # The node's own fields live in slots, so that what forward saved is exactly __dict__.
    __slots__ = (
        "inputs",
        "params",
        "needs_input_grad",
        "released",
        "versions",
        "stamp",
        "__dict__",
    )
    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    released: bool
    #: Each input's ``_version`` when the node was recorded; the engine compares them in backward.
    versions: tuple[int, ...]
    #: Name under which the op is registered and reported in errors.
    op_name: ClassVar[str] = "Function"

    def __init_subclass__(cls, register: bool = True, name: str | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        # An op_name set in the class body counts; an inherited one does not (a subclass of
        # Mul is another op, not Mul).
        cls.op_name = name or cls.__dict__.get("op_name") or cls.__name__
        if isinstance(inspect.getattr_static(cls, "forward"), staticmethod):
            # PyTorch's form: forward(ctx, ...) on tensors; the node is the ctx (see custom.py).
            cls.apply = classmethod(custom.apply_ctx_function)  # type: ignore[method-assign]
        if register:
            _register(cls)

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        """Compute the output array from the input arrays."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """Return one gradient per input, given the gradient with respect to the output."""
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run ``forward`` on the inputs' data and, if any input requires grad, record a node.

        ``inputs`` are tensors; ``params`` are non-differentiable settings passed on to
        ``forward`` as keywords.
        """
        fn = cls()
        n = len(inputs)
        try:
            # Plain form: data = fn.forward(*[t._data for t in inputs], **params). Written out
            # for one to three inputs, and without ** when there are no settings (an empty one
            # still builds a dict and makes a slower call): this is the per-op overhead every
            # small network pays.
            if n == 1:
                a = inputs[0]._data
                data = fn.forward(a, **params) if params else fn.forward(a)
            elif n == 2:
                a, b = inputs[0]._data, inputs[1]._data
                data = fn.forward(a, b, **params) if params else fn.forward(a, b)
            elif n == 3 and not params:  # linear(x, W, b)
                data = fn.forward(inputs[0]._data, inputs[1]._data, inputs[2]._data)
            else:
                data = fn.forward(*[t._data for t in inputs], **params)
        except ValueError as err:
            error = _forward_error(cls.op_name, inputs, err)
            if error is err:
                raise  # the op's own error, with its traceback and cause
            raise error from None
        if state.anomaly:
            check_finite(cls.op_name, "forward output", data)
        if not state.grad_enabled:
            return Tensor._wrap(data)
        if n == 1:
            a = inputs[0]
            needs, versions = (a._requires_grad,), (a._version,)
        elif n == 2:
            a, b = inputs
            needs, versions = (a._requires_grad, b._requires_grad), (a._version, b._version)
        elif n == 3:  # linear(x, W, b): the most common op with three inputs
            a, b, c = inputs
            needs = (a._requires_grad, b._requires_grad, c._requires_grad)
            versions = (a._version, b._version, c._version)
        else:
            needs = tuple([t._requires_grad for t in inputs])
            versions = tuple([t._version for t in inputs])
        if True not in needs:
            return Tensor._wrap(data)
        fn.inputs, fn.params, fn.needs_input_grad, fn.released = inputs, params, needs, False
        # What backward checks for in-place writes: each input's version, and the write clock.
        fn.versions, fn.stamp = versions, write_clock.count
        return Tensor._from_op(data, fn)

    def release(self) -> None:
        """Free what ``forward`` saved; a later backward through this node raises."""
        self.__dict__.clear()
        self.params = {}
        self.released = True
        # Versions no tensor has: the backward pass's version comparison fails at once, and its
        # rare path reports the second backward (no separate test on the hot path).
        self.versions = UNMATCHABLE
        self.stamp = -1  # and the clock never reads -1: the fast check fails too

    def name(self) -> str:
        """The node's name as PyTorch prints it: ``MulBackward0`` (custom ops: ``CubeBackward``)."""
        return graph.node_name(self)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One ``(node, 0)`` pair per input: the input's op node, an :class:`AccumulateGrad` for a
        leaf that requires grad, or ``None`` for an input outside the graph."""
        return tuple((graph.edge_node(t), 0) for t in self.inputs)

    @property
    def metadata(self) -> dict[str, Any]:
        """A dict for the user's notes about this node (PyTorch's ``grad_fn.metadata``)."""
        return self.__dict__.setdefault("_metadata", {})

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @classmethod
    def derivative(cls) -> str:
        """The op's derivative rule: the docstring line that holds its math."""
        doc = (cls.__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""


def _register(cls: type[Function]) -> None:
    """Put ``cls`` in :data:`OPS`, refusing a name that another class holds."""
    held = OPS.get(cls.op_name)
    if held is not None and _origin(held) != _origin(cls):
        raise TypeError(
            f"op name {cls.op_name!r} is already registered by {'.'.join(_origin(held))}; "
            f"{'.'.join(_origin(cls))} would replace it in chainrule.OPS. Give your op its own "
            f'name, e.g. op_name = "mypkg.{cls.__name__}" in the class body (or '
            f'class {cls.__name__}(Function, name="mypkg.{cls.__name__}")), or keep it out of '
            "the registry with register=False"
        )
    OPS[cls.op_name] = cls


def _origin(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


# What NumPy says when operands' shapes do not fit together: broadcasting, matmul's core
# dimensions, dot's alignment. Only these get the op name and the input shapes added.
_NUMPY_SHAPE_ERRORS = ("could not be broadcast", "mismatch in its core dimension", "not aligned")


def _forward_error(op_name: str, inputs: tuple[Tensor, ...], err: ValueError) -> ValueError:
    """The error to raise for ``err`` from a forward: a ValueError naming ``op_name`` and the
    input shapes if NumPy's ``err`` is about shapes that do not fit together; ``err`` itself,
    untouched, for any other error (the op's own message says what is wrong)."""
    message = str(err)
    if message.startswith(f"{op_name}:") or not any(m in message for m in _NUMPY_SHAPE_ERRORS):
        return err
    shapes = " and ".join(str(t.shape) for t in inputs)
    return ValueError(f"{op_name}: input shapes {shapes} are incompatible: {message}")


def check_finite(op_name: str, what: str, array: np.ndarray) -> None:
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise AnomalyError(
            f"{op_name} produced NaN or inf in its {what} ({bad} of {array.size} values); "
            "it is the first op to do so inside detect_anomaly()"
        )


from chainrule.autograd import custom, graph  # noqa: E402  (they need Function)
