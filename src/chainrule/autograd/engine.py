"""The backward pass: the chain rule applied to a recorded graph, in reverse topological order.

``backward(root)`` walks from ``root`` to every tensor it depends on, orders them so that each
tensor comes after every tensor computed from it, and then, for each tensor in that order, hands
its gradient to the op that produced it. The op returns one gradient per input; the engine sums
them into the inputs' gradients (a tensor used twice gets the sum of both paths) and finally
stores the gradients of leaves in ``.grad``.

Second backward through the same graph: as in PyTorch, the first ``backward()`` frees what the ops
saved, and a second one through a freed node raises ``RuntimeError``. Pass
``retain_graph=True`` to the first call to keep the graph for another pass.
"""

from __future__ import annotations

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd import inplace
from chainrule.autograd.function import Function, check_finite
from chainrule.autograd.grad_mode import state, write_clock


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...], op_name: str = "op") -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get back ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward pass, every copy
    of an element contributed to the output, so its gradient is the sum over the copies:
    leading axes are summed away and stretched size-1 axes are summed with ``keepdims``.
    Raises ``RuntimeError`` naming the op if ``grad`` cannot have come from ``shape``.
    """
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(_shape_error(op_name, grad.shape, shape))
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(_shape_error(op_name, grad.shape, shape))
    return grad


def _shape_error(op_name: str, got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    return (
        f"{op_name}.backward returned a gradient of shape {got} for an input of shape "
        f"{expected}; a gradient must have its input's shape or a shape it broadcasts to"
    )


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on that requires grad, each before the tensors it came from.

    An iterative depth-first search (each tensor is listed once all its inputs are), so a chain
    of any length needs no recursion. Tensors hash by identity.
    """
    if root._ctx is None:
        return [root]
    return _order([root])


def topological_order_of(roots: list[Tensor]) -> list[Tensor]:
    """:func:`topological_order` for several roots at once (``autograd.grad`` of a list)."""
    leaves = [r for r in roots if r._ctx is None]
    order = _order([r for r in roots if r._ctx is not None])
    listed = set(order)
    return order + [r for r in leaves if r not in listed]


def _order(roots: list[Tensor]) -> list[Tensor]:
    order: list[Tensor] = []
    seen = set(roots)
    stack = []
    for root in reversed(roots):  # a loop, not a list comprehension: no frame for one root
        stack.append((root, iter(root._ctx.inputs)))
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._requires_grad and parent not in seen:
                seen.add(parent)
                fn = parent._ctx
                if fn is None:
                    order.append(parent)
                else:
                    stack.append((parent, iter(fn.inputs)))
                    break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def backward(
    root: Tensor, grad: np.ndarray, retain_graph: bool = False, borrowed: bool = False
) -> None:
    """Backpropagate ``grad`` (the gradient with respect to ``root``) through the graph.

    ``borrowed=True`` says that ``grad`` belongs to the caller: it is copied if it would
    otherwise become some tensor's ``.grad`` (which later backward passes add to in place).
    """
    # ids of arrays that a .grad already holds, or that the caller owns: storing one of them
    # again must copy it, since a .grad must never share memory with anything else.
    handed_out: set[int] = {id(grad)} if borrowed else set()
    order = _order([root]) if root._ctx is not None else [root]  # topological_order(root)
    run(order, {root: grad}, retain_graph, handed_out)


def run(
    order: list[Tensor], grads: dict[Tensor, np.ndarray], retain_graph: bool, handed_out: set[int]
) -> None:
    """The chain rule over ``order`` (see :func:`topological_order`), seeded with ``grads``:
    leaves (and retain_grad tensors) accumulate ``.grad``.

    The node step is :func:`through_node` written out in the loop: this loop is the per-op cost
    of every training step, and a call per node costs more than a call per leaf.
    """
    anomaly, clock = state.anomaly, write_clock
    for t in order:
        g = grads.pop(t, None)
        if g is None:
            continue
        if t._hooks:
            g = _run_hooks(t, g, handed_out)
        fn: Function | None = t._ctx
        if fn is None:
            # store_grad(t, g, handed_out), written out: one call per parameter is measurable
            # on small networks.
            held = t._grad
            if held is None:
                g = g.copy() if g.base is not None or id(g) in handed_out else g
                handed_out.add(id(g))
                t._grad = Tensor._wrap(g)
            else:
                np.add(held._data, g, out=held._data)
            continue
        if t._retains_grad:
            store_grad(t, g, handed_out)
        # One comparison per node: no tensor was written since fn was recorded (and fn was
        # not released) while the write clock still reads fn's stamp. Otherwise the rare path
        # compares fn's input versions and sorts out what happened.
        if fn.stamp != clock.count:
            inplace.check_node(fn, t)
        input_grads = fn.backward(g)
        if not retain_graph:
            fn.release()
        for inp, ig, needed in zip(fn.inputs, input_grads, fn.needs_input_grad):
            if not needed or ig is None:
                continue
            data = inp._data
            if anomaly or ig.shape != data.shape or ig.dtype is not data.dtype:
                ig = _conform(ig, data, fn.op_name, anomaly)
            previous = grads.get(inp)
            grads[inp] = ig if previous is None else previous + ig


