"""The dropout family: F.dropout's PyTorch signature, channel-wise dropout (1d/2d/3d), alpha
and feature-alpha dropout, their layers, reprs, warnings and errors.

Masks come from chainrule's generator, so they never equal torch's: the tests pin down the
statistics, the exact scaling, the shape of what is dropped together, and exact equality
with PyTorch's formula applied to our mask. Comparisons with torch skip without it.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.finite_differences import gradcheck

F = cr.functional
SELU_SATURATION = 1.7580993408473766


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


FUNCTIONS = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]
LAYERS = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


@pytest.mark.parametrize("name", [*FUNCTIONS, "feature_alpha_dropout"])
def test_functional_signature_is_pytorchs_with_generator_keyword_only(torch, name) -> None:
    ours = inspect.signature(getattr(F, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters
    positional = [k for k, v in ours.items() if v.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == list(theirs)
    assert [ours[k].default for k in positional[1:]] == [theirs[k].default for k in positional[1:]]
    assert ours["generator"].kind is inspect.Parameter.KEYWORD_ONLY


def test_dropout_takes_inplace_fourth_and_refuses_a_positional_generator() -> None:
    x = cr.ones(10)
    assert F.dropout(x, 0.5, False, True) is x
    with pytest.raises(TypeError):
        F.dropout(x, 0.5, True, False, np.random.default_rng(0))


@pytest.mark.parametrize("name", LAYERS)
def test_layer_repr_and_default_p_are_pytorchs(torch, name) -> None:
    assert getattr(nn, name)().extra_repr() == getattr(torch.nn, name)().extra_repr()
    assert (
        getattr(nn, name)(0.2, True).extra_repr() == getattr(torch.nn, name)(0.2, True).extra_repr()
    )


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_a_probability_outside_zero_one_is_refused_in_pytorchs_words(torch, p) -> None:
    with pytest.raises(ValueError) as theirs:
        torch.nn.Dropout2d(p)
    for make in (lambda: nn.Dropout2d(p), lambda: F.dropout(cr.ones(2), p), lambda: nn.Dropout(p)):
        with pytest.raises(ValueError) as ours:
            make()
        assert str(ours.value) == str(theirs.value)


def test_dropout1d_refuses_other_ranks_in_pytorchs_words(torch) -> None:
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.dropout1d(torch.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError) as ours:
        F.dropout1d(cr.ones(2, 3, 4, 5))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("dropout2d", (2, 3, 4)), ("dropout2d", (2, 3, 2, 2, 2)), ("dropout3d", (2, 3, 4))],
)
def test_channel_dropout_warns_as_pytorch_for_unexpected_ranks(torch, name, shape) -> None:
    with pytest.warns(UserWarning) as theirs:
        getattr(torch.nn.functional, name)(torch.ones(shape))
    with pytest.warns(UserWarning) as ours:
        getattr(F, name)(cr.ones(*shape))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


def test_channel_dropout_does_not_warn_for_the_ranks_it_is_meant_for() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(cr.ones(2, 3, 4, 4))
        F.dropout3d(cr.ones(3, 2, 2, 2))
        F.dropout1d(cr.ones(3, 4))


# ----- without torch ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "shape", "together"),
    [
        (F.dropout1d, (40, 30, 7), (0, 1)),
        (F.dropout1d, (300, 7), (0,)),
        (F.dropout2d, (40, 30, 3, 4), (0, 1)),
        (F.dropout3d, (40, 30, 2, 2, 3), (0, 1)),
        (F.dropout3d, (300, 2, 2, 3), (0,)),
    ],
    ids=["1d", "1d-unbatched", "2d", "3d", "3d-unbatched"],
)
def test_channel_dropout_zeroes_whole_channels_at_rate_p_and_scales_the_rest(fn, shape, together):
    p = 0.3
    out = fn(cr.ones(*shape, dtype=cr.float64), p, generator=0).numpy()
    rest = tuple(range(len(together), len(shape)))
    per_channel = out.reshape(out.shape[: len(together)] + (-1,))
    first = per_channel[..., :1]
    assert np.all(per_channel == first), "a channel is dropped or kept as a whole"
    assert set(np.unique(first)) <= {0.0, 1 / (1 - p)}
    dropped = (first == 0).mean()
    count = first.size
    assert abs(dropped - p) < 4 * math.sqrt(p * (1 - p) / count)
    assert rest  # the spatial axes share each draw


def test_dropout2d_gradient_is_the_scaled_channel_mask() -> None:
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 5, 2, 3)), requires_grad=True)
    out = F.dropout2d(x, 0.4, generator=1)
    out.backward(np.ones(out.shape))
    kept = out.numpy() != 0
    np.testing.assert_array_equal(x.grad.numpy(), kept / 0.6)
    np.testing.assert_allclose(out.numpy(), x.numpy() * kept / 0.6, rtol=0, atol=0)


def test_alpha_dropout_sends_dropped_elements_to_one_value_and_rescales_the_kept() -> None:
    p = 0.2
    x = np.random.default_rng(1).standard_normal((50, 40))
    out = F.alpha_dropout(cr.tensor(x), p, training=True, generator=3).numpy()
    keep = np.random.default_rng(3).random(x.shape) >= p  # the same draw, read back
    a = 1 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
    np.testing.assert_allclose(out[keep], a * x[keep] + SELU_SATURATION * a * p, rtol=1e-14)
    np.testing.assert_allclose(out[~keep], -SELU_SATURATION * a * (1 - p), rtol=1e-14)
    assert abs((~keep).mean() - p) < 0.03


def test_alpha_dropout_equals_torchs_arithmetic_on_the_same_mask(torch) -> None:
    p = 0.3
    x = np.random.default_rng(2).standard_normal((2, 6, 3, 3))
    for fn, feature in ((F.alpha_dropout, False), (F.feature_alpha_dropout, True)):
        gen = np.random.default_rng(5)
        ours = fn(cr.tensor(x), p, True, generator=gen).numpy()
        # The same draw, read back: PyTorch's _dropout_impl on that keep-mask.
        shape = x.shape[:2] + (1, 1) if feature else x.shape
        keep = torch.from_numpy((np.random.default_rng(5).random(shape) >= p).astype(np.float64))
        a = 1.0 / math.sqrt((SELU_SATURATION**2 * p + 1) * (1 - p))
        b = keep.add(-1).mul_(SELU_SATURATION * a).add_(SELU_SATURATION * a * p)
        expected = torch.from_numpy(x) * keep.mul(a) + b
        np.testing.assert_array_equal(ours, expected.numpy())


def test_alpha_dropout_keeps_zero_mean_and_unit_variance() -> None:
    x = np.random.default_rng(4).standard_normal(200_000)
    for p in (0.1, 0.5):
        out = F.alpha_dropout(cr.tensor(x), p, training=True, generator=0).numpy()
        assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.02


def test_feature_alpha_dropout_drops_whole_channels() -> None:
    out = F.feature_alpha_dropout(cr.zeros(30, 20, 4, dtype=cr.float64), 0.5, True, generator=0)
    channels = out.numpy().reshape(600, 4)
    assert np.all(channels == channels[:, :1]) and len(np.unique(channels)) == 2


def test_alpha_dropouts_are_the_identity_by_default_and_in_eval() -> None:
    x = cr.ones(3, 4)
    assert F.alpha_dropout(x, 0.5) is x and F.feature_alpha_dropout(x, 0.5) is x
    assert nn.AlphaDropout(0.5).eval()(x) is x
    assert nn.FeatureAlphaDropout(0.5).eval()(x) is x


@pytest.mark.parametrize("name", FUNCTIONS[:4])
def test_p_one_gives_zeros_and_zero_gradient_and_p_zero_the_input(name) -> None:
    x = cr.tensor(np.ones((2, 3, 2, 2)), requires_grad=True)
    fn = getattr(F, name) if name != "dropout1d" else (lambda t, p: F.dropout1d(t[..., 0], p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout3d's rank warning
        out = fn(x, 1.0)
        assert fn(x, 0.0) is x or name == "dropout1d"
    assert not out.numpy().any()
    out.sum().backward()
    assert not x.grad.numpy().any()


def test_layers_draw_from_their_own_seeded_generator_and_follow_manual_seed() -> None:
    x = cr.ones(8, 6, 3, 3)
    a, b = nn.Dropout2d(0.5, generator=7), nn.Dropout2d(0.5, generator=7)
    first = a(x).numpy()
    np.testing.assert_array_equal(b(x).numpy(), first)
    assert not np.array_equal(a(x).numpy(), first)
    layer = nn.AlphaDropout(0.5)
    cr.manual_seed(3)
    again = layer(x).numpy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(layer(x).numpy(), again)


def test_channel_dropout_gradient_passes_finite_differences() -> None:
    x = cr.tensor(np.random.default_rng(0).standard_normal((2, 3, 2)), requires_grad=True)
    gradcheck(lambda t: F.dropout1d(t, 0.5, generator=4), [x])
    gradcheck(lambda t: F.feature_alpha_dropout(t, 0.5, True, generator=4), [x])
