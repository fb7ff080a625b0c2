"""``chainrule.autograd.functional``: Jacobians, Hessians and their products, as PyTorch's.

Each is a few calls of :func:`chainrule.autograd.grad`, the reverse-mode chain rule:

- ``vjp``: vᵀJ, one backward pass;
- ``jvp``: Ju, by the "double vjp" trick: g(w) = wᵀJ is linear in w, so Ju is the vjp of g
  with respect to w — one backward pass through a backward pass;
- ``jacobian``: one vjp per output element (the rows of J);
- ``hvp`` / ``vhp``: Hv and vᵀH for a scalar function, the derivative of (∇f)·v — two passes,
  whatever the number of inputs;
- ``hessian``: the Jacobian of the gradient.

Inputs and outputs are a tensor or a tuple of tensors, as in PyTorch: the results mirror that
structure. The results are detached unless ``create_graph=True``. ``strict=True`` raises when an
output does not depend on an input (PyTorch's check); ``vectorize`` and the strategies are
accepted and computed row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor
from chainrule.autograd import api

Tensors = Tensor | Sequence[Tensor]


def _as_tuple(value: Any, what: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(was it a tuple, the tensors as a tuple), refusing anything but tensors."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"The {what} given to the function must be Tensors, got {type(t)}")
    return is_tuple, items


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs that require grad: new leaves, or (create_graph) identity views that keep the
    graph to the caller's tensors, so that the results can be differentiated further."""
    if create_graph:
        return tuple(F.clone(t) if t.requires_grad else t.detach().requires_grad_() for t in inputs)
    return tuple(t.detach().requires_grad_() for t in inputs)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, what="output") -> tuple:
    """autograd.grad that allows unused inputs (zeros, or an error with ``strict``)."""
    live = [o for o in outputs if o.requires_grad]
    if not live:
        grads: tuple = (None,) * len(inputs)
    else:
        seeds = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
        grads = api.grad(
            live, inputs, seeds, retain_graph=True, create_graph=create_graph, allow_unused=True
        )
    result = []
    for i, (g, x) in enumerate(zip(grads, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The {what} of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."
                )
            g = Tensor._wrap(np.zeros(x.shape, x.dtype))
        result.append(g)
    return tuple(result)


def _finish(values: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    return values if create_graph else tuple(v.detach() for v in values)


def _shape_back(is_tuple: bool, values: tuple) -> Any:
    return values if is_tuple else values[0]


def _vectors(v: Any, like: tuple[Tensor, ...], what: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(
                f"The vector v can only be None if the {what} of the user-provided function "
                "is a single Tensor with a single element."
            )
        return (Tensor._wrap(np.ones(like[0].shape, like[0].dtype)),)
    _, vs = _as_tuple(v, "v")
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise RuntimeError(f"v has the wrong shape: it must match the {what} of the function")
    return vs


def vjp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(*inputs), vᵀ J)``: the outputs and the vector-Jacobian product with ``v``
    (shaped as the outputs) — one backward pass."""
    in_tuple, ins = _as_tuple(inputs, "inputs")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _as_tuple(func(*ins), "outputs")
    vs = _vectors(v, outs, "output")
    grads = _grads(outs, ins, vs, create_graph, strict)
    return (
        _shape_back(out_tuple, _finish(outs, create_graph)),
        _shape_back(in_tuple, _finish(grads, create_graph)),
    )


def jvp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(*inputs), J u)``: the Jacobian-vector product with ``u = v`` (shaped as the
    inputs). g(w) = wᵀJ is linear in w, so Ju is the vjp of g with respect to w."""
    in_tuple, ins = _as_tuple(inputs, "inputs")
    ins = _prepare(ins, True)
    us = _vectors(v, ins, "input")
    out_tuple, outs = _as_tuple(func(*ins), "outputs")
    ws = tuple(Tensor._wrap(np.zeros(o.shape, o.dtype)).requires_grad_() for o in outs)
    g = _grads(outs, ins, ws, True, strict)
    ju = _grads(g, ws, us, create_graph, strict=False, what="jvp")
    return (
        _shape_back(out_tuple, _finish(outs, create_graph)),
        _shape_back(out_tuple, _finish(ju, create_graph)),
    )


def jacobian(
    func: Callable[..., Any],
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a tensor of shape
    ``output_i.shape + input_j.shape``; a tensor, a tuple, or a tuple of tuples as in PyTorch."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    in_tuple, ins = _as_tuple(inputs, "inputs")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _as_tuple(func(*ins), "outputs")
    blocks = []
    for out in outs:
        flat = F.reshape(out, (-1,))
        rows = [_grads((flat[k],), ins, (None,), create_graph, strict) for k in range(flat.numel())]
        blocks.append(tuple(_stack_rows(rows, j, out, x) for j, x in enumerate(ins)))
    blocks = [_finish(b, create_graph) for b in blocks]
    if not out_tuple:
        return _shape_back(in_tuple, blocks[0])
    return tuple(_shape_back(in_tuple, b) for b in blocks)


def _stack_rows(rows: list[tuple], j: int, out: Tensor, x: Tensor) -> Tensor:
    if not rows:
        return Tensor._wrap(np.zeros(tuple(out.shape) + tuple(x.shape), x.dtype))
    return F.reshape(F.stack([r[j] for r in rows]), tuple(out.shape) + tuple(x.shape))


def hessian(
    func: Callable[..., Any],
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar ``func``: the Jacobian of its gradient (shape ``x_i.shape +
    x_j.shape`` per pair of inputs)."""
    in_tuple, ins = _as_tuple(inputs, "inputs")

    def gradient(*xs: Tensor) -> Any:
        out = func(*xs)
        _, outs = _as_tuple(out, "outputs")
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError(
                "The function given to hessian should return a single Tensor with a single element"
            )
        return _grads(outs, xs, (None,), True, strict)

    result = jacobian(gradient, ins, create_graph, strict, vectorize, outer_jacobian_strategy)
    return result if in_tuple else result[0][0]


def vhp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(*inputs), vᵀH)`` for a scalar ``func``: the derivative of ∇f·v, two passes."""
    return _hessian_product(func, inputs, v, create_graph, strict)


def hvp(
    func: Callable[..., Any],
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` for a scalar ``func``. The Hessian of a twice continuously
    differentiable function is symmetric, so Hv = (vᵀH)ᵀ: the same two passes as :func:`vhp`."""
    return _hessian_product(func, inputs, v, create_graph, strict)


def _hessian_product(func, inputs, v, create_graph, strict) -> tuple[Any, Any]:
    in_tuple, ins = _as_tuple(inputs, "inputs")
    ins = _prepare(ins, create_graph)
    vs = _vectors(v, ins, "input")
    _, outs = _as_tuple(func(*ins), "outputs")
    if len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(
            "The function given to hvp/vhp should return a single Tensor with a single element"
        )
    g = _grads(outs, ins, (None,), True, strict)
    dot = sum(
        ((a * b).sum() for a, b in zip(g, vs)), start=Tensor._wrap(np.zeros((), ins[0].dtype))
    )
    products = _grads((dot,), ins, (None,), create_graph, strict, what="gradient")
    return (_finish(outs, create_graph)[0], _shape_back(in_tuple, _finish(products, create_graph)))
