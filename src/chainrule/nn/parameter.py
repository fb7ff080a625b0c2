"""``Parameter``: a tensor that a :class:`~chainrule.nn.Module` learns.

Assigning a Parameter to a module attribute registers it, so that ``parameters()``,
``state_dict()`` and optimizers find it. Plain tensors assigned to a module are ordinary
attributes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Parameter(Tensor):
    """A learnable tensor: floating point, a leaf, and requiring grad from the start.

    Parameters
    ----------
    data : array_like or Tensor of any shape, optional
        The initial values (an empty tensor of the default float dtype when omitted). float32
        and float64 arrays keep their dtype and are used without a copy (as ``Tensor`` does; a
        read-only array is copied so that initializers and ``load_state_dict`` can write into
        it). Python floats and lists of them become the
        default float dtype (see :func:`chainrule.set_default_dtype`). A tensor gives its data,
        never its graph: the parameter is a new leaf.
    requires_grad : bool
        True by default, unlike ``Tensor``. Pass False (or call ``requires_grad_(False)`` later)
        to freeze the parameter, as in PyTorch.

    Raises
    ------
    TypeError
        For integer, bool or float16 data: only float32 and float64 can be learned.

    Examples
    --------
    >>> w = Parameter(np.zeros((3, 2)))
    >>> w.requires_grad, w.dtype, w.shape
    (True, dtype('float64'), (3, 2))
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=dtypes.get_default_dtype())  # PyTorch's Parameter()
        if isinstance(data, Tensor):
            data = data._data
        array = dtypes.to_array(data)
        if array.dtype not in _FLOATS:
            raise TypeError(
                f"a Parameter must hold float32 or float64 values; got {array.dtype}. "
                "Convert the data first, e.g. np.asarray(data, dtype=np.float32)."
            )
        if not array.flags.writeable:
            array = array.copy()
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that, assigned to a module attribute, registers itself as a buffer.

    ``self.running = Buffer(values)`` is ``self.register_buffer("running", values)``; the
    module then holds a plain Tensor (sharing the values), as in PyTorch.

    Parameters
    ----------
    data : array_like or Tensor of any shape, optional
        The values (an empty tensor of the default float dtype when omitted). NumPy arrays are
        used without a copy, as ``Tensor`` uses them.
    persistent : bool
        False keeps the buffer out of ``state_dict()``.
    """

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=dtypes.get_default_dtype())
        super().__init__(data._data if isinstance(data, Tensor) else dtypes.to_array(data))
        self.persistent = persistent
