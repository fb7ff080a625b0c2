"""``chainrule explain``: one training step of an MLP, printed in the article's notation.

:func:`explain` runs the step three ways in float64 — the article's δ-rule
(:mod:`chainrule.classic`), the autograd engine, and central differences — and returns an
:class:`Explanation` holding every number, whose ``str()`` is the printed walk-through: forward
values z⁽ˡ⁾ and a⁽ˡ⁾, the loss, δ⁽ˡ⁾, ∇W⁽ˡ⁾ and ∇b⁽ˡ⁾, the update, and the three-way check.
``graph=True`` adds the autograd view (:func:`explain_graph`): the recorded graph walked in
reverse topological order, each node's derivative rule, incoming gradient and what it passes on.

The command line is :func:`add_explain_parser` + :func:`run_explain`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.autograd.engine import topological_order, unbroadcast
from chainrule.classic import ACTIVATION_RULES, LOSS_RULES, ClassicMLP

EXPLAIN_DATASETS = ("xor", "moons", "circles", "spirals", "blobs", "sine", "digits")
EXPLAIN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
EXPLAIN_LOSSES = ("bce", "cross_entropy", "mse", "l1")
LOSS_MODULES = {
    "mse": nn.MSELoss,
    "l1": nn.L1Loss,
    "bce": nn.BCELoss,
    "cross_entropy": nn.CrossEntropyLoss,
}
_ACT_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
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
def _problem(
    data: str, hidden: list[int] | None, activation: str | None, loss: str | None, seed: int
) -> tuple[nn.Sequential, np.ndarray, np.ndarray, str]:
    """A float64 MLP, inputs, targets shaped for the loss, and the loss name."""
    from chainrule.cli import DEFAULTS
    from chainrule.recipe import build_mlp, load_dataset

    if data not in EXPLAIN_DATASETS:
        raise ValueError(f"unknown dataset {data!r}; choose one of: {', '.join(EXPLAIN_DATASETS)}")
    defaults = DEFAULTS[data]
    task = load_dataset(data, seed=seed)
    hidden = hidden if hidden is not None else [int(w) for w in defaults.hidden.split(",")]
    activation = activation or (
        defaults.activation if defaults.activation in EXPLAIN_ACTIVATIONS else "relu"
    )
    loss = loss or (defaults.loss if defaults.loss in EXPLAIN_LOSSES else "mse")
    for name, value, valid in (
        ("activation", activation, EXPLAIN_ACTIVATIONS),
        ("loss", loss, EXPLAIN_LOSSES),
    ):
        if value not in valid:
            raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(valid)}")
    x = task.x.astype(np.float64)
    if task.classes == 0:
        if loss in ("bce", "cross_entropy"):
            raise ValueError(f"--loss {loss} needs a classification dataset; {data} is regression")
        y, n_out, output = task.y.astype(np.float64), task.y.shape[1], None
    elif loss == "cross_entropy":
        y, n_out, output = task.y, task.classes, None
    elif task.classes == 2:  # one sigmoid unit, as in the article
        y, n_out, output = task.y.astype(np.float64).reshape(-1, 1), 1, nn.Sigmoid()
    elif loss == "bce":
        raise ValueError(f"--loss bce needs two classes; {data} has {task.classes}")
    else:
        y, n_out, output = np.eye(task.classes)[task.y], task.classes, nn.Sigmoid()
    cr.manual_seed(seed)  # the same initial weights as `chainrule train --seed SEED`
    model = build_mlp(x.shape[1], hidden, n_out, activation).double()
    if output is not None:
        model.append(output)
    return model, x, y, loss


def _batches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    if n <= batch_size:
        return [np.arange(n)]
    order = np.random.default_rng(seed).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def _autograd_gradients(model: nn.Module, loss: str, x: np.ndarray, y: np.ndarray) -> list:
    model.zero_grad()
    LOSS_MODULES[loss]()(model(cr.tensor(x)), y).backward()
    return [p.grad.data.copy() for p in model.parameters()]


def explain(
    model: nn.Sequential | None = None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    data: str = "xor",
    hidden: list[int] | None = None,
    activation: str | None = None,
    loss: str | None = None,
    seed: int = 0,
    lr: float | None = None,
    step: int = 1,
    batch_size: int = 64,
    numeric: bool = True,
    graph: bool = False,
) -> Explanation:
    """Explain training step ``step`` of plain gradient descent on an MLP.

    Either pass ``model`` (an ``nn.Sequential`` of Linear + Sigmoid/Tanh/ReLU layers; a float64
    copy is used, the model is not changed), ``x`` of shape (n, n_0) and ``y`` shaped for
    ``loss``; or name a built-in dataset (``data``) and the network is built as
    ``chainrule train`` builds it — by default the article's 2-4-1 sigmoid network on XOR with
    log loss and η = 3. Steps 1 … step − 1 run on the autograd engine with ``optim.SGD``, over
    batches of ``batch_size`` samples in a seeded order; step ``step`` is then computed by the
    δ-rule, by autograd and (``numeric=True``) by central differences.
    """
    if step < 1:
        raise ValueError(f"step must be ≥ 1; got {step}")
    if model is None:
        model, x, y, loss = _problem(data, hidden, activation, loss, seed)
    else:
        if x is None or y is None:
            raise ValueError("explain(model, x, y): pass the data with the model")
        import copy

        model = copy.deepcopy(model).double()
        x, data, loss = np.asarray(x, dtype=np.float64), "custom", loss or "mse"
        y = np.asarray(y) if loss == "cross_entropy" else np.asarray(y, dtype=np.float64)
    lr = lr if lr is not None else (3.0 if data == "xor" else 0.1)
    batches = _batches(len(x), batch_size, seed)
    optimizer = cr.optim.SGD(model.parameters(), lr=lr)
    for s in range(step - 1):
        idx = batches[s % len(batches)]
        optimizer.zero_grad()
        LOSS_MODULES[loss]()(model(cr.tensor(x[idx])), y[idx]).backward()
        optimizer.step()
    idx = batches[(step - 1) % len(batches)]
    xb, yb = x[idx], y[idx]

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
            )
        )

    def diff(p: list, q: list) -> float:
        return max(float(np.max(np.abs(u - v), initial=0.0)) for u, v in zip(p, q))

    max_diff = {"classic δ-rule vs autograd": diff(classic, auto)}
    if num is not None:
        max_diff["classic δ-rule vs numeric"] = diff(classic, num)
        max_diff["autograd vs numeric"] = diff(auto, num)
    nodes = explain_graph(model, xb, yb, loss) if graph else None
    return Explanation(data, loss, lr, step, xb, yb, result.loss, layers, max_diff, nodes)


# ----- the autograd view ------------------------------------------------------------------------
def explain_graph(model: nn.Sequential, x: np.ndarray, y: np.ndarray, loss: str) -> list[GraphNode]:
    """Run the model on (x, y) with named tensors, backpropagate, and list each op node in the
    order the engine visits it, with what it received and what it passed to each input."""
    params = {}
    layer = 0
    out = cr.tensor(x, name="x")
    for module in model:
        if isinstance(module, nn.Linear):
            layer += 1
            module.weight.name, module.bias.name = f"W{sup(layer)}", f"b{sup(layer)}"
            params.update({module.weight: None, module.bias: None})
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
        incoming = t.grad.data
        grads = fn.backward(incoming)  # the graph was retained: the node can run again
        passes = []
        for inp, g, needed in zip(fn.inputs, grads, fn.needs_input_grad):
            name = inp.name or ("y" if inp.grad_fn is None and not needed else "tensor")
            if not needed or g is None:
                passes.append((name, None))
            else:
                passes.append((name, unbroadcast(g, inp.data.shape, fn.op_name)))
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
        lines += [
            show(f"W{sup(s.l)}", s.W),
            show(f"b{sup(s.l)}", s.b),
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
        lines += [show(f"∇W{sup(s.l)}", s.grad_W), show(f"∇b{sup(s.l)}", s.grad_b)]
    lines += ["", f"Update   w ← w − η·∇w  (η = {e.lr:g})"]
    for s in e.layers:
        lines += [
            show(f"W{sup(s.l)}", s.new_W, sep=" ← "),
            show(f"b{sup(s.l)}", s.new_b, sep=" ← "),
        ]
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


# ----- command line -----------------------------------------------------------------------------
def add_explain_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``chainrule explain`` on an ``add_subparsers()`` object; returns its parser."""
    p = subparsers.add_parser(
        "explain",
        help="print one training step of an MLP in the backpropagation article's notation",
        description=(
            "Explain one step of gradient descent: forward values, loss, δ per layer, "
            "gradients, the update, and a check of δ-rule vs autograd vs numeric gradients. "
            "Defaults: the article's 2-4-1 sigmoid network on XOR with log loss."
        ),
    )
    p.add_argument(
        "--data",
        default="xor",
        choices=EXPLAIN_DATASETS,
        metavar="NAME",
        help=f"dataset: {', '.join(EXPLAIN_DATASETS)} (default xor)",
    )
    p.add_argument("--hidden", default=None, help="hidden widths, comma-separated, e.g. 4 or 8,8")
    p.add_argument(
        "--activation",
        default=None,
        choices=EXPLAIN_ACTIVATIONS,
        metavar="NAME",
        help=f"hidden activation: {', '.join(EXPLAIN_ACTIVATIONS)}",
    )
    p.add_argument(
        "--loss",
        default=None,
        choices=EXPLAIN_LOSSES,
        metavar="NAME",
        help=f"loss: {', '.join(EXPLAIN_LOSSES)}",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for data and initial weights")
    p.add_argument("--lr", type=float, default=None, help="learning rate η (xor: 3, else 0.1)")
    p.add_argument("--step", type=int, default=1, help="explain the N-th step of training")
    p.add_argument("--batch-size", type=int, default=64, help="samples per step")
    p.add_argument("--graph", action="store_true", help="also walk the autograd graph node by node")
    p.add_argument(
        "--no-numeric",
        action="store_true",
        help="skip the central-difference check (slow on big networks)",
    )
    p.set_defaults(run=run_explain)
    return p


def run_explain(args: argparse.Namespace) -> int:
    """Run ``chainrule explain`` with parsed arguments; returns the exit status."""
    try:
        hidden = None
        if args.hidden is not None:
            hidden = [int(w) for w in args.hidden.split(",") if w.strip()]
            if any(w <= 0 for w in hidden):
                raise ValueError(f"--hidden widths must be positive; got {args.hidden!r}")
        if args.step < 1 or args.batch_size < 1 or (args.lr is not None and args.lr <= 0):
            raise ValueError("--step, --batch-size and --lr must be positive")
        result = explain(
            data=args.data,
            hidden=hidden,
            activation=args.activation,
            loss=args.loss,
            seed=args.seed,
            lr=args.lr,
            step=args.step,
            batch_size=args.batch_size,
            numeric=not args.no_numeric,
            graph=args.graph,
        )
    except (ValueError, ImportError) as err:
        print(f"chainrule explain: error: {err}", file=sys.stderr)
        return 2
    print(result)
    return 0 if result.agree else 1


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="chainrule")
    add_explain_parser(_parser.add_subparsers(dest="command", required=True))
    _args = _parser.parse_args()
    sys.exit(_args.run(_args))
