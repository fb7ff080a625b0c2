"""The gradient panel: where the gradient of one neuron's bias or one weight came from.

For the step the session took last (or, before the first step, the step it is about to take)
the panel gets the forward value, δ with the chain of products that made it, ∂L/∂w with the
numbers, the update ``w ← w − η ∂L/∂w``, and the same gradient three ways: the article's δ-rule
(:class:`chainrule.learn.classic.ClassicMLP`, on the weights before the step), autograd (the
very gradient ``optim.SGD`` applied) and central differences. The notation is the one
``chainrule explain`` prints: layers as superscripts ⁽ˡ⁾, 1-based; units as subscripts, 1-based
(the page's ``data-testid``s count from 0).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from chainrule._tensor import tensor
from chainrule.learn.classic import ACTIVATION_RULES, ClassicMLP, Layer
from chainrule.learn.explanation import sup
from chainrule.playground.training import StepRecord, penalty

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_F = {"tanh": "tanh", "relu": "relu", "sigmoid": "σ", "identity": "id"}
EPS = 1e-6


def sub(n: int) -> str:
    """A 1-based unit index as a subscript: sub(12) == '₁₂'."""
    return str(n).translate(_SUB)


def num(v: float, digits: int = 4) -> str:
    """A number for the panel, ``digits`` significant digits."""
    return f"{v:.{digits}g}"


def fac(v: float) -> str:
    """A factor of a product: like :func:`num`, negatives in parentheses."""
    return f"({num(v)})" if v < 0 else num(v)


def widths(session: Any) -> list[int]:
    """Units per layer: inputs (the chosen features), hidden layers, one output."""
    return [len(session.config.features), *session.config.hidden, 1]


def check_selection(session: Any, sel: Any) -> dict[str, Any] | None:
    """A valid selection (a neuron ``{kind, layer, index}`` or a weight ``{kind, layer, from,
    to}``, 0-based as the data-testids), or None to clear; raises ValueError otherwise."""
    if sel is None:
        return None
    w = widths(session)
    if not isinstance(sel, dict) or sel.get("kind") not in ("neuron", "weight"):
        raise ValueError("selection must be {kind: 'neuron' | 'weight', …} or null")
    keys = ("layer", "index") if sel["kind"] == "neuron" else ("layer", "from", "to")
    vals = [sel.get(k) for k in keys]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in vals):
        raise ValueError(f"selection needs non-negative integers {', '.join(keys)}")
    layer = vals[0]
    if sel["kind"] == "neuron":
        ok = layer < len(w) and vals[1] < w[layer]
    else:
        ok = 1 <= layer < len(w) and vals[1] < w[layer - 1] and vals[2] < w[layer]
    if not ok:
        raise ValueError(f"no such {sel['kind']} in a network of widths {w}: {sel}")
    return {"kind": sel["kind"], **dict(zip(keys, vals))}


# ----- the step's numbers ---------------------------------------------------------------------
def _record(session: Any) -> tuple[Any, bool]:
    """The last step's record, or a preview of the next step (True) before the first one."""
    if session.last is not None:
        return session.last, False
    c = session.config
    idx = copy.deepcopy(session.batches).next(c.batch_size)  # peek, do not advance
    model = copy.deepcopy(session.model)
    before = [p._data.copy() for p in model.parameters()]
    model.zero_grad()
    total = session.loss_fn(model(tensor(session.f_train[idx])), session.y_train[idx])
    if c.regularization != "none" and c.reg_rate > 0:
        total = total + penalty(model, c.regularization, c.reg_rate)
    total.backward()
    grads = [p.grad._data.copy() for p in model.parameters()]
    record = StepRecord(0, idx, before, grads, c.learning_rate, c.regularization, c.reg_rate)
    return record, True


def classic_net(session: Any, params: list[np.ndarray]) -> ClassicMLP:
    """The article's δ-rule network holding ``params`` ([W⁽¹⁾, b⁽¹⁾, …])."""
    c = session.config
    hidden = "identity" if c.activation == "linear" else c.activation
    n = len(params) // 2
    classification = session.problem == "classification"
    layers = []
    for i in range(n):
        act = hidden if i < n - 1 else ("sigmoid" if classification else "identity")
        layers.append(Layer(params[2 * i].copy(), params[2 * i + 1].copy(), act))
    return ClassicMLP(layers, "bce" if classification else "mse")


