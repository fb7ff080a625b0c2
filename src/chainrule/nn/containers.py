"""Module containers: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict``.

They name their children as PyTorch does (``'0'``, ``'1'``, ... or the dict's keys), so a model
built from them has PyTorch's state-dict names (``'0.weight'``, ``'encoder.bias'``) and prints
PyTorch's ``repr``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from chainrule.nn import printing
from chainrule.nn.module import Module


def _index(idx: int, size: int) -> int:
    """``idx`` (negative counts from the end) as a position in ``range(size)``."""
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range")
    return idx % size


def _check_module(value: Any, kind: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(
            f"{type(value).__name__} is not a Module subclass ({kind} holds Modules; got "
            f"{type(value).__name__})"
        )
    return value


def _dir_without_numbers(module: Module) -> list[str]:
    # As PyTorch: the numbered children are reached by indexing, not listed as attributes.
    return [name for name in Module.__dir__(module) if not name.isdigit()]


def _renumber(module: Module, children: Iterable[Module]) -> None:
    """Name ``children`` ``'0'``, ``'1'``, ... in order, as PyTorch does after a deletion."""
    store = module._modules
    kept = list(children)
    store.clear()
    for i, child in enumerate(kept):
        store[str(i)] = child


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Parameters
    ----------
    *args : Module, or one OrderedDict (or dict) of names to modules
        The stages, named ``'0'``, ``'1'``, ... or by the mapping's keys.

    Like a list: ``len``, iteration, indexing (negative too; a slice gives a new Sequential of
    the same modules under their names), item assignment and deletion (deletion renumbers),
    ``append``, ``extend``, ``insert``, ``pop``, ``+`` and ``+=`` with another Sequential,
    ``*`` and ``*=`` by a positive int (the same modules repeated, as PyTorch).

    Shapes
    ------
    Whatever the first stage takes → whatever the last stage gives.

    Examples
    --------
    >>> model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
    >>> model(chainrule.tensor(np.ones((5, 4), dtype=np.float32))).shape
    (5, 2)
    >>> len(model), type(model[1]).__name__, list(model.state_dict())[:2]
    (3, 'ReLU', ['0.weight', '0.bias'])
    """

    def __init__(self, *args: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], Mapping):
            for name, module in args[0].items():
                self.add_module(name, _check_module(module, "Sequential"))
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), _check_module(module, "Sequential"))

    def forward(self, input: Any) -> Any:
        """Pass ``input`` through every stage in order."""
        for module in self._modules.values():
            input = module(input)
        return input

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    @overload
    def __getitem__(self, idx: slice) -> Sequential: ...

    def __getitem__(self, idx: int | slice) -> Module | Sequential:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(items[idx]))
        return items[_index(idx, len(items))][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self))]
        self._modules[key] = _check_module(module, "Sequential")

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        drop = set(keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys))]])
        _renumber(self, [m for k, m in self._modules.items() if k not in drop])

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __dir__(self) -> list[str]:
        return _dir_without_numbers(self)

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return self.extend(list(other))

    def _factor(self, other: Any) -> int:
        if not isinstance(other, int) or isinstance(other, bool):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        return other

    def __mul__(self, other: int) -> Sequential:
        return Sequential(*(list(self) * self._factor(other)))

    __rmul__ = __mul__

    def __imul__(self, other: int) -> Sequential:
        return self.extend(list(self) * (self._factor(other) - 1))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` as the last stage; returns self."""
        self.add_module(str(len(self)), _check_module(module, "Sequential"))
        return self

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        """Append each module of ``sequential``; returns self."""
        for module in sequential:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index`` (``-len ≤ index ≤ len``) and renumber."""
        _check_module(module, "Sequential")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        _renumber(self, modules)
        return self

    def pop(self, key: int | slice) -> Module | Sequential:
        """Remove the stage(s) at ``key`` and return them (a slice gives a Sequential)."""
        value = self[key]
        del self[key]
        return value


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list's would be invisible).

    Parameters
    ----------
    modules : iterable of Module, optional
        The initial entries, named ``'0'``, ``'1'``, ...

    Behaves like a list: ``len``, iteration, indexing (negative too) and slicing (a slice gives
    a new ModuleList), item assignment and deletion (deletion renumbers), ``append``,
    ``extend``, ``insert``, ``pop``, ``+`` (a new ModuleList) and ``+=``. It has no
    ``forward``: the module that owns it decides how its entries are called. Its ``repr``
    compacts runs of equal entries as PyTorch's does (``(0-2): 3 x Linear(...)``).

    Examples
    --------
    >>> layers = ModuleList(Linear(4, 4) for _ in range(3))
    >>> len(layers), len(list(layers.parameters()))
    (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Not defined: iterate over the list in the owning module's forward instead."""
        raise NotImplementedError(
            "ModuleList has no forward(): it only registers its modules; call them from the "
            "forward() of the module that owns the list"
        )

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    @overload
    def __getitem__(self, idx: slice) -> ModuleList: ...

    def __getitem__(self, idx: int | slice) -> Module | ModuleList:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(modules[idx])
        return modules[_index(idx, len(modules))]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = str(_index(idx, len(self)))
        self._modules[key] = _check_module(module, "ModuleList")

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[_index(idx, len(modules))]
        _renumber(self, modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __dir__(self) -> list[str]:
        return _dir_without_numbers(self)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), _check_module(module, "ModuleList"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules``; returns self."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleList.extend should be called with an iterable, but got "
                + type(modules).__name__
            )
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> ModuleList:
        """Insert ``module`` before position ``index``; returns self."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, "ModuleList"))
        _renumber(self, modules)
        return self

    def pop(self, key: int | slice) -> Module | ModuleList:
        """Remove the entry (or entries) at ``key`` and return it."""
        value = self[key]
        del self[key]
        return value

    def _architecture(self) -> str:
        # PyTorch prints a run of entries with equal text once: "(0-2): 3 x Linear(...)".
        texts = [module._architecture() for module in self]
        if not texts:
            return "ModuleList()"
        runs: list[list[Any]] = []  # [first index, last index, text]
        for i, text in enumerate(texts):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [
            printing.indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}")
            for a, b, text in runs
        ]
        return printing.wrap(type(self).__name__, [], lines)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under the keys.

    Parameters
    ----------
    modules : mapping of str to Module, or iterable of (str, Module) pairs, optional
        The initial entries, in the mapping's (or the pairs') order.

    Behaves like a dict: ``d[key]``, assignment, ``del``, ``in``, ``len``, iteration over the
    keys, ``keys()``, ``values()``, ``items()``, ``update``, ``pop`` and ``clear``. It has no
    ``forward``.

    Examples
    --------
    >>> heads = ModuleDict({"cls": Linear(8, 3), "box": Linear(8, 4)})
    >>> list(heads.state_dict())[:2], "box" in heads
    (['cls.weight', 'cls.bias'], True)
    """

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every entry."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove the entry ``key`` and return its module."""
        value = self[key]
        del self[key]
        return value

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) the entries of a mapping or of an iterable of ``(key, module)``."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, but "
                "got " + type(modules).__name__
            )
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for j, pair in enumerate(pairs):
            if not isinstance(pair, Iterable):
                raise TypeError(
                    f"ModuleDict update sequence element #{j} should be Iterable; is "
                    + type(pair).__name__
                )
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is required"
                )
            self[pair[0]] = pair[1]
