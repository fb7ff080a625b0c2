"""Second derivatives of resampling, embeddings, attention and the recurrent layers against
PyTorch (float64).

For each function ``f`` of float64 inputs on random shapes (tests/double_backward_support.py):
``g = grad(f, inputs, v, create_graph=True)`` and ``h = grad(Σ g·w, inputs)`` in both libraries,
every first and second derivative (cross terms included) to 1e-10. The linear moves
(interpolate, pixel_shuffle, embedding, embedding_bag) run cubed, so that ``h`` is not 0.

Where PyTorch itself has no double backward, the reference is PyTorch's own composition of
ops that have one: embedding_bag (``_embedding_bag_backward`` has no derivative) is compared
with ``F.embedding`` and per-bag sums, means and maxes, and its first derivatives with the
native op too; multi-head attention without weights runs PyTorch's math kernel (its flash CPU
kernel has no double backward). The recurrent modules hold PyTorch's weights, passed as inputs
through ``functional_call``, so ``g`` and ``h`` reach every parameter. Cases cover the other
design points: the sorted-runs path of the embedding backward, and embedding's frequency
scaling, whose second derivative follows a different convention in the two libraries (pinned
at its test).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.ops.embedding import ONE_HOT_LIMIT
from double_backward_support import compare_with_torch, second_derivatives

torch = pytest.importorskip("torch")
tF = torch.nn.functional
SEEDS = range(2)


def _compare(f: Callable[..., Any], arrays: list[np.ndarray], seed: int) -> None:
    compare_with_torch(f, arrays, seed, rtol=1e-10, atol=1e-10, allow_unused=True)


def _fn(m: Any) -> Any:
    return F if m is cr else tF


def _t(m: Any, a: Any) -> Any:
    """A constant (indices, masks, offsets) in library ``m``; None stays None."""
    return None if a is None else (cr.tensor(a) if m is cr else torch.tensor(a))


def _ints(rng: np.random.Generator, low: int, high: int, n: int) -> tuple[int, ...]:
    return tuple(int(k) for k in rng.integers(low, high, n))


# ----- interpolate and pixel shuffle -----------------------------------------------------------

# mode -> (spatial dims it takes, align_corners values)
MODES = {
    "nearest": ((1, 2, 3), (None,)),
    "nearest-exact": ((1, 2, 3), (None,)),
    "linear": ((1,), (False, True)),
    "bilinear": ((2,), (False, True)),
    "bicubic": ((2,), (False, True)),
    "trilinear": ((3,), (False, True)),
    "area": ((2,), (None,)),
}
INTERPOLATE = [
    (mode, dims, align, sizing)
    for mode, (all_dims, aligns) in MODES.items()
    for dims in all_dims
    for align in aligns
    for sizing in ("scale", "size", "recompute")
]


def _sizing(rng: np.random.Generator, spatial: tuple, sizing: str) -> dict[str, Any]:
    """``size``, or ``scale_factor`` (up or down; one for every axis or one per axis)."""
    if sizing == "size":
        return {"size": _ints(rng, 1, 8, len(spatial))}
    factors = tuple(float(s) for s in np.round(rng.uniform(0.5, 2.6, len(spatial)), 2))
    kwargs: dict[str, Any] = {"scale_factor": factors if rng.random() < 0.7 else factors[0]}
    if sizing == "recompute":
        kwargs["recompute_scale_factor"] = True
    return kwargs


def _torch_backward_shortcut(mode: str, spatial: tuple, kwargs: dict) -> bool:
    """Whether PyTorch's 1-D/3-D nearest backward would take a shortcut its forward does not
    (see the test after the next one): an axis keeping or doubling its size off that factor."""
    factor = kwargs.get("scale_factor")
    if (
        mode != "nearest"
        or len(spatial) == 2
        or factor is None
        or "recompute_scale_factor" in kwargs
    ):
        return False
    factors = factor if isinstance(factor, tuple) else (factor,) * len(spatial)
    outs = [int(np.floor(n * s)) for n, s in zip(spatial, factors)]
    return any(o in (n, 2 * n) and s != o / n for n, s, o in zip(spatial, factors, outs))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("mode", "dims", "align", "sizing"), INTERPOLATE)
def test_interpolate_second_derivative_matches_torch(mode, dims, align, sizing, seed):
    rng = np.random.default_rng(seed)
    shape = _ints(rng, 1, 3, 2) + _ints(rng, 2, 6, dims)
    kwargs = _sizing(rng, shape[2:], sizing)
    while _torch_backward_shortcut(mode, shape[2:], kwargs):
        kwargs = _sizing(rng, shape[2:], sizing)
    kwargs.update(mode=mode, align_corners=align)
    _compare(lambda m, x: _fn(m).interpolate(x, **kwargs) ** 3, [rng.standard_normal(shape)], seed)


@pytest.mark.parametrize("dims", [1, 3])
def test_nearest_gradient_is_the_adjoint_of_the_forward_where_torchs_backward_shortcuts(dims):
    """2 → 4 samples with scale_factor 2.3: the forward takes samples 0, 0, 0, 1, PyTorch's
    forward too, but PyTorch's 1-D and 3-D nearest backward kernels take the doubling shortcut
    (0, 0, 1, 1: a gradient of ones gives 2, 2). chainrule's gradient is its forward's adjoint."""
    shape, factors = (1, 1, 2) + (1,) * (dims - 1), (2.3,) + (1.0,) * (dims - 1)
    x = cr.tensor(np.arange(2.0).reshape(shape), requires_grad=True)
    y = F.interpolate(x, scale_factor=factors, mode="nearest")
    theirs = tF.interpolate(torch.tensor(x.numpy()), scale_factor=factors, mode="nearest")
    np.testing.assert_array_equal(y.numpy(), theirs.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().reshape(-1), [3.0, 1.0])


def test_nearest_2d_doubling_an_axis_repeats_each_sample_twice_as_torch():
    # PyTorch's 2-D nearest kernel doubles an axis whatever the scale factor (1-D and 3-D
    # apply the index rule: 0, 0, 0, 1 here).
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    ours = F.interpolate(cr.tensor(x), scale_factor=(2.3, 1.7), mode="nearest").numpy()
    theirs = tF.interpolate(torch.tensor(x), scale_factor=(2.3, 1.7), mode="nearest").numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours[0, 0, :, 0], [0.0, 0.0, 3.0, 3.0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ["pixel_shuffle", "pixel_unshuffle"])
def test_pixel_shuffle_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    r, c = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    lead, (h, w) = _ints(rng, 1, 3, int(rng.integers(0, 3))), _ints(rng, 1, 4, 2)
    shape = (*lead, c * r * r, h, w) if name == "pixel_shuffle" else (*lead, c, h * r, w * r)
    _compare(lambda m, x: getattr(_fn(m), name)(x, r) ** 3, [rng.standard_normal(shape)], seed)


# ----- embedding and embedding_bag -------------------------------------------------------------

EMBEDDING = {
    "plain": {},
    "padding_idx": {"padding_idx": 1},
    "negative-padding_idx": {"padding_idx": -1},
    "max_norm": {"max_norm": 1.0},
    "max_norm-l1": {"max_norm": 1.5, "norm_type": 1.0},
}


def _lookup(rng: np.random.Generator, rows: int, n_dims: int) -> np.ndarray:
    """Indices into a table of ``rows`` rows, repeats likely, of a random ``n_dims``-D shape."""
    return rng.integers(0, rows, _ints(rng, 1, 5, n_dims))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(EMBEDDING))
def test_embedding_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    rows, dim = int(rng.integers(3, 8)), int(rng.integers(1, 5))
    idx, kwargs = _lookup(rng, rows, int(rng.integers(1, 4))), EMBEDDING[name]
    weight = rng.standard_normal((rows, dim))
    _compare(lambda m, w: _fn(m).embedding(_t(m, idx), w, **kwargs) ** 3, [weight], seed)


def test_embedding_second_derivative_beyond_the_one_hot_limit_matches_torch():
    # Past ONE_HOT_LIMIT the backward sums sorted runs of indices; recorded, it must still
    # be a graph (it used to raise: np.add.reduceat has no recorded form).
    rng = np.random.default_rng(0)
    rows = 150
    idx = rng.integers(0, rows, (4, ONE_HOT_LIMIT // (4 * rows) + 1))
    assert rows * idx.size > ONE_HOT_LIMIT
    f = lambda m, w: _fn(m).embedding(_t(m, idx), w, padding_idx=3) ** 3  # noqa: E731
    _compare(f, [rng.standard_normal((rows, 3))], 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_embedding_scale_grad_by_freq_second_derivative_is_torchs_divided_by_the_count(seed):
    """Frequency scaling makes the "gradient" B·g (row i's sum divided by its count c_i) a
    convention, not a derivative. chainrule differentiates the recorded B exactly and the
    lookup's backward is B again, so its weight-weight term carries 1/c_i twice; PyTorch's
    derivative of B with respect to g is the plain lookup, so it carries 1/c_i once. For a
    pointwise function of the rows they differ by exactly c_i per row (neither is the finite
    difference of the first derivative in general: the test pins the convention)."""
    rng = np.random.default_rng(seed)
    rows = 5
    idx = _lookup(rng, rows, 2)
    weight = rng.standard_normal((rows, 3))

    def f(m, w):
        return _fn(m).embedding(_t(m, idx), w, scale_grad_by_freq=True) ** 3

    (g_ours,), (h_ours,) = second_derivatives(cr, f, [weight], np.random.default_rng(seed))
    (g_torch,), (h_torch,) = second_derivatives(torch, f, [weight], np.random.default_rng(seed))
    np.testing.assert_allclose(g_ours, g_torch, rtol=1e-10, atol=1e-10)
    counts = np.bincount(idx.reshape(-1), minlength=rows)[:, None]
    np.testing.assert_allclose(h_ours * counts, h_torch, rtol=1e-10, atol=1e-10)


# (mode, layout, padded, per-sample weights): every mode, 2-D input or offsets (with and
# without include_last_offset, empty bags among them), padding_idx or not.
BAGS = [
    (mode, layout, padded, weighted)
    for mode in ("sum", "mean", "max")
    for layout in ("2d", "offsets", "offsets-last")
    for padded in (False, True)
    for weighted in ((False, True) if mode == "sum" else (False,))
]


def _bag_layout(rng: np.random.Generator, rows: int, layout: str) -> tuple[np.ndarray, dict]:
    """Indices and the offsets arguments; ``bag`` (each index's bag) in the dict."""
    if layout == "2d":
        n_bags, length = _ints(rng, 1, 4, 2)
        idx = rng.integers(0, rows, (n_bags, length))
        return idx, {"bag": np.repeat(np.arange(n_bags), length), "n_bags": n_bags}
    n = int(rng.integers(1, 9))
    starts = np.r_[0, np.sort(rng.integers(0, n + 1, int(rng.integers(0, 4))))]
    bag = np.searchsorted(starts, np.arange(n), side="right") - 1
    offsets = np.r_[starts, n] if layout == "offsets-last" else starts
    kwargs = {"offsets": offsets, "include_last_offset": layout == "offsets-last"}
    return rng.integers(0, rows, n), {"bag": bag, "n_bags": starts.size, **kwargs}


def _torch_bag(w, psw, idx, layout: dict, mode: str, pad: int | None):
    """PyTorch's embedding_bag composed from ops with a double backward."""
    flat = idx.reshape(-1)
    rows = tF.embedding(torch.tensor(flat), w)
    if psw is not None:
        rows = rows * psw.reshape(-1, 1)
    reduce = {"sum": lambda r: r.sum(0), "mean": lambda r: r.mean(0)}
    reduce["max"] = lambda r: r.max(0).values
    outs = []
    for b in range(layout["n_bags"]):
        picks = np.flatnonzero((layout["bag"] == b) & (flat != (-1 if pad is None else pad)))
        empty = torch.zeros(w.shape[1], dtype=w.dtype)
        outs.append(reduce[mode](rows[torch.tensor(picks)]) if picks.size else empty)
    return torch.stack(outs)


def _bag_fns(idx: np.ndarray, layout: dict, mode: str, pad: int | None):
    """f(lib, weight[, per_sample_weights]) for the helper (PyTorch's side composed), and
    PyTorch's native op on the same arguments."""
    kwargs = {"mode": mode, "padding_idx": pad}
    if "include_last_offset" in layout:
        kwargs["include_last_offset"] = layout["include_last_offset"]

    def call(m, w, psw):
        offsets = _t(m, layout.get("offsets"))
        return _fn(m).embedding_bag(_t(m, idx), w, offsets, per_sample_weights=psw, **kwargs)

    def f(m, w, psw=None):
        return (call(cr, w, psw) if m is cr else _torch_bag(w, psw, idx, layout, mode, pad)) ** 3

    return f, lambda w, psw=None: call(torch, w, psw) ** 3


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("mode", "layout", "padded", "weighted"), BAGS)
def test_embedding_bag_second_derivative_matches_torch(mode, layout, padded, weighted, seed):
    rng = np.random.default_rng(seed)
    rows, dim = int(rng.integers(3, 7)), int(rng.integers(1, 4))
    idx, bags = _bag_layout(rng, rows, layout)
    pad = int(rng.integers(0, rows)) if padded else None
    arrays = [rng.standard_normal((rows, dim))]
    if weighted:
        arrays.append(rng.standard_normal(idx.shape))
    f, native = _bag_fns(idx, bags, mode, pad)
    _compare(f, arrays, seed)
    # The first derivatives against the native op as well (same v: the helper draws it first).
    g_ours, _ = second_derivatives(cr, f, arrays, np.random.default_rng(seed))
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = native(*xs)
    v = torch.tensor(np.random.default_rng(seed).standard_normal(tuple(y.shape)))
    for ours, theirs in zip(g_ours, torch.autograd.grad(y, xs, v)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)
