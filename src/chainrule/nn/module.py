"""``Module``: the base class of layers and models, with PyTorch's registration rules.

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it; buffers (state that
is saved but not learned, like batch norm's running mean) are registered explicitly. Everything
that walks a model — ``parameters()``, ``state_dict()``, ``train()``, ``to()``, ``repr()`` —
follows those registrations, in assignment order, with PyTorch's dotted names (``0.weight``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from chainrule import devices, dtypes
from chainrule._tensor import Tensor
from chainrule.nn import conversion, hooks, model_summary, printing, state_dict
from chainrule.nn.hooks import RemovableHandle
from chainrule.nn.parameter import Buffer, Parameter
from chainrule.nn.state_dict import IncompatibleKeys
from chainrule.nn.state_dict import load_state_dict as _load_state_dict

__all__ = ["IncompatibleKeys", "Module"]


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
    >>> [name for name, _ in TwoLayer().named_parameters()][:3]
    ['hidden.weight', 'hidden.bias', 'out.weight']
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
        set_(self, "_forward_pre_hooks_with_kwargs", set())
        set_(self, "_forward_hooks", {})
        set_(self, "_forward_hooks_with_kwargs", set())
        set_(self, "_forward_hooks_always_call", set())
        set_(self, "_backward_hooks", {})
        set_(self, "_backward_pre_hooks", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward() in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__  # .get: a module pickled before backward pre-hooks existed
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]):
            if not d.get("_backward_pre_hooks"):
                return self.forward(*args, **kwargs)
        return hooks.call_with_hooks(self, args, kwargs)

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

        ``tensor`` (an ndarray or Tensor, used without a copy unless read-only; None reserves
        the name) is then ``self.<name>``, a Tensor. ``persistent=False`` keeps it out of
        :meth:`state_dict`.
        """
        self._check_name("buffer", name, self._buffers)
        self._buffers[name] = conversion.as_buffer(name, tensor)
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
        if isinstance(value, Buffer):
            if params is None:
                self._check_name("buffer", name, {})
            self._forget(name)
            self.register_buffer(name, value, value.persistent)
        elif isinstance(value, Parameter):
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
            self._buffers[name] = conversion.as_buffer(name, value)
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
                    p.grad._data[...] = 0

    # ----- finding by dotted name ----------------------------------------------------------
    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``'0.attn'``); ``''`` is this module.
        ``AttributeError`` names the module lacking the next name, or the name not a Module."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``'0.weight'``)."""
        module, name = self._owner(target)
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` (``'1.running_mean'``)."""
        module, name = self._owner(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def _owner(self, target: str) -> tuple[Module, str]:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        return module, name

    # ----- dtype and device -----------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``: give every float
        parameter, gradient and buffer ``dtype`` (float32 or float64) in place; returns self.

        The objects are kept (an optimizer holding them still works), as in PyTorch; integer
        buffers are left alone. The device may only be the CPU.
        """
        dtype = conversion.target_dtype(args, kwargs)
        return self if dtype is None else self._convert(dtype, "to")

    def _convert(self, dtype: Any, method: str) -> Module:
        conversion.convert(self.parameters(), self.buffers(), dtype, method)
        return self

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32 in place."""
        return self._convert(np.float32, "float()")

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64 in place."""
        return self._convert(np.float64, "double()")

    def half(self) -> Module:
        """Refused: chainrule learns in float32 or float64 only."""
        return self._convert(np.float16, "half()")

    def type(self, dst_type: Any) -> Module:
        """Convert floating-point parameters and buffers to ``dst_type`` (float32 or float64)."""
        return self._convert(dtypes.resolve_dtype(dst_type), "type()")

    def cpu(self) -> Module:
        """This module: everything is on the CPU already."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused, naming the device: chainrule runs on the CPU only."""
        raise devices.no_device("cuda" if device is None else device, "Module.cuda()")

    # ----- saving and loading ---------------------------------------------------------------
    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every saved tensor under its state-dict name (tied weights under each name)."""
        return state_dict.entries(self, prefix)

    def state_dict(
        self,
        *,
        destination: dict[str, Any] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Any]:
        """A copy of every parameter and persistent buffer, by dotted name.

        Parameters
        ----------
        destination : dict, optional
            Written into and returned instead of a new dict.
        prefix : str
            Put before every name (``'encoder.'``).
        keep_vars : bool
            Give the Parameter and buffer objects themselves instead of copies.

        Returns
        -------
        dict of str to ndarray
            PyTorch's names (``'0.weight'``); copies, which later training does not change.
        """
        return state_dict.state_dict(self, destination, prefix, keep_vars)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers, in place.

        Everything is checked first: one ``RuntimeError`` (``Error(s) in loading state_dict
        for <Module>:``) lists every missing, unexpected or mismatched entry, and nothing moves.

        Parameters
        ----------
        state_dict : mapping of str to ndarray
            As :meth:`state_dict` gives (Tensors too), with the model's shapes and dtypes
            exactly: convert the model (``.double()``) or the arrays, no silent cast.
        strict : bool
            With False, missing and unexpected names are allowed (and returned); wrong shapes
            and dtypes still raise.
        assign : bool
            Put the given tensors in place of the module's (each keeps the ``requires_grad``
            of the one it replaces) instead of copying values into them.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``, both empty after a strict load.
        """
        # The argument is PyTorch's name, state_dict, which hides the helper module's.
        return _load_state_dict(self, state_dict, strict, assign)

    # ----- hooks ----------------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward (``hook(module, args, kwargs)`` with
        ``with_kwargs``); ``prepend`` runs it before the hooks already registered. It may return
        new positional arguments (a tuple, or one value), or with ``with_kwargs`` a tuple
        ``(args, kwargs)``. The handle's ``remove()`` unregisters it.
        """
        return hooks.add_hook(self, "forward_pre", hook, prepend, with_kwargs=with_kwargs)

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); ``prepend`` runs it first. It may return a replacement
        output. With ``always_call`` it also runs (output None) when forward raises.
        """
        return hooks.add_hook(
            self, "forward", hook, prepend, with_kwargs=with_kwargs, always_call=always_call
        )

    def register_full_backward_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once backward has reached the inputs:
        tuples of Tensors, the gradient for each positional input (None where an input needs
        none) and for the output. The hook observes and must return None.
        """
        return hooks.add_hook(self, "backward", hook, prepend)

    def register_full_backward_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the output's gradient arrives, before the
        inputs' are computed; it may return a replacement ``grad_output`` (a 1-tuple)."""
        return hooks.add_hook(self, "backward_pre", hook, prepend)

    # ----- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The settings shown in this module's line of ``repr`` (override in layers)."""
        return ""

    def _architecture(self) -> str:
        # Overridden by containers that print their entries their own way (ModuleList).
        return printing.architecture(self)

    def __repr__(self) -> str:
        return printing.with_counts(self)

    def summary(
        self, input_shape: int | tuple[int, ...] | None = None, *, batch_size: int = 1
    ) -> model_summary.ModelSummary:
        """Each layer, its output shape and parameter count, and the totals (Keras's
        ``model.summary()``); ``input_shape`` is one sample's. See :func:`chainrule.nn.summary`.
        """
        return model_summary.summary(self, input_shape, batch_size=batch_size)
