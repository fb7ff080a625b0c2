"""Activation modules and their functional forms: PyTorch's constructor signatures, reprs,
values and gradients (PReLU's weight gradient included), and the new functionals' worked
examples, errors and finite-difference gradients.

Parity tests run each module in float64 beside torch's, copy the state through ``state_dict``
both ways (strict), and compare the output and every gradient to 1e-10 relative. They skip
without torch; the rest do not need it.
"""

from __future__ import annotations

import inspect
import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.finite_differences import gradcheck

F = cr.functional
RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _close(ours: np.ndarray, theirs, what: str) -> None:
    want = theirs.detach().numpy()
    np.testing.assert_allclose(ours, want, rtol=RTOL, atol=ATOL, err_msg=what)


def _run_both(torch, ours, theirs, x: np.ndarray, rng: np.random.Generator) -> None:
    """Copy state both ways, then compare output, input gradient and parameter gradients."""
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xo), theirs(xt)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    _close(out.numpy(), expected, "forward values")
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    _close(xo.grad.numpy(), xt.grad, "gradient of the input")
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for name, p in ours_params.items():
        _close(p.grad.numpy(), theirs_params[name].grad, f"gradient of {name}")


# name -> (constructor args, input shape, input scale); the same args build both modules.
MODULES = {
    "SiLU": ((), (4, 5), 3.0),
    "Mish": ((), (4, 5), 3.0),
    "ReLU6": ((), (4, 5), 5.0),
    "Hardtanh": ((), (4, 5), 2.0),
    "Hardtanh-range": ((-0.5, 2.0), (4, 5), 2.0),
    "Hardswish": ((), (4, 5), 4.0),
    "Hardsigmoid-values": ((), (4, 5), 4.0),
    "SELU": ((), (4, 5), 2.0),
    "CELU": ((0.5,), (4, 5), 2.0),  # torch rounds 1/alpha to float32: keep it exact
    "LogSigmoid": ((), (4, 5), 3.0),
    "Softsign": ((), (4, 5), 3.0),
    "Softmin": ((1,), (3, 4, 2), 1.0),
    "Softmax2d": ((), (2, 3, 2, 2), 1.0),
    "Threshold": ((0.1, 20.0), (4, 5), 1.0),
    "GLU": ((), (3, 4), 1.0),
    "GLU-dim0": ((0,), (4, 3), 1.0),
    "PReLU": ((), (4, 3, 2), 1.0),
    "PReLU-channels": ((3, 0.1), (4, 3, 2), 1.0),
    "PReLU-channels-2d": ((3,), (5, 3), 1.0),
    "Tanhshrink": ((), (4, 5), 2.0),
    "Softshrink": ((), (4, 5), 1.5),
    "Softshrink-lambd": ((1.0,), (4, 5), 2.0),
    "Hardshrink": ((), (4, 5), 1.5),
    "Hardshrink-lambd": ((0.2,), (4, 5), 1.0),
    "RReLU-eval": ((0.1, 0.3), (4, 5), 1.0),
    "LeakyReLU": ((0.2,), (4, 5), 1.0),
    "ELU": ((0.5,), (4, 5), 1.0),
    "Softplus": ((2.0, 1.0), (4, 5), 1.0),
    "GELU-tanh": (("tanh",), (4, 5), 2.0),
    "LogSoftmax": ((0,), (4, 5), 1.0),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_activation_module_matches_torch_values_and_gradients(torch, name: str) -> None:
    args, shape, scale = MODULES[name]
    cls = name.split("-")[0]
    ours, theirs = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args).double()
    if cls == "PReLU":
        ours = ours.double()
        ours.weight.numpy()[:] = _rng(name).uniform(0.05, 0.5, ours.weight.shape)
    if cls == "RReLU":
        ours.eval(), theirs.eval()
    x = scale * _rng(name).standard_normal(shape)
    if name == "Hardsigmoid-values":
        # torch's float64 hardsigmoid backward uses a float32 1/6 (see the op's parity cases)
        out = ours(cr.tensor(x)).numpy()
        _close(out, theirs(torch.tensor(x)), "forward values")
        return
    _run_both(torch, ours, theirs, x, _rng(name))