def _numeric(session: Any, record: Any, which: int, pos: tuple[int, ...]) -> float:
    """Central difference of the step's loss (data + penalty) in parameter ``which`` at
    ``pos``, all other weights as before the step."""
    xb, yb = session.f_train[record.idx], session.y_train[record.idx]

    def loss(params: list[np.ndarray]) -> float:
        value = classic_net(session, params).loss_at(xb, yb)
        weights = params[0::2]
        if record.regularization == "l1" and record.rate > 0:
            value += record.rate * sum(float(np.abs(w).sum()) for w in weights)
        elif record.regularization == "l2" and record.rate > 0:
            value += 0.5 * record.rate * sum(float((w * w).sum()) for w in weights)
        return value

    params = [p.copy() for p in record.before]
    saved = params[which][pos]
    params[which][pos] = saved + EPS
    up = loss(params)
    params[which][pos] = saved - EPS
    down = loss(params)
    return (up - down) / (2 * EPS)


# ----- the panel --------------------------------------------------------------------------------
def explain_selection(session: Any) -> dict[str, Any] | None:
    """The panel's content for the session's selection, or None when nothing is selected."""
    sel = session.selection
    if sel is None:
        return None
    try:
        sel = check_selection(session, sel)  # the network may have changed shape since
    except ValueError:
        session.selection = None
        return None
    record, preview = _record(session)
    net = classic_net(session, record.before)
    xb, yb = session.f_train[record.idx], session.y_train[record.idx]
    with np.errstate(all="ignore"):
        result = net.backprop(xb, yb)
        if sel["kind"] == "neuron" and sel["layer"] == 0:
            body = _input_neuron(session, sel, result)
        elif sel["kind"] == "neuron":
            body = _neuron(session, sel, record, net, result)
        else:
            body = _weight(session, sel, record, net, result)
    step = "the next step (not taken yet)" if preview else f"step {record.step}"
    body.update(
        selection=sel,
        step=record.step,
        preview=preview,
        m=len(record.idx),
        heading=f"{body['title']}: {step}, a batch of m = {len(record.idx)}",
    )
    return body


def _input_neuron(session: Any, sel: dict, result: Any) -> dict[str, Any]:
    from chainrule.playground.datasets import FEATURES

    name = session.config.features[sel["index"]]
    j = sel["index"]
    value = result.a[0][0, j]
    return {
        "title": f"input {FEATURES[name][0]}",
        "forward": [f"a⁽⁰⁾{sub(j + 1)} = {FEATURES[name][0]} = {num(value)} (sample 1)"],
        "delta": ["Inputs are data, not weights: they get no δ and no update."],
        "gradient": [],
        "update": [],
        "check": None,
    }


def _forward_lines(net: ClassicMLP, result: Any, layer: int, j: int) -> list[str]:
    """z and a of unit j (0-based) in layer ``layer`` (1-based) for sample 1, with numbers."""
    lay = net.layers[layer - 1]
    a_prev = result.a[layer - 1][0]
    terms = " + ".join(f"{fac(a_prev[k])}·{fac(lay.W[j, k])}" for k in range(len(a_prev)))
    z, a = result.z[layer - 1][0, j], result.a[layer][0, j]
    s, u = sup(layer), sub(j + 1)
    f = _F[lay.activation]
    return [
        f"z{s}{u} = Σₖ a{sup(layer - 1)}ₖ W{s}{u}ₖ + b{s}{u}",
        f"    = {terms} + {num(lay.b[j])} = {num(z)}   (sample 1)",
        f"a{s}{u} = {f}(z{s}{u}) = {f}({num(z)}) = {num(a)}",
        f"mean a{s}{u} over the batch = {num(result.a[layer][:, j].mean())}",
    ]


def _delta_lines(net: ClassicMLP, result: Any, yb: np.ndarray, layer: int, j: int) -> list[str]:
    """δ of unit j in layer ``layer`` for sample 1 and the chain of products behind it."""
    s, u = sup(layer), sub(j + 1)
    delta = result.delta[layer - 1][0, j]
    if layer == len(net.layers):
        a, y = result.a[layer][0, j], yb[0, j]
        if net.loss == "bce":
            return [
                f"δ{s} = ∂ℓ/∂z{s} = a{s} − y   (log loss on σ: σ′ cancels)",
                f"    = {num(a)} − {fac(y)} = {num(delta)}   (sample 1)",
            ]
        return [
            f"δ{s} = ∂ℓ/∂z{s} = 2(a{s} − y)   (squared error, linear output)",
            f"    = 2({num(a)} − {fac(y)}) = {num(delta)}   (sample 1)",
        ]
    nxt, act = net.layers[layer], net.layers[layer - 1].activation
    d_next = result.delta[layer][0]
    terms = " + ".join(f"{fac(d_next[k])}·{fac(nxt.W[k, j])}" for k in range(len(d_next)))
    back = float(d_next @ nxt.W[:, j])
    fprime = _fprime(net, result, layer, j)
    n1 = sup(layer + 1)
    return [
        f"δ{s}{u} = f′(z{s}{u}) · Σₖ δ{n1}ₖ W{n1}ₖ{u}   ({ACTIVATION_RULES[act]})",
        f"    = {num(fprime)} · [{terms}]",
        f"    = {num(fprime)} · {fac(back)} = {num(delta)}   (sample 1)",
    ]


