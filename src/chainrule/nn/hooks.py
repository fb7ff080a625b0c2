"""Module hooks: handles that remove a registered hook, and the backward-hook plumbing."""

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

    def __init__(self, hooks: dict[int, Callable[..., Any]]) -> None:
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self) -> None:
        """Unregister the hook; removing it twice is harmless."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


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

    def _on_output_grad(self, grad: Tensor) -> None:
        self.grad_output = (grad,)
        if not self.pending:
            self._fire()

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
