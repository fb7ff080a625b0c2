"""In-place writes and their safety: version counters, and history rebased onto a new node.

Every tensor has ``_version`` (PyTorch's name), 0 when made and raised by one on every in-place
write through chainrule (``x.add_(y)``, ``x[i] = v``, ``x -= y``…). A node records its inputs'
versions when it is recorded (``Function.apply``); a node's output starts at version 0. The
backward pass compares them (one comparison per input) and, only where a version moved, asks
whether the node kept the overwritten memory (:func:`check_input`, :func:`check_output`): if
it did, the gradient would be computed from the new values, and it raises PyTorch's error
instead.

An in-place op on a tensor that requires grad (not a leaf) is recorded as PyTorch does: the op
runs out of place on a stand-in for the tensor's old value (the *ghost*, which keeps the old
history), and the tensor is rebased onto the new node. Writes through the NumPy array
(``x.data[...] = v``) are not seen: as in PyTorch, ``.data`` is the way around the check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd import engine
from chainrule.autograd.function import UNMATCHABLE
from chainrule.autograd.grad_mode import state, write_clock

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


def check_leaf(t: Tensor) -> None:
    """Refuse an in-place write to a leaf that requires grad while recording, as PyTorch."""
    if t._requires_grad and t._ctx is None and state.grad_enabled:
        raise RuntimeError(
            f"{LEAF_ERROR} Its gradient would be wrong: write it under chainrule.no_grad() "
            "(e.g. a parameter update), or clone() it first."
        )


def update(
    t: Tensor, compute: Callable[[Tensor], Tensor], value: np.ndarray | None = None
) -> Tensor:
    """Write ``compute(t)`` into ``t`` in place (or the array ``value``, whose graph is
    ``compute``'s); record the op when recording; return ``t``.

    ``compute`` is built from recorded out-of-place ops: its node becomes ``t``'s ``grad_fn``.
    """
    check_leaf(t)
    if not state.grad_enabled:
        result = compute(t) if value is None else None
        store(t, result._data if result is not None else value)
        return t
    if _is_view(t):
        raise RuntimeError(
            f"an in-place op on a view ({t._ctx.name()} output shares memory with its input) "
            "while recording gradients is not supported by chainrule: the tensor it views "
            "would not see the change. Assign through the base tensor (x[i] = v) or clone() "
            "the view first."
        )
    previous = t._ctx
    ghost = Tensor._wrap(t._data)
    ghost._requires_grad, ghost._ctx, ghost._version = t._requires_grad, previous, t._version
    result = compute(ghost)
    # compute may hand back the ghost itself (e.g. clamp_() with no bounds): no new node then.
    node = None if result is ghost else result._ctx
    if node is not None:
        _keep_old_values(node, ghost, t._data)  # what the node saved must survive the write
    store(t, result._data if value is None else value)
    if ghost._data is t._data:
        ghost._version = t._version  # the ghost's values are gone (for the error's numbers)
    elif previous is not None and _kept(previous, t._data):
        # The ghost holds a copy, but the node that made it saved the array just written:
        # its backward must still fail (check_output).
        previous.__dict__["_output_written"] = t._version
    if node is not None:
        node.__dict__["_output_version"] = t._version
        t._ctx, t._requires_grad = node, True
    return t


def _is_view(t: Tensor) -> bool:
    """Whether ``t`` shares memory with an input of the op that made it (a recorded in-place
    op's own ghost input excepted: that is ``t``'s earlier self)."""
    fn = t._ctx
    if fn is None or fn.released or "_output_version" in fn.__dict__:
        return False
    return any(np.may_share_memory(t._data, x._data) for x in fn.inputs)


def store(t: Tensor, values: Any) -> None:
    """Write ``values`` into ``t``'s array (broadcasting, casting as PyTorch allows); bump the
    version."""
    data = t._data
    values = np.asarray(values)
    if values.shape != data.shape:
        try:
            shape = np.broadcast_shapes(values.shape, data.shape)
        except ValueError:
            shape = values.shape
        if shape != data.shape:
            raise RuntimeError(
                f"output with shape {list(data.shape)} doesn't match the broadcast shape "
                f"{list(shape)}"
            )
    if not np.can_cast(values.dtype, data.dtype, "same_kind"):
        raise RuntimeError(
            f"result type {values.dtype} can't be cast to the desired output type {data.dtype}"
        )
    np.copyto(data, values, casting="unsafe")
    bump(t)


def bump(t: Tensor) -> None:
    """Count a write to ``t``'s values; tell the node that made ``t`` (if any) its output
    changed, by making its version comparison fail (see :func:`check_node`)."""
    t._version += 1
    write_clock.count += 1
    fn = t._ctx
    if fn is not None and not fn.released and "_recorded_versions" not in fn.__dict__:
        fn.__dict__["_recorded_versions"] = fn.versions
        fn.versions = UNMATCHABLE


def _keep_old_values(node: Any, ghost: Tensor, array: np.ndarray) -> None:
    """Keep what ``node`` saved from being overwritten when ``array`` (the ghost's) is written.

    If the node saved any floating-point array, the ghost gets a copy of the old values as its
    own array, and the node's saved references to ``array`` itself point to that copy: a
    backward that records itself (``create_graph``) then finds the old values under the ghost,
    either by identity or by running ``forward`` on it again. Other saved arrays that share
    ``array``'s memory (views) are copied.
    """
    saved = node.__dict__
    if not any(_is_float_array(v) for v in saved.values()):
        return
    old = ghost._data = array.copy()
    for key, value in list(saved.items()):
        if value is array:
            saved[key] = old
        elif isinstance(value, np.ndarray) and np.may_share_memory(value, array):
            saved[key] = value.copy()


def _is_float_array(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return any(_is_float_array(v) for v in value)
    return isinstance(value, np.ndarray) and value.dtype.kind in "fc"


# ----- the backward pass's checks (rare path: only where a version moved) -----------------------


def check_node(fn: Any, t: Tensor) -> None:
    """The rare path of the backward pass's version comparison for node ``fn`` (output ``t``):
    raise if ``fn`` was released, or kept values that were overwritten since it was recorded."""
    if fn.released:
        raise RuntimeError(engine.released_message(fn.op_name))
    recorded = fn.__dict__.pop("_recorded_versions", None)
    if recorded is not None:  # t, fn's output, was written
        fn.versions = recorded
        check_output(fn, t)
    for inp, version in zip(fn.inputs, fn.versions):
        if inp._version != version:
            check_input(fn, inp, version)


def check_input(fn: Any, inp: Tensor, recorded: int) -> None:
    """Raise if ``fn`` kept memory of ``inp``, which was written after ``fn`` recorded it."""
    index = next(i for i, x in enumerate(fn.inputs) if x is inp)
    if _kept(fn, inp._data):
        raise RuntimeError(_message(inp, f"which is input {index} of {fn.name()}", recorded))
    rebased = inp._ctx is not None and inp._ctx.__dict__.get("_output_version", 0) > recorded
    if rebased and fn.needs_input_grad[index]:
        raise RuntimeError(
            _message(inp, f"which is input {index} of {fn.name()}", recorded)
            + " (chainrule cannot send a gradient to the value a tensor had before an in-place "
            "op that was recorded: clone() it before the in-place op)"
        )


def check_output(fn: Any, t: Tensor) -> None:
    """Raise if ``fn`` kept memory of its output ``t``, which was written after ``fn`` made it."""
    expected = fn.__dict__.get("_output_version", 0)
    written = fn.__dict__.get("_output_written")  # see update(): t is a ghost with a copy
    if written is not None or _kept(fn, t._data):
        version = t._version if written is None else written
        raise RuntimeError(_message(t, f"which is output 0 of {fn.name()}", expected, version))


def _kept(fn: Any, array: np.ndarray) -> bool:
    """Whether anything ``fn`` saved (arrays, tensors, tuples of them) shares ``array``'s memory."""
    for value in fn.__dict__.values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            data = item._data if isinstance(item, Tensor) else item
            if isinstance(data, np.ndarray) and np.may_share_memory(data, array):
                return True
    return False


def _message(t: Tensor, role: str, expected: int, version: int | None = None) -> str:
    version = t._version if version is None else version
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t._data.dtype} tensor of shape {list(t._data.shape)}], {role}, is at "
        f"version {version}; expected version {expected} instead. Hint: clone() the tensor "
        "before changing it in place, or change it after backward()."
    )