def _fprime(net: ClassicMLP, result: Any, layer: int, j: int) -> float:
    from chainrule.learn.classic import ACTIVATIONS

    _, fp = ACTIVATIONS[net.layers[layer - 1].activation]
    z, a = result.z[layer - 1][:1, j], result.a[layer][:1, j]
    return float(fp(z, a)[0])


def _check(classic: float, autograd: float, numeric: float) -> dict[str, float]:
    return {"delta_rule": float(classic), "autograd": float(autograd), "numeric": float(numeric)}


def _neuron(session: Any, sel: dict, record: Any, net: ClassicMLP, result: Any) -> dict:
    layer, j = sel["layer"], sel["index"]
    s, u = sup(layer), sub(j + 1)
    yb = session.y_train[record.idx]
    g_classic = result.grad_b[layer - 1][j]
    g_auto = record.grads[2 * layer - 1][j]
    g_num = _numeric(session, record, 2 * layer - 1, (j,))
    b = record.before[2 * layer - 1][j]
    deltas = result.delta[layer - 1][:, j]
    shown = ", ".join(num(d) for d in deltas[:4]) + (", …" if len(deltas) > 4 else "")
    kind = "output" if layer == len(net.layers) else "hidden"
    return {
        "title": f"{kind} neuron {j + 1} of layer {layer}",
        "forward": _forward_lines(net, result, layer, j),
        "delta": _delta_lines(net, result, yb, layer, j),
        "gradient": [
            f"∂L/∂b{s}{u} = (1/m) Σₛ δ{s}{u}(s) = mean of [{shown}] = {num(g_classic)}",
            "(biases carry no penalty)",
        ],
        "update": [
            f"b{s}{u} ← b{s}{u} − η ∂L/∂b{s}{u} = {num(b, 7)} − {record.lr:g}·{fac(g_auto)} "
            f"= {num(b - record.lr * g_auto, 7)}"
        ],
        "check": _check(g_classic, g_auto, g_num),
    }


def _weight(session: Any, sel: dict, record: Any, net: ClassicMLP, result: Any) -> dict:
    layer, f, t = sel["layer"], sel["from"], sel["to"]
    s, uf, ut = sup(layer), sub(f + 1), sub(t + 1)
    yb = session.y_train[record.idx]
    w = record.before[2 * layer - 2][t, f]
    a_prev, delta = result.a[layer - 1][:, f], result.delta[layer - 1][:, t]
    g_data = result.grad_W[layer - 1][t, f]
    reg_line, g_reg = _reg_term(record, w)
    g_auto = record.grads[2 * layer - 2][t, f]
    g_num = _numeric(session, record, 2 * layer - 2, (t, f))
    name = f"W{s}{ut}{uf}"
    gradient = [
        f"∂L/∂{name} = (1/m) Σₛ δ{s}{ut}(s) · a{sup(layer - 1)}{uf}(s)",
        f"    sample 1: {fac(delta[0])}·{fac(a_prev[0])} = {num(delta[0] * a_prev[0])}",
        f"    mean over the m = {len(delta)} samples = {num(g_data)}",
    ]
    if reg_line:
        gradient.append(f"{reg_line} = {num(g_reg)}, so ∂L/∂{name} = {num(g_data + g_reg)}")
    return {
        "title": f"weight {name} (unit {f + 1} of layer {layer - 1} → unit {t + 1} of layer "
        f"{layer})",
        "forward": [
            f"{name} = {num(w)} multiplies a{sup(layer - 1)}{uf} = {num(a_prev[0])} "
            f"on its way into z{s}{ut}: {fac(w)}·{fac(a_prev[0])} = {num(w * a_prev[0])}"
            "   (sample 1)"
        ],
        "delta": _delta_lines(net, result, yb, layer, t),
        "gradient": gradient,
        "update": [
            f"{name} ← {name} − η ∂L/∂{name} = {num(w, 7)} − {record.lr:g}·{fac(g_auto)} "
            f"= {num(w - record.lr * g_auto, 7)}"
        ],
        "check": _check(g_data + g_reg, g_auto, g_num),
    }


def _reg_term(record: Any, w: float) -> tuple[str, float]:
    """The penalty's share of a weight's gradient, as a line and a value."""
    if record.regularization == "l2" and record.rate > 0:
        return f"+ λw (L2, λ = {record.rate:g}): {record.rate:g}·{fac(w)}", record.rate * w
    if record.regularization == "l1" and record.rate > 0:
        return (
            f"+ λ·sign(w) (L1, λ = {record.rate:g}): {record.rate:g}·{np.sign(w):+g}",
            record.rate * float(np.sign(w)),
        )
    return "", 0.0
