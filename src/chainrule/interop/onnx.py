"""Export a trained ``Sequential`` model to an ONNX file, to run it without chainrule.

The file holds the model's inference (evaluation-mode) graph: dropout is the identity and batch
norm uses its running statistics. Weights are stored as initializers under their state-dict names
(``0.weight``) in the model's dtype, and the batch axis is dynamic, so any batch size runs::

    chainrule.interop.onnx.export(model, x[:1], "model.onnx")
    session = onnxruntime.InferenceSession("model.onnx")
    (probs,) = session.run(None, {"input": x})

Needs the ``onnx`` package (``pip install "chainrule[onnx]"``), imported only when exporting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from chainrule import nn
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.io import atomic

MIN_OPSET = 13  # Softmax over one axis, and Reshape's 0 = "copy this axis", start here
_INSTALL_HINT = 'chainrule.interop.onnx needs the onnx package: pip install "chainrule[onnx]"'


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return onnx


class _Graph:
    """The nodes and initializers of the graph being built, with fresh tensor names."""

    def __init__(self, onnx: Any, dtype: np.dtype, opset: int) -> None:
        self.onnx, self.dtype, self.opset = onnx, dtype, opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def weight(self, name: str, value: np.ndarray | float) -> str:
        """Store ``value`` (in the model's dtype) as an initializer called ``name``."""
        array = np.ascontiguousarray(np.asarray(value, dtype=self.dtype))
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def ints(self, name: str, values: list[int]) -> str:
        """Store ``values`` as an int64 initializer (shapes, axes) called ``name``."""
        self.initializers.append(
            self.onnx.numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)
        )
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs: Any) -> str:
        """Append an ``op`` node reading ``inputs``; returns its (fresh) output name."""
        self._count += 1
        out = f"{prefix}/{op}_{self._count}"  # node and output share the unique name
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


# A converter gets the graph, the layer, the name of its input, the layer's state-dict prefix and
# the example input's shape at that layer; it returns the name of the layer's output.
Converter = Callable[[_Graph, Any, str, str, tuple[int, ...]], str]


def _linear(g: _Graph, layer: nn.Linear, x: str, p: str, shape: tuple[int, ...]) -> str:
    w = g.weight(f"{p}.weight", layer.weight._data)
    b = None if layer.bias is None else g.weight(f"{p}.bias", layer.bias._data)
    if len(shape) == 2:  # Gemm reads PyTorch's (out, in) layout directly
        return g.node("Gemm", [x, w] + ([b] if b else []), p, transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [w], p)], p)
    return g.node("Add", [y, b], p) if b else y


