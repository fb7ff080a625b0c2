"""``Tensor``: an ndarray that remembers which op made it, so gradients can flow back.

A tensor holds its values in a NumPy array (``.numpy()`` returns it, without a copy). When an
op runs on tensors and one of them has ``requires_grad=True``, the result records the op (its
``Function`` node) and the op records its inputs: that chain of records is the graph that
``backward()`` walks.

The arithmetic operators and most methods are thin calls into :mod:`chainrule.functional`,
where each op's forward and backward live side by side.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import devices, dtypes
from chainrule.sizes import Size

_NOT_DIFFERENTIABLE = "only floating-point tensors can require gradients"
_GRAPH_DROPPED = (
    "a tensor that requires grad was converted to a NumPy array inside a create_graph=True "
    "backward pass, which would cut it out of the graph of the gradient: the op's backward "
    "must compute with NumPy functions or chainrule ops, not copy into arrays"
)
# float(t), int(t) of such a tensor: a number has no history, so the gradient would stop there.
_NUMBER_DROPPED = (
    "{}() of a tensor that requires grad inside a create_graph=True backward pass would cut "
    "the graph of the gradient (a Python number has no history): the op's backward must keep "
    "the value as a tensor, or call .item() where a constant is meant"
)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Parameters
    ----------
    *data : array_like, or ints
        The values: NumPy arrays are used without a copy (use :func:`tensor` for a copy) and keep
        their dtype; Python data becomes the default float dtype, as in PyTorch's legacy
        ``torch.Tensor([1, 2])``. Sizes instead (``Tensor(2, 3)``) give zeros of that shape, and
        ``Tensor()`` an empty float tensor.
    dtype : dtype, optional, keyword-only
        Convert the values to this dtype.
    requires_grad : bool
        Record operations on this tensor so that ``backward()`` fills its ``.grad``.
        Only floating-point tensors may require gradients.
    name : str, optional
        A label shown when graphs are drawn or explained.

    Attributes
    ----------
    data : Tensor of shape ``shape``
        The same values outside the graph, as in PyTorch: a detached tensor sharing memory.
    grad : Tensor of shape ``shape`` or None
        The accumulated gradient of whatever ``backward()`` was called on, with respect to this
        tensor. Filled for leaves that require grad, and for other tensors after
        :meth:`retain_grad`.
    """

    # __weakref__: caches and observers (e.g. a hook that watches activations) may refer to a
    # tensor without keeping it alive.
    __slots__ = (
        "_data",
        "_grad",
        "_requires_grad",
        "_ctx",
        "name",
        "_retains_grad",
        "_hooks",
        "_version",
        "__weakref__",
    )

    # NumPy calls on tensors run chainrule's ops (ops/numpy_dispatch.py): np.exp(t) is exp(t),
    # ndarray * t is mul(ndarray, t). This is what lets one backward serve both modes.
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return numpy_dispatch.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_dispatch.array_function(func, args, kwargs)

    def __init__(
        self,
        *data: Any,
        dtype: Any = None,
        requires_grad: bool = False,
        name: str | None = None,
    ) -> None:
        if len(data) == 1 and isinstance(data[0], Tensor):
            self._data = dtypes.to_array(data[0]._data, dtype)
        elif len(data) == 1 and type(data[0]) is np.ndarray:
            self._data = dtypes.to_array(data[0], dtype)
        else:  # Python data or sizes, as PyTorch's legacy torch.Tensor(...) takes them
            self._data = dtypes.constructor_array(data, dtype)
        self._grad: Tensor | None = None
        self._requires_grad = False
        self._ctx = None
        self.name = name
        self._retains_grad = False
        self._hooks: list[Callable[[Tensor], Any]] | None = None
        self._version = 0
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A new leaf around ``data`` without checks or copies (internal fast path)."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = None
        t._requires_grad = False
        t._ctx = None
        t.name = None
        t._retains_grad = False
        t._hooks = None
        t._version = 0
        return t

    @classmethod
    def _from_op(cls, data: np.ndarray, fn: Any) -> Tensor:
        """The output of op node ``fn``: it requires grad and remembers ``fn``.

        ``_wrap`` written out (one call less per recorded op)."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = None
        t._requires_grad = True
        t._ctx = fn
        t.name = None
        t._retains_grad = False
        t._hooks = None
        t._version = 0
        return t

    # ----- autograd state -------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The values as a new leaf that shares memory and is outside the graph (PyTorch's
        ``.data``): writes through it change this tensor without bumping its version, so
        autograd does not see them. Assigning ``x.data = y`` replaces the values."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for backpropagation."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self._data.dtype.kind != "f":
            raise TypeError(
                f"{_NOT_DIFFERENTIABLE}; this tensor is {self._data.dtype}. "
                "Convert it first, e.g. x.float() or chainrule.tensor(data, dtype='float32')."
            )
        if not flag and self._ctx is not None:
            raise RuntimeError(
                "requires_grad cannot be turned off on a tensor computed by an op; "
                "use .detach() to get a tensor outside the graph"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set :attr:`requires_grad` in place and return ``self``."""
        self.requires_grad = requires_grad
        return self

    def _set_grad(self, value: Tensor | None) -> None:
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor(value)
            if value._data.shape != self._data.shape:
                raise ValueError(f"assigned grad has shape {value.shape}; expected {self.shape}")
        self._grad = value

    # The getter is C code, operator.attrgetter("_grad"), rather than the plain
    #     @property
    #     def grad(self): return self._grad
    # which is a Python call each time: every optimizer step reads each parameter's .grad.
    grad = property(
        operator.attrgetter("_grad"),
        _set_grad,
        doc="Accumulated gradient (a Tensor of this tensor's shape), or None.",
    )

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than computed by a recorded op."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The op node that produced this tensor (None for leaves)."""
        return self._ctx

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
        *,
        grad: Any = None,
    ) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        Parameters
        ----------
        gradient : array_like of shape ``self.shape``, optional
            The gradient of some scalar with respect to this tensor. May be omitted only when
            this tensor holds a single value (the loss), when it defaults to 1. (``grad=`` is
            chainrule's older name for it.)
        retain_graph : bool
            Keep the graph's saved values so that ``backward`` can run through it again.
        create_graph : bool
            Record the backward pass too, so that ``.grad`` can be differentiated again
            (higher-order derivatives); the graph is then retained unless ``retain_graph=False``.
        inputs : tensor or sequence of tensors, optional
            Accumulate into the ``.grad`` of these only (see ``chainrule.autograd.backward``).

        Gradients are added to the ``.grad`` of leaves (they accumulate until cleared).
        """
        backward = engine.backward
        grad = gradient if grad is None else grad
        if create_graph or inputs is not None:
            from chainrule.autograd.api import backward as backward_to

            return backward_to(self, grad, retain_graph, create_graph, inputs)
        retain_graph = bool(retain_graph)
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())"
            )
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a single-value tensor (a loss); this "
                    f"one has shape {self._data.shape}. Reduce it first (e.g. .sum() or .mean()) "
                    "or pass a gradient of the same shape."
                )
            # np.ones(shape, dtype) without its Python layer: one call per training step.
            seed = np.empty(self._data.shape, self._data.dtype)
            seed.fill(1)
            backward(self, seed, retain_graph)
            return
        given = grad._data if isinstance(grad, Tensor) else grad
        g = np.asarray(given, dtype=self.dtype)
        if g.shape != self.shape:
            raise ValueError(f"grad has shape {g.shape}; expected {self.shape}")
        # When asarray made no copy, g is the caller's array: the engine copies it only if it
        # would become a .grad (which later backward passes add to in place).
        backward(self, g, retain_graph, borrowed=g is given)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during ``backward()``."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        The hook may return a replacement gradient of the same shape. Returns a handle whose
        ``remove()`` unregisters the hook (calling the handle does too).
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, outside any graph."""
        return Tensor._wrap(self._data)

    def zero_(self) -> Tensor:
        """Fill with zeros in place (see :mod:`chainrule.ops.inplace`)."""
        return inplace_ops.zero_(self)

    # ----- array facts ----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The shape, a :class:`~chainrule.Size` (a tuple). The engine's own code reads
        ``.data.shape``, the plain tuple, to skip building it."""
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape as a :class:`~chainrule.Size`, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        shape = self._data.shape
        if not -len(shape) <= dim < len(shape):
            raise IndexError(
                f"size(): dimension {dim} is out of range for a tensor with {len(shape)} "
                f"dimensions (expected in [{-len(shape)}, {len(shape) - 1}])"
                if shape
                else f"size(): dimension {dim} given but the tensor is 0-d (no dimensions)"
            )
        return shape[dim]

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def dim(self) -> int:
        """The number of dimensions (also ``ndim``, ``ndimension()``)."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements (also ``nelement()``)."""
        return self._data.size

    ndimension = dim
    nelement = numel

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element; this one has shape {self.shape}"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The values as an ndarray (shared, not copied)."""
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(x)`` is the values (as for a PyTorch tensor), not an array of tensors."""
        if self._requires_grad and grad_state.graph_backward:
            raise TypeError(_GRAPH_DROPPED)
        if dtype is None and not copy:
            return self._data
        return np.array(self._data, dtype=dtype, copy=True if copy else None)

    def tolist(self) -> Any:
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        if self._requires_grad and grad_state.graph_backward:
            raise RuntimeError(_NUMBER_DROPPED.format("float"))
        return float(self.item())

    def __int__(self) -> int:
        if self._requires_grad and grad_state.graph_backward:
            raise RuntimeError(_NUMBER_DROPPED.format("int"))
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype != dtypes.get_default_dtype() and self._data.dtype.kind == "f":
            extra += f", dtype={self._data.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{self._ctx.name()}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ----- operators (recorded ops; see chainrule.functional) ---------------------------------
    def __add__(self, other: Any) -> Tensor:
        return F.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return F.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return F.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return F.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return F.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return F.pow(as_tensor(base, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return F.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return F.matmul(other, self)

    def __neg__(self) -> Tensor:
        return F.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return F.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return F.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value`` in place: counted, and recorded when a gradient needs it."""
        inplace_ops.setitem(self, index, value)

    # ==, <, .T, to(), float()… are bound in chainrule.tensor_methods; hashing is by identity.
    __hash__ = object.__hash__


def tensor(
    data: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
    *,
    device: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """Create a tensor from a copy of ``data`` (list, number or ndarray).

    Python floats become the default float dtype (float32); NumPy arrays keep their dtype.
    ``device`` may only name the CPU; ``pin_memory`` is accepted and means nothing here.

    >>> x = tensor([[1.0, 2.0]], requires_grad=True)
    >>> x.shape, x.dtype
    ((1, 2), dtype('float32'))
    """
    if device is not None:
        devices.check_cpu(device, "chainrule.tensor")
    if isinstance(data, Tensor):
        data = data._data
    t = Tensor(dtypes.to_array(data, dtype, copy=True), requires_grad=requires_grad, name=name)
    return t


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A tensor sharing memory with ``array`` (no copy; its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy() expects an ndarray, got {type(array).__name__}")
    return Tensor(array, requires_grad=requires_grad)


# The methods above call into chainrule.functional, whose ops need Tensor defined first.
def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a tensor; a scalar takes the dtype it meets ``like`` in (see dtypes)."""
    if isinstance(value, Tensor):
        return value
    if like is not None and dtypes.is_scalar(value):
        return Tensor._wrap(np.asarray(value, dtype=dtypes.scalar_dtype(value, like._data.dtype)))
    return Tensor(dtypes.to_array(value))


from chainrule import functional as F  # noqa: E402

# The class above calls these at run time (hooks, in-place writes); importing them any earlier
# would need Tensor before it exists.
from chainrule.autograd import engine  # noqa: E402
from chainrule.autograd.grad_mode import state as grad_state  # noqa: E402
from chainrule.autograd.graph import RemovableHandle  # noqa: E402
from chainrule.ops import inplace as inplace_ops  # noqa: E402
from chainrule.ops import numpy_dispatch  # noqa: E402

# PyTorch's method surface (x.sort(), x.sin(), x.add_() ...) bound to the functional ops.
from chainrule import tensor_methods  # noqa: E402, F401  isort: skip
