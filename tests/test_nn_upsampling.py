"""F.interpolate, pixel_shuffle / pixel_unshuffle and their layers (Upsample,
UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle).

Against torch (skipped without it): float64 values and input gradients to 1e-10 relative for
every mode, with sizes and scale factors that exercise PyTorch's source-index rule (shrinking,
growing, non-integer factors, recompute_scale_factor, align_corners both ways), the reprs and
the error messages. Without torch: worked examples, the gradient as the adjoint of the forward
map, and finite differences.
"""

from __future__ import annotations

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


def _compare(torch, fn_ours, fn_theirs, x: np.ndarray, name: str) -> None:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = fn_ours(xo), fn_theirs(xt)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL)


SPATIAL = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "bicubic": 2}
SPATIAL_ND = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _cases():
    cases = []
    for mode in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"):
        ranks = [1, 2, 3] if mode.startswith("nearest") else [SPATIAL_ND[mode]]
        aligns = [None] if mode.startswith("nearest") else [False, True]
        for rank in ranks:
            for align in aligns:
                for how in ("size=2", "size=7", "scale=0.6", "scale=1.7", "scale=2", "recompute"):
                    cases.append((mode, rank, align, how))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("mode", "rank", "align", "how"), CASES, ids=[str(c) for c in CASES])
def test_interpolate_matches_torch_values_and_gradients(torch, mode, rank, align, how) -> None:
    shape = (2, 2) + (5, 4, 3)[:rank]
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    kwargs = {"mode": mode, "align_corners": align}
    if how.startswith("size"):
        kwargs["size"] = int(how[5:])
    elif how == "recompute":
        kwargs.update(scale_factor=1.7, recompute_scale_factor=True)
    else:
        kwargs["scale_factor"] = float(how[6:])
    _compare(
        torch,
        lambda t: F.interpolate(t, **kwargs),
        lambda t: torch.nn.functional.interpolate(t, **kwargs),
        x,
        str((mode, rank, align, how)),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": (7, 3), "mode": "bilinear"},
        {"scale_factor": (1.5, 0.6), "mode": "nearest"},
        {"scale_factor": (2.5, 1.3), "mode": "bicubic", "align_corners": True},
        {"size": (3, 2), "mode": "area"},
        {"size": (6, 9), "mode": "nearest-exact"},
    ],
    ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()),
)
def test_interpolate_per_axis_sizes_and_factors_match_torch(torch, kwargs) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 4))
    _compare(
        torch,
        lambda t: F.interpolate(t, **kwargs),
        lambda t: torch.nn.functional.interpolate(t, **kwargs),
        x,
        str(kwargs),
    )


LAYERS = [
    ("Upsample", {"scale_factor": 2}),
    ("Upsample", {"size": (3, 5), "mode": "bilinear"}),
    ("Upsample", {"scale_factor": (2, 1.5), "mode": "bicubic", "align_corners": True}),
    ("Upsample", {"scale_factor": 1.5, "mode": "bilinear", "recompute_scale_factor": True}),
    ("UpsamplingNearest2d", {"scale_factor": 3}),
    ("UpsamplingNearest2d", {"size": 5}),
    ("UpsamplingBilinear2d", {"size": (5, 7)}),
    ("UpsamplingBilinear2d", {"scale_factor": 2}),
]


@pytest.mark.parametrize(("cls", "kwargs"), LAYERS, ids=[f"{c}-{k}" for c, k in LAYERS])
def test_upsampling_layer_matches_torch_and_its_repr(torch, cls, kwargs) -> None:
    ours, theirs = getattr(nn, cls)(**kwargs), getattr(torch.nn, cls)(**kwargs)
    assert ours.extra_repr() == theirs.extra_repr()
    x = np.random.default_rng(1).standard_normal((2, 2, 3, 4))
    _compare(torch, ours, theirs, x, f"{cls}{kwargs}")


