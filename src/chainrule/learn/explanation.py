"""``chainrule explain``: one training step of an MLP, printed in the article's notation.

:func:`explain` runs the step three ways in float64 — the article's δ-rule
(:mod:`chainrule.learn.classic`), the autograd engine, and central differences — and returns an
:class:`Explanation` holding every number, whose ``str()`` is the printed walk-through: forward
values z⁽ˡ⁾ and a⁽ˡ⁾, the loss, δ⁽ˡ⁾, ∇W⁽ˡ⁾ and ∇b⁽ˡ⁾, the update, and the three-way check.
``graph=True`` adds the autograd view (:func:`explain_graph`): the recorded graph walked in
reverse topological order, each node's derivative rule, incoming gradient and what it passes on.

The command line (``chainrule explain``) is :mod:`chainrule.cli.explain`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from chainrule import data, nn, optim
from chainrule._tensor import tensor
from chainrule.autograd.engine import topological_order, unbroadcast
from chainrule.learn.classic import ACTIVATION_RULES, LOSS_RULES, ClassicMLP
from chainrule.random import manual_seed, resolve_generator

LOSS_MODULES = {
    "mse": nn.MSELoss,
    "l1": nn.L1Loss,
    "bce": nn.BCELoss,
    "cross_entropy": nn.CrossEntropyLoss,
}
_SYMBOL = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu", "identity": "id"}
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
#: Arrays with at most this many values are printed in full; larger ones as a summary.
FULL_PRINT = 24


def sup(n: int) -> str:
    """The article's layer index: sup(2) == '⁽²⁾'."""
    return f"⁽{str(n).translate(_SUP)}⁾"


def describe(array: np.ndarray, indent: int = 0) -> str:
    """Small arrays in full (4 decimals), large ones as shape, mean and norm; continuation lines
    of a matrix get ``indent`` more spaces so that its rows line up under the first."""
    array = np.asarray(array)
    if array.size > FULL_PRINT:
        return (
            f"shape {array.shape}, mean {array.mean():+.4g}, "
            f"norm {np.linalg.norm(array.ravel()):.4g}"
        )
    text = np.array2string(array, precision=4, suppress_small=True, floatmode="fixed")
    return text.replace("\n", "\n" + " " * indent)


def show(label: str, array: np.ndarray, margin: str = "  ", sep: str = " = ") -> str:
    """``margin + label + sep`` followed by the array, its rows aligned."""
    head = f"{margin}{label}{sep}"
    return head + describe(array, len(head))


@dataclass
class LayerStep:
    """Layer ``l`` (1-based, as in the article) during one step.

    ``W`` (n_l, n_{l−1}) and ``b`` (n_l,) are the weights before the step, ``new_W`` and
    ``new_b`` after it; ``z``, ``a`` and ``delta`` have shape (m, n_l); the gradients have the
    shapes of W and b: the δ-rule's, autograd's and the central differences'.
    """

    l: int  # noqa: E741 - the article's name for the layer index
    activation: str
    W: np.ndarray
    b: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    new_W: np.ndarray
    new_b: np.ndarray
    autograd_W: np.ndarray
    autograd_b: np.ndarray
    numeric_W: np.ndarray | None = None
    numeric_b: np.ndarray | None = None
    #: False for Linear(bias=False): b is a constant 0 and is not printed.
    has_bias: bool = True


@dataclass
class GraphNode:
    """One op node of the autograd graph as the backward pass meets it.

    ``incoming`` is ∂L/∂(the node's output); ``passes`` lists, per input, its name and the
    gradient handed to it (None when that input needs no gradient).
    """

    name: str
    op: str
    rule: str
    incoming: np.ndarray
    passes: list[tuple[str, np.ndarray | None]]


