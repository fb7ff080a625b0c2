"""Draw an autograd graph: Graphviz DOT text with no dependency, rendered when ``dot`` exists.

Example::

    loss = F.mse_loss(model(x), y)
    loss.backward(retain_graph=True)
    g = draw_graph(loss)
    g                            # in a notebook: drawn inline (SVG), or a table without Graphviz
    print(g.dot)                 # paste into any Graphviz viewer
    g.render("graph.svg")        # needs Graphviz's `dot` program; else writes graph.dot

One record per tensor: its name (``Tensor.name``) if set, the op that produced it (or leaf),
shape, a value summary and, after ``backward()``, a gradient summary. Parameters (leaves that
require grad) are blue, inputs (leaves that do not) grey, the root (the loss) red.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chainrule._tensor import Tensor

COLOURS = {"parameter": "#cfe2ff", "input": "#e9ecef", "loss": "#f8d7da", "op": "#ffffff"}
_RECORD_SPECIALS = str.maketrans({c: "\\" + c for c in '{}|<>"'})
_INSTALL_HINT = "Install Graphviz (e.g. `apt install graphviz` or `brew install graphviz`)"


def _summary(array: np.ndarray) -> str:
    if array.size == 1:
        return f"{float(array.reshape(-1)[0]):.4g}"
    return f"mean {array.mean():.3g}, norm {np.linalg.norm(array.ravel()):.3g}"


@dataclass(frozen=True)
class GraphNode:
    """One tensor of a drawn graph, as its record shows it.

    ``kind`` is ``'parameter'``, ``'input'``, ``'op'`` or ``'loss'``; ``op`` is the name of the
    op that produced the tensor, or ``'leaf'``; ``value`` and ``grad`` are summaries (a scalar's
    value, else mean and norm; ``grad`` is None where ``.grad`` is not set); ``inputs`` are the
    ids of the tensors it was computed from.
    """

    id: str
    kind: str
    name: str
    op: str
    shape: tuple[int, ...]
    dtype: str
    value: str
    grad: str | None = None
    inputs: tuple[str, ...] = ()

    def fields(self) -> list[str]:
        """The record's lines: name (or kind), op, shape and dtype, value, grad."""
        out = [self.name or ("" if self.kind == "op" else self.kind), self.op]
        out += [f"shape {self.shape} {self.dtype}", f"value {self.value}"]
        if self.grad is not None:
            out.append(f"grad {self.grad}")
        return [f for f in out if f]


@dataclass
class Graph:
    """A drawn graph. ``dot`` is the Graphviz source; ``str(graph)`` is the same text.

    ``nodes`` lists the tensors, inputs first. In Jupyter a Graph displays itself: as SVG
    (``_repr_svg_``) when Graphviz's ``dot`` program is on the PATH, otherwise as an HTML table
    of the tensors with the DOT source below it (``_repr_html_``); exactly one of the two is
    offered, so every frontend shows the same thing. ``repr(graph)`` is the plain-text list.
    """

    dot: str
    nodes: list[GraphNode] = field(default_factory=list)
    # (dot text it was made from, svg or None, why not); dot runs once per graph, not per MIME
    _svg_cache: tuple[str, str | None, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        if not self.nodes:
            return f"Graph(dot={self.dot!r})"
        edges = sum(len(n.inputs) for n in self.nodes)
        lines = [f"Graph: {len(self.nodes)} tensors, {edges} edges (inputs first)"]
        for node in self.nodes:
            source = f" <- {', '.join(node.inputs)}" if node.inputs else ""
            lines.append(f"  {node.id}: " + " | ".join(node.fields()) + source)
        return "\n".join(lines)

    def _svg(self) -> tuple[str | None, str]:
        """(The graph as an SVG document, or None; why not), running ``dot`` at most once."""
        if self._svg_cache is None or self._svg_cache[0] != self.dot:
            svg, why = _run_dot_svg(self.dot)
            self._svg_cache = (self.dot, svg, why)
        return self._svg_cache[1], self._svg_cache[2]

    def _repr_svg_(self) -> str | None:
        """The drawing, for Jupyter; None (so Jupyter skips it) without Graphviz's ``dot``."""
        return self._svg()[0]

    def _repr_html_(self) -> str | None:
        """A table of the tensors and the DOT source, for Jupyter when ``dot`` cannot draw it.

        None when the SVG is available, so that a frontend which ranks HTML above SVG (as
        JupyterLab does) still shows the drawing.
        """
        svg, why = self._svg()
        if svg is not None:
            return None
        return _html_table(self.nodes, self.dot, why)

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
                f"{_INSTALL_HINT} and run: dot -T{fmt} {dot_path} -o {path}",
                file=sys.stderr,
            )
            return dot_path
        subprocess.run(
            [exe, f"-T{fmt}", "-o", str(path)], input=self.dot.encode(), check=True, timeout=60
        )
        return path


