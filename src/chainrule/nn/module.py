"""``Module``: the base class of layers and models, with PyTorch's registration rules.

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it; buffers (state that
is saved but not learned, like batch norm's running mean) are registered explicitly. Everything
that walks a model — ``parameters()``, ``state_dict()``, ``train()``, ``to()``, ``repr()`` —
follows those registrations, in assignment order, with PyTorch's dotted names (``0.weight``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from chainrule._tensor import Tensor
from chainrule.nn import model_summary
from chainrule.nn.hooks import BackwardHookCall, RemovableHandle
from chainrule.nn.parameter import Parameter

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` skipped with ``strict=False``."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign their parameters and submodules as
    attributes, and define ``forward``. Calling the module runs its forward pre-hooks,
    ``forward`` and its forward hooks.

    Attributes
    ----------
    training : bool
        Training mode (True, the default) or evaluation mode; set by :meth:`train` and
        :meth:`eval` on the whole tree. Dropout and batch norm behave differently in each.

    Examples
    --------
    >>> class TwoLayer(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = Linear(4, 8)
    ...         self.out = Linear(8, 1)
    ...
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        # Written around __setattr__, which needs these dicts to exist.
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", {})
        set_(self, "_buffers", {})
        set_(self, "_non_persistent_buffers", set())
        set_(self, "_modules", {})
        set_(self, "_forward_pre_hooks", {})
        set_(self, "_forward_hooks", {})
        set_(self, "_backward_hooks", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward() in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)
        # list(): a hook may remove itself while running.
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        call = BackwardHookCall(self, args) if self._backward_hooks else None
        if call is not None:
            args = call.args
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if call is not None:
            call.watch(output)
        return output

    # ----- registration ---------------------------------------------------------------------
    def _check_name(self, kind: str, name: Any, store: dict[str, Any]) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot register a {kind} before Module.__init__() is called; call "
                "super().__init__() first in the subclass's __init__"
            )
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string; got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name must be non-empty and contain no '.'; got {name!r}")
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (None reserves the name, e.g. a disabled bias)."""
        self._check_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register a {type(param).__name__} as parameter {name!r}: wrap it in "
                "chainrule.nn.Parameter (or register it as a buffer if it is not learned)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register state that is saved and converted with the module but not learned.

        Parameters
        ----------
        name : str
            The attribute name (``self.name`` then returns the buffer as a Tensor).
        tensor : ndarray, Tensor or None
            The values, used without a copy (a read-only array is copied). None reserves the
            name, as for batch norm without running statistics.
        persistent : bool
            False keeps the buffer out of :meth:`state_dict`.
        """
        self._check_name("buffer", name, self._buffers)
        self._buffers[name] = _as_buffer(name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name`` (what attribute assignment does)."""
        self._check_name("module", name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params, modules = d.get("_parameters"), d.get("_modules")
        if isinstance(value, Parameter):
            if params is None:
                self._check_name("parameter", name, {})
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter {name!r} (a "
                    "Parameter or None expected); to change its values in place assign to "
                    f"{name}.data[...]"
                )
            params[name] = None
        elif isinstance(value, Module):
            if modules is None:
                self._check_name("module", name, {})
            self._forget(name)
            self._modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to submodule {name!r} "
                    "(a Module or None expected)"
                )
            modules[name] = None
        elif name in d.get("_buffers", ()):
            self._buffers[name] = _as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry, before it is registered as something else."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered names live in the three dicts.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            entries = d.get(store)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        names.update(self._parameters, self._buffers, self._modules)
        return sorted(names)

    # ----- walking the tree -----------------------------------------------------------------
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names (this one is '')."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names, each once."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct submodules, each once."""
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for module_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (``'0.weight'``); a shared one only once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each once, in registration order (what optimizers take)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer (Tensor) with its dotted name, e.g. ``'1.running_mean'``."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (Tensor), each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on this module.

        The usual way to run a custom initialization over a whole model.
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients --------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and all below."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode must be a bool; got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode on this module and all below (``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: set it to None (default) or fill it with zeros."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    # ----- dtype ----------------------------------------------------------------------------
    def to(self, dtype: Any) -> Module:
        """Convert every floating-point parameter, gradient and buffer to ``dtype``, in place.

        The Parameter and buffer objects are kept (an optimizer holding them still works); their
        ``.data`` is replaced. Integer buffers (batch norm's ``num_batches_tracked``) are left
        alone. ``dtype`` is float32 or float64.
        """
        target = np.dtype(dtype)
        if target not in _FLOATS:
            raise TypeError(f"Module.to() converts to float32 or float64; got {target}")
        for p in self.parameters():
            p.data = p.data.astype(target, copy=False)
            if p.grad is not None:
                p.grad = Tensor._wrap(p.grad.data.astype(target, copy=False))
        for b in self.buffers():
            if b.data.dtype.kind == "f":
                b.data = b.data.astype(target, copy=False)
        return self

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32 in place."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64 in place."""
        return self.to(np.float64)

    # ----- saving and loading ---------------------------------------------------------------
    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every saved tensor under its state-dict name; a shared tensor under each of its
        names, as PyTorch saves tied weights."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_entries(f"{prefix}{name}.")

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and persistent buffer, by dotted name.

        Returns
        -------
        dict of str to ndarray
            Names as in PyTorch (``'0.weight'``, ``'1.running_mean'``); each array is a copy,
            so later training does not change it.
        """
        return {name: t.data.copy() for name, t in self._state_entries()}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers, in place.

        Everything is checked before anything is copied: if any entry is missing, unexpected,
        of the wrong shape, or not an array of the model's dtype, one ``RuntimeError`` lists
        every problem and the model is unchanged.

        Parameters
        ----------
        state_dict : mapping of str to ndarray
            As returned by :meth:`state_dict` (Tensors are accepted too). Values must have the
            model's shapes and dtypes exactly: convert the model (``.double()``) or the arrays
            rather than relying on a silent cast.
        strict : bool
            With False, missing and unexpected names are allowed (and returned); wrong shapes
            and dtypes still raise.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``, both empty after a strict load.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a mapping; got {type(state_dict).__name__}")
        expected = dict(self._state_entries())
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in expected]
        mismatched = [
            problem
            for name, target in expected.items()
            if name in state_dict
            and (problem := _mismatch(name, state_dict[name], target)) is not None
        ]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(map(repr, unexpected)))
        problems.extend(mismatched)
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} (nothing was "
                "loaded):\n" + "\n".join(f"  {p}" for p in problems)
            )
        for name, target in expected.items():
            if name in state_dict:
                value = state_dict[name]
                np.copyto(target.data, value.data if isinstance(value, Tensor) else value)
        return IncompatibleKeys(missing, unexpected)

    # ----- hooks ----------------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable[[Module, tuple[Any, ...]], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward.

        The hook may return replacement positional arguments (a tuple, or a single value that
        becomes a 1-tuple). Returns a handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], Any], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward.

        The hook may return a replacement output. Returns a handle whose ``remove()``
        unregisters the hook.
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], tuple[Any, ...]], None]
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once backward has reached the inputs.

        ``grad_input`` holds the gradient with respect to each positional input (None where an
        input needs none), ``grad_output`` the gradient with respect to the output; both are
        tuples of Tensors. The hook observes and must return None.
        """
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # ----- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The settings shown in this module's line of ``repr`` (override in layers)."""
        return ""

    def _architecture(self) -> str:
        # PyTorch's layout exactly, so printed models read the same in both libraries.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, child in self._modules.items():
            text = "None" if child is None else child._architecture()
            child_lines.append(f"({name}): " + text.replace("\n", "\n  "))
        lines = extra_lines + child_lines
        out = type(self).__name__ + "("
        if len(extra_lines) == 1 and not child_lines:
            out += extra_lines[0]
        elif lines:
            out += "\n  " + "\n  ".join(lines) + "\n"
        return out + ")"

    def __repr__(self) -> str:
        trainable = frozen = 0
        params = list(self.parameters())
        for p in params:
            if p.requires_grad:
                trainable += p.numel()
            else:
                frozen += p.numel()
        text = self._architecture()
        if not params:
            # Losses, activations, pooling: nothing to count, and "Trainable parameters: 0"
            # under a loss reads as if something were wrong. PyTorch's repr exactly.
            return text
        if frozen:
            text += f"\nFrozen parameters: {frozen:,}"
        return text + f"\nTrainable parameters: {trainable:,}"

    def summary(
        self, input_shape: int | tuple[int, ...] | None = None, *, batch_size: int = 1
    ) -> model_summary.ModelSummary:
        """Each layer, its output shape and its parameter count, and the totals (as Keras's
        ``model.summary()``); ``print()`` the result. See :func:`chainrule.nn.summary`.

        ``input_shape`` is one sample's shape, without the batch dimension (``(4,)`` for 4
        features): the model runs once on zeros of shape ``(batch_size, *input_shape)``, in eval
        mode and without gradients, and is left as it was. Without it shapes are left out.
        """
        return model_summary.summary(self, input_shape, batch_size=batch_size)


def _as_buffer(name: str, value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return Tensor(array if array.flags.writeable else array.copy())
    raise TypeError(
        f"buffer {name!r} must be a NumPy array, a Tensor or None; got {type(value).__name__}"
    )


def _mismatch(name: str, value: Any, target: Tensor) -> str | None:
    """Why ``value`` cannot be copied into ``target``, or None if it can."""
    if isinstance(value, Tensor):
        value = value.data
    want = f"shape {target.shape} and dtype {target.dtype}"
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"{name}: got a {type(value).__name__}; the model has an array of {want}"
    if value.shape != target.shape or value.dtype != target.dtype:
        return f"{name}: got shape {value.shape} and dtype {value.dtype}; the model has {want}"
    return None