@dataclass
class Explanation:
    """Every number of one explained training step (float64). ``str()`` prints it."""

    data: str
    loss_name: str
    lr: float
    step: int
    x: np.ndarray
    y: np.ndarray
    loss: float
    layers: list[LayerStep]
    #: largest |difference| between the gradient sets, e.g. ``max_diff['classic vs autograd']``.
    max_diff: dict[str, float]
    graph: list[GraphNode] | None = field(default=None)
    tolerance: float = 1e-6

    @property
    def agree(self) -> bool:
        """True when every pair of gradient sets agrees to ``tolerance``."""
        return all(v <= self.tolerance for v in self.max_diff.values())

    def __str__(self) -> str:
        return format_explanation(self)


# ----- building the problem ---------------------------------------------------------------------
def _batches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    if n <= batch_size:
        return [np.arange(n)]
    order = resolve_generator(seed).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def _autograd_gradients(model: nn.Module, loss: str, x: np.ndarray, y: np.ndarray) -> list:
    """[∇W⁽¹⁾, ∇b⁽¹⁾, ∇W⁽²⁾, …] by autograd; 0 for the bias of a Linear(bias=False)."""
    model.zero_grad()
    LOSS_MODULES[loss]()(model(tensor(x)), y).backward()
    grads = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            grads.append(layer.weight.grad._data.copy())
            bias = layer.bias
            grads.append(np.zeros(layer.out_features) if bias is None else bias.grad._data.copy())
    return grads


def article_problem(seed: int = 0) -> tuple[nn.Sequential, np.ndarray, np.ndarray]:
    """The article's network and data: a 2-4-1 sigmoid MLP (float64) on the four XOR points,
    targets of shape (4, 1); the initial weights follow ``manual_seed(seed)``."""
    x, y = data.xor()
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid()).double()
    return model, x.astype(np.float64), y.astype(np.float64).reshape(-1, 1)


def explain(
    model: nn.Sequential | None = None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    loss: str | None = None,
    lr: float | None = None,
    name: str | None = None,
    seed: int = 0,
    step: int = 1,
    batch_size: int = 64,
    numeric: bool = True,
    graph: bool = False,
) -> Explanation:
    """Explain training step ``step`` of plain gradient descent on an MLP.

    Either pass ``model`` (an ``nn.Sequential`` of Linear + Sigmoid/Tanh/ReLU layers; a float64
    copy is used, the model is not changed), ``x`` of shape (n, n_0) and ``y`` shaped for
    ``loss`` (default mse); or pass nothing for the article's 2-4-1 sigmoid network on XOR with
    log loss and η = 3 (:func:`article_problem`). ``chainrule explain --data NAME`` builds the
    network for a built-in dataset as ``chainrule train`` does. Steps 1 … step − 1 run on the
    autograd engine with ``optim.SGD``, over batches of ``batch_size`` samples in a seeded
    order; step ``step`` is then computed by the δ-rule, by autograd and (``numeric=True``) by
    central differences. ``name`` labels the data in the printed header.
    """
    if step < 1:
        raise ValueError(f"step must be ≥ 1; got {step}")
    if model is None:
        model, x, y = article_problem(seed)
        loss, name, lr = loss or "bce", name or "xor", 3.0 if lr is None else lr
    elif x is None or y is None:
        raise ValueError("explain(model, x, y): pass the data with the model")
    else:
        model = copy.deepcopy(model).double()
        loss = loss or "mse"
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y) if loss == "cross_entropy" else np.asarray(y, dtype=np.float64)
    lr = 0.1 if lr is None else lr
    xb, yb = _train_until(model, loss, x, y, lr, step, batch_size, seed)
    return _explain_step(model, loss, xb, yb, lr, step, name or "custom", numeric, graph)


def _train_until(model, loss, x, y, lr, step, batch_size, seed):
    """Run steps 1 … step − 1 with SGD on autograd; return the batch of step ``step``."""
    batches = _batches(len(x), batch_size, seed)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    for s in range(step - 1):
        idx = batches[s % len(batches)]
        optimizer.zero_grad()
        LOSS_MODULES[loss]()(model(tensor(x[idx])), y[idx]).backward()
        optimizer.step()
    idx = batches[(step - 1) % len(batches)]
    return x[idx], y[idx]


