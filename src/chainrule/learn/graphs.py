"""Draw an autograd graph: Graphviz DOT text with no dependency, rendered when ``dot`` exists.

Example::

    loss = F.mse_loss(model(x), y)
    loss.backward(retain_graph=True)
    g = draw_graph(loss)
    print(g.dot)                 # paste into any Graphviz viewer
    g.render("graph.svg")        # needs Graphviz's `dot` program; else writes graph.dot

One record per tensor: its name (``Tensor.name``) if set, the op that produced it (or leaf),
shape, a value summary and, after ``backward()``, a gradient summary. Parameters (leaves that
require grad) are blue, inputs (leaves that do not) grey, the root (the loss) red.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule._tensor import Tensor

COLOURS = {"parameter": "#cfe2ff", "input": "#e9ecef", "loss": "#f8d7da", "op": "#ffffff"}
_RECORD_SPECIALS = str.maketrans({c: "\\" + c for c in '{}|<>"'})


def _summary(array: np.ndarray) -> str:
    if array.size == 1:
        return f"{float(array.reshape(-1)[0]):.4g}"
    return f"mean {array.mean():.3g}, norm {np.linalg.norm(array.ravel()):.3g}"


@dataclass
class Graph:
    """A drawn graph. ``dot`` is the Graphviz source; ``str(graph)`` is the same text."""

    dot: str

    def __str__(self) -> str:
        return self.dot

    def render(self, path: str | Path) -> Path:
        """Write the graph to ``path`` (.svg, .png or .pdf) with Graphviz's ``dot``.

        Without ``dot`` on the PATH, writes the DOT source next to it (``path`` with suffix
        .dot), prints how to render it to stderr, and returns the .dot file's path.
        """
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower() or "svg"
        if fmt == "dot":
            path.write_text(self.dot, encoding="utf-8")
            return path
        exe = shutil.which("dot")
        if exe is None:
            dot_path = path.with_suffix(".dot")
            dot_path.write_text(self.dot, encoding="utf-8")
            print(
                f"Graphviz's `dot` program was not found, so the graph was written as {dot_path}. "
                f"Install Graphviz (e.g. `apt install graphviz` or `brew install graphviz`) and "
                f"run: dot -T{fmt} {dot_path} -o {path}",
                file=sys.stderr,
            )
            return dot_path
        subprocess.run(
            [exe, f"-T{fmt}", "-o", str(path)], input=self.dot.encode(), check=True, timeout=60
        )
        return path


def _kind(t: Tensor, root: Tensor) -> str:
    if t is root:
        return "loss"
    if t.grad_fn is not None:
        return "op"
    return "parameter" if t.requires_grad else "input"


def draw_graph(root: Tensor, title: str | None = None) -> Graph:
    """The graph that computed ``root``, every tensor it depends on, as a :class:`Graph`.

    Edges run from each input to the tensor computed from it (top to bottom: inputs first).
    Works before or after ``backward()``; gradients appear where ``.grad`` is set (leaves, and
    tensors that called ``retain_grad()``).
    """
    ids: dict[int, str] = {}
    nodes: list[Tensor] = []
    stack = [root]
    while stack:  # iterative: long chains need no recursion
        t = stack.pop()
        if id(t) in ids:
            continue
        ids[id(t)] = f"t{len(ids)}"
        nodes.append(t)
        if t.grad_fn is not None:
            stack.extend(t.grad_fn.inputs)
    lines = [
        "digraph chainrule {",
        "  rankdir=TB;",
        '  node [shape=record, style=filled, fontname="Helvetica", fontsize=10];',
    ]
    if title:
        lines.append(f'  label="{title.translate(_RECORD_SPECIALS)}"; labelloc=t;')
    for t in reversed(nodes):  # inputs first reads better in the .dot text
        kind = _kind(t, root)
        fields = [t.name or ("" if kind == "op" else kind)]
        fields.append(t.grad_fn.op_name if t.grad_fn is not None else "leaf")
        fields.append(f"shape {tuple(t.shape)} {t.dtype}")
        fields.append(f"value {_summary(t.data)}")
        if t.grad is not None:
            fields.append(f"grad {_summary(t.grad.data)}")
        label = " | ".join(f.translate(_RECORD_SPECIALS) for f in fields if f)
        colour = COLOURS[kind]
        lines.append(f'  {ids[id(t)]} [label="{{{label}}}", fillcolor="{colour}"];')
    for t in nodes:
        if t.grad_fn is not None:
            for inp in t.grad_fn.inputs:
                lines.append(f"  {ids[id(inp)]} -> {ids[id(t)]};")
    lines.append("}")
    return Graph("\n".join(lines) + "\n")