def _run_dot_svg(dot: str) -> tuple[str | None, str]:
    exe = shutil.which("dot")
    if exe is None:
        return None, f"Graphviz's `dot` program was not found. {_INSTALL_HINT} to see it drawn."
    try:
        done = subprocess.run(
            [exe, "-Tsvg"], input=dot.encode(), capture_output=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as err:
        # A notebook should still show something readable; the table says what went wrong.
        detail = getattr(err, "stderr", None) or str(err).encode()
        return None, f"Graphviz's `dot` failed: {detail.decode(errors='replace').strip()}"
    svg = done.stdout.decode("utf-8")
    # Inline SVG starts at the <svg> element: the XML prolog and DOCTYPE are for files.
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else svg), ""


def _html_table(nodes: list[GraphNode], dot: str, why: str) -> str:
    esc = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("id", "tensor", "op", "shape", "value", "grad"))
    head += "<th>computed from</th>"
    rows = []
    for n in nodes:
        cells = [n.id, n.name or n.kind, n.op, f"{n.shape} {n.dtype}", n.value, n.grad or ""]
        cells.append(", ".join(n.inputs))
        style = f' style="background:{COLOURS[n.kind]};color:#000"' if n.kind in COLOURS else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return (
        f'<div class="chainrule-graph"><p>{esc(why)}</p>{table if nodes else ""}'
        f"<details><summary>DOT source</summary><pre>{esc(dot)}</pre></details></div>"
    )


def _kind(t: Tensor, root: Tensor) -> str:
    if t is root:
        return "loss"
    if t.grad_fn is not None:
        return "op"
    return "parameter" if t.requires_grad else "input"


def _walk(root: Tensor) -> tuple[list[Tensor], dict[int, str]]:
    """Every tensor ``root`` depends on (root first) and an id for each."""
    ids: dict[int, str] = {}
    tensors: list[Tensor] = []
    stack = [root]
    while stack:  # iterative: long chains need no recursion
        t = stack.pop()
        if id(t) in ids:
            continue
        ids[id(t)] = f"t{len(ids)}"
        tensors.append(t)
        if t.grad_fn is not None:
            stack.extend(t.grad_fn.inputs)
    return tensors, ids


def _node(t: Tensor, root: Tensor, ids: dict[int, str]) -> GraphNode:
    inputs = tuple(ids[id(i)] for i in t.grad_fn.inputs) if t.grad_fn is not None else ()
    return GraphNode(
        id=ids[id(t)],
        kind=_kind(t, root),
        name=t.name or "",
        op=t.grad_fn.op_name if t.grad_fn is not None else "leaf",
        shape=tuple(t.shape),
        dtype=str(t.dtype),
        value=_summary(t._data),
        grad=None if t.grad is None else _summary(t.grad._data),
        inputs=inputs,
    )


def _dot(nodes: list[GraphNode], title: str | None) -> str:
    lines = [
        "digraph chainrule {",
        "  rankdir=TB;",
        '  node [shape=record, style=filled, fontname="Helvetica", fontsize=10];',
    ]
    if title:
        lines.append(f'  label="{title.translate(_RECORD_SPECIALS)}"; labelloc=t;')
    for n in nodes:
        label = " | ".join(f.translate(_RECORD_SPECIALS) for f in n.fields())
        lines.append(f'  {n.id} [label="{{{label}}}", fillcolor="{COLOURS[n.kind]}"];')
    # Edges in walk order (root first), as before: the .dot text stays byte-for-byte the same.
    for n in reversed(nodes):
        lines.extend(f"  {i} -> {n.id};" for i in n.inputs)
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(root: Tensor, title: str | None = None) -> Graph:
    """The graph that computed ``root``, every tensor it depends on, as a :class:`Graph`.

    Edges run from each input to the tensor computed from it (top to bottom: inputs first).
    Works before or after ``backward()``; gradients appear where ``.grad`` is set (leaves, and
    tensors that called ``retain_grad()``). ``root`` may have any shape; each record shows its
    tensor's shape.
    """
    tensors, ids = _walk(root)
    nodes = [_node(t, root, ids) for t in reversed(tensors)]  # inputs first reads better
    return Graph(_dot(nodes, title), nodes)
