"""Tools that show backprop: the article's δ-rule MLP (:mod:`~chainrule.learn.classic`), one
step explained three ways (:mod:`~chainrule.learn.explanation`), computation graphs as pictures
(:mod:`~chainrule.learn.graphs`) and training pictures (:mod:`~chainrule.learn.plots`, which
needs matplotlib and is imported only when used)."""

import importlib
from typing import Any

from chainrule.learn.classic import ClassicMLP
from chainrule.learn.explanation import Explanation, article_problem, explain, explain_graph
from chainrule.learn.graphs import Graph, GraphNode, draw_graph

# Backpropagation through time in a tiny RNN (chainrule.learn.bptt) loads on first use of its
# names, as chainrule/__init__.py loads the tools: importing chainrule.learn stays as cheap.
#: Names loaded on first use: attribute → the module holding it.
_LAZY = {"BPTT": "chainrule.learn.bptt", "explain_bptt": "chainrule.learn.bptt"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BPTT",
    "ClassicMLP",
    "Explanation",
    "Graph",
    "GraphNode",
    "article_problem",
    "draw_graph",
    "explain",
    "explain_bptt",
    "explain_graph",
]
