"""chainrule.learn.explain and `chainrule explain`: autograd's numbers in the article's notation."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.cli import main
from chainrule.learn.explanation import describe, explain


def test_default_is_the_article_xor_network_and_its_gradients_are_autograds():
    e = explain()
    assert (e.data, e.loss_name, e.lr, len(e.x)) == ("xor", "bce", 3.0, 4)
    assert [s.W.shape for s in e.layers] == [(4, 2), (1, 4)]
    assert [s.activation for s in e.layers] == ["sigmoid", "sigmoid"]
    for s in e.layers:
        np.testing.assert_allclose(s.grad_W, s.autograd_W, atol=1e-12)
        np.testing.assert_allclose(s.grad_b, s.autograd_b, atol=1e-12)
        np.testing.assert_allclose(s.grad_W, s.numeric_W, atol=1e-8)
        np.testing.assert_allclose(s.new_W, s.W - 3.0 * s.grad_W)
    assert e.agree and max(e.max_diff.values()) < 1e-8
    # δ⁽ᴸ⁾ of a sigmoid output with log loss is a − y (no σ′): the article's fourth bug.
    np.testing.assert_allclose(e.layers[-1].delta, e.layers[-1].a - e.y)


def test_step_n_explains_the_weights_after_n_minus_1_sgd_steps():
    first, third = explain(step=1), explain(step=3)
    second = explain(step=2)
    np.testing.assert_allclose(second.layers[0].W, first.layers[0].new_W, atol=1e-12)
    np.testing.assert_allclose(third.layers[0].W, second.layers[0].new_W, atol=1e-12)


def test_a_given_model_is_explained_on_a_copy():
    cr.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    before = model[0].weight.numpy().copy()
    x = np.random.default_rng(0).normal(size=(6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    e = explain(model, x, y, loss="cross_entropy", lr=0.5)
    np.testing.assert_array_equal(model[0].weight.numpy(), before)
    model.double().zero_grad()
    nn.CrossEntropyLoss()(model(cr.tensor(x)), y).backward()
    np.testing.assert_allclose(e.layers[0].grad_W, model[0].weight.grad.numpy(), atol=1e-12)


def test_graph_view_lists_every_op_with_its_rule_and_passes_autograd_gradients():
    e = explain(graph=True)
    ops = [node.op for node in e.graph]
    assert ops == ["BinaryCrossEntropy", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert e.graph[1].rule.startswith("dσ(x)/dx")
    first_linear = e.graph[-1]
    passed = dict(first_linear.passes)
    assert passed["x"] is None
    np.testing.assert_allclose(passed["W⁽¹⁾"], e.layers[0].autograd_W, atol=1e-15)
    # what autograd calls ∂L/∂z⁽¹⁾ is the article's δ⁽¹⁾ divided by m
    np.testing.assert_allclose(first_linear.incoming, e.layers[0].delta / 4, atol=1e-15)
    assert "rule: dσ(x)/dx = σ(x)(1 − σ(x))." in str(e)


def test_describe_prints_small_arrays_in_full_and_large_ones_as_a_summary():
    assert describe(np.array([0.5, -1.0])) == "[ 0.5000 -1.0000]"
    assert describe(np.ones((10, 10))).startswith("shape (10, 10), mean +1, norm 10")


def test_cli_prints_the_walk_through(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    for text in ("z⁽¹⁾ =", "a⁽²⁾ = σ(z⁽²⁾)", "δ⁽¹⁾ = (δ⁽²⁾ W⁽²⁾) ⊙ f′(z⁽¹⁾)", "∇W⁽²⁾", "W⁽¹⁾ ←"):
        assert text in out
    assert "the gradients agree" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--data", "moons", "--hidden", "8", "--activation", "tanh", "--loss", "mse"],
        ["--data", "spirals", "--hidden", "6,5", "--loss", "cross_entropy", "--step", "3"],
        ["--data", "sine", "--hidden", "5", "--activation", "relu", "--loss", "l1", "--graph"],
    ],
)
def test_cli_options(argv, capsys):
    assert main(["explain", *argv]) == 0
    assert "the gradients agree" in capsys.readouterr().out


def test_cli_errors_are_one_line(capsys):
    assert main(["explain", "--data", "sine", "--loss", "bce"]) == 2
    assert "needs a classification dataset" in capsys.readouterr().err
    assert main(["explain", "--hidden", "0"]) == 2
