"""``summary(model, input_shape)``: a model's layers, output shapes and parameter counts.

The table Keras's ``model.summary()`` and torchinfo print: one row per submodule (indented by
depth, named as in ``state_dict()``), the shape each one outputs for a given input, the number of
parameters it holds, and the totals::

    >>> print(summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), (4,)))
    Sequential: input (1, 4) float32 -> output (1, 3)
    =======================================
    Layer (type)    Output shape    Param #
    =======================================
    0 (Linear)      (1, 8)               40
    1 (ReLU)        (1, 8)                0
    2 (Linear)      (1, 3)               27
    =======================================
    Total params: 67
    Trainable params: 67
    Non-trainable params: 0

Shapes come from one forward pass on zeros, watched by forward hooks, run in eval mode under
``no_grad`` and undone afterwards: batch norm's running statistics do not move, dropout draws no
random numbers, no gradient is touched, and every module's own training flag is restored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.dtypes import get_default_dtype

if TYPE_CHECKING:
    from chainrule.nn.module import Module

#: A layer's output: a Tensor's shape, a list of them for a tuple/list output, or None.
Shape = tuple[int, ...] | list[Any] | None


@dataclass(frozen=True)
class LayerSummary:
    """One row of a :class:`ModelSummary`.

    Attributes
    ----------
    name : str
        Dotted name in the model, as in ``state_dict()`` (``'2.0'``); ``''`` for the model.
    type : str
        The module's class name.
    depth : int
        1 for the model's children, 2 for theirs, ...
    params : int
        Parameter values the module holds itself (its children's are in their own rows); a
        parameter shared by several modules is counted once, in the first.
    has_children : bool
        Whether the module contains submodules (a container's row shows ``--`` for 0 params).
    output_shape : tuple of int, list or None
        The shape of the module's output in the forward pass (of its last call, if it ran more
        than once); a list of shapes for a tuple output; None without an input shape or when the
        module did not run.
    calls : int
        How many times the module ran in the forward pass.
    """

    name: str
    type: str
    depth: int
    params: int
    has_children: bool
    output_shape: Shape = None
    calls: int = 0


@dataclass(frozen=True)
class ModelSummary:
    """What :func:`summary` returns; ``str()`` (and ``repr()``, so a notebook shows it) is the
    table. The numbers are attributes for programs: ``summary(model).trainable_params``.

    ``input_shape`` is the full shape of the zeros the forward pass ran on, batch dimension
    included, and ``output_shape`` the model's output shape; both None without an input shape.
    ``buffers`` counts the values of buffers (batch norm's running statistics): saved with the
    model but not learned, so not parameters (Keras counts them as non-trainable parameters).
    """

    model_type: str
    layers: tuple[LayerSummary, ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int = 0
    input_shape: tuple[int, ...] | None = None
    input_dtype: str | None = None
    output_shape: Shape = None

    def __str__(self) -> str:
        return _table(self)

    __repr__ = __str__


def summary(
    model: Module, input_shape: int | Sequence[int] | None = None, *, batch_size: int = 1
) -> ModelSummary:
    """The layers of ``model``, the shape each outputs, and its parameter counts.

    Parameters
    ----------
    model : Module
        Any model that takes one tensor.
    input_shape : int or sequence of int, optional
        The shape of ONE sample, without the batch dimension, as Keras takes it: ``(4,)`` (or
        ``4``) for 4 features, ``(1, 28, 28)`` for a one-channel image. The model then runs once
        on zeros of shape ``(batch_size, *input_shape)``, in the dtype of its parameters.
        Without it no forward pass runs and shapes are left out.
    batch_size : int
        The batch dimension of that input (1 by default); the shapes in the table include it.

    Returns
    -------
    ModelSummary
        ``print()`` it for the table; its attributes hold the numbers.

    Raises
    ------
    RuntimeError
        When the forward pass on zeros of that shape fails (with the original error chained):
        usually an input shape that includes the batch dimension or has the wrong features.
    """
    counts = _own_parameter_counts(model)
    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    outputs: dict[str, list[Any]] = {}
    shape = dtype = root_output = None
    if input_shape is not None:
        shape = _batch_shape(input_shape, batch_size)
        dtype = _input_dtype(model)
        outputs, root_output = _trace(model, np.zeros(shape, dtype=dtype))
    rows = [
        LayerSummary(
            name=name,
            type=type(module).__name__,
            depth=name.count(".") + 1 if name else 0,
            params=counts.get(name, 0),
            has_children=next(module.children(), None) is not None,
            output_shape=_shape_of(outputs[name][-1]) if name in outputs else None,
            calls=len(outputs.get(name, ())),
        )
        for name, module in _rows(model)
    ]
    return ModelSummary(
        model_type=type(model).__name__,
        layers=tuple(rows),
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        buffers=sum(b.numel() for b in model.buffers()),
        input_shape=shape,
        input_dtype=None if dtype is None else str(dtype),
        output_shape=None if shape is None else _shape_of(root_output),
    )


def _rows(model: Module) -> list[tuple[str, Module]]:
    """Every submodule with its name; the model itself only when it has none."""
    named = list(model.named_modules())
    return named[1:] or named


def _own_parameter_counts(model: Module) -> dict[str, int]:
    # named_parameters() skips repeats, so a shared parameter lands in its first owner's row
    # and the rows add up to the total.
    counts: dict[str, int] = {}
    for name, p in model.named_parameters():
        owner = name.rpartition(".")[0]
        counts[owner] = counts.get(owner, 0) + p.numel()
    return counts


def _batch_shape(input_shape: int | Sequence[int], batch_size: int) -> tuple[int, ...]:
    dims = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
    if not all(isinstance(d, (int, np.integer)) and d > 0 for d in dims):
        raise ValueError(
            f"input_shape must be positive integers (one sample, without the batch dimension); "
            f"got {input_shape!r}"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    return (int(batch_size), *(int(d) for d in dims))


def _input_dtype(model: Module) -> np.dtype:
    """The dtype the model computes in: its first floating parameter's or buffer's."""
    for t in (*model.parameters(), *model.buffers()):
        if t._data.dtype.kind == "f":
            return t._data.dtype
    return get_default_dtype()


def _trace(model: Module, zeros: np.ndarray) -> tuple[dict[str, list[Any]], Any]:
    """Run ``model`` on ``zeros`` and return every module's outputs by name, and the model's.

    Eval mode and no_grad keep the model as it was; each module's training flag is put back
    one by one, since a model may mix modes (a frozen batch norm kept in eval mode).
    """
    outputs: dict[str, list[Any]] = {}
    modes = [(module, module.training) for module in model.modules()]
    handles = [
        module.register_forward_hook(
            lambda _m, _args, out, name=name: outputs.setdefault(name, []).append(out)
        )
        for name, module in model.named_modules()
    ]
    model.eval()
    try:
        with no_grad():
            result = model(Tensor(zeros))
    except Exception as err:
        raise RuntimeError(
            f"summary: the forward pass on zeros of shape {zeros.shape} failed "
            f"({type(err).__name__}: {err}); input_shape is the shape of one sample, without "
            "the batch dimension"
        ) from err
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            module.training = mode
    return outputs, result


def _shape_of(value: Any) -> Shape:
    if isinstance(value, (Tensor, np.ndarray)):
        return tuple(int(d) for d in value.shape)
    if isinstance(value, (tuple, list)):
        return [_shape_of(v) for v in value]
    return None


def _format_shape(shape: Shape) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(shape)


def _cells(s: ModelSummary) -> list[list[str]]:
    """The table's rows as text: layer (type), [output shape], param #."""
    shapes = s.input_shape is not None
    rows = []
    for layer in s.layers:
        label = "  " * max(layer.depth - 1, 0) + (
            f"{layer.name} ({layer.type})" if layer.name else layer.type
        )
        count = "--" if layer.has_children and not layer.params else f"{layer.params:,}"
        shape = _format_shape(layer.output_shape)
        if layer.calls > 1:
            shape += f" x{layer.calls}"
        rows.append([label, shape, count] if shapes else [label, count])
    return rows


def _table(s: ModelSummary) -> str:
    header = ["Layer (type)", "Output shape", "Param #"]
    if s.input_shape is None:
        header.pop(1)
        title = s.model_type
    else:
        title = (
            f"{s.model_type}: input {s.input_shape} {s.input_dtype} -> output "
            f"{_format_shape(s.output_shape)}"
        )
    rows = _cells(s)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "=" * (sum(widths) + 4 * (len(widths) - 1))

    def join(cells: Iterable[str]) -> str:
        # Names and shapes read left to right; counts line up on their last digit.
        *text, count = cells
        parts = [c.ljust(w) for c, w in zip(text, widths)] + [count.rjust(widths[-1])]
        return "    ".join(parts).rstrip()

    lines = [title, line, join(header), line, *(join(r) for r in rows), line]
    lines += [
        f"Total params: {s.total_params:,}",
        f"Trainable params: {s.trainable_params:,}",
        f"Non-trainable params: {s.non_trainable_params:,}",
    ]
    if s.buffers:
        lines.append(f"Buffer values (saved, not learned): {s.buffers:,}")
    return "\n".join(lines)
