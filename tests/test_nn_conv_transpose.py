"""Convolution layers against PyTorch in float64: ConvTranspose1d/2d (with ``output_size=``),
Conv1d/Conv2d with ``padding='same'``/``'valid'`` and every ``padding_mode``; state_dict both
ways, outputs and every gradient to 1e-10. Torch-free worked examples and errors beside them."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
RTOL, ATOL = 1e-10, 1e-12
# torch notes that 'same' with an even kernel copies the input; the numbers are what we test.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def twins(name: str, *args, **kwargs):
    """Our float64 layer and torch's, loaded from ours (strict) and checked back into ours."""
    cr.manual_seed(zlib.crc32(name.encode()))
    ours = getattr(nn, name)(*args, **kwargs, dtype=np.float64)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    back = getattr(nn, name)(*args, **kwargs, dtype=np.float64)
    back.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for k, v in back.state_dict().items():
        np.testing.assert_array_equal(v, ours.state_dict()[k])
    assert ours.extra_repr() == theirs.extra_repr()
    return ours, theirs


def run_both(ours, theirs, x, **kwargs):
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = ours(xo, **kwargs), theirs(xt, **kwargs)
    assert out.shape == tuple(want.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=RTOL, atol=ATOL)
    up = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(up)
    want.backward(torch.from_numpy(up))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    for name, p in ours.named_parameters():
        got, exp = p.grad.numpy(), dict(theirs.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(got, exp, rtol=RTOL, atol=ATOL, err_msg=name)


TRANSPOSED_2D = [
    ((4, 6, 3), {}, (2, 4, 5, 4)),
    ((4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 4, 5, 4)),
    ((4, 6, (3, 2)), {"stride": (2, 3), "groups": 2, "dilation": (2, 1)}, (1, 4, 3, 4)),
    ((2, 3, 2), {"stride": 2, "bias": False}, (2, 2, 3, 3)),
    ((3, 2, 3), {"stride": 1, "padding": 2, "output_padding": 1, "dilation": 2}, (1, 3, 4, 5)),
]


@pytest.mark.parametrize("args,kwargs,shape", TRANSPOSED_2D, ids=str)
def test_conv_transpose2d_layer_matches_torch(args, kwargs, shape):
    ours, theirs = twins("ConvTranspose2d", *args, **kwargs)
    run_both(ours, theirs, np.random.default_rng(0).standard_normal(shape))


@pytest.mark.parametrize(
    "kwargs", [{}, {"stride": 3, "padding": 1, "output_padding": 2}, {"groups": 2, "dilation": 3}]
)
def test_conv_transpose1d_layer_matches_torch(kwargs):
    ours, theirs = twins("ConvTranspose1d", 4, 2, 3, **kwargs)
    run_both(ours, theirs, np.random.default_rng(0).standard_normal((2, 4, 7)))


@pytest.mark.parametrize("size", [(9, 9), (10, 10), (2, 3, 10, 9)])
def test_output_size_picks_the_output_padding_as_torch(size):
    ours, theirs = twins("ConvTranspose2d", 3, 2, 3, stride=2)
    run_both(ours, theirs, np.random.default_rng(0).standard_normal((2, 3, 4, 4)), output_size=size)


def test_output_size_out_of_range_names_the_valid_sizes():
    layer = nn.ConvTranspose2d(1, 1, 3, stride=2)
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        layer(cr.zeros(1, 1, 4, 4), output_size=(20, 20))


@pytest.mark.parametrize("name", ["Conv1d", "Conv2d"])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", ["same", "valid", 1, 2])
def test_conv_padding_strings_and_modes_match_torch(name, mode, padding):
    # An even kernel with dilation 1 gives 'same' an odd total: the extra cell goes after.
    kernel = 4 if name == "Conv1d" else (4, 3)
    ours, theirs = twins(name, 2, 3, kernel, padding=padding, padding_mode=mode)
    shape = (2, 2, 7) if name == "Conv1d" else (2, 2, 6, 5)
    run_both(ours, theirs, np.random.default_rng(0).standard_normal(shape))


def test_conv_same_padding_with_dilation_matches_torch():
    ours, theirs = twins("Conv2d", 2, 2, (2, 3), padding="same", dilation=(3, 2))
    run_both(ours, theirs, np.random.default_rng(0).standard_normal((1, 2, 7, 6)))


@pytest.mark.parametrize("padding", ["same", "valid", 1])
def test_functional_conv_padding_strings_match_torch(padding):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((4, 1, 2, 4)), np.ones(4)
    out = F.conv2d(cr.tensor(x), cr.tensor(w), cr.tensor(b), padding=padding, groups=2)
    want = torch.nn.functional.conv2d(*map(torch.tensor, (x, w, b)), padding=padding, groups=2)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=RTOL, atol=ATOL)


