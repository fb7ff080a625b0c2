"""``chainrule.func``: PyTorch's ``torch.func`` transforms over functions of tensors.

``grad(f)`` is a new function that returns the gradient of ``f`` instead of its value; the
transforms nest (``grad(grad(f))`` is the second derivative) because each one differentiates
with ``create_graph=True`` whenever its input is already part of a graph — which is exactly the
case inside an outer transform. ``functional_call`` runs a module with other parameter values,
so a loss can be differentiated with respect to parameters passed as arguments.

>>> import chainrule as torch
>>> from chainrule.func import grad
>>> d2 = grad(grad(lambda x: x ** 3))   # 6x
>>> d2(torch.tensor(2.0)).item()
12.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor
from chainrule.autograd import api

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacrev",
    "jvp",
    "vjp",
]


def _enter(x: Any) -> tuple[Tensor, bool]:
    """``x`` as a tensor to differentiate with respect to, and whether it has a graph already
    (an outer transform's, or the caller's autograd): then the result must keep it."""
    if not isinstance(x, Tensor):
        raise TypeError(f"chainrule.func transforms take tensors as arguments, got {type(x)}")
    if x.requires_grad:
        return F.clone(x), True  # an identity node: d/dx of the result flows back through it
    return x.detach().requires_grad_(), False


def _argnums(argnums: int | Sequence[int], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for k in nums:
        if not -n <= k < n:
            raise RuntimeError(f"Got argnums={k} but only {n} positional inputs")
    return tuple(k % n for k in nums)


def _differentiate(outputs, inputs, seeds, nested: bool) -> tuple[Tensor, ...]:
    grads = api.grad(
        outputs, inputs, seeds, retain_graph=True, create_graph=nested, allow_unused=True
    )
    return tuple(
        Tensor._wrap(np.zeros(x.shape, x.dtype)) if g is None else (g if nested else g.detach())
        for g, x in zip(grads, inputs)
    )


def grad_and_value(
    func: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning ``(gradient, value)`` of scalar ``func`` with respect to the
    arguments ``argnums`` (a tuple of gradients for a tuple of argnums); with ``has_aux``,
    ``func`` returns ``(value, aux)`` and the result is ``(gradient, (value, aux))``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        args = list(args)
        entered = [_enter(args[k]) for k in nums]
        for k, (x, _) in zip(nums, entered):
            args[k] = x
        out = func(*args, **kwargs)
        value, aux = out if has_aux else (out, None)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise RuntimeError("grad: the function must return a single-element tensor")
        nested = any(n for _, n in entered)
        grads = _differentiate([value], [x for x, _ in entered], None, nested)
        g = grads[0] if isinstance(argnums, int) else grads
        value = value if nested else value.detach()
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapper


def grad(
    func: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning the gradient of scalar ``func`` with respect to argument(s)
    ``argnums`` (``(gradient, aux)`` with ``has_aux``)."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable[..., Any], *primals: Tensor, has_aux: bool = False) -> tuple[Any, ...]:
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` returns one vᵀJ per primal."""
    entered = [_enter(p) for p in primals]
    xs = [x for x, _ in entered]
    out = func(*xs)
    value, aux = out if has_aux else (out, None)
    nested = any(n for _, n in entered)
    outs = tuple(value) if isinstance(value, (tuple, list)) else (value,)

    def vjp_fn(*cotangents: Any) -> tuple[Tensor, ...]:
        vs = cotangents[0] if len(cotangents) == 1 and len(outs) > 1 else cotangents
        vs = tuple(vs) if isinstance(vs, (tuple, list)) else (vs,)
        return _differentiate(list(outs), xs, list(vs), nested or _any_grad(vs))

    shown = value if nested else _detach(value)
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def _any_grad(values: Sequence[Any]) -> bool:
    return any(isinstance(v, Tensor) and v.requires_grad for v in values)


def _detach(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return type(value)(v.detach() for v in value)
    return value.detach()


def jvp(
    func: Callable[..., Any], primals: Sequence[Tensor], tangents: Sequence[Tensor]
) -> tuple[Any, Any]:
    """``(func(*primals), J·tangents)`` (the double-vjp trick of
    :func:`chainrule.autograd.functional.jvp`)."""
    from chainrule.autograd import functional

    out, ju = functional.jvp(func, tuple(primals), tuple(tangents), create_graph=True)
    nested = _any_grad(primals) or _any_grad(tangents)
    return (out, ju) if nested else (_detach(out), _detach(ju))


def jacrev(
    func: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning the Jacobian of ``func`` (one tensor output) with respect to
    argument(s) ``argnums``, by reverse mode: shape ``output.shape + input.shape``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        args = list(args)
        entered = [_enter(args[k]) for k in nums]
        for k, (x, _) in zip(nums, entered):
            args[k] = x
        out = func(*args, **kwargs)
        value, aux = out if has_aux else (out, None)
        xs = [x for x, _ in entered]
        nested = any(n for _, n in entered)
        flat = F.reshape(value, (-1,))
        rows = [_differentiate([flat[i]], xs, None, nested) for i in range(flat.numel())]
        jacs = tuple(_jacobian_block(rows, j, value, x) for j, x in enumerate(xs))
        j = jacs[0] if isinstance(argnums, int) else jacs
        return (j, aux) if has_aux else j

    return wrapper


def _jacobian_block(rows: list, j: int, value: Tensor, x: Tensor) -> Tensor:
    shape = tuple(value.shape) + tuple(x.shape)
    if not rows:
        return Tensor._wrap(np.zeros(shape, x.dtype))
    return F.reshape(F.stack([r[j] for r in rows]), shape)


def hessian(func: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """A function returning the Hessian of scalar ``func``: the Jacobian of its gradient."""
    return jacrev(jacrev(func, argnums), argnums)


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Run ``module(*args, **kwargs)`` with the named parameters and buffers replaced by the
    given tensors (dotted names, as in ``state_dict``), then put the module's own back."""
    values = _merged(parameter_and_buffer_dicts)
    known = dict(module.named_parameters(remove_duplicate=False))
    known.update(dict(module.named_buffers(remove_duplicate=False)))
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise RuntimeError(f"functional_call got unexpected keys: {unknown}")
    if strict and set(known) - set(values):
        raise RuntimeError(f"functional_call is missing keys: {sorted(set(known) - set(values))}")
    saved = [_swap(module, name, value) for name, value in values.items()]
    try:
        call_args = args if isinstance(args, tuple) else (() if args is None else (args,))
        return module(*call_args, **dict(kwargs or {}))
    finally:
        for store, leaf, original in reversed(saved):
            store[leaf] = original


def _merged(dicts: Any) -> dict[str, Tensor]:
    if isinstance(dicts, Mapping):
        return dict(dicts)
    merged: dict[str, Tensor] = {}
    for d in dicts:
        clash = set(merged) & set(d)
        if clash:
            raise ValueError(f"{sorted(clash)} appeared in multiple dictionaries")
        merged.update(d)
    return merged


def _swap(module: Any, name: str, value: Tensor) -> tuple[dict, str, Any]:
    """Put ``value`` where parameter/buffer ``name`` is; return what to restore."""
    prefix, _, leaf = name.rpartition(".")
    owner = module.get_submodule(prefix) if prefix else module
    # The module's own tables: assigning through setattr would refuse a plain tensor for a
    # parameter's name, and re-registering would reorder the parameters.
    store = owner._parameters if leaf in owner._parameters else owner._buffers
    original = store[leaf]
    store[leaf] = value
    return store, leaf, original
