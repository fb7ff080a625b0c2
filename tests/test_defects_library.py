"""Confirmed library defects (issue 9 §6, issue 15 §6): each test failed before its fix."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.learn.explanation import explain, explain_graph
from chainrule.random import resolve_generator


# ----- one way from a seed to a Generator ------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda g: nn.Linear(2, 3, generator=g),
        lambda g: nn.Conv2d(1, 2, 3, generator=g),
        lambda g: nn.Conv1d(1, 2, 3, generator=g),
    ],
    ids=["Linear", "Conv2d", "Conv1d"],
)
def test_layer_accepts_an_int_seed_as_dataloader_does(make):
    a, b = make(0), make(0)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    # The seed starts one stream for weight and bias, exactly as the same Generator would.
    c = make(np.random.default_rng(0))
    np.testing.assert_array_equal(a.weight.numpy(), c.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), c.bias.numpy())
    assert not np.array_equal(make(1).weight.numpy(), a.weight.numpy())


def test_init_functions_accept_an_int_seed():
    for fill in (nn.init.uniform_, nn.init.normal_, nn.init.xavier_uniform_):
        w1, w2 = np.empty((3, 4)), np.empty((3, 4))
        fill(w1, generator=7)
        fill(w2, generator=np.random.default_rng(7))
        np.testing.assert_array_equal(w1, w2)


def test_dropout_layer_with_an_int_seed_is_reproducible_and_varies_between_calls():
    x = np.ones((8, 8), dtype=np.float32)
    a, b = nn.Dropout(0.5, generator=3), nn.Dropout(0.5, generator=3)
    first, second = a(x).numpy(), a(x).numpy()
    assert not np.array_equal(first, second)  # one generator, made once: masks move on
    np.testing.assert_array_equal(b(x).numpy(), first)
    np.testing.assert_array_equal(b(x).numpy(), second)


def test_functional_dropout_accepts_an_int_seed():
    x = np.ones((8, 8), dtype=np.float32)
    first, again = F.dropout(x, 0.5, generator=5), F.dropout(x, 0.5, generator=5)
    np.testing.assert_array_equal(first.numpy(), again.numpy())  # a seed: the same mask each call


@pytest.mark.parametrize("bad", ["0", 1.5, True])
def test_layers_refuse_what_is_neither_a_seed_nor_a_generator(bad):
    with pytest.raises(TypeError, match="generator must be"):
        nn.Linear(2, 3, generator=bad)
    with pytest.raises(TypeError, match="generator must be"):
        resolve_generator(bad)


def test_none_still_means_the_global_generator_at_call_time():
    cr.manual_seed(11)
    a = nn.Linear(2, 3)
    cr.manual_seed(11)
    b = nn.Linear(2, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


# ----- explain_graph leaves the caller's model alone and knows bias=False ----------------------
def _mlp(bias: bool = True) -> nn.Sequential:
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3, bias=bias), nn.Sigmoid(), nn.Linear(3, 1)).double()


def test_explain_graph_does_not_rename_or_fill_the_callers_parameters():
    model = _mlp()
    x, y = np.ones((4, 2)), np.ones((4, 1))
    nodes = explain_graph(model, x, y, "mse")
    assert [p.name for p in model.parameters()] == [None] * 4
    assert all(p.grad is None for p in model.parameters())
    assert any(name == "W⁽¹⁾" for node in nodes for name, _ in node.passes)


def test_explain_graph_handles_linear_without_bias():
    model = _mlp(bias=False)
    x, y = np.ones((4, 2)), np.ones((4, 1))
    nodes = explain_graph(model, x, y, "mse")
    first = [n for n in nodes if n.name == "z⁽¹⁾"][0]
    assert [name for name, _ in first.passes] == ["x", "W⁽¹⁾"]


def test_explain_handles_linear_without_bias():
    model = _mlp(bias=False)
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 2)), rng.random((4, 1))
    e = explain(model, x, y, graph=True, step=2)
    assert e.agree, e.max_diff
    assert not e.layers[0].has_bias and e.layers[1].has_bias
    np.testing.assert_array_equal(e.layers[0].new_b, 0.0)  # no bias to learn
    text = str(e)
    assert "b⁽¹⁾" not in text and "b⁽²⁾" in text


# ----- a full backward hook leaves no reference cycle ------------------------------------------
def _hooked_step(model: nn.Module, x: cr.Tensor, refs: list) -> None:
    model.zero_grad()
    out = model(x)
    refs.append(weakref.ref(out))
    out.sum().backward()


def test_full_backward_hook_frees_the_activations_without_the_cyclic_gc():
    model = nn.Sequential(nn.Linear(50, 100), nn.ReLU(), nn.Linear(100, 10))
    calls = []
    model[2].register_full_backward_hook(lambda m, gi, go: calls.append(gi[0].shape))
    inputs = []
    model[2].register_forward_hook(lambda m, args, out: inputs.append(weakref.ref(args[0])))
    x = cr.tensor(np.random.default_rng(0).random((16, 50), dtype=np.float32))
    gc.collect()
    gc.disable()
    try:
        refs: list = []
        for _ in range(3):
            _hooked_step(model, x, refs)
        alive = [r for r in refs + inputs if r() is not None]
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert calls == [(16, 100)] * 3
    assert not alive, f"{len(alive)} activations kept alive after backward"
    assert unreachable == 0