def _explain_step(model, loss, xb, yb, lr, step, name, numeric, graph) -> Explanation:
    """One step three ways (δ-rule, autograd, central differences), with every number kept."""
    net = ClassicMLP.from_sequential(model, loss)
    result = net.backprop(xb, yb)
    auto = _autograd_gradients(model, loss, xb, yb)
    classic = [g for pair in zip(result.grad_W, result.grad_b) for g in pair]
    num = net.numeric_gradients(xb, yb) if numeric else None
    before = [(layer.W.copy(), layer.b.copy()) for layer in net.layers]
    net.step(result, lr)

    layers = []
    for i, layer in enumerate(net.layers):
        layers.append(
            LayerStep(
                i + 1,
                layer.activation,
                *before[i],
                result.z[i],
                result.a[i + 1],
                result.delta[i],
                result.grad_W[i],
                result.grad_b[i],
                layer.W,
                layer.b,
                auto[2 * i],
                auto[2 * i + 1],
                None if num is None else num[2 * i],
                None if num is None else num[2 * i + 1],
                layer.has_bias,
            )
        )

    def diff(p: list, q: list) -> float:
        return max(float(np.max(np.abs(u - v), initial=0.0)) for u, v in zip(p, q))

    max_diff = {"classic δ-rule vs autograd": diff(classic, auto)}
    if num is not None:
        max_diff["classic δ-rule vs numeric"] = diff(classic, num)
        max_diff["autograd vs numeric"] = diff(auto, num)
    nodes = explain_graph(model, xb, yb, loss) if graph else None
    return Explanation(name, loss, lr, step, xb, yb, result.loss, layers, max_diff, nodes)


# ----- the autograd view ------------------------------------------------------------------------
def explain_graph(model: nn.Sequential, x: np.ndarray, y: np.ndarray, loss: str) -> list[GraphNode]:
    """Run the model on (x, y) with named tensors, backpropagate, and list each op node in the
    order the engine visits it, with what it received and what it passed to each input.

    The caller's model is left as it was: a copy gets the names and the gradients."""
    # A copy: naming the parameters, zeroing and filling their .grad are this function's
    # business, not the caller's model's.
    model = copy.deepcopy(model)
    layer = 0
    out = tensor(x, name="x")
    for module in model:
        if isinstance(module, nn.Linear):
            layer += 1
            module.weight.name = f"W{sup(layer)}"
            if module.bias is not None:  # Linear(bias=False) has no b
                module.bias.name = f"b{sup(layer)}"
            out = module(out)
            out.name = f"z{sup(layer)}"
        else:
            out = module(out)
            out.name = f"a{sup(layer)}"
    total = LOSS_MODULES[loss]()(out, y)
    total.name = "L"
    order = topological_order(total)
    for t in order:
        if t.grad_fn is not None:
            t.retain_grad()
    model.zero_grad()
    total.backward(retain_graph=True)
    nodes = []
    for t in order:
        fn = t.grad_fn
        if fn is None:
            continue
        incoming = t.grad._data
        grads = fn.backward(incoming)  # the graph was retained: the node can run again
        passes = []
        for inp, g, needed in zip(fn.inputs, grads, fn.needs_input_grad):
            name = inp.name or ("y" if inp.grad_fn is None and not needed else "tensor")
            if not needed or g is None:
                passes.append((name, None))
            else:
                passes.append((name, unbroadcast(g, inp._data.shape, fn.op_name)))
        nodes.append(GraphNode(t.name or "?", fn.op_name, fn.derivative(), incoming, passes))
    return nodes


