"""Parameter containers: ``ParameterList`` and ``ParameterDict``.

Their entries are registered parameters named ``'0'``, ``'1'``, ... or by the dict's keys, so
``state_dict()`` and optimizers see them under PyTorch's names. A plain Tensor stored in one
becomes a :class:`Parameter` (requiring grad), as in PyTorch; other objects are kept as plain
attributes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

#: How PyTorch prints each dtype in these containers' reprs (list: dtype; dict: tensor type).
_TORCH_NAMES = {
    np.dtype(np.float32): ("torch.float32", "torch.FloatTensor"),
    np.dtype(np.float64): ("torch.float64", "torch.DoubleTensor"),
}


def _as_parameter(value: Any) -> Any:
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _entry_line(key: Any, value: Any, in_dict: bool) -> str:
    """One entry of the repr, in PyTorch's words."""
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    names = _TORCH_NAMES.get(value.dtype, (str(value.dtype), str(value.dtype)))
    size = "x".join(str(n) for n in value.shape)
    return f"  ({key}): {kind} containing: [{names[in_dict]} of size {size}]"


class ParameterList(Module):
    """A list of parameters, registered as ``'0'``, ``'1'``, ...

    Parameters
    ----------
    values : iterable of Parameter or Tensor, optional
        The initial entries; a Tensor that is not a Parameter is wrapped in one.

    Supports ``len``, iteration, indexing (negative too; a slice gives a new ParameterList of
    the same parameters), item assignment, ``append``, ``extend`` and ``+=``. Calling it is an
    error, as in PyTorch.

    Examples
    --------
    >>> weights = ParameterList(Parameter(np.zeros((2, 2))) for _ in range(3))
    >>> list(weights.state_dict()), len(list(weights.parameters()))
    (['0', '1', '2'], 3)
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _position(self, idx: int) -> int:
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range")
        return idx % self._size

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return getattr(self, str(self._position(idx)))

    def __setitem__(self, idx: int, value: Any) -> None:
        setattr(self, str(self._position(idx)), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (getattr(self, str(i)) for i in range(self._size))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end; returns self."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append each of ``values``; returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                + type(values).__name__
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(i, value, False) for i, value in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys (strings without ``'.'``).

    Parameters
    ----------
    parameters : mapping or iterable of (str, Parameter or Tensor) pairs, optional
        The initial entries. As in PyTorch, an ``OrderedDict``, a ``ParameterDict`` or pairs
        keep their order; the keys of any other mapping (a plain dict) are sorted.

    Behaves like a dict: ``d[key]`` (a missing key raises ``KeyError``), assignment, ``del``,
    ``in``, ``len``, iteration over the keys, ``reversed``, ``keys()``, ``values()``,
    ``items()``, ``get``, ``setdefault``, ``pop``, ``popitem``, ``clear``, ``copy`` (the same
    parameters), ``fromkeys``, ``update``, ``|`` and ``|=``. Calling it is an error.

    Examples
    --------
    >>> scales = ParameterDict({"beta": Parameter(np.zeros(3)), "alpha": Parameter(np.ones(3))})
    >>> list(scales.state_dict())
    ['alpha', 'beta']
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(
                f"ParameterDict keys must be strings; got {key!r} of type {type(key).__name__}"
            )
        return key

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._check_key(key), _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters, in the same order."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``self[key]``, after storing ``default`` there if the key is absent."""
        if key not in self._keys:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last ``(key, value)`` pair inserted."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]``, or ``default`` if the key is absent."""
        return self[key] if key in self._keys else default

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with each of ``keys`` holding ``default``."""
        return ParameterDict((k, default) for k in keys)

    def keys(self) -> Iterable[str]:
        """The keys, in order."""
        return self._keys.keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        """``(key, value)`` pairs, in order."""
        return [(k, self[k]) for k in self._keys]

    def values(self) -> Iterable[Any]:
        """The values, in order."""
        return [self[k] for k in self._keys]

    def update(self, parameters: Any) -> None:
        """Add (or replace) entries from a mapping or from ``(key, value)`` pairs (plain dicts
        in sorted key order, as PyTorch)."""
        if not isinstance(parameters, Iterable):
            raise TypeError(
                "ParametersDict.update should be called with an iterable of key/value pairs, "
                "but got " + type(parameters).__name__
            )
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs: Iterable[Any] = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = parameters
        for j, pair in enumerate(pairs):
            if not isinstance(pair, Iterable):
                raise TypeError(
                    f"ParameterDict update sequence element #{j} should be Iterable; is "
                    + type(pair).__name__
                )
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(
                    f"ParameterDict update sequence element #{j} has length {len(pair)}; 2 "
                    "is required"
                )
            self[pair[0]] = pair[1]

    def __or__(self, other: Any) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> Any:
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other: Any) -> ParameterDict:
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(k, v, True) for k, v in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")