def _batch_norm(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
    if layer.running_mean is None:
        raise ValueError(
            f"cannot export layer {p} ({type(layer).__name__}) with track_running_stats=False: "
            "it normalizes with each batch's own statistics even in evaluation mode"
        )
    c = layer.num_features
    scale = layer.weight._data if layer.weight is not None else np.ones(c)
    shift = layer.bias._data if layer.bias is not None else np.zeros(c)
    names = [
        g.weight(f"{p}.weight" if layer.weight is not None else f"{p}.ones", scale),
        g.weight(f"{p}.bias" if layer.bias is not None else f"{p}.zeros", shift),
        g.weight(f"{p}.running_mean", layer.running_mean._data),
        g.weight(f"{p}.running_var", layer.running_var._data),
    ]
    return g.node("BatchNormalization", [x, *names], p, epsilon=float(layer.eps))


def _flatten(g: _Graph, layer: nn.Flatten, x: str, p: str, shape: tuple[int, ...]) -> str:
    rank = len(shape)
    start, end = layer.start_dim % rank, layer.end_dim % rank
    # 0 copies an axis (the batch axis stays dynamic), -1 is the merged axis.
    target = [0] * start + [-1] + list(shape[end + 1 :])
    return g.node("Reshape", [x, g.ints(f"{p}.shape", target)], p)


def _gelu(g: _Graph, layer: nn.GELU, x: str, p: str, shape: tuple[int, ...]) -> str:
    if g.opset >= 20:
        return g.node("Gelu", [x], p, approximate=layer.approximate)
    half = g.weight(f"{p}.half", 0.5)
    one = g.weight(f"{p}.one", 1.0)
    if layer.approximate == "tanh":  # 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        cube = g.node("Mul", [g.node("Mul", [x, x], p), x], p)
        inner = g.node("Add", [x, g.node("Mul", [cube, g.weight(f"{p}.k", 0.044715)], p)], p)
        scaled = g.node("Mul", [inner, g.weight(f"{p}.c", math.sqrt(2 / math.pi))], p)
        phi = g.node("Add", [g.node("Tanh", [scaled], p), one], p)
    else:  # 0.5·x·(1 + erf(x/√2))
        erf = g.node("Erf", [g.node("Div", [x, g.weight(f"{p}.sqrt2", math.sqrt(2))], p)], p)
        phi = g.node("Add", [erf, one], p)
    return g.node("Mul", [g.node("Mul", [x, half], p), phi], p)


def _softplus(g: _Graph, layer: nn.Softplus, x: str, p: str, shape: tuple[int, ...]) -> str:
    # ONNX's Softplus has no β or threshold: compute log(1 + e^(βx))/β, and x where βx > threshold.
    beta = g.weight(f"{p}.beta", layer.beta)
    bx = g.node("Mul", [x, beta], p)
    soft = g.node("Div", [g.node("Softplus", [bx], p), beta], p)
    linear = g.node("Greater", [bx, g.weight(f"{p}.threshold", layer.threshold)], p)
    return g.node("Where", [linear, x, soft], p)


def _simple(op: str, **attrs: Callable[[Any], Any]) -> Converter:
    """A converter for a layer that is one ONNX op, its attributes read from the layer."""

    def convert(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
        return g.node(op, [x], p, **{key: read(layer) for key, read in attrs.items()})

    return convert


def _passthrough(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
    return x  # Identity, and Dropout in evaluation mode


CONVERTERS: dict[type, Converter] = {
    nn.Linear: _linear,
    nn.BatchNorm1d: _batch_norm,
    nn.Dropout: _passthrough,
    nn.Identity: _passthrough,
    nn.Flatten: _flatten,
    nn.Sigmoid: _simple("Sigmoid"),
    nn.Tanh: _simple("Tanh"),
    nn.ReLU: _simple("Relu"),
    nn.LeakyReLU: _simple("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    nn.ELU: _simple("Elu", alpha=lambda m: float(m.alpha)),
    nn.GELU: _gelu,
    nn.Softplus: _softplus,
    nn.Softmax: _simple("Softmax", axis=lambda m: int(m.dim)),
    nn.LogSoftmax: _simple("LogSoftmax", axis=lambda m: int(m.dim)),
}


def _pair(value: Any) -> list[int]:
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * 2


def _conv(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
    inputs = [x, g.weight(f"{p}.weight", layer.weight._data)]
    if layer.bias is not None:
        inputs.append(g.weight(f"{p}.bias", layer.bias._data))
    if layer.padding_mode != "zeros":
        raise ValueError(
            f"{p}: cannot export a {type(layer).__name__} with padding_mode="
            f"{layer.padding_mode!r}; ONNX's Conv pads with zeros only"
        )
    # pad_widths() is F.pad's (last axis first, before then after; 'same' resolved);
    # ONNX lists every axis's start, first axis first, then every axis's end.
    widths = layer.pad_widths()
    starts, ends = list(widths[-2::-2]), list(widths[::-2])
    return g.node(
        "Conv",
        inputs,
        p,
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        pads=starts + ends,
        dilations=list(layer.dilation),
        group=int(layer.groups),
    )


def _max_pool(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
    kernel, padding = _pair(layer.kernel_size), _pair(layer.padding)
    return g.node(
        "MaxPool",
        [x],
        p,
        kernel_shape=kernel,
        strides=_pair(layer.stride or layer.kernel_size),
        pads=padding + padding,
        dilations=_pair(layer.dilation),
    )


def _avg_pool(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
    kernel, padding = _pair(layer.kernel_size), _pair(layer.padding)
    return g.node(
        "AveragePool",
        [x],
        p,
        kernel_shape=kernel,
        strides=_pair(layer.stride or layer.kernel_size),
        pads=padding + padding,
        count_include_pad=1,  # zero padding counts in the mean, as in chainrule and PyTorch
    )


def _adaptive_avg_pool(g: _Graph, layer: Any, x: str, p: str, shape: tuple[int, ...]) -> str:
    out = _pair(layer.output_size)
    if out == [1, 1]:
        return g.node("GlobalAveragePool", [x], p)
    # chainrule requires output sizes that divide H and W: then it is a plain average pool.
    kernel = [shape[2] // out[0], shape[3] // out[1]]
    return g.node("AveragePool", [x], p, kernel_shape=kernel, strides=kernel)


CONVERTERS.update(
    {
        nn.Conv1d: _conv,
        nn.Conv2d: _conv,
        nn.BatchNorm2d: _batch_norm,
        nn.MaxPool2d: _max_pool,
        nn.AvgPool2d: _avg_pool,
        nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    }
)


def _layers(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """The stages of a (possibly nested) Sequential with their state-dict prefixes."""
    if not isinstance(model, nn.Sequential):
        return [(prefix or "0", model)]
    out = []
    for name, child in model.named_children():
        out += _layers(child, f"{prefix}.{name}" if prefix else name)
    return out


def _model_dtype(model: nn.Module, example: np.ndarray) -> np.dtype:
    dtypes = {t.dtype for _, t in model.named_parameters()}
    dtypes |= {b.dtype for _, b in model.named_buffers() if b.dtype.kind == "f"}
    if len(dtypes) > 1:
        raise ValueError(
            f"the model mixes dtypes {sorted(map(str, dtypes))}; convert it with .float() or "
            ".double() before exporting"
        )
    if dtypes:
        return dtypes.pop()
    return example.dtype if example.dtype.kind == "f" else np.dtype(np.float32)


def export(
    model: nn.Module,
    example_input: Any,
    path: str | os.PathLike[str],
    opset: int = 17,
    *,
    input_name: str = "input",
    output_name: str = "output",
) -> Path:
    """Write ``model``'s inference graph to the ONNX file ``path``.

    Parameters
    ----------
    model : Sequential
        Made of the layers in :data:`CONVERTERS` (nested Sequentials are flattened). Exported
        as in evaluation mode; the model's own mode is left as it was.
    example_input : array or Tensor of shape (N, ...)
        A batch the model accepts. Fixes the non-batch axes of the graph's input and is run
        through the model to check every layer; cast to the model's dtype. (A float64 graph
        is valid ONNX, but onnxruntime's CPU provider lacks float64 kernels for some ops,
        such as Conv and Erf.)
    path : str or PathLike
        Destination; written through a temporary file in the same folder and renamed, so it is
        never left half-written.
    opset : int
        ONNX opset, at least 13. From 20 on, GELU is ONNX's ``Gelu`` op; below, it is built
        from ``Erf`` (or ``Tanh`` for ``approximate='tanh'``).
    input_name, output_name : str
        Names of the graph's input, of shape ``(batch, ...)`` in the model's dtype, and output.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        For a layer with no ONNX conversion (the message names it and lists the supported
        ones), a model of mixed dtypes, or an opset outside [13, the installed onnx's newest].
    ImportError
        If the onnx package is missing.
    """
    onnx = _import_onnx()
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset must be an integer in [{MIN_OPSET}, {newest}]; got {opset!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"export takes a chainrule.nn.Module; got {type(model).__name__}")
    layers = _layers(model)
    for name, layer in layers:
        if type(layer) not in CONVERTERS:
            supported = ", ".join(sorted(c.__name__ for c in CONVERTERS))
            raise ValueError(
                f"cannot export layer {name} ({type(layer).__name__}): supported are {supported}"
            )
    x = np.asarray(example_input._data if isinstance(example_input, Tensor) else example_input)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"example_input must have shape (N, ...) with N > 0; got {x.shape}")
    dtype = _model_dtype(model, x)
    x = x.astype(dtype, copy=False)

    g = _Graph(onnx, dtype, opset)
    was_training = model.training
    model.eval()
    try:
        current, batch_kept, value = input_name, True, Tensor(x)
        with no_grad():
            for name, layer in layers:
                current = CONVERTERS[type(layer)](g, layer, current, name, value.shape)
                if isinstance(layer, nn.Flatten) and layer.start_dim % value.ndim == 0:
                    batch_kept = False  # the batch axis was merged away
                value = layer(value)
    finally:
        model.train(was_training)
    graph = _graph(onnx, g, current, x, value._data, batch_kept, input_name, output_name)
    proto = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="chainrule",
    )
    # The oldest IR version that can hold this opset, so older runtimes can load the file.
    proto.ir_version = onnx.helper.find_min_ir_version_for(list(proto.opset_import), True)
    onnx.checker.check_model(proto, full_check=True)
    path = Path(path)
    atomic.write_bytes(path, proto.SerializeToString())
    return path


def _graph(
    onnx: Any,
    g: _Graph,
    last: str,
    x: np.ndarray,
    y: np.ndarray,
    batch_kept: bool,
    input_name: str,
    output_name: str,
) -> Any:
    """Close the graph: give its last tensor ``output_name`` and declare input and output."""
    if last == input_name:  # nothing but pass-through layers
        g.nodes.append(onnx.helper.make_node("Identity", [last], [output_name]))
    else:
        for node in g.nodes:
            node.output[:] = [output_name if o == last else o for o in node.output]
            node.input[:] = [output_name if i == last else i for i in node.input]
    elem = onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    in_shape = ["batch", *x.shape[1:]]
    out_shape = ["batch", *y.shape[1:]] if batch_kept and y.ndim else [None] * y.ndim
    return onnx.helper.make_graph(
        g.nodes,
        "chainrule",
        [onnx.helper.make_tensor_value_info(input_name, elem, in_shape)],
        [onnx.helper.make_tensor_value_info(output_name, elem, out_shape)],
        initializer=g.initializers,
    )