def store_grad(t: Tensor, g: np.ndarray, handed_out: set[int]) -> None:
    """Add ``g`` to ``t.grad`` (or make it ``t.grad``)."""
    held = t._grad
    if held is None:
        # A .grad must never share memory with another array (another .grad, the caller's
        # seed, a view of saved values): optimizers and clipping scale it in place.
        g = g.copy() if g.base is not None or id(g) in handed_out else g
        handed_out.add(id(g))
        t._grad = Tensor._wrap(g)
    else:  # accumulate in place, as PyTorch does: references to .grad stay valid
        np.add(held._data, g, out=held._data)


def run_capture(
    order: list[Tensor],
    grads: dict[Tensor, np.ndarray],
    retain_graph: bool,
    capture: dict[Tensor, np.ndarray | None],
) -> None:
    """:func:`run` for ``autograd.grad``: the gradients of the tensors ``capture`` lists are
    stored in it, and no ``.grad`` is touched."""
    anomaly = state.anomaly
    handed_out: set[int] = set()
    for t in order:
        g = grads.pop(t, None)
        if g is None:
            continue
        if t._hooks:
            g = _run_hooks(t, g, handed_out)
        if t in capture:
            capture[t] = g
        if t._ctx is not None:
            through_node(t._ctx, t, g, grads, retain_graph, anomaly)


def through_node(
    fn: Function,
    t: Tensor,
    g: np.ndarray,
    grads: dict[Tensor, np.ndarray],
    retain_graph: bool,
    anomaly: bool,
) -> None:
    """Hand ``g`` (the gradient of ``t``) to ``t``'s node ``fn`` and add what it returns for its
    inputs into ``grads``."""
    if fn.stamp != write_clock.count:  # as in run()
        inplace.check_node(fn, t)
    input_grads = fn.backward(g)
    if not retain_graph:
        fn.release()
    for inp, ig, needed in zip(fn.inputs, input_grads, fn.needs_input_grad):
        if not needed or ig is None:
            continue
        data = inp._data
        # One test on the common path (the dtype identity check skips the slower compare);
        # the rare work (unbroadcast, cast, anomaly check) is in _conform.
        if (
            anomaly
            or ig.shape != data.shape
            or (ig.dtype is not data.dtype and ig.dtype != data.dtype)
        ):
            ig = _conform(ig, data, fn.op_name, anomaly)
        previous = grads.get(inp)
        grads[inp] = ig if previous is None else previous + ig


def _conform(ig: np.ndarray, data: np.ndarray, op_name: str, anomaly: bool) -> np.ndarray:
    """An input's gradient brought to the input's shape (summing broadcast axes) and dtype;
    checked for NaN and inf under ``detect_anomaly()``."""
    if ig.shape != data.shape:
        ig = unbroadcast(ig, data.shape, op_name)
    ig = ig.astype(data.dtype, copy=False)
    if anomaly:
        check_finite(op_name, "backward gradient", ig)
    return ig


def released_message(op_name: str) -> str:
    return (
        f"backward through {op_name} a second time: its saved values were freed by "
        "the first backward(). Call backward(retain_graph=True) the first time if you "
        "need to backpropagate through the same graph again."
    )


def _run_hooks(t: Tensor, g: np.ndarray, handed_out: set[int]) -> np.ndarray:
    """Run the tensor hooks of ``t`` on its gradient ``g``; return the gradient to use."""
    for hook in t._hooks:
        result = hook(Tensor._wrap(g))
        if result is not None:
            new = result._data if isinstance(result, Tensor) else np.asarray(result)
            if new.shape != g.shape:
                raise RuntimeError(
                    f"a hook returned a gradient of shape {new.shape}; expected {g.shape}"
                )
            g = new.astype(g.dtype, copy=False)
    # A hook may keep the gradient it saw, or return an array it keeps: either way the array is
    # borrowed now, and a .grad must not alias it.
    handed_out.add(id(g))
    return g
