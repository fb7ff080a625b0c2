"""The saved tree and its JSON form: :func:`encode` turns a tree of plain data into JSON-able
data, moving its arrays out under names taken from their place in the tree; :func:`decode`
turns it back. Tags (one-key dicts whose key starts with ``$``) mark what JSON cannot say
itself: arrays, NumPy scalars, non-finite floats, tuples and dicts with keys that are not
strings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.io.metadata import META_KEY, ChainruleFormatError

__all__ = ["decode", "decode_checked", "encode"]


def encode(obj: Any, where: tuple[str, ...], arrays: dict[str, np.ndarray]) -> Any:
    """``obj`` as JSON-able data; arrays move into ``arrays`` and leave a reference.

    Tags (one-key dicts whose key starts with ``$``) mark what JSON cannot say itself; a user
    dict whose keys could be mistaken for a tag is stored in the ``$dict`` pair-list form.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.number, np.bool_)):
        return {"$scalar": _add_array(np.asarray(obj), where, arrays)}
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"$float": repr(obj)}
    if isinstance(obj, (np.ndarray, Tensor)):
        return _encode_array(obj._data if isinstance(obj, Tensor) else obj, where, arrays)
    if isinstance(obj, tuple):
        return {"$tuple": [encode(v, (*where, str(i)), arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode(v, (*where, str(i)), arrays) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        return _encode_mapping(obj, where, arrays)
    raise TypeError(
        f"cannot save a {type(obj).__name__} at {_where(where)}: chainrule saves ndarrays, "
        "numbers, strings, None and lists, tuples and dicts of them (never pickle)"
    )


def _encode_array(array: np.ndarray, where: tuple[str, ...], arrays: dict[str, np.ndarray]) -> Any:
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"cannot save the array at {_where(where)}: dtype {array.dtype} is not numeric or "
            "bool (object arrays would need pickle, which chainrule never uses)"
        )
    return {"$array": _add_array(array, where, arrays)}


def _encode_mapping(
    obj: Mapping[Any, Any], where: tuple[str, ...], arrays: dict[str, np.ndarray]
) -> Any:
    if all(isinstance(k, str) and not k.startswith("$") for k in obj):
        return {k: encode(v, (*where, k), arrays) for k, v in obj.items()}
    pairs = []
    for k, v in obj.items():
        if not (k is None or isinstance(k, (str, int, float, tuple))):
            raise TypeError(
                f"cannot save the dict at {_where(where)}: key {k!r} is a "
                f"{type(k).__name__}; keys must be str, int, float, bool, None or tuple"
            )
        key_arrays: dict[str, np.ndarray] = {}
        key = encode(k, where, key_arrays)
        if key_arrays:
            raise TypeError(f"cannot save the dict at {_where(where)}: key {k!r} holds arrays")
        pairs.append([key, encode(v, (*where, str(k)), arrays)])
    return {"$dict": pairs}


def _add_array(array: np.ndarray, where: tuple[str, ...], arrays: dict[str, np.ndarray]) -> str:
    # Names from the tree keep a state dict's entries readable by numpy.load / other tools.
    base = "/".join(where) or "value"
    key, n = base, 1
    while key in arrays or key == META_KEY:
        key, n = f"{base}~{n}", n + 1
    # Not np.ascontiguousarray: it turns a 0-d array into a 1-d one.
    arrays[key] = array if array.flags.c_contiguous else np.array(array, order="C")
    return key


def _where(where: tuple[str, ...]) -> str:
    return "the top level" if not where else "'" + "/".join(where) + "'"


def decode_checked(path: Path, tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    try:
        return decode(tree, arrays)
    except (KeyError, TypeError, ValueError, IndexError, RecursionError) as err:
        raise ChainruleFormatError(f"{path}: the chainrule metadata is damaged ({err})") from None


def decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(node, list):
        return [decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((tag, value),) = node.items()
        if tag == "$array":
            return arrays[value]
        if tag == "$scalar":
            return arrays[value][()]
        if tag == "$float":
            if value not in ("nan", "inf", "-inf"):
                raise ValueError(f"unknown float {value!r}")
            return float(value)
        if tag == "$tuple":
            return tuple(decode(v, arrays) for v in value)
        if tag == "$dict":
            # A list key (unhashable) can only come from a damaged file: TypeError, reported.
            return {decode(k, arrays): decode(v, arrays) for k, v in value}
    if any(k.startswith("$") for k in node):
        raise ValueError(f"unknown tag in {sorted(node)}")
    return {k: decode(v, arrays) for k, v in node.items()}