@pytest.mark.parametrize(
    ("fn", "factor", "shape"),
    [
        ("pixel_shuffle", 2, (2, 8, 3, 2)),
        ("pixel_shuffle", 3, (9, 2, 2)),
        ("pixel_unshuffle", 2, (2, 3, 4, 6)),
        ("pixel_unshuffle", 3, (1, 2, 1, 6, 3)),
    ],
)
def test_pixel_shuffles_match_torch(torch, fn, factor, shape) -> None:
    x = np.random.default_rng(2).standard_normal(shape)
    _compare(
        torch,
        lambda t: getattr(F, fn)(t, factor),
        lambda t: getattr(torch.nn.functional, fn)(t, factor),
        x,
        fn,
    )
    cls = "PixelShuffle" if fn == "pixel_shuffle" else "PixelUnshuffle"
    assert getattr(nn, cls)(factor).extra_repr() == getattr(torch.nn, cls)(factor).extra_repr()


BAD = [
    ((2, 2, 4), {"size": 3, "scale_factor": 2.0}),
    ((2, 2, 4), {}),
    ((2, 2, 4), {"size": 3, "align_corners": True}),
    ((2, 2, 4), {"size": 3, "recompute_scale_factor": True}),
    ((2, 2, 4, 4), {"size": (3, 3, 3)}),
    ((2, 2, 4, 4), {"scale_factor": (2.0,)}),
    ((2, 2, 4, 4), {"size": 3, "mode": "linear"}),
    ((2, 2, 4), {"size": 3, "mode": "bilinear"}),
    ((2, 2, 4, 4), {"size": (3, 2.5)}),
    ((2, 2, 4, 4), {"size": 3, "mode": "cubic"}),
]


@pytest.mark.parametrize(("shape", "kwargs"), BAD, ids=[str(k) for _, k in BAD])
def test_interpolate_refuses_bad_arguments_with_pytorchs_error(torch, shape, kwargs) -> None:
    with pytest.raises(Exception) as theirs:
        torch.nn.functional.interpolate(torch.ones(shape), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        F.interpolate(cr.ones(*shape), **kwargs)
    assert str(ours.value).split(" (got")[0] == str(theirs.value).split(" (got")[0]


@pytest.mark.parametrize(
    ("fn", "shape", "factor"),
    [
        ("pixel_shuffle", (1, 3, 2, 2), 2),
        ("pixel_shuffle", (3, 2), 2),
        ("pixel_unshuffle", (1, 1, 3, 2), 2),
        ("pixel_unshuffle", (1, 1, 2, 3), 2),
    ],
)
def test_pixel_shuffles_refuse_bad_shapes_with_pytorchs_error(torch, fn, shape, factor) -> None:
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.nn.functional, fn)(torch.ones(shape), factor)
    with pytest.raises(RuntimeError) as ours:
        getattr(F, fn)(cr.ones(*shape), factor)
    assert str(ours.value) == str(theirs.value)


# ----- without torch ---------------------------------------------------------------------------


def test_nearest_doubling_repeats_every_pixel() -> None:
    x = cr.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    out = nn.UpsamplingNearest2d(scale_factor=2)(x)
    assert out.tolist() == [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]


def test_bilinear_with_aligned_corners_spreads_the_corners_evenly() -> None:
    x = cr.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=cr.float64)
    out = nn.UpsamplingBilinear2d(scale_factor=2)(x).numpy()[0, 0]
    np.testing.assert_allclose(out[0], [1, 4 / 3, 5 / 3, 2])
    np.testing.assert_allclose(out[:, 0], [1, 5 / 3, 7 / 3, 3])


def test_linear_half_pixel_rule_clamps_before_the_first_sample() -> None:
    # source positions (d + ½)/2 − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (past the last: held)
    out = F.interpolate(cr.tensor([[[0.0, 1.0]]]), size=4, mode="linear")
    np.testing.assert_allclose(out.numpy()[0, 0], [0.0, 0.25, 0.75, 1.0])


