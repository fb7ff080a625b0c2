"""Saving and loading a module's state: ``Module.state_dict`` and ``Module.load_state_dict``.

A state dict maps PyTorch's dotted names (``'0.weight'``, ``'1.running_mean'``) to every
parameter and persistent buffer of a module tree. Loading checks everything before copying
anything, so a model is either fully loaded or unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from chainrule._tensor import Tensor
from chainrule.nn.parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` skipped with ``strict=False``."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # PyTorch's text
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )


class Entry(NamedTuple):
    """One saved tensor: its dotted name, the module holding it and its name there."""

    name: str
    owner: Any
    local: str
    store: str
    tensor: Tensor


def owned_entries(module: Any, prefix: str = "") -> Iterator[Entry]:
    """Every parameter and persistent buffer below ``module``; a shared tensor under each of
    its names, as PyTorch saves tied weights."""
    d = module.__dict__
    for name, p in d["_parameters"].items():
        if p is not None:
            yield Entry(prefix + name, module, name, "_parameters", p)
    for name, b in d["_buffers"].items():
        if b is not None and name not in d["_non_persistent_buffers"]:
            yield Entry(prefix + name, module, name, "_buffers", b)
    for name, child in d["_modules"].items():
        if child is not None:
            yield from owned_entries(child, f"{prefix}{name}.")


def entries(module: Any, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
    """``(dotted name, tensor)`` for every saved tensor below ``module``."""
    for entry in owned_entries(module, prefix):
        yield entry.name, entry.tensor


def state_dict(
    module: Any,
    destination: dict[str, Any] | None = None,
    prefix: str = "",
    keep_vars: bool = False,
) -> dict[str, Any]:
    """Every parameter and persistent buffer of ``module`` by dotted name (``prefix`` first).

    NumPy copies by default; with ``keep_vars`` the Parameter and buffer objects themselves.
    Written into ``destination`` when given, which is returned.
    """
    out: dict[str, Any] = {} if destination is None else destination
    for name, tensor in entries(module, prefix):
        out[name] = tensor if keep_vars else tensor._data.copy()
    return out


def load_state_dict(
    module: Any, state: Mapping[str, Any], strict: bool = True, assign: bool = False
) -> IncompatibleKeys:
    """Check ``state`` against ``module`` and copy it in (see :meth:`Module.load_state_dict`)."""
    if not isinstance(state, Mapping):
        raise TypeError(
            f"Expected state_dict to be dict-like, got {type(state).__name__}: a mapping of "
            "names to arrays or tensors"
        )
    expected = {entry.name: entry for entry in owned_entries(module)}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    problems = []
    if strict and missing:
        problems.append(f"Missing key(s) in state_dict: {', '.join(map(repr, missing))}.")
    if strict and unexpected:
        problems.append(f"Unexpected key(s) in state_dict: {', '.join(map(repr, unexpected))}.")
    for name, entry in expected.items():
        if name in state and (problem := mismatch(name, state[name], entry.tensor)) is not None:
            problems.append(problem)
    if problems:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(module).__name__}:\n"
            + "".join(f"\t{p}\n" for p in problems)
            + "(nothing was loaded: every entry is checked before any is copied)"
        )
    for name, entry in expected.items():
        if name in state:
            _load_one(entry, state[name], assign)
    return IncompatibleKeys(missing, unexpected)


def _load_one(entry: Entry, value: Any, assign: bool) -> None:
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    if not assign:
        np.copyto(entry.tensor._data, array)
        return
    # assign=True: the loaded tensor itself takes the place, keeping requires_grad (PyTorch).
    store = entry.owner.__dict__[entry.store]
    if entry.store == "_parameters":
        new = value if isinstance(value, Parameter) else Parameter(array)
        store[entry.local] = new.requires_grad_(entry.tensor.requires_grad)
    else:
        store[entry.local] = value if isinstance(value, Tensor) else Tensor(array)


def mismatch(name: str, value: Any, target: Tensor) -> str | None:
    """Why ``value`` cannot be loaded into ``target``, or None if it can."""
    if isinstance(value, Tensor):
        value = value._data
    want = f"shape {target.shape} and dtype {target.dtype}"
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"{name}: got a {type(value).__name__}; the model has an array of {want}"
    if value.shape != target.shape or value.dtype != target.dtype:
        return f"{name}: got shape {value.shape} and dtype {value.dtype}; the model has {want}"
    return None