# ----- printing ---------------------------------------------------------------------------------
def format_explanation(e: Explanation) -> str:
    """The walk-through printed by ``chainrule explain``."""
    widths = [e.layers[0].W.shape[1]] + [s.W.shape[0] for s in e.layers]
    hidden = e.layers[0].activation if len(e.layers) > 1 else "no"
    lines = [
        f"chainrule explain: {e.data}, step {e.step} of gradient descent on {len(e.x)} samples; "
        f"network {'-'.join(map(str, widths))}, {hidden} hidden units, "
        f"{e.layers[-1].activation} output, loss {e.loss_name}, η = {e.lr:g}",
        "",
        "Forward pass   z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾,  a⁽ˡ⁾ = f(z⁽ˡ⁾)",
        show("a⁽⁰⁾ = x", e.x),
    ]
    for s in e.layers:
        f = _SYMBOL[s.activation]
        lines += [show(f"W{sup(s.l)}", s.W)]
        lines += [show(f"b{sup(s.l)}", s.b)] if s.has_bias else []
        lines += [
            show(f"z{sup(s.l)}", s.z),
            show(f"a{sup(s.l)} = {f}(z{sup(s.l)})", s.a),
        ]
    L = len(e.layers)
    lines += [
        "",
        f"Loss   {LOSS_RULES[e.loss_name].split('⇒')[0].strip()}",
        show("y", e.y),
        f"  L = mean over the {len(e.x)} samples of ℓ = {e.loss:.6f}",
        "",
        "Backward pass   δ⁽ˡ⁾ = ∂ℓ/∂z⁽ˡ⁾",
        f"  {LOSS_RULES[e.loss_name].split('⇒')[1].strip().replace('⁽ᴸ⁾', sup(L))},  "
        f"k = {e.layers[-1].z.shape[1]} output(s)",
        show(f"δ{sup(L)}", e.layers[-1].delta),
    ]
    for s in reversed(e.layers[:-1]):
        lines += [
            f"  δ{sup(s.l)} = (δ{sup(s.l + 1)} W{sup(s.l + 1)}) ⊙ f′(z{sup(s.l)}),  "
            f"{ACTIVATION_RULES[s.activation]}",
            show(f"δ{sup(s.l)}", s.delta),
        ]
    lines += ["", f"Gradients   ∇W⁽ˡ⁾ = δ⁽ˡ⁾ᵀa⁽ˡ⁻¹⁾/m,  ∇b⁽ˡ⁾ = mean δ⁽ˡ⁾  (m = {len(e.x)})"]
    for s in e.layers:
        lines += [show(f"∇W{sup(s.l)}", s.grad_W)]
        lines += [show(f"∇b{sup(s.l)}", s.grad_b)] if s.has_bias else []
    lines += ["", f"Update   w ← w − η·∇w  (η = {e.lr:g})"]
    for s in e.layers:
        lines += [show(f"W{sup(s.l)}", s.new_W, sep=" ← ")]
        lines += [show(f"b{sup(s.l)}", s.new_b, sep=" ← ")] if s.has_bias else []
    lines += ["", "Check (float64; numeric = central differences, ε = 1e-6)"]
    for pair, value in e.max_diff.items():
        lines.append(f"  {pair + ':':30} largest |difference| = {value:.2e}")
    verdict = "agree" if e.agree else "DISAGREE"
    lines.append(f"  the gradients {verdict} (tolerance {e.tolerance:g})")
    if e.graph is not None:
        lines += ["", format_graph(e.graph)]
    return "\n".join(lines)


def format_graph(nodes: list[GraphNode]) -> str:
    """The autograd view: each op node in reverse topological order."""
    lines = [
        "Autograd graph, walked backwards (reverse topological order);",
        "autograd differentiates the mean L itself, so its ∂L/∂z⁽ˡ⁾ is the δ⁽ˡ⁾ above divided by m",
    ]
    for node in nodes:
        lines += [
            f"  {node.name} = {node.op}(…)   rule: {node.rule}",
            show(f"receives ∂L/∂{node.name}", node.incoming, " " * 4),
        ]
        for name, grad in node.passes:
            if grad is None:
                lines.append(f"    passes nothing to {name} (needs no gradient)")
            else:
                lines.append(show(f"passes ∂L/∂{name}", grad, " " * 4))
    return "\n".join(lines)
