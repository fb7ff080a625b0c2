"""autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) and chainrule.func (grad,
grad_and_value, vjp, jvp, jacrev, hessian, functional_call): worked examples with known
derivatives, and equality with PyTorch's on test functions and a small MLP's loss."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.autograd.functional as AF
from chainrule import func

RNG = np.random.default_rng(7)
X0, Y0, V0 = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal(3)


def t(values):
    return cr.tensor(np.asarray(values, dtype=np.float64))


def test_hessian_of_a_quadratic_form_is_the_symmetrised_matrix():
    a = RNG.standard_normal((3, 3))
    h = AF.hessian(lambda x: x @ t(a) @ x, t(X0))
    np.testing.assert_allclose(h.numpy(), a + a.T)


def test_jacobian_of_an_elementwise_map_is_diagonal():
    j = AF.jacobian(lambda x: cr.sin(x), t(X0))
    np.testing.assert_allclose(j.numpy(), np.diag(np.cos(X0)))


def test_jvp_and_vjp_are_the_two_products_with_the_jacobian():
    m = RNG.standard_normal((2, 3))
    _, ju = AF.jvp(lambda x: t(m) @ x, t(X0), t(V0))
    _, vj = AF.vjp(lambda x: t(m) @ x, t(X0), t([1.0, -2.0]))
    np.testing.assert_allclose(ju.numpy(), m @ V0)
    np.testing.assert_allclose(vj.numpy(), np.array([1.0, -2.0]) @ m)


def test_results_are_detached_unless_create_graph():
    x = t(X0).requires_grad_()
    assert not AF.hessian(lambda x: (x**3).sum(), x).requires_grad
    h = AF.hessian(lambda x: (x**3).sum(), x, create_graph=True)
    (g,) = cr.autograd.grad(h.sum(), x)  # d/dx Σ diag(6x) = 6
    np.testing.assert_allclose(g.numpy(), 6.0)


def test_strict_refuses_an_output_independent_of_an_input():
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda x, y: x * 2, (t(X0), t(X0)), strict=True)
    j = AF.jacobian(lambda x, y: x * 2, (t(X0), t(X0)))
    np.testing.assert_array_equal(j[1].numpy(), np.zeros((3, 3)))


def test_func_grad_nests_to_any_order():
    f = lambda x: x**4  # noqa: E731
    d3 = func.grad(func.grad(func.grad(f)))
    assert d3(cr.tensor(1.5, dtype=cr.float64)).item() == pytest.approx(24 * 1.5)


def test_func_grad_and_value_with_aux_and_argnums():
    def f(x, y):
        return (x * y).sum(), "aux"

    (gx, gy), (value, aux) = func.grad_and_value(f, argnums=(0, 1), has_aux=True)(t(X0), t(V0))
    np.testing.assert_allclose(gx.numpy(), V0)
    np.testing.assert_allclose(gy.numpy(), X0)
    assert value.item() == pytest.approx(X0 @ V0) and aux == "aux"


def test_functional_call_uses_the_given_parameters_and_restores_the_module():
    model = cr.nn.Linear(3, 2).double()
    before = model.weight.detach().numpy().copy()
    params = {"weight": t(np.ones((2, 3))), "bias": t([1.0, -1.0])}
    out = func.functional_call(model, params, (t(X0),))
    np.testing.assert_allclose(out.numpy(), X0.sum() + np.array([1.0, -1.0]))
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
    assert isinstance(model.weight, cr.nn.Parameter)
    with pytest.raises(RuntimeError, match="unexpected keys"):
        func.functional_call(model, {"wieght": t(np.ones((2, 3)))}, (t(X0),))


def _cases(lib):
    tensor = lambda a: lib.tensor(a, dtype=lib.float64)  # noqa: E731
    return {
        "polynomial": (lambda x: (x**3 - 2 * x * x).sum(), (tensor(X0),)),
        "two inputs": (
            lambda x, y: (lib.tanh(y @ x) ** 2).sum() + (x * x).sum(),
            (tensor(X0), tensor(Y0)),
        ),
        "softmax entropy": (
            lambda x: -(lib.softmax(x, dim=0) * lib.log_softmax(x, dim=0)).sum(),
            (tensor(X0),),
        ),
    }


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _flat(v)]
    return [value.detach().numpy()]


@pytest.mark.parametrize("name", ["polynomial", "two inputs", "softmax entropy"])
@pytest.mark.parametrize("transform", ["jacobian", "hessian", "hvp", "vhp", "vjp", "jvp"])
def test_autograd_functional_matches_pytorch(transform, name):
    torch = pytest.importorskip("torch")
    results = []
    for lib, module in ((cr, AF), (torch, torch.autograd.functional)):
        f, inputs = _cases(lib)[name]
        if transform in ("hvp", "vhp", "jvp"):
            v = tuple(lib.ones_like(x) * 0.5 for x in inputs)
            results.append(getattr(module, transform)(f, inputs, v))
        elif transform == "vjp":
            results.append(module.vjp(f, inputs, lib.tensor(1.5, dtype=lib.float64)))
        elif transform == "jacobian":
            results.append(
                module.jacobian(lambda *xs, f=f, lib=lib: lib.stack([f(*xs), f(*xs) ** 2]), inputs)
            )
        else:
            results.append(module.hessian(f, inputs))
    ours, theirs = _flat(results[0]), _flat(results[1])
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside torch.func's import
def test_func_transforms_match_torch_func():
    torch = pytest.importorskip("torch")
    out = []
    for lib, fn in ((cr, func), (torch, torch.func)):
        x = lib.tensor(X0, dtype=lib.float64)
        f = lambda x, lib=lib: (lib.sin(x) * x**2).sum()  # noqa: E731
        out.append(
            [fn.grad(f)(x), fn.hessian(f)(x), fn.jacrev(lambda x, lib=lib: lib.tanh(x) * x)(x)]
        )
    for a, b in zip(*out):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss_name", ["mse_loss", "cross_entropy"])
def test_hessian_vector_product_of_an_mlp_loss_matches_pytorch(loss_name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
    layers = [
        rng.standard_normal((6, 5)) * 0.5,
        rng.standard_normal(5),
        rng.standard_normal((5, 4)),
        rng.standard_normal(4),
    ]
    vec = [rng.standard_normal(p.shape) for p in layers]
    products = []
    for lib, module in ((cr, AF), (torch, torch.autograd.functional)):
        tensor = lambda a, lib=lib: lib.tensor(a, dtype=lib.float64)  # noqa: E731

        def loss(w1, b1, w2, b2, lib=lib, tensor=tensor):
            hidden = lib.tanh(tensor(x) @ w1 + b1)
            logits = hidden @ w2 + b2
            if loss_name == "mse_loss":
                return lib.nn.functional.mse_loss(logits, tensor(np.eye(4)[y]))
            return lib.nn.functional.cross_entropy(logits, lib.tensor(y))

        _, hv = module.hvp(loss, tuple(tensor(p) for p in layers), tuple(tensor(v) for v in vec))
        products.append(hv)
    for a, b in zip(*products):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
