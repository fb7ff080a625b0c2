"""draw_graph: DOT text always, SVG/PNG only where Graphviz's `dot` is installed."""

from __future__ import annotations

import shutil
import subprocess

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


# ----- in a notebook --------------------------------------------------------------------------


def display_bundle(obj):
    """The MIME bundle IPython sends a notebook for ``obj`` (as the last value of a cell)."""
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_renders_as_svg_in_a_notebook_when_dot_is_installed():
    bundle = display_bundle(draw_graph(small_loss(), title="a 2-3-1 network"))
    assert set(bundle) == {"text/plain", "image/svg+xml"}  # no HTML to outrank the drawing
    svg = bundle["image/svg+xml"]
    assert svg.startswith("<svg") and "W1" in svg and "network" in svg


def test_graph_renders_as_an_html_table_in_a_notebook_without_dot(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    loss = small_loss()
    loss.name = "a<b"  # escaped in the HTML
    bundle = display_bundle(draw_graph(loss))
    assert set(bundle) == {"text/plain", "text/html"}
    page = bundle["text/html"]
    assert page.count("<tr") == 1 + 10  # a header and one row per tensor
    assert "<td>W1</td>" in page and "<td>MSELoss</td>" in page and "a&lt;b" in page
    assert "apt install graphviz" in page and "<details><summary>DOT source" in page
    assert COLOURS["parameter"] in page


def test_graph_repr_lists_each_tensor_as_text():
    text = repr(draw_graph(small_loss()))
    lines = text.splitlines()
    assert lines[0] == "Graph: 10 tensors, 9 edges (inputs first)"
    assert lines[1].startswith("  t9: x | leaf | shape (4, 2) float32")
    assert lines[-1].startswith("  t0: loss | MSELoss | shape () float32") and "<- t2, t1" in text
    assert str(draw_graph(small_loss())).startswith("digraph")  # str() is still the DOT


def test_graph_runs_dot_once_for_every_format_and_drops_the_xml_prolog(monkeypatch):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        svg = b'<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg><g/></svg>\n'
        return subprocess.CompletedProcess(argv, 0, stdout=svg, stderr=b"")

    monkeypatch.setattr(shutil, "which", lambda name: "dot")
    monkeypatch.setattr(subprocess, "run", fake_run)
    g = draw_graph(small_loss())
    assert g._repr_svg_() == "<svg><g/></svg>\n" and g._repr_html_() is None
    assert g._repr_svg_() is not None and len(calls) == 1 and calls[0][1] == "-Tsvg"


def test_graph_falls_back_to_the_table_and_says_why_when_dot_fails(monkeypatch):
    def failing_run(argv, **kwargs):
        raise subprocess.CalledProcessError(1, argv, stderr=b"Error: syntax error in line 3")

    monkeypatch.setattr(shutil, "which", lambda name: "dot")
    monkeypatch.setattr(subprocess, "run", failing_run)
    g = draw_graph(small_loss())
    assert g._repr_svg_() is None
    assert "dot` failed: Error: syntax error in line 3" in g._repr_html_()


def test_a_graph_made_from_dot_text_alone_still_displays(monkeypatch):
    from chainrule.learn.graphs import Graph

    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = Graph("digraph { a -> b }\n")
    assert "a -&gt; b" in g._repr_html_() and "<table" not in g._repr_html_()
    assert repr(g) == "Graph(dot='digraph { a -> b }\\n')"
