"""GradientMonitor: it names vanishing gradients in a deep small-init sigmoid network, and is
quiet about a deep He-initialized ReLU network."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.training.monitor import GradientHealthWarning, GradientMonitor


def deep(activation, init, layers=10, width=16):
    cr.manual_seed(0)
    modules = []
    n_in = 4
    for _ in range(layers - 1):
        linear = nn.Linear(n_in, width)
        init(linear.weight)
        nn.init.zeros_(linear.bias)
        modules += [linear, activation()]
        n_in = width
    modules.append(nn.Linear(n_in, 2))
    return nn.Sequential(*modules)


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def train(model, monitor, epochs=2):
    return cr.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.05),
        data(),
        epochs=epochs,
        batch_size=32,
        callbacks=[monitor],
        verbose=0,
    )


def test_flags_vanishing_gradients_in_a_deep_sigmoid_network_with_small_init():
    model = deep(nn.Sigmoid, lambda w: nn.init.normal_(w, 0.0, 0.01))
    monitor = GradientMonitor()
    with pytest.warns(GradientHealthWarning, match="vanishing gradients.*Try ReLU"):
        train(model, monitor)
    first = monitor.history["0"]["grad_norm"][-1]
    last = monitor.history["18"]["grad_norm"][-1]
    assert first < 1e-3 * last
    assert len(monitor.history["0"]["grad_norm"]) == 2
    assert "vanishing gradients" in monitor.report()


def test_quiet_on_a_deep_relu_network_with_he_init():
    model = deep(nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))
    monitor = GradientMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(model, monitor, epochs=3)
    assert monitor.findings == []
    assert "no problems found" in monitor.report()
    assert set(monitor.history["1"]) == {"dead_fraction"}
    ratios = monitor.history["0"]["update_ratio"]
    assert all(0 < r < 1 for r in ratios)


def test_dead_relus_are_reported():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    nn.init.constant_(model[0].bias, -100.0)  # every unit negative for every sample
    monitor = GradientMonitor(warn=False)
    train(model, monitor, epochs=1)
    assert monitor.history["1"]["dead_fraction"] == [1.0]
    assert any(f.startswith("dead ReLUs in 1") for f in monitor.findings)


def test_saturated_sigmoids_are_reported_and_hooks_are_removed_after_training():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 2))
    nn.init.normal_(model[0].weight, 0.0, 50.0)
    monitor = GradientMonitor(warn=False)
    train(model, monitor, epochs=1)
    assert monitor.history["1"]["saturated_fraction"][0] > 0.5
    assert any("saturated units in 1" in f for f in monitor.findings)
    assert not model[1]._forward_hooks
