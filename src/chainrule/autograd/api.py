"""``chainrule.autograd.grad`` and ``chainrule.autograd.backward``: PyTorch's functional entry
points to the backward pass.

``grad(outputs, inputs)`` returns the gradients of ``outputs`` with respect to ``inputs`` and
leaves every ``.grad`` untouched; ``backward(tensors)`` is ``Tensor.backward`` for several
tensors at once. With ``create_graph=True`` the backward pass records itself
(:mod:`chainrule.autograd.higher_order`): the gradients are tensors with a graph, so they can be
differentiated again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd import engine, higher_order


def _as_tuple(tensors: Tensor | Sequence[Tensor], what: str) -> tuple[Tensor, ...]:
    items = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be tensors; got {type(t).__name__}")
    return items


def _seeds(outputs: tuple[Tensor, ...], grad_outputs: Any) -> dict[Tensor, np.ndarray]:
    """Each output's starting gradient: ``grad_outputs``, or 1 for a single-value output."""
    given = [None] * len(outputs) if grad_outputs is None else list(_listed(grad_outputs))
    if len(given) != len(outputs):
        raise RuntimeError(
            f"grad_outputs has {len(given)} tensors; expected {len(outputs)}, one per output"
        )
    seeds: dict[Tensor, np.ndarray] = {}
    for i, (out, g) in enumerate(zip(outputs, given)):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones(out.shape, out.dtype)
        else:
            g = np.array(g._data if isinstance(g, Tensor) else g, dtype=out.dtype)
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {out.shape}."
                )
        seeds[out] = g if out not in seeds else seeds[out] + g
    return seeds


def _tensor_seeds(outputs: tuple[Tensor, ...], grad_outputs: Any) -> dict[Tensor, Tensor]:
    """:func:`_seeds` for ``create_graph=True``: a given gradient tensor is used as it is, so
    that the result can be differentiated with respect to it too."""
    arrays = _seeds(outputs, grad_outputs)
    given = [None] * len(outputs) if grad_outputs is None else list(_listed(grad_outputs))
    seeds: dict[Tensor, Tensor] = {}
    for out, g in zip(outputs, given):
        if isinstance(g, Tensor) and g._requires_grad and len(outputs) == len(set(outputs)):
            seeds[out] = g if g.dtype == out.dtype else g.to(out.dtype)
        else:
            seeds[out] = Tensor._wrap(arrays[out])
    return seeds


def _listed(value: Any) -> Sequence[Any]:
    return (value,) if isinstance(value, Tensor) or value is None else value


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, one tensor per input.

    ``grad_outputs`` are the gradients of some scalar with respect to ``outputs`` (may be
    omitted for single-value outputs). No ``.grad`` is changed. An input the outputs do not
    depend on raises, unless ``allow_unused=True`` (its gradient is then None, or zeros with
    ``materialize_grads=True``). ``retain_graph`` keeps the graph for another pass (default:
    ``create_graph``). ``create_graph=True`` returns gradients that have a graph of their own.
    """
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True (vmap over grad_outputs) is not supported")
    outs = _as_tuple(outputs, "outputs")
    ins = _as_tuple(inputs, "inputs")
    for t in ins:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    if materialize_grads and not allow_unused:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True"
        )
    capture: dict[Tensor, Any] = dict.fromkeys(ins)
    order = engine.topological_order_of(list(outs))
    if create_graph:
        keep = create_graph if retain_graph is None else bool(retain_graph)
        higher_order.run(order, _tensor_seeds(outs, grad_outputs), keep, capture)
        return _results(ins, capture, allow_unused, materialize_grads, copy=False)
    engine.run_capture(order, _seeds(outs, grad_outputs), bool(retain_graph), capture)
    return _results(ins, capture, allow_unused, materialize_grads, copy=True)


def _results(
    ins: tuple[Tensor, ...], capture: dict, allow_unused: bool, materialize: bool, copy: bool
) -> tuple[Tensor | None, ...]:
    """One gradient per input from ``capture`` (arrays, or tensors when not ``copy``)."""
    result: list[Tensor | None] = []
    for t in ins:
        g = capture[t]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(Tensor._wrap(np.zeros_like(t._data)) if materialize else None)
        elif not copy:
            result.append(g)
        else:
            # A copy: the caller owns what grad() returns, and the engine may share arrays.
            result.append(Tensor._wrap(np.array(g, dtype=t.dtype)))
    return tuple(result)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate into ``.grad`` of the leaves (or of ``inputs`` only) the gradients of
    ``tensors``, seeded with ``grad_tensors`` (PyTorch's ``torch.autograd.backward``).
    ``create_graph=True`` makes the accumulated gradients differentiable (and retains the
    graph unless ``retain_graph=False``)."""
    outs = _as_tuple(tensors, "tensors")
    if create_graph:
        keep = True if retain_graph is None else bool(retain_graph)
        order = engine.topological_order_of(list(outs))
        seeds = _tensor_seeds(outs, grad_tensors)
        if inputs is None:
            higher_order.run(order, seeds, keep)
            return
        capture: dict[Tensor, Any] = dict.fromkeys(_as_tuple(inputs, "inputs"))
        higher_order.run(order, seeds, keep, capture)
        for t, g in capture.items():
            if g is not None:
                higher_order.accumulate(t, g)
        return
    seeds = _seeds(outs, grad_tensors)
    order = engine.topological_order_of(list(outs))
    if inputs is None:
        engine.run(order, seeds, bool(retain_graph), set())
        return
    targets = _as_tuple(inputs, "inputs")
    arrays: dict[Tensor, np.ndarray | None] = dict.fromkeys(targets)
    engine.run_capture(order, seeds, bool(retain_graph), arrays)
    for t in targets:
        g = arrays[t]
        if g is not None:
            if t._grad is None:
                t._grad = Tensor._wrap(np.array(g, dtype=t.dtype))
            else:
                np.add(t._grad._data, g, out=t._grad._data)