def test_transposed_weight_layout_and_init_bounds_are_pytorchs():
    layer = nn.ConvTranspose2d(4, 6, (3, 2), groups=2)
    assert layer.weight.shape == (4, 3, 3, 2) and layer.bias.shape == (6,)
    bound = 1 / np.sqrt(3 * 3 * 2)  # fan_in = out/groups · kh · kw
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound


# ----- torch-free: worked examples and errors ---------------------------------------------------


def test_conv_transpose1d_worked_example():
    # Each input value stamps the kernel at stride 2: [1, 2] * [1, 10, 100] overlapping by one.
    w = cr.tensor(np.array([[[1.0, 10.0, 100.0]]]))
    y = F.conv_transpose1d(cr.tensor(np.array([[[1.0, 2.0]]])), w, stride=2)
    assert y.tolist() == [[[1.0, 10.0, 102.0, 20.0, 200.0]]]
    y = F.conv_transpose1d(cr.tensor(np.array([[[1.0, 2.0]]])), w, stride=2, padding=1)
    assert y.tolist() == [[[10.0, 102.0, 20.0]]]


def test_conv_transpose_is_the_adjoint_of_conv():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    y = rng.standard_normal((2, 4, 4, 4))
    conv = F.conv2d(cr.tensor(x), cr.tensor(w), stride=2, padding=1).numpy()
    back = F.conv_transpose2d(cr.tensor(y), cr.tensor(w), stride=2, padding=1)
    assert back.shape == x.shape
    assert np.isclose((conv * y).sum(), (x * back.numpy()).sum())


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: nn.Conv2d(1, 1, 3, padding="full"), "Invalid padding string 'full'"),
        (lambda: nn.Conv2d(1, 1, 3, 2, "same"), "not supported for strided convolutions"),
        (lambda: nn.Conv1d(1, 1, 3, padding_mode="mirror"), "padding_mode must be one of"),
        (
            lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"),
            'Only "zeros" padding mode is supported for ConvTranspose2d',
        ),
        (lambda: nn.ConvTranspose1d(1, 1, 3, padding="same"), "padding must be an integer"),
    ],
)
def test_bad_layer_settings_are_refused_with_pytorchs_words(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_other_devices_are_refused():
    with pytest.raises(RuntimeError, match="nn.ConvTranspose2d"):
        nn.ConvTranspose2d(1, 1, 3, device="cuda")
    with pytest.raises(RuntimeError, match="nn.Conv1d"):
        nn.Conv1d(1, 1, 3, device="cuda")
    assert nn.Conv2d(1, 1, 3, device="cpu").weight.shape == (1, 1, 3, 3)


def test_functional_transposed_errors():
    x = cr.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="output padding must be smaller than either stride"):
        F.conv_transpose2d(x, cr.zeros(2, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="expects 3 input channels"):
        F.conv_transpose2d(x, cr.zeros(3, 1, 3, 3))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\); expected \(2,\)"):
        F.conv_transpose2d(x, cr.zeros(2, 1, 3, 3), cr.zeros(3), groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv1d(cr.zeros(1, 1, 5), cr.zeros(1, 1, 3), stride=2, padding="same")
