"""``default_collate`` and ``default_convert``: samples into batches, as ``torch.utils.data``.

:func:`default_collate` turns a list of samples into one batch, recursing into the samples'
structure: a batch of tuples is a list of batched fields, a batch of dicts a dict of batched
values, and at the leaves tensors and NumPy arrays are stacked along a new first axis, and
Python and NumPy numbers become 1-D tensors. The dtypes are PyTorch's: Python floats give
float64, ints int64, bools bool, NumPy values keep theirs. Strings stay as a list.
:func:`default_convert` only turns NumPy arrays and scalars into tensors, for loaders that do not
batch (``DataLoader(..., batch_size=None)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _numeric(dtype: np.dtype) -> bool:
    """NumPy dtypes a tensor can hold (strings, objects and the like cannot)."""
    return dtype.kind in "biufc"


def default_convert(data: Any) -> Any:
    """``data`` with every NumPy array and NumPy scalar turned into a Tensor.

    Parameters
    ----------
    data : Any
        A sample: arrays, numbers, strings and dicts, lists and tuples of them.

    Returns
    -------
    Any
        The same structure. Arrays (of numbers or bools) become Tensors of the same shape and
        dtype, sharing memory; NumPy scalars become 0-d Tensors; Python numbers, strings and
        Tensors are left alone. As in PyTorch, a plain tuple comes back as a list (a namedtuple
        as a namedtuple), and a mapping as the same mapping type when it can be built.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return Tensor._wrap(data) if _numeric(data.dtype) else data
    if isinstance(data, (np.number, np.bool_)):
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of ``b`` samples into one batch, recursing into their structure.

    Parameters
    ----------
    batch : sequence of samples, length ``b``
        All with the same structure.

    Returns
    -------
    Any
        Tensors, arrays of shape ``s`` → a Tensor of shape ``(b, *s)``, dtype kept. Python
        floats → float64 of shape ``(b,)``, ints → int64 (a float among them gives float32, as
        ``torch.tensor`` would), bools → bool; NumPy scalars keep their dtype. Strings → the
        sequence itself (so a field of tuples gives a tuple of strings). Dicts → a dict of
        collated values, namedtuples → the same namedtuple of collated fields, tuples and lists
        → a list of collated fields.

    Raises
    ------
    RuntimeError
        Tensors or arrays of different shapes, or sequences of different lengths, in one batch.
    TypeError
        Something else (``None``, objects, string arrays), PyTorch's message.

    Examples
    --------
    >>> xb, yb = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
    >>> xb.shape, xb.dtype, yb.dtype
    ((2, 3), dtype('float32'), dtype('int64'))
    """
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray)):
        return _stack(batch)
    if isinstance(elem, (np.number, np.bool_)):
        return Tensor._wrap(np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _collate_ints(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return _rebuild_mapping(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if _is_namedtuple(elem):
        # Fields are passed on as the tuples zip makes: strings come back as a tuple, as in
        # PyTorch.
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        return _collate_sequences(batch)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def _stack(batch: Sequence[Any]) -> Tensor:
    """Tensors or arrays of one shape, stacked along a new first axis (PyTorch's errors)."""
    arrays = []
    for value in batch:
        array = value._data if isinstance(value, Tensor) else value
        if not isinstance(array, np.ndarray) or not _numeric(array.dtype):
            found = array.dtype.str if isinstance(array, np.ndarray) else type(value)
            raise TypeError(_COLLATE_ERROR.format(found))
        arrays.append(array)
    first = arrays[0].shape
    for i, array in enumerate(arrays):
        if array.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(array.shape)} at entry {i}"
            )
    return Tensor._wrap(np.stack(arrays))


def _collate_ints(batch: Sequence[Any]) -> Tensor:
    # torch.tensor's inference over the whole list: all ints give int64, a float makes it
    # float32 (the default float dtype).
    if all(isinstance(v, int) for v in batch):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    return Tensor._wrap(np.asarray(batch, dtype=np.float32))


def _collate_sequences(batch: Sequence[Any]) -> Any:
    width = len(batch[0])
    if any(len(sample) != width for sample in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    fields = [default_collate(field) for field in zip(*batch)]
    return fields if isinstance(batch[0], tuple) else _rebuild_sequence(batch[0], fields)


def _rebuild_mapping(like: Mapping[Any, Any], values: dict[Any, Any]) -> Any:
    """``values`` as ``like``'s mapping type when it can be built from a dict, else a dict."""
    if type(like) is dict:
        return values
    try:
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like: Sequence[Any], values: list[Any]) -> Any:
    if type(like) is list:
        return values
    try:
        return type(like)(values)
    except TypeError:
        return values
