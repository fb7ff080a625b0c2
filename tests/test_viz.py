"""draw_graph: DOT text always, SVG/PNG only where Graphviz's `dot` is installed."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.learn.graphs import COLOURS, draw_graph


def small_loss():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    model[0].weight.name = "W1"
    x = cr.tensor(np.ones((4, 2), dtype=np.float32), name="x")
    loss = nn.MSELoss()(model(x), np.zeros((4, 1), dtype=np.float32))
    loss.name = "loss"
    loss.backward()
    return loss


def test_dot_has_one_record_per_tensor_with_names_ops_shapes_and_colours():
    g = draw_graph(small_loss())
    dot = str(g)
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    # x, W1, b1, z1, a1, W2, b2, z2, the target, the loss
    assert dot.count("shape=record") == 1 and dot.count("fillcolor=") == 10
    assert "W1 \\| leaf" not in dot and "W1 | leaf | shape (3, 2) float32" in dot
    assert "loss | MSELoss | shape () float32" in dot
    assert "Sigmoid" in dot and "Linear" in dot
    assert dot.count(COLOURS["parameter"]) == 4 and dot.count(COLOURS["loss"]) == 1
    assert dot.count(COLOURS["input"]) == 2
    assert dot.count(" -> ") == 9
    assert "grad mean" in dot  # parameters have gradients after backward()


def test_record_special_characters_are_escaped():
    t = cr.tensor([1.0], requires_grad=True, name="a|b{c}")
    assert "a\\|b\\{c\\}" in draw_graph(t * 2).dot


def test_render_without_dot_writes_the_dot_file_and_says_how_to_render(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = draw_graph(small_loss()).render(tmp_path / "graph.svg")
    assert out == tmp_path / "graph.dot" and out.read_text().startswith("digraph")
    message = capsys.readouterr().err
    assert "dot -Tsvg" in message and "apt install graphviz" in message


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_render_with_dot(tmp_path, suffix, magic):
    out = draw_graph(small_loss(), title="a 2-3-1 network").render(tmp_path / f"g{suffix}")
    assert out.read_bytes().startswith(magic)
