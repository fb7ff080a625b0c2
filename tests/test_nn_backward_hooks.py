"""Module full backward hooks: the gradients a layer receives and passes on."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_full_backward_hook_sees_the_layers_input_and_output_gradients():
    layer = nn.Linear(3, 2).double()
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((m, gin, gout)))
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    y = layer(x)
    weights = np.array([[1.0, -2.0]])
    (y * weights).sum().backward()
    ((module, grad_input, grad_output),) = seen
    assert module is layer
    np.testing.assert_allclose(grad_output[0].numpy(), np.broadcast_to(weights, (4, 2)))
    np.testing.assert_allclose(grad_input[0].numpy(), grad_output[0].numpy() @ layer.weight.numpy())
    np.testing.assert_allclose(x.grad.numpy(), grad_input[0].numpy())


def test_input_gradient_is_the_layers_share_when_the_input_also_feeds_elsewhere():
    layer = nn.Linear(2, 2).double()
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gin[0].numpy().copy()))
    x = cr.tensor(np.ones((1, 2)), requires_grad=True)
    (layer(x).sum() + (x * 100).sum()).backward()
    np.testing.assert_allclose(seen[0], layer.weight.numpy().sum(axis=0, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), seen[0] + 100)


def test_hook_runs_with_none_for_inputs_that_need_no_gradient_and_can_be_removed():
    layer = nn.Linear(2, 1)
    seen = []
    handle = layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gin))
    layer(cr.tensor(np.ones((3, 2), np.float32))).sum().backward()
    assert seen == [(None,)]
    handle.remove()
    layer(cr.tensor(np.ones((3, 2), np.float32))).sum().backward()
    assert len(seen) == 1


def test_backward_hook_must_not_return_a_value():
    layer = nn.Linear(2, 1)
    layer.register_full_backward_hook(lambda m, gin, gout: gout)
    with pytest.raises(RuntimeError, match="must return None"):
        layer(cr.tensor(np.ones((3, 2), np.float32))).sum().backward()


def test_backward_hooks_match_torch():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    reference = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    reference.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    ours, theirs = [], []
    for layer, ref in zip(model, reference):
        layer.register_full_backward_hook(lambda m, gin, gout: ours.append(gin[0].numpy().copy()))
        ref.register_full_backward_hook(lambda m, gin, gout: theirs.append(gin[0].numpy().copy()))
    x = np.random.default_rng(1).standard_normal((5, 3))
    model(cr.tensor(x, requires_grad=True)).sum().backward()
    reference(torch.tensor(x, requires_grad=True)).sum().backward()
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10)
