"""PyTorch's Tensor methods, bound to chainrule's functional ops.

Most of PyTorch's methods are its functions with the tensor first (``x.sort(1)`` is
``torch.sort(x, 1)``), and chainrule's functional ops take ``input`` first too, so the function
itself becomes the method: no wrapper call, PyTorch's signature, the op's docstring. This module
does that binding, family by family, when :mod:`chainrule._tensor` has defined ``Tensor``; the
few methods that are not plain functions (casts, ``t()``, ``.mT``, in-place operators) are
written out at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, tensor
from chainrule.ops import inplace as inplace_ops
from chainrule.ops import layout

# ----- reductions, scans, sorting, linear algebra (issue 10)
# Each function's first parameter is ``input``, so the function itself is the method: x.sort(1)
# is F.sort(x, 1), with no wrapper call and the function's signature and docstring.
for _name in (
    "std prod amax amin aminmax any all argmax argmin count_nonzero norm "
    "cumsum cumprod cummax cummin logcumsumexp "
    "sort argsort msort topk kthvalue median mode "
    "mm bmm mv dot outer ger addmm addmv addbmm baddbmm matrix_power"
).split():
    setattr(Tensor, _name, getattr(F, _name))
del _name


# ----- in-place ops and autograd (issue 10)
# Each in-place method is its op in chainrule.ops.inplace (counted in _version, recorded when a
# gradient needs it); the augmented operators are in place as in PyTorch: `w -= lr * w.grad`
# under no_grad() updates the parameter itself.

for _name in (
    "add_ sub_ mul_ div_ clamp_ neg_ exp_ fill_ copy_ masked_fill_ index_add_ scatter_ "
    "uniform_ normal_"
).split():
    setattr(Tensor, _name, getattr(inplace_ops, _name))
del _name
Tensor.clamp_min_ = lambda self, min: inplace_ops.clamp_(self, min, None)  # type: ignore[attr-defined]
Tensor.clamp_max_ = lambda self, max: inplace_ops.clamp_(self, None, max)  # type: ignore[attr-defined]
Tensor.clip_ = Tensor.clamp_  # type: ignore[attr-defined]
Tensor.subtract_ = Tensor.sub_  # type: ignore[attr-defined]
Tensor.multiply_ = Tensor.mul_  # type: ignore[attr-defined]
Tensor.divide_ = Tensor.div_  # type: ignore[attr-defined]
Tensor.__iadd__ = lambda self, other: inplace_ops.add_(self, other)  # type: ignore[attr-defined]
Tensor.__isub__ = lambda self, other: inplace_ops.sub_(self, other)  # type: ignore[attr-defined]
Tensor.__imul__ = lambda self, other: inplace_ops.mul_(self, other)  # type: ignore[attr-defined]
Tensor.__itruediv__ = lambda self, other: inplace_ops.div_(self, other)  # type: ignore[attr-defined]

# ----- indexing and layout (issue 10): the functions are the methods, as above
for _name in (
    "gather scatter scatter_add scatter_reduce index_select index_add masked_fill masked_select "
    "take_along_dim nonzero argwhere split chunk unbind flip fliplr flipud roll tile "
    "repeat_interleave tril triu diag diagonal diag_embed narrow movedim moveaxis swapaxes "
    "swapdims unflatten"
).split():
    setattr(Tensor, _name, getattr(F, _name))
del _name

Tensor.repeat, Tensor.unfold = layout.repeat, layout.unfold  # type: ignore[attr-defined]

# ----- pointwise math and activations (issue 10): the functions are the methods, as above
for _name in (
    "sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh arcsin arccos arctan arctan2 "
    "arcsinh arccosh arctanh floor ceil round trunc fix frac sign sgn fmod remainder floor_divide "
    "erf erfc erfinv rsqrt reciprocal square log1p expm1 log2 log10 exp2 logaddexp lerp hypot "
    "nan_to_num isnan isinf isfinite isposinf isneginf isclose bitwise_and bitwise_or "
    "bitwise_xor bitwise_not logical_and logical_or logical_xor logical_not softmax log_softmax"
).split():
    setattr(Tensor, _name, getattr(F, _name))
del _name
Tensor.div = Tensor.divide = Tensor.true_divide = F.div  # type: ignore[attr-defined]
Tensor.__floordiv__ = F.floor_divide  # type: ignore[attr-defined]
Tensor.__rfloordiv__ = lambda self, other: F.floor_divide(other, self)  # type: ignore[attr-defined]
Tensor.__mod__ = F.remainder  # type: ignore[attr-defined]
Tensor.__rmod__ = lambda self, other: F.remainder(other, self)  # type: ignore[attr-defined]
Tensor.__and__ = F.bitwise_and  # type: ignore[attr-defined]
Tensor.__rand__ = lambda self, other: F.bitwise_and(other, self)  # type: ignore[attr-defined]
Tensor.__or__ = F.bitwise_or  # type: ignore[attr-defined]
Tensor.__ror__ = lambda self, other: F.bitwise_or(other, self)  # type: ignore[attr-defined]
Tensor.__xor__ = F.bitwise_xor  # type: ignore[attr-defined]
Tensor.__rxor__ = lambda self, other: F.bitwise_xor(other, self)  # type: ignore[attr-defined]
Tensor.__invert__ = F.bitwise_not  # type: ignore[attr-defined]

# ----- P1 signatures and Tensor basics (issue 10)
# These ops take ``input`` first, so the function itself is the method: x.sum(1, keepdim=True)
# is F.sum(x, 1, keepdim=True), with PyTorch's signature, its docstring and no wrapper call.
for _name in (
    "sum mean max min var logsumexp reshape permute transpose expand squeeze unsqueeze flatten "
    "exp log sqrt abs clip clamp maximum minimum matmul pow clone"
).split():
    setattr(Tensor, _name, getattr(F, _name))
del _name
Tensor.view = F.reshape  # type: ignore[attr-defined]  # every array here is contiguous


def _cast_to(dtype: Any, name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return F.cast(self, dtype)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"This tensor as {np.dtype(dtype).name} (itself if it already is)."
    return method


for _name, _dtype in [("half", np.float16), ("long", np.int64), ("int", np.int32)]:
    setattr(Tensor, _name, _cast_to(_dtype, _name))
Tensor.bool = _cast_to(np.bool_, "bool")  # type: ignore[attr-defined]
del _name, _dtype


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor in ``other``'s dtype."""
    return F.cast(self, other._data.dtype)