REPRS = [
    ("SiLU", (True,)),
    ("Mish", (True,)),
    ("ReLU6", (True,)),
    ("ReLU", (True,)),
    ("Hardtanh", ()),
    ("Hardtanh", (-2, 2, True)),
    ("Hardswish", (True,)),
    ("Hardsigmoid", ()),
    ("SELU", (True,)),
    ("CELU", (2.0, True)),
    ("ELU", (1, True)),
    ("LeakyReLU", (0.1, True)),
    ("LogSigmoid", ()),
    ("Softsign", ()),
    ("Softmin", (1,)),
    ("Softmax", ()),
    ("LogSoftmax", (-1,)),
    ("Softmax2d", ()),
    ("Threshold", (0.1, 20)),
    ("Threshold", (1, 2.5, True)),
    ("GLU", ()),
    ("PReLU", ()),
    ("PReLU", (3, 0.1)),
    ("Tanhshrink", ()),
    ("Softshrink", ()),
    ("Hardshrink", (1,)),
    ("RReLU", ()),
    ("RReLU", (0.1, 0.2, True)),
    ("GELU", ("tanh",)),
    ("Softplus", (2, 5)),
]


@pytest.mark.parametrize(("cls", "args"), REPRS, ids=[f"{c}{a}" for c, a in REPRS])
def test_activation_module_repr_is_pytorchs(torch, cls: str, args: tuple) -> None:
    assert getattr(nn, cls)(*args).extra_repr() == getattr(torch.nn, cls)(*args).extra_repr()


def test_prelu_state_dict_moves_both_ways_with_pytorchs_names(torch) -> None:
    ours = nn.PReLU(4, init=0.3, dtype=np.float64)
    assert list(ours.state_dict()) == ["weight"] and ours.weight.shape == (4,)
    theirs = torch.nn.PReLU(4).double()
    theirs.load_state_dict({"weight": torch.from_numpy(ours.state_dict()["weight"])})
    assert theirs.weight.detach().numpy().tolist() == [0.3] * 4


