"""Containers: ``Sequential`` (a pipeline with a forward) and ``ModuleList`` (a registered list).

Both name their children ``'0'``, ``'1'``, ... as PyTorch does, so a model built from them has
PyTorch's state-dict names (``'0.weight'``, ``'2.bias'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from chainrule.nn.module import Module


def _index(idx: int, size: int, kind: str) -> int:
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range for a {kind} of length {size}")
    return idx % size


def _check_module(value: Any, kind: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{kind} holds Modules; got {type(value).__name__}")
    return value


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Parameters
    ----------
    *modules : Module
        The stages, named ``'0'``, ``'1'``, ... Alternatively one mapping of names to modules.

    Supports ``len``, iteration, indexing (an int gives a module, a slice a new Sequential of the
    same modules), item assignment and deletion, ``append``, ``extend`` and ``insert``.

    Examples
    --------
    >>> model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
    >>> model(chainrule.tensor(np.ones((5, 4), dtype=np.float32))).shape
    (5, 2)
    >>> len(model), type(model[1]).__name__, list(model.state_dict())[:2]
    (3, 'ReLU', ['0.weight', '0.bias'])
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, _check_module(module, "Sequential"))
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), _check_module(module, "Sequential"))

    def forward(self, input: Any) -> Any:
        """Pass ``input`` through every stage in order; shapes are whatever the stages take."""
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
            return Sequential(dict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self._modules[key] = _check_module(module, "Sequential")

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        drop = keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys), "Sequential")]]
        kept = [m for k, m in self._modules.items() if k not in drop]
        # Renumber, as PyTorch does, so that appending later cannot collide with a kept name.
        self._modules.clear()
        for i, module in enumerate(kept):
            self._modules[str(i)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` as the last stage; returns self."""
        self.add_module(str(len(self)), _check_module(module, "Sequential"))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index`` and renumber; returns self."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, "Sequential"))
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list's would be invisible).

    Parameters
    ----------
    modules : iterable of Module, optional
        The initial entries, named ``'0'``, ``'1'``, ...

    Behaves like a list: ``len``, iteration, indexing and slicing (a slice gives a new
    ModuleList), item assignment and deletion, ``append``, ``extend``, ``insert`` and ``+=``.
    It has no ``forward``: the module that owns it decides how its entries are called.

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
            return ModuleList(modules[idx])
        return modules[_index(idx, len(modules), "ModuleList")]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = str(_index(idx, len(self), "ModuleList"))
        self._modules[key] = _check_module(module, "ModuleList")

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[_index(idx, len(modules), "ModuleList")]
        self._renumber(modules)

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), _check_module(module, "ModuleList"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> ModuleList:
        """Insert ``module`` before position ``index``; returns self."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, "ModuleList"))
        self._renumber(modules)
        return self