def test_scale_factor_sets_the_step_unless_recomputed() -> None:
    x = cr.tensor([[[0.0, 1.0, 2.0]]], dtype=cr.float64)
    # size floor(3·1.5) = 4; source (d + ½)·step − ½ with step 1/1.5 from the factor, or 3/4
    # when recomputed from the sizes (the last one, 2⅛, is past the end and held at 2)
    by_factor = F.interpolate(x, scale_factor=1.5, mode="linear").numpy()[0, 0]
    recomputed = F.interpolate(x, scale_factor=1.5, mode="linear", recompute_scale_factor=True)
    np.testing.assert_allclose(by_factor, [0, 0.5, 7 / 6, 11 / 6], atol=1e-15)
    np.testing.assert_allclose(recomputed.numpy()[0, 0], [0, 0.625, 1.375, 2], atol=1e-15)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale_factor": 1.2, "mode": "nearest"},
        {"scale_factor": 1.2, "mode": "bicubic"},
        {"size": (5, 3), "mode": "bicubic", "align_corners": True},
        {"scale_factor": 0.7, "mode": "bilinear"},
        {"size": 7, "mode": "nearest-exact"},
    ],
    ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()),
)
def test_interpolate_gradient_is_the_adjoint_of_the_forward_map(kwargs) -> None:
    # ⟨interpolate(x), g⟩ = ⟨x, ∇⟩ for every x and g; torch's backward breaks this where a
    # size is unchanged but the factor is not 1 (it copies there), so ours is checked alone.
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    out = F.interpolate(x, **kwargs)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    assert np.isclose((out.numpy() * g).sum(), (x.numpy() * x.grad.numpy()).sum(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_interpolate_gradient_passes_finite_differences(mode) -> None:
    x = cr.tensor(np.random.default_rng(3).standard_normal((1, 2, 3, 2)), requires_grad=True)
    gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode=mode), [x])


def test_pixel_unshuffle_undoes_pixel_shuffle_and_places_blocks_as_documented() -> None:
    x = cr.tensor(np.arange(2 * 8 * 2 * 3, dtype=np.float64).reshape(2, 8, 2, 3))
    out = F.pixel_shuffle(x, 2)
    assert out.shape == (2, 2, 4, 6)
    # output [c, h·r + i, w·r + j] is input [c·r² + i·r + j, h, w]
    assert out.numpy()[1, 1, 2 * 1 + 1, 2 * 2 + 0] == x.numpy()[1, 1 * 4 + 1 * 2 + 0, 1, 2]
    np.testing.assert_array_equal(F.pixel_unshuffle(out, 2).numpy(), x.numpy())


def test_antialias_and_area_outside_four_dimensions_are_refused_by_name() -> None:
    with pytest.raises(NotImplementedError, match="antialias=True is not supported"):
        F.interpolate(cr.ones(1, 1, 4, 4), size=2, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="mode='area' supports 4-D input only"):
        F.interpolate(cr.ones(1, 1, 4), size=2, mode="area")


def test_upsample_stores_factors_as_floats_and_its_repr_prefers_the_factor() -> None:
    assert nn.Upsample(scale_factor=2).scale_factor == 2.0
    assert nn.Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)
    assert nn.Upsample(size=4, mode="bilinear").extra_repr() == "size=4, mode='bilinear'"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("upsample", {"scale_factor": 2, "mode": "bilinear"}),
        ("upsample_nearest", {"size": 5}),
        ("upsample_bilinear", {"scale_factor": 2}),
    ],
)
def test_deprecated_upsample_functions_warn_and_match_torch(torch, name, kwargs) -> None:
    x = np.random.default_rng(5).standard_normal((1, 2, 3, 3))
    with pytest.warns(UserWarning) as theirs:
        expected = getattr(torch.nn.functional, name)(torch.tensor(x), **kwargs)
    with pytest.warns(UserWarning) as ours:
        out = getattr(F, name)(cr.tensor(x), **kwargs)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=RTOL, atol=ATOL)