FUNCTIONALS = {
    "threshold": (lambda f, x: f.threshold(x, 0.2, -3.0), (3, 4)),
    "softshrink": (lambda f, x: f.softshrink(x, 0.3), (3, 4)),
    "hardshrink": (lambda f, x: f.hardshrink(x), (3, 4)),
    "tanhshrink": (lambda f, x: f.tanhshrink(x), (3, 4)),
    "rrelu-eval": (lambda f, x: f.rrelu(x, 0.2, 0.4), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_functional_matches_torch_values_and_gradients(torch, name: str) -> None:
    fn, shape = FUNCTIONALS[name]
    rng = _rng(name)
    x = 1.5 * rng.standard_normal(shape)
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = fn(F, xo), fn(torch.nn.functional, xt)
    _close(out.numpy(), expected, "forward values")
    g = rng.standard_normal(shape)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    _close(xo.grad.numpy(), xt.grad, "gradient of the input")


@pytest.mark.parametrize(
    ("shape", "channels"), [((4, 3, 2, 2), 3), ((4, 3), 3), ((5,), 1), ((), 1), ((2, 3), 1)]
)
def test_functional_prelu_gives_pytorchs_gradients_to_input_and_weight(torch, shape, channels):
    rng = _rng(f"prelu{shape}")
    x, w = rng.standard_normal(shape), rng.uniform(0.1, 0.5, channels)
    xo, wo = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, expected = F.prelu(xo, wo), torch.nn.functional.prelu(xt, wt)
    _close(out.numpy(), expected, "forward values")
    g = rng.standard_normal(shape)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    _close(xo.grad.numpy(), xt.grad, "gradient of the input")
    _close(wo.grad.numpy(), wt.grad, "gradient of the weight")


def test_softmax_modules_without_dim_take_pytorchs_implicit_axis_with_its_warning(torch):
    x = _rng("implicit").standard_normal((2, 3, 4))
    for cls in ("Softmax", "Softmin", "LogSoftmax"):
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ours = getattr(nn, cls)()(cr.tensor(x)).numpy()
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            theirs = getattr(torch.nn, cls)()(torch.tensor(x))
        _close(ours, theirs, cls)


# ----- without torch ---------------------------------------------------------------------------


def test_shrinks_and_threshold_on_hand_computed_values() -> None:
    x = cr.tensor([-2.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0])
    assert F.softshrink(x, 0.5).tolist() == [-1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5]
    assert F.hardshrink(x, 0.25).tolist() == [-2.0, -0.5, 0.0, 0.0, 0.0, 0.5, 1.0]
    assert F.threshold(x, 0.25, 9.0).tolist() == [9.0] * 5 + [0.5, 1.0]
    assert F.tanhshrink(cr.tensor([0.0])).tolist() == [0.0]


def test_prelu_slopes_each_channel_by_its_own_weight() -> None:
    x = cr.tensor(np.array([[-1.0, -2.0], [3.0, -4.0]]))
    layer = nn.PReLU(2)
    layer.weight.numpy()[:] = [0.5, 0.25]
    out = layer(x)
    assert out.tolist() == [[-0.5, -0.5], [3.0, -1.0]]
    out.sum().backward()
    # d out / d weight_c = Σ of the negative inputs of channel c
    assert layer.weight.grad.tolist() == [-1.0, -6.0]


def test_prelu_starts_at_init_in_the_requested_dtype_and_refuses_other_devices() -> None:
    layer = nn.PReLU(3, init=0.1, dtype=np.float64)
    assert layer.weight.dtype == np.float64 and layer.weight.tolist() == [0.1] * 3
    assert nn.PReLU().weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="nn.PReLU"):
        nn.PReLU(device="cuda")


def test_prelu_refuses_a_weight_that_fits_no_channel_count() -> None:
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 3"):
        F.prelu(cr.ones(4, 3), cr.ones(2))
    with pytest.raises(RuntimeError, match="scalar or 1D tensor, but got: ndim = 2"):
        F.prelu(cr.ones(4, 3), cr.ones(1, 3))


def test_rrelu_draws_slopes_between_the_bounds_in_training_and_uses_their_mean_in_eval():
    x = cr.tensor(-np.ones(2000))
    layer = nn.RReLU(0.1, 0.3, generator=0)
    slopes = -layer(x).numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.01
    assert np.allclose(-layer.eval()(x).numpy(), 0.2)
    assert F.rrelu(cr.tensor([2.0]), training=True).tolist() == [2.0]


def test_rrelu_gradient_is_the_drawn_slope_where_the_input_is_not_positive() -> None:
    x = cr.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True, generator=np.random.default_rng(3))
    out.sum().backward()
    slope = -out.numpy()[0]
    assert (
        x.grad.numpy()[0] == slope and 0.1 <= x.grad.numpy()[1] <= 0.3 and x.grad.numpy()[2] == 1.0
    )


def test_bad_activation_arguments_are_refused_with_pytorchs_words() -> None:
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        F.rrelu(cr.ones(2), 0.5, 0.2)
    with pytest.raises(RuntimeError, match="softshrink: lambda must be in range"):
        F.softshrink(cr.ones(2), -1.0)
    with pytest.raises(ValueError, match="max_val .* must be greater than min_val"):
        nn.Hardtanh(1.0, 0.0)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(cr.ones(2, 2))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.threshold(x, 0.1, 2.0),
        lambda x: F.softshrink(x, 0.3),
        lambda x: F.hardshrink(x, 0.3),
        F.tanhshrink,
        lambda x: F.rrelu(x, training=True, generator=np.random.default_rng(0)),
    ],
    ids=["threshold", "softshrink", "hardshrink", "tanhshrink", "rrelu-training"],
)
def test_new_activation_gradients_pass_finite_differences(fn) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    x = np.sign(x) * (np.abs(x) + 0.2)  # away from every kink
    gradcheck(fn, [cr.tensor(x, requires_grad=True)])


