"""Module hooks: handles that remove a registered hook, the forward call that runs the hooks,
and the backward-hook plumbing."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import is_grad_enabled

_ids = itertools.count()


class RemovableHandle:
    """Removes one hook from the dict it was registered in.

    Returned by :meth:`Module.register_forward_hook` and
    :meth:`Module.register_forward_pre_hook`. Also a context manager: the hook is removed when
    the ``with`` block ends.

    Attributes
    ----------
    id : int
        The hook's key in its module's hook dict (unique for the process).
    """

    def __init__(self, hooks: dict[int, Callable[..., Any]], *extra: set[int]) -> None:
        self._hooks = hooks
        # Sets that flag the hook (with_kwargs, always_call): cleared with it.
        self._extra = extra
        self.id = next(_ids)

    def remove(self) -> None:
        """Unregister the hook; removing it twice is harmless."""
        self._hooks.pop(self.id, None)
        for flags in self._extra:
            flags.discard(self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(
    module: Any, kind: str, hook: Callable[..., Any], prepend: bool, **flags: bool
) -> RemovableHandle:
    """Register ``hook`` in ``module``'s dict ``_{kind}_hooks``, first if ``prepend``.

    Each true flag (``with_kwargs``, ``always_call``) adds the hook's id to the module's set
    ``_{kind}_hooks_{flag}``, which the handle clears on removal.
    """
    if not callable(hook):
        raise TypeError(f"a {kind.replace('_', ' ')} hook must be callable; got {hook!r}")
    hooks = module.__dict__.setdefault(f"_{kind}_hooks", {})
    # setdefault: a module pickled before these sets existed gets them on first use.
    sets = [
        module.__dict__.setdefault(f"_{kind}_hooks_{name}", set())
        for name, on in flags.items()
        if on
    ]
    handle = RemovableHandle(hooks, *sets)
    for flagged in sets:
        flagged.add(handle.id)
    hooks[handle.id] = hook
    if prepend:
        # dicts keep insertion order: re-insert the others after the new one.
        for key in [k for k in hooks if k != handle.id]:
            hooks[key] = hooks.pop(key)
    return handle


def call_with_hooks(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module(*args, **kwargs)`` with its forward pre-hooks, forward hooks and full backward
    hooks, in PyTorch's order; a forward hook registered with ``always_call`` runs even when
    forward raises (the exception then propagates)."""
    d = module.__dict__
    args, kwargs = _run_pre_hooks(module, args, kwargs)
    wanted = d["_backward_hooks"] or d.get("_backward_pre_hooks")
    call = BackwardHookCall(module, args) if wanted else None
    if call is not None:
        args = call.args
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        for key, hook in list(d["_forward_hooks"].items()):
            if key in d.get("_forward_hooks_always_call", ()):
                _run_forward_hook(module, key, hook, args, kwargs, None)
        raise
    for key, hook in list(d["_forward_hooks"].items()):
        result = _run_forward_hook(module, key, hook, args, kwargs, output)
        if result is not None:
            output = result
    if call is not None:
        call.watch(output)
    return output


def _run_pre_hooks(
    module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    d = module.__dict__
    for key, hook in list(d["_forward_pre_hooks"].items()):  # list: a hook may remove itself
        if key in d.get("_forward_pre_hooks_with_kwargs", ()):
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {result}."
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _run_forward_hook(
    module: Any, key: int, hook: Callable[..., Any], args: Any, kwargs: Any, output: Any
) -> Any:
    if key in module.__dict__.get("_forward_hooks_with_kwargs", ()):
        return hook(module, args, kwargs, output)
    return hook(module, args, output)


class _ModuleBoundary(Function, register=False):
    """d x/dx = 1: a pass-through that marks where a module's inputs enter it."""

    def forward(self, x):
        return x

    def backward(self, grad):
        return (grad,)


class BackwardHookCall:
    """One forward call of a module with full backward hooks, waiting for its gradients.

    Each input that requires grad goes through a pass-through node, so the gradient arriving
    there is exactly the module's gradient with respect to that input, even when the same tensor
    also feeds other modules. Once the output's gradient and every input's gradient have
    arrived, the hooks run as ``hook(module, grad_input, grad_output)`` (tuples of Tensors,
    None for inputs that need no gradient).

    Only the tensors' hooks refer to the call, and the call refers to no tensor of the graph
    once :meth:`watch` has run: the graph and the call are freed by reference counting alone.
    """

    def __init__(self, module: Any, args: tuple[Any, ...]) -> None:
        self.module = module
        self.grad_input: list[Any] = [None] * len(args)
        self.grad_output: tuple[Any, ...] | None = None
        self.pending: set[int] = set()
        wrapped = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor) and arg.requires_grad and is_grad_enabled():
                arg = _ModuleBoundary.apply(arg)
                arg.register_hook(functools.partial(self._on_input_grad, i))
                self.pending.add(i)
            wrapped.append(arg)
        self.args = tuple(wrapped)

    def watch(self, output: Any) -> None:
        """Start waiting for the gradient of ``output`` (a Tensor that requires grad).

        Called once forward has run: ``args`` has been used, and is dropped now. Keeping it
        would close a reference cycle (this call → its wrapped inputs → their hooks → this
        call) that holds every activation of the step until the cyclic GC runs.
        """
        self.args = ()
        if isinstance(output, Tensor) and output.requires_grad:
            output.register_hook(self._on_output_grad)

    def _on_output_grad(self, grad: Tensor) -> Tensor:
        # Backward pre-hooks see the output's gradient first and may replace it: the
        # replacement is what flows on into the module (a tensor hook's return value).
        for hook in list(self.module.__dict__.get("_backward_pre_hooks", {}).values()):
            result = hook(self.module, (grad,))
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != 1:
                    raise RuntimeError(
                        "backward pre hook returned an invalid number of grad_output, got "
                        f"{len(result)}, but expected 1"
                    )
                grad = result[0]
        self.grad_output = (grad,)
        if not self.pending:
            self._fire()
        return grad

    def _on_input_grad(self, index: int, grad: Tensor) -> None:
        self.grad_input[index] = grad
        self.pending.discard(index)
        if not self.pending and self.grad_output is not None:
            self._fire()

    def _fire(self) -> None:
        for hook in list(self.module._backward_hooks.values()):
            if hook(self.module, tuple(self.grad_input), self.grad_output) is not None:
                raise RuntimeError(
                    "a full backward hook returned a value; chainrule's backward hooks observe "
                    "gradients and must return None"
                )
