"""Gradient health and divergence, in words.

:func:`health` passes on what :class:`~chainrule.training.monitor.GradientMonitor` found
(vanishing or exploding gradients, dead ReLUs, saturated units) with the latest per-layer
numbers. :func:`divergence` is called when a step left a non-finite loss or weight: it replays
that step in the article's order — z⁽¹⁾, a⁽¹⁾, …, the loss, δ⁽ᴸ⁾, …, δ⁽¹⁾, the gradients, the
update — and names the first value that stopped being a finite number, with what to try.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.learn.explanation import sup


def _layer_names(session: Any) -> tuple[dict[str, str], str | None]:
    """Module names ('0', '1', …) in the article's words, and the output sigmoid's name."""
    from chainrule import nn

    names, layer, output = {}, 0, None
    modules = list(session.model.named_children())
    for i, (name, module) in enumerate(modules):
        if isinstance(module, nn.Linear):
            layer += 1
            names[name] = f"layer {layer} (W{sup(layer)})"
        else:
            names[name] = f"layer {layer}'s units"
            if i == len(modules) - 1 and session.problem == "classification":
                output = name
    return names, output


def health(session: Any) -> dict[str, Any]:
    """The monitor's findings (in words) and its per-layer table, for the page.

    The output sigmoid is left out: a saturated output only means confident predictions.
    """
    monitor = session.monitor
    names, output = _layer_names(session)
    rows = []
    for layer, metrics in monitor.history.items():
        if layer != output:
            rows.append({key: v[-1] for key, v in metrics.items()} | {"layer": names[layer]})
    findings = []
    for text in monitor.findings:
        key, _, rest = text.partition(": ")
        module = key.rsplit(" in ", 1)[-1] if " in " in key else None
        if module == output and module is not None:
            continue
        if module in names:
            key = key[: -len(module)] + names[module]
        findings.append(f"{key}: {rest}")
    if not monitor.history:
        summary = "measured at the end of each epoch; none finished yet"
    elif not findings:
        summary = "no problems found: gradients reach every layer and units are alive"
    else:
        summary = f"{len(findings)} problem(s) found"
    return {"summary": summary, "findings": findings, "rows": rows}


def _first_nonfinite(session: Any, record: Any) -> tuple[str, float] | None:
    """The first of the step's values, in computation order, with a non-finite entry."""
    from chainrule.playground.gradients import classic_net

    net = classic_net(session, record.before)
    xb, yb = session.f_train[record.idx], session.y_train[record.idx]
    with np.errstate(all="ignore"):
        for i, p in enumerate(record.before):
            name = f"{'W' if i % 2 == 0 else 'b'}{sup(i // 2 + 1)}"
            if not np.isfinite(p).all():
                return f"{name} (already before this step)", float(np.abs(p).max())
        result = net.backprop(xb, yb)
        L = len(net.layers)
        named: list[tuple[str, np.ndarray]] = []
        for i in range(L):  # forward order: z⁽¹⁾, a⁽¹⁾, z⁽²⁾, …
            named += [(f"z{sup(i + 1)}", result.z[i]), (f"a{sup(i + 1)}", result.a[i + 1])]
        named.append(("the loss L", np.array([result.loss])))
        named += [(f"δ{sup(i + 1)}", result.delta[i]) for i in reversed(range(L))]
        named += [(f"∇W{sup(i + 1)}", g) for i, g in enumerate(result.grad_W)]
        named += [
            (f"the updated W{sup(i + 1)}", m.weight._data) for i, m in enumerate(session.linears)
        ]
        previous = None
        for name, value in named:
            if not np.isfinite(value).all():
                return name, previous
            finite = value[np.isfinite(value)]
            previous = float(np.abs(finite).max()) if finite.size else previous
    return None


def divergence(session: Any) -> dict[str, Any]:
    """Why the last step went non-finite, and what to try (the session has paused)."""
    record = session.last
    found = _first_nonfinite(session, record)
    c = session.config
    if found is None:
        where = "the penalty term or the update (every δ-rule value was finite)"
    else:
        name, before = found
        where = f"{name}" + (
            f" (the largest finite value computed just before it was {before:.3g})"
            if before is not None
            else ""
        )
    advice = [
        f"lower the learning rate (η = {c.learning_rate:g} now; try {c.learning_rate / 10:g})"
    ]
    if c.activation in ("relu", "linear"):
        advice.append("use tanh: its outputs stay in [−1, 1], so values cannot grow layer by layer")
    if c.regularization == "none" or c.reg_rate == 0:
        advice.append("add L2 regularization, which keeps the weights small")
    if len(c.hidden) > 2:
        advice.append("use fewer hidden layers")
    advice.append("then press reset (or reset to the same initialization to compare)")
    return {
        "step": record.step,
        "first": where,
        "message": f"Training diverged at step {record.step}: the first value that stopped "
        f"being a finite number was {where}.",
        "advice": advice,
    }