def _contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """``self``: every array here is already one contiguous block."""
    return self


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor reshaped to ``other``'s shape (also ``reshape_as``)."""
    return F.reshape(self, other._data.shape)


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor broadcast to ``other``'s shape, without a copy."""
    return F.expand(self, other._data.shape)


def _t(self: Tensor) -> Tensor:
    """The transpose of a matrix; 0-d and 1-d tensors come back as they are."""
    if self._data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but this one has {self._data.ndim}; "
            "use transpose(dim0, dim1) or .mT"
        )
    return F.transpose(self, 0, -1) if self._data.ndim == 2 else self


def _mT(self: Tensor) -> Tensor:
    """The last two dimensions swapped (a batch of matrices transposed). Shape (..., n, m)."""
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT needs at least 2 dimensions; this one has {self.ndim}")
    return F.transpose(self, -2, -1)


def _is_floating_point(self: Tensor) -> bool:
    """Whether the dtype is a floating-point one (float16, float32, float64)."""
    return self._data.dtype.kind == "f"


def _element_size(self: Tensor) -> int:
    """Bytes per element."""
    return self._data.dtype.itemsize


Tensor.type_as = _type_as  # type: ignore[attr-defined]
Tensor.contiguous = _contiguous  # type: ignore[attr-defined]
Tensor.view_as = Tensor.reshape_as = _view_as  # type: ignore[attr-defined]
Tensor.expand_as = _expand_as  # type: ignore[attr-defined]
Tensor.t = _t  # type: ignore[attr-defined]
Tensor.mT = property(_mT)  # type: ignore[attr-defined]
Tensor.is_floating_point = _is_floating_point  # type: ignore[attr-defined]
Tensor.element_size = _element_size  # type: ignore[attr-defined]


# ----- new_* (a new tensor with this one's dtype unless told otherwise, as PyTorch's)
def _new_filled(name: str, fill: Any) -> Callable[..., Tensor]:
    def method(
        self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad=False
    ) -> Tensor:
        devices.check_cpu(device, f"Tensor.{name}")
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        dt = self._data.dtype if dtype is None else np.dtype(dtype)
        return Tensor(np.full(shape, fill, dtype=dt), requires_grad=requires_grad)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"A new tensor of ``size`` filled with {fill}, in this tensor's dtype."
    return method


