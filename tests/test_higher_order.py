"""create_graph=True: the backward pass records itself, so gradients can be differentiated.

Worked examples with known derivatives, the engine's bookkeeping in that mode (leaves, retained
graphs, hooks, custom Functions), the errors that keep a graph from being dropped silently, and
Hessians against PyTorch's where it is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import autograd


def leaf(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_tanh_has_first_second_and_third_derivatives():
    x = leaf([-1.3, -0.2, 0.0, 0.7, 2.1])
    t = np.tanh(x.detach().numpy())
    (d1,) = autograd.grad(F.tanh(x).sum(), x, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = autograd.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.detach().numpy(), 1 - t**2)
    np.testing.assert_allclose(d2.detach().numpy(), -2 * t * (1 - t**2))
    np.testing.assert_allclose(d3.numpy(), -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    w = leaf([[0.5, -1.0], [2.0, 0.25]])
    x = leaf([1.0, -2.0])
    loss = ((x @ w) ** 2).sum()
    loss.backward(create_graph=True)
    assert w.grad.requires_grad
    penalty = (w.grad**2).sum()  # an input-gradient style penalty on the weights' gradient
    w.grad = None
    penalty.backward()
    # loss = Σ_j (Σ_i x_i w_ij)²: ∂loss/∂w_ij = 2 x_i y_j; penalty = Σ 4 x_i² y_j²
    y = x.detach().numpy() @ w.detach().numpy()
    xs = x.detach().numpy()
    expected = 8 * np.outer(xs, y) * (xs**2).sum()
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_create_graph_retains_the_graph_by_default_as_pytorch():
    x = leaf([0.3, 0.9])
    y = F.exp(x).sum()
    autograd.grad(y, x, create_graph=True)
    (again,) = autograd.grad(y, x)  # would raise if the first pass had freed the graph
    np.testing.assert_allclose(again.numpy(), np.exp([0.3, 0.9]))


def test_gradients_accumulate_out_of_place_with_create_graph():
    x = leaf([2.0])
    (x**2).sum().backward(create_graph=True)
    first = x.grad
    (x**3).sum().backward(create_graph=True)
    np.testing.assert_allclose(first.detach().numpy(), [4.0])  # not written in place
    np.testing.assert_allclose(x.grad.detach().numpy(), [4.0 + 12.0])


def test_a_hook_sees_and_may_replace_the_gradient_tensor():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.requires_grad) or g * 3)
    (g,) = autograd.grad((x**2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [6.0, 12.0])
    assert seen == [True]


def test_a_ctx_style_custom_function_is_differentiated_twice_through_its_tensor_backward():
    class Cube(autograd.Function, register=False):
        op_name = "tests.CubeCtx"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    x = leaf([0.5, -2.0])
    (g,) = autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([0.5, -2.0]))


def test_numpy_calls_on_tensors_run_chainrule_ops():
    x = leaf([0.5, 1.5])
    y = np.exp(x) * np.ones(2) + np.where(x.detach() > 1.0, x, 0.0)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.5]) + [0.0, 1.0])


def test_a_numpy_function_without_a_mapping_refuses_a_tensor_that_requires_grad():
    with pytest.raises(TypeError, match="numpy.argsort has no differentiable chainrule mapping"):
        np.argsort(leaf([2.0, 1.0]))
    np.testing.assert_array_equal(np.argsort(cr.tensor([2.0, 1.0])), [1, 0])  # no grad: fine


def test_converting_a_tensor_to_an_array_inside_a_graph_backward_raises():
    class Careless(cr.Function, register=False):
        """d x/dx = 1 (but its backward copies the gradient into an array)."""

        op_name = "tests.Careless"

        def forward(self, x):
            return x.copy()

        def backward(self, grad):
            out = np.zeros(grad.shape)
            out[...] = grad  # drops the graph of grad: refused in create_graph mode
            return (out,)

    x = leaf([1.0])
    y = (Careless.apply(x) * x).sum()
    with pytest.raises(TypeError, match="converted to a NumPy array inside a create_graph"):
        autograd.grad(y, x, create_graph=True)
    (g,) = autograd.grad(Careless.apply(x).sum(), x)  # first order: arrays, as before
    np.testing.assert_array_equal(g.numpy(), [1.0])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class FrozenSquare(cr.Function, register=False):
        """y = x³;  dy/dx = 3x², with x² kept as Python floats: right at first order only."""

        op_name = "tests.FrozenSquare"

        def forward(self, x):
            self.shape, self.square = x.shape, (x**2).tolist()  # lost to any graph
            return x**3

        def backward(self, grad):
            return (grad * 3 * np.reshape(np.array(self.square), self.shape),)

    x = leaf([0.4, -1.1])
    assert cr.gradcheck(FrozenSquare.apply, [x])
    with pytest.raises(cr.GradcheckError, match="with respect to input 0"):
        cr.gradgradcheck(FrozenSquare.apply, [x])


def test_hessian_of_a_small_network_loss_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs, w0, target = (
        rng.standard_normal((5, 3)),
        rng.standard_normal((3, 4)),
        rng.standard_normal(5),
    )
    v0 = rng.standard_normal(4)

    def hessian(lib, tensor):
        w = tensor(w0, requires_grad=True)
        v = tensor(v0, requires_grad=True)
        pred = lib.tanh(tensor(xs) @ w) @ v
        loss = ((pred - tensor(target)) ** 2).mean()
        gw, gv = lib.autograd.grad(loss, (w, v), create_graph=True)
        flat = lib.cat([gw.reshape(-1), gv.reshape(-1)])
        rows = [lib.autograd.grad(flat[i], (w, v), retain_graph=True) for i in range(flat.shape[0])]
        return np.array(
            [
                np.concatenate([a.detach().numpy().ravel(), b.detach().numpy().ravel()])
                for a, b in rows
            ]
        )

    ours = hessian(cr, lambda a, **k: cr.tensor(a, dtype=cr.float64, **k))
    theirs = hessian(torch, lambda a, **k: torch.tensor(a, dtype=torch.float64, **k))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
