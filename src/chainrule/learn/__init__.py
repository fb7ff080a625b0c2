"""Tools that show backprop: the article's δ-rule MLP (:mod:`~chainrule.learn.classic`), one
step explained three ways (:mod:`~chainrule.learn.explanation`), computation graphs as pictures
(:mod:`~chainrule.learn.graphs`) and training pictures (:mod:`~chainrule.learn.plots`, which
needs matplotlib and is imported only when used)."""

from chainrule.learn.classic import ClassicMLP
from chainrule.learn.explanation import Explanation, article_problem, explain, explain_graph
from chainrule.learn.graphs import Graph, GraphNode, draw_graph

__all__ = [
    "ClassicMLP",
    "Explanation",
    "Graph",
    "GraphNode",
    "article_problem",
    "draw_graph",
    "explain",
    "explain_graph",
]