def _new_full(
    self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """A new tensor of ``size`` filled with ``fill_value``, in this tensor's dtype."""
    devices.check_cpu(device, "Tensor.new_full")
    dt = self._data.dtype if dtype is None else np.dtype(dtype)
    return Tensor(np.full(tuple(size), fill_value, dtype=dt), requires_grad=requires_grad)


def _new_tensor(self: Tensor, data: Any, *, dtype: Any = None, **options: Any) -> Tensor:
    """``chainrule.tensor(data)`` (a copy) in this tensor's dtype (unless ``dtype=``)."""
    return tensor(data, dtype=self._data.dtype if dtype is None else dtype, **options)


Tensor.new_zeros = _new_filled("new_zeros", 0)  # type: ignore[attr-defined]
Tensor.new_ones = _new_filled("new_ones", 1)  # type: ignore[attr-defined]
Tensor.new_empty = _new_filled("new_empty", 0)  # type: ignore[attr-defined]  # zeros, as empty()
Tensor.new_full = _new_full  # type: ignore[attr-defined]
Tensor.new_tensor = _new_tensor  # type: ignore[attr-defined]


# ----- comparisons: bool tensors, never differentiated
def _comparison(op: Callable[[Any, Any], Any]) -> Callable[[Tensor, Any], Tensor]:
    def compare(self: Tensor, other: Any) -> Tensor:
        return Tensor._wrap(op(self._data, other._data if isinstance(other, Tensor) else other))

    compare.__name__ = compare.__qualname__ = f"__{op.__name__}__"
    return compare


for _dunder, _op in (
    ("__eq__", np.equal),
    ("__ne__", np.not_equal),
    ("__lt__", np.less),
    ("__le__", np.less_equal),
    ("__gt__", np.greater),
    ("__ge__", np.greater_equal),
):
    setattr(Tensor, _dunder, _comparison(_op))
    setattr(Tensor, _dunder.strip("_"), getattr(Tensor, _dunder))  # x.eq(y) is x == y
del _dunder, _op


# ----- .T and the activations PyTorch has as methods
Tensor.T = property(  # type: ignore[attr-defined]
    lambda self: F.permute(self, tuple(range(self.ndim))[::-1]),
    doc="All dimensions reversed (the matrix transpose for 2-D tensors).",
)
Tensor.tanh = F.tanh  # type: ignore[attr-defined]
Tensor.sigmoid = F.sigmoid  # type: ignore[attr-defined]
Tensor.relu = F.relu  # type: ignore[attr-defined]


# ----- dtypes and devices
def _to(self: Tensor, *args: Any, non_blocking: bool = False, copy: bool = False, **kw: Any):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: this tensor in
    that dtype, on the CPU (another device is refused); itself if nothing changes, unless
    ``copy=True``. Differentiable between float dtypes."""
    dtype = devices.target_dtype(args, kw, Tensor)
    out = self if dtype is None else F.cast(self, dtype)
    return self.clone() if copy and out is self else out


def _cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """Itself: every tensor is on the CPU."""
    return self


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False, **kw: Any) -> Tensor:
    """Refused: chainrule runs on the CPU only."""
    raise devices.no_device("cuda" if device is None else device, "Tensor.cuda()")


def _get_device(self: Tensor) -> int:
    """-1, PyTorch's answer for a CPU tensor."""
    return -1


Tensor.to = Tensor.astype = _to  # type: ignore[attr-defined]
Tensor.cpu = _cpu  # type: ignore[attr-defined]
Tensor.cuda = _cuda  # type: ignore[attr-defined]
Tensor.get_device = _get_device  # type: ignore[attr-defined]
Tensor.device = property(lambda self: devices.CPU, doc="``device(type='cpu')``, always.")  # type: ignore[attr-defined]
Tensor.is_cuda, Tensor.is_cpu = False, True  # type: ignore[attr-defined]
Tensor.float = lambda self: F.cast(self, np.float32)  # type: ignore[attr-defined]
Tensor.double = lambda self: F.cast(self, np.float64)  # type: ignore[attr-defined]
