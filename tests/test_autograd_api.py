"""chainrule.autograd's PyTorch face: grad(), backward(), ctx-style Function, grad modes as bare
decorators, hook handles, and grad_fn's name() and next_functions."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


def leaf(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


@pytest.fixture
def no_leaked_ops():
    """Ops defined inside a test leave chainrule.OPS as it was."""
    before = dict(cr.OPS)
    yield
    cr.OPS.clear()
    cr.OPS.update(before)


def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (gx, gw) = autograd.grad((x * w).sum(), (x, w))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_intermediate_with_grad_outputs():
    x = leaf([1.0, 2.0])
    h = x * 2
    (gh,) = autograd.grad(h * h, h, grad_outputs=cr.tensor([1.0, 0.5], dtype=cr.float64))
    np.testing.assert_allclose(gh.numpy(), [4.0, 4.0])


def test_grad_of_an_unused_input_raises_unless_allowed():
    x, y = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        autograd.grad((x * 2).sum(), (x, y), retain_graph=True)
    gx, gy = autograd.grad((x * 2).sum(), (x, y), allow_unused=True)
    assert gy is None and gx.numpy()[0] == 2.0


def test_grad_with_create_graph_returns_a_gradient_that_has_a_graph():
    x = leaf([1.0, 3.0])
    (g,) = autograd.grad((x * x * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = autograd.grad(g.sum(), x)  # d²(x³)/dx² = 6x
    np.testing.assert_allclose(h.numpy(), [6.0, 18.0])


def test_grad_of_a_non_scalar_without_grad_outputs_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        autograd.grad(x * 2, x)


def test_grad_of_an_input_that_does_not_require_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * 2).sum(), cr.tensor([1.0]))


def test_backward_with_inputs_accumulates_only_there():
    x, w = leaf([1.0]), leaf([2.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.numpy()[0] == 1.0


def test_ctx_style_function_saves_tensors_and_gets_needs_input_grad(no_leaked_ops):
    class Cube(autograd.Function):
        """y = k·x³;  dy/dx = 3k·x²."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x**3 * k

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return grad * 3 * ctx.k * x**2, None

    x = leaf([1.0, 2.0])
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward" and "Cube" in cr.OPS
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])


def test_ctx_style_function_returning_the_wrong_number_of_gradients_raises(no_leaked_ops):
    class Twice(autograd.Function):
        """y = 2x."""

        @staticmethod
        def forward(ctx, x, k):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\)"):
        Twice.apply(leaf([1.0]), 3).sum().backward()


def test_mark_non_differentiable_output_does_not_require_grad(no_leaked_ops):
    class Argmax(autograd.Function, register=False):
        """Not differentiable."""

        @staticmethod
        def forward(ctx, x):
            out = cr.tensor(float(np.argmax(x.numpy())))
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            return None

    assert not Argmax.apply(leaf([1.0, 3.0])).requires_grad


def test_grad_modes_work_bare_and_called_as_decorators():
    x = leaf([1.0])

    @cr.no_grad
    def bare():
        return (x * 2).requires_grad

    @cr.no_grad()
    def called():
        return (x * 2).requires_grad

    @autograd.inference_mode
    def inference():
        return (x * 2).requires_grad

    @cr.enable_grad
    def enabled():
        return (x * 2).requires_grad

    assert not bare() and not called() and not inference()
    with cr.no_grad():
        assert enabled()


def test_set_grad_enabled_switches_at_once_and_restores_as_a_context_manager():
    x = leaf([1.0])
    cr.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_register_hook_returns_a_removable_handle():
    x = leaf([1.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()  # twice is harmless
    (x * 2).sum().backward()
    assert calls == []


def test_register_hook_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.tensor([1.0]).register_hook(print)


def test_grad_fn_names_and_next_functions_walk_the_graph():
    w = leaf([[1.0, 2.0]])
    x = cr.tensor([[3.0], [4.0]], dtype=cr.float64)
    loss = (w @ x).sum()
    assert loss.grad_fn.name() == "SumBackward0"
    ((mm, index),) = loss.grad_fn.next_functions
    assert mm.name() == "MmBackward0" and index == 0
    (acc, _), (none, _) = mm.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is w
    assert none is None
    assert "grad_fn=<SumBackward0>" in repr(loss)


def test_variable_is_a_tensor():
    v = autograd.Variable(cr.tensor([1.0]), requires_grad=True)
    assert isinstance(v, cr.Tensor) and v.requires_grad