def test_prelu_gradients_pass_finite_differences_for_input_and_weight() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 2))
    x = np.sign(x) * (np.abs(x) + 0.2)
    w = cr.tensor(rng.uniform(0.1, 0.5, 3), requires_grad=True)
    gradcheck(F.prelu, [cr.tensor(x, requires_grad=True), w])


def test_inplace_modules_compute_a_new_tensor_and_leave_the_input_alone() -> None:
    x = cr.tensor([-1.0, 2.0])
    for layer in (nn.ReLU(True), nn.SiLU(inplace=True), nn.Hardtanh(inplace=True)):
        out = layer(x)
        assert out is not x and x.tolist() == [-1.0, 2.0]


def test_every_activation_module_keeps_the_input_shape_except_glu() -> None:
    x = cr.tensor(np.random.default_rng(0).standard_normal((2, 4, 3)))
    for cls in ("SiLU", "Mish", "ReLU6", "Hardswish", "SELU", "CELU", "Softsign", "Tanhshrink"):
        assert getattr(nn, cls)()(x).shape == (2, 4, 3)
    assert nn.GLU(1)(x).shape == (2, 2, 3)


SIGNED = (
    "SiLU Mish ReLU6 Hardtanh Hardswish Hardsigmoid SELU CELU Softmin Threshold GLU PReLU "
    "Softshrink Hardshrink RReLU ReLU LeakyReLU ELU Softplus Softmax LogSoftmax GELU"
).split()


@pytest.mark.parametrize("cls", SIGNED)
def test_activation_constructor_takes_pytorchs_parameters_in_order(torch, cls) -> None:
    def params(init):
        return [
            (k, v.default)
            for k, v in inspect.signature(init).parameters.items()
            if k != "self" and v.kind is not inspect.Parameter.KEYWORD_ONLY
        ]

    assert params(getattr(nn, cls).__init__) == params(getattr(torch.nn, cls).__init__)


def test_hardtanh_takes_pytorchs_deprecated_keywords_with_its_warning(torch) -> None:
    with pytest.warns(FutureWarning) as theirs:
        expected = torch.nn.Hardtanh(min_value=-2.0, max_value=3.0)
    with pytest.warns(FutureWarning) as ours:
        layer = nn.Hardtanh(min_value=-2.0, max_value=3.0)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert layer.extra_repr() == expected.extra_repr()


INPLACE = {
    "relu_": (),
    "leaky_relu_": (0.2,),
    "elu_": (0.5,),
    "celu_": (0.5,),
    "selu_": (),
    "hardtanh_": (-0.5, 0.75),
    "threshold_": (0.1, -2.0),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_functional_writes_into_its_input_and_backpropagates_as_torch(torch, name):
    args = INPLACE[name]
    x = 1.5 * _rng(name).standard_normal((3, 4))
    a, at = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    b, bt = a * 1.0, at * 1.0
    out, expected = getattr(F, name)(b, *args), getattr(torch.nn.functional, name)(bt, *args)
    assert out is b and expected is bt
    _close(b.numpy(), bt, "values written in place")
    b.sum().backward()
    bt.sum().backward()
    _close(a.grad.numpy(), at.grad, "gradient through the in-place op")


def test_inplace_functional_refuses_a_leaf_that_requires_grad() -> None:
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu_(cr.tensor([1.0], requires_grad=True))
    x = cr.tensor([-1.0, 2.0])
    assert F.rrelu_(x) is x and x.tolist() == pytest.approx([-(1 / 8 + 1 / 3) / 2, 2.0])
