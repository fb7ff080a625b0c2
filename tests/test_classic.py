"""The article's δ-rule (learn.classic) against the autograd engine, to 1e-12 in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.learn.classic import ClassicMLP, Layer

HIDDEN = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
LOSS_MODULES = {
    "mse": nn.MSELoss,
    "l1": nn.L1Loss,
    "bce": nn.BCELoss,
    "cross_entropy": nn.CrossEntropyLoss,
}


def make_network(rng, widths, activation, loss, output_activation):
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers.append(nn.Linear(n_in, n_out, dtype=np.float64, generator=rng))
        layers.append(HIDDEN[activation]())
    layers.pop()  # the output layer's activation depends on the loss
    if loss == "bce":
        layers.append(nn.Sigmoid())
    elif loss != "cross_entropy" and output_activation != "identity":
        layers.append(HIDDEN[output_activation]())
    return nn.Sequential(*layers)


def make_targets(rng, loss, m, k):
    if loss == "cross_entropy":
        return rng.integers(0, k, m)
    if loss == "bce":
        return rng.integers(0, 2, (m, k)).astype(np.float64)
    return rng.normal(size=(m, k))


def autograd_gradients(model, loss, x, y):
    model.zero_grad()
    LOSS_MODULES[loss]()(model(cr.tensor(x)), y).backward()
    return [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize("loss", ["mse", "l1", "bce", "cross_entropy"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    widths=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    m=st.integers(1, 6),
    output_activation=st.sampled_from(["identity", "sigmoid", "tanh", "relu"]),
)
def test_delta_rule_gradients_equal_autograd(activation, loss, seed, widths, m, output_activation):
    rng = np.random.default_rng(seed)
    if loss == "cross_entropy":
        widths[-1] = max(widths[-1], 2)
    model = make_network(rng, widths, activation, loss, output_activation)
    x = rng.normal(size=(m, widths[0]))
    y = make_targets(rng, loss, m, widths[-1])
    net = ClassicMLP.from_sequential(model, loss)
    result = net.backprop(x, y)
    expected = autograd_gradients(model, loss, x, y)
    got = [g for pair in zip(result.grad_W, result.grad_b) for g in pair]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-12)
    with cr.no_grad():
        engine_loss = LOSS_MODULES[loss]()(model(cr.tensor(x)), y).item()
    assert result.loss == pytest.approx(engine_loss, rel=1e-12, abs=1e-12)


def test_delta_rule_agrees_with_central_differences_on_the_article_network():
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 4, dtype=np.float64),
        nn.Sigmoid(),
        nn.Linear(4, 1, dtype=np.float64),
        nn.Sigmoid(),
    )
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    net = ClassicMLP.from_sequential(model, "bce")
    result = net.backprop(x, y)
    numeric = net.numeric_gradients(x, y)
    analytic = [g for pair in zip(result.grad_W, result.grad_b) for g in pair]
    for g, n in zip(analytic, numeric):
        np.testing.assert_allclose(g, n, atol=1e-9)


def test_output_delta_of_bce_is_a_minus_y_without_the_sigmoid_derivative():
    net = ClassicMLP([Layer(np.array([[2.0]]), np.array([0.5]), "sigmoid")], "bce")
    x, y = np.array([[1.0], [-1.0]]), np.array([[1.0], [0.0]])
    result = net.backprop(x, y)
    np.testing.assert_allclose(result.delta[0], result.a[1] - y)


def test_step_moves_each_parameter_by_minus_lr_times_its_gradient():
    rng = np.random.default_rng(1)
    net = ClassicMLP(
        [
            Layer(rng.normal(size=(3, 2)), rng.normal(size=3), "tanh"),
            Layer(rng.normal(size=(1, 3)), rng.normal(size=1)),
        ],
        "mse",
    )
    before = [p.copy() for p in net.parameters()]
    result = net.backprop(rng.normal(size=(5, 2)), rng.normal(size=(5, 1)))
    net.step(result, 0.1)
    grads = [g for pair in zip(result.grad_W, result.grad_b) for g in pair]
    for b, p, g in zip(before, net.parameters(), grads):
        np.testing.assert_allclose(p, b - 0.1 * g)


@pytest.mark.parametrize(
    "modules, message",
    [
        ((nn.ReLU(),), "must follow a Linear"),
        ((nn.Linear(2, 2), nn.Dropout(0.5)), "reads Linear"),
    ],
)
def test_from_sequential_refuses_what_it_cannot_read(modules, message):
    with pytest.raises(ValueError, match=message):
        ClassicMLP.from_sequential(nn.Sequential(*modules))


def test_losses_check_the_output_layer():
    with pytest.raises(ValueError, match="sigmoid output"):
        ClassicMLP([Layer(np.ones((1, 1)), np.zeros(1))], "bce")
    with pytest.raises(ValueError, match="logits"):
        ClassicMLP([Layer(np.ones((2, 1)), np.zeros(2), "sigmoid")], "cross_entropy")
