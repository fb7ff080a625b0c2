"""Backward passes that record themselves (``create_graph=True``): derivatives of derivatives.

The first-order engine (:func:`chainrule.autograd.engine.run`) hands every node NumPy arrays:
the values its forward saved, and the gradient of its output. Here the same ``backward`` code
runs on tensors instead, with recording on, so the gradients it returns are tensors with a graph
of their own, and ``backward()`` or ``autograd.grad`` can run through them again (any order).

What makes one ``backward`` serve both passes is NumPy's dispatch protocol: an op's code is
written with operators and ``np.*`` calls, and on tensors those calls run chainrule's ops
(:mod:`chainrule.ops.numpy_dispatch`). The one thing left is what forward *saved*: arrays, cut
off from the graph. So each node gets a **twin** (:func:`twin_of`), a fresh instance of its op
whose saved values are tensors:

- if every floating-point array the node saved is one of its input arrays or its output array
  (``self.a, self.b = a, b`` in ``Mul``, ``self.out = np.exp(x)`` in ``Exp``), the twin holds
  the input and output tensors in their place — nothing is computed again;
- otherwise (a saved intermediate, such as a softmax or a centred copy), the twin runs
  ``forward`` again on the input tensors, so that what it saves is built by recorded ops.

Integer and boolean arrays (indices, masks) and Python values stay as they are: they are
constants of the derivative (a relu mask is piecewise constant: its derivative is 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd import engine, inplace
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state, write_clock


def twin_of(fn: Function, out: Tensor) -> Function:
    """A copy of node ``fn`` (whose output is ``out``) that holds tensors where ``fn`` saved
    arrays of the graph, ready for ``backward`` on a gradient tensor."""
    twin = object.__new__(type(fn))
    params = getattr(fn, "params", None) or {}
    twin.inputs, twin.params, twin.needs_input_grad = fn.inputs, params, fn.needs_input_grad
    twin.released, twin.versions, twin.stamp = False, fn.versions, fn.stamp
    for cls in type(fn).__mro__[: type(fn).__mro__.index(Function)]:
        for slot in cls.__dict__.get("__slots__", ()):  # a subclass's own fields (CustomNode's)
            if hasattr(fn, slot):
                setattr(twin, slot, getattr(fn, slot))
    known = {id(t._data): t for t in fn.inputs}
    known[id(out._data)] = out
    saved = fn.__dict__
    if _all_known(saved.values(), known):
        twin.__dict__.update({k: _swap(v, known) for k, v in saved.items()})
    else:
        twin.forward(*fn.inputs, **params)
    return twin


def _all_known(values: Any, known: dict[int, Tensor]) -> bool:
    """Whether every floating-point array among ``values`` (in tuples and lists too) is one of
    the ``known`` arrays."""
    for v in values:
        if isinstance(v, np.ndarray):
            if v.dtype.kind in "fc" and id(v) not in known:
                return False
        elif isinstance(v, np.floating):
            return False  # a saved float scalar may be a function of the inputs
        elif isinstance(v, (tuple, list)) and not _all_known(v, known):
            return False
    return True


def _swap(value: Any, known: dict[int, Tensor]) -> Any:
    if isinstance(value, np.ndarray):
        return known.get(id(value), value)
    if type(value) in (tuple, list):
        return type(value)(_swap(v, known) for v in value)
    return value


def run(
    order: list[Tensor],
    grads: dict[Tensor, Tensor],
    retain_graph: bool,
    capture: dict[Tensor, Tensor | None] | None = None,
) -> None:
    """:func:`chainrule.autograd.engine.run` with tensor gradients, recording every op.

    With ``capture`` (``autograd.grad``) the gradients of the listed tensors are stored there
    and no ``.grad`` changes; without it leaves (and ``retain_grad`` tensors) accumulate them.
    """
    previous, state.grad_enabled = state.grad_enabled, True
    nested, state.graph_backward = state.graph_backward, True
    try:
        for t in order:
            g = grads.pop(t, None)
            if g is None:
                continue
            if t._hooks:
                g = _run_hooks(t, g)
            if capture is not None:
                if t in capture:
                    capture[t] = g
            elif t._ctx is None or t._retains_grad:
                accumulate(t, g)
            if t._ctx is not None:
                _through_node(t._ctx, t, g, grads, retain_graph)
    finally:
        state.grad_enabled, state.graph_backward = previous, nested


def _through_node(
    fn: Function, t: Tensor, g: Tensor, grads: dict[Tensor, Tensor], retain_graph: bool
) -> None:
    """Run the backward of ``fn`` (``t``'s node) on tensors and add what it returns into
    ``grads``."""
    if fn.stamp != write_clock.count:  # the in-place check of engine.run
        inplace.check_node(fn, t)
    input_grads = twin_of(fn, t).backward(g)
    if not retain_graph:
        fn.release()
    for inp, ig, needed in zip(fn.inputs, input_grads, fn.needs_input_grad):
        if not needed or ig is None:
            continue
        ig = conform(ig, inp, fn.op_name)
        previous = grads.get(inp)
        grads[inp] = ig if previous is None else previous + ig


def conform(ig: Any, inp: Tensor, op_name: str) -> Tensor:
    """A gradient as a tensor of ``inp``'s shape (broadcast axes summed) and dtype."""
    if not isinstance(ig, Tensor):
        ig = Tensor._wrap(np.asarray(ig))
    if ig.shape != inp.shape:
        ig = engine.unbroadcast(ig, inp._data.shape, op_name)
    if ig.dtype != inp.dtype:
        ig = ig.to(inp.dtype)
    return ig


def accumulate(t: Tensor, g: Tensor) -> None:
    """``t.grad += g`` out of place, so that both terms keep their graphs (as PyTorch does with
    ``create_graph=True``); a gradient without a graph is copied, as the first-order pass does."""
    if not g._requires_grad:
        g = Tensor._wrap(np.array(g._data))
    t._grad = g if t._grad is None else t._grad + g


def _run_hooks(t: Tensor, g: Tensor) -> Tensor:
    for hook in t._hooks:
        result = hook(g)
        if result is not None:
            new = result if isinstance(result, Tensor) else Tensor._wrap(np.asarray(result))
            if new.shape != g.shape:
                raise RuntimeError(
                    f"a hook returned a gradient of shape {new.shape}; expected {g.shape}"
                )
            g = new
    return g
