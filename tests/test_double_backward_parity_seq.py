"""Second derivatives of resampling, embeddings, attention and the recurrent layers against
PyTorch (float64).

For each function ``f`` of float64 inputs on random shapes (tests/double_backward_support.py):
``g = grad(f, inputs, v, create_graph=True)`` and ``h = grad(Σ g·w, inputs)`` in both libraries,
every first and second derivative (cross terms included) to 1e-10. The linear moves
(interpolate, pixel_shuffle, embedding, embedding_bag) run cubed, so that ``h`` is not 0.

Where PyTorch has no double backward, the reference is PyTorch built from ops that have one:
embedding_bag (``_embedding_bag_backward`` has no derivative) is ``F.embedding`` with per-bag
sums, means and maxes, its first derivatives checked against the native op too; attention runs
PyTorch's math kernel (its flash CPU kernel, which it picks for some shapes and masks, has no
double backward). The recurrent modules hold PyTorch's weights, passed as inputs through
``functional_call``, so ``g`` and ``h`` reach every parameter (the fused LSTM layer and the
step-by-step cells alike). Two places where the libraries differ are pinned by their own
tests: PyTorch's nearest (1-D/3-D) and bicubic backward, which for some scale factors is not
the adjoint of its forward, and embedding's frequency scaling (a convention).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.nn import rnn_cells
from chainrule.ops.embedding import ONE_HOT_LIMIT
from double_backward_cases_seq import (
    BAGS,
    CELL_FUNCTIONS,
    EMBEDDING,
    INTERPOLATE,
    MHA,
    MHA_MODULES,
    RECURRENT,
    SDPA,
    SHORTCUTS,
    bag_fns,
    bag_layout,
    constant,
    constants,
    functional_of,
    ints,
    joined,
    lookup,
    mha_arrays,
    sizing_kwargs,
    state_shapes,
    torch_backward_shortcut,
)
from double_backward_support import compare_with_torch, second_derivatives

torch = pytest.importorskip("torch")
tF = torch.nn.functional
SEEDS = range(2)


def _compare(f: Callable[..., Any], arrays: list[np.ndarray], seed: int) -> None:
    compare_with_torch(f, arrays, seed, rtol=1e-10, atol=1e-10, allow_unused=True)


def _twins(cls: str, sizes: tuple[int, ...], kwargs: dict, seed: int):
    """PyTorch's module, chainrule's, their parameter names and PyTorch's values."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(*sizes, **kwargs, dtype=torch.float64)
    ours = getattr(cr.nn, cls)(*sizes, **kwargs, dtype=np.float64)
    names = [n for n, _ in theirs.named_parameters()]
    assert names == [n for n, _ in ours.named_parameters()]
    return theirs, ours, names, [p.detach().numpy().copy() for p in theirs.parameters()]


# ----- interpolate and pixel shuffle -----------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("mode", "dims", "align", "sizing"), INTERPOLATE)
def test_interpolate_second_derivative_matches_torch(mode, dims, align, sizing, seed):
    rng = np.random.default_rng(seed)
    shape = ints(rng, 1, 3, 2) + ints(rng, 2, 6, dims)
    kwargs = sizing_kwargs(rng, shape[2:], sizing)
    while torch_backward_shortcut(mode, shape[2:], kwargs):
        kwargs = sizing_kwargs(rng, shape[2:], sizing)
    kwargs.update(mode=mode, align_corners=align)
    _compare(
        lambda m, x: functional_of(m).interpolate(x, **kwargs) ** 3,
        [rng.standard_normal(shape)],
        seed,
    )


@pytest.mark.parametrize("name", sorted(SHORTCUTS))
def test_interpolate_gradient_is_the_adjoint_of_the_forward_where_torchs_backward_shortcuts(name):
    """E.g. 2 → 4 samples with nearest and scale_factor 2.3: the forward takes samples 0, 0, 0, 1
    (PyTorch's forward too), PyTorch's 1-D backward the halving shortcut 0, 0, 1, 1. chainrule's
    gradient is the adjoint of the forward: M·v, row j of M the output of unit input j."""
    mode, spatial, factors = SHORTCUTS[name]
    n = int(np.prod(spatial))
    units = np.eye(n).reshape(n, 1, *spatial)  # a batch of the n unit inputs

    def forward(m, x):
        return functional_of(m).interpolate(x, scale_factor=factors, mode=mode)

    matrix = forward(cr, cr.tensor(units)).numpy().reshape(n, -1)
    theirs = forward(torch, torch.tensor(units)).numpy().reshape(n, -1)
    np.testing.assert_allclose(matrix, theirs, rtol=1e-12, atol=1e-15)
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((1, 1, *spatial)), requires_grad=True)
    y = forward(cr, x)
    v = rng.standard_normal(tuple(y.shape))
    (g,) = cr.autograd.grad(y, [x], cr.tensor(v))
    np.testing.assert_allclose(
        g.numpy().reshape(-1), matrix @ v.reshape(-1), rtol=1e-12, atol=1e-12
    )


def test_nearest_2d_doubling_an_axis_repeats_each_sample_twice_as_torch():
    # PyTorch's 2-D nearest kernel doubles an axis whatever the scale factor (1-D and 3-D
    # apply the index rule: 0, 0, 0, 1 here).
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    ours = F.interpolate(cr.tensor(x), scale_factor=(2.3, 1.7), mode="nearest").numpy()
    theirs = tF.interpolate(torch.tensor(x), scale_factor=(2.3, 1.7), mode="nearest").numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours[0, 0, :, 0], [0.0, 0.0, 3.0, 3.0])


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_deprecated_upsample_second_derivative_matches_torch(name):
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match="deprecated"):
        _compare(
            lambda m, x: getattr(functional_of(m), name)(x, scale_factor=1.5) ** 3,
            [rng.standard_normal((2, 3, 4, 3))],
            0,
        )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ["pixel_shuffle", "pixel_unshuffle"])
def test_pixel_shuffle_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    r, c = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    lead, (h, w) = ints(rng, 1, 3, int(rng.integers(0, 3))), ints(rng, 1, 4, 2)
    shape = (*lead, c * r * r, h, w) if name == "pixel_shuffle" else (*lead, c, h * r, w * r)
    _compare(
        lambda m, x: getattr(functional_of(m), name)(x, r) ** 3, [rng.standard_normal(shape)], seed
    )


# ----- embedding and embedding_bag -------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(EMBEDDING))
def test_embedding_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    rows, dim = int(rng.integers(3, 8)), int(rng.integers(1, 5))
    idx, kwargs = lookup(rng, rows, int(rng.integers(1, 4))), EMBEDDING[name]
    weight = rng.standard_normal((rows, dim))
    _compare(
        lambda m, w: functional_of(m).embedding(constant(m, idx), w, **kwargs) ** 3, [weight], seed
    )


def test_embedding_second_derivative_beyond_the_one_hot_limit_matches_torch():
    # Past ONE_HOT_LIMIT the backward sums sorted runs of indices; recorded, it must still
    # be a graph (it used to raise: np.add.reduceat has no recorded form).
    rng = np.random.default_rng(0)
    rows = 150
    idx = rng.integers(0, rows, (4, ONE_HOT_LIMIT // (4 * rows) + 1))
    assert rows * idx.size > ONE_HOT_LIMIT

    def f(m, w):
        return functional_of(m).embedding(constant(m, idx), w, padding_idx=3) ** 3

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
    idx = lookup(rng, rows, 2)
    weight = rng.standard_normal((rows, 3))

    def f(m, w):
        return functional_of(m).embedding(constant(m, idx), w, scale_grad_by_freq=True) ** 3

    (g_ours,), (h_ours,) = second_derivatives(cr, f, [weight], np.random.default_rng(seed))
    (g_torch,), (h_torch,) = second_derivatives(torch, f, [weight], np.random.default_rng(seed))
    np.testing.assert_allclose(g_ours, g_torch, rtol=1e-10, atol=1e-10)
    counts = np.bincount(idx.reshape(-1), minlength=rows)[:, None]
    np.testing.assert_allclose(h_ours * counts, h_torch, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("mode", "layout", "padded", "weighted"), BAGS)
def test_embedding_bag_second_derivative_matches_torch(mode, layout, padded, weighted, seed):
    rng = np.random.default_rng(seed)
    rows, dim = int(rng.integers(3, 7)), int(rng.integers(1, 4))
    idx, bags = bag_layout(rng, rows, layout)
    pad = int(rng.integers(0, rows)) if padded else None
    arrays = [rng.standard_normal((rows, dim))]
    if weighted:
        arrays.append(rng.standard_normal(idx.shape))
    f, native = bag_fns(idx, bags, mode, pad)
    _compare(f, arrays, seed)
    # The first derivatives against the native op as well (same v: the helper draws it first).
    g_ours, _ = second_derivatives(cr, f, arrays, np.random.default_rng(seed))
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = native(*xs)
    v = torch.tensor(np.random.default_rng(seed).standard_normal(tuple(y.shape)))
    for ours, theirs in zip(g_ours, torch.autograd.grad(y, xs, v)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


# ----- attention -------------------------------------------------------------------------------


def _math_kernel() -> Any:
    """PyTorch's math attention kernel: its flash CPU kernel, which it picks for some shapes
    and masks, has no double backward."""
    return torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(SDPA))
def test_scaled_dot_product_attention_second_derivative_matches_torch(name, seed):
    (bq, bk, bv), options, float_mask = SDPA[name]
    rng = np.random.default_rng(seed)
    L, S, E, Ev = ints(rng, 1, 6, 2) + ints(rng, 1, 5, 2)
    kwargs = options(rng, L, S)
    arrays = [rng.standard_normal(s) for s in (bq + (L, E), bk + (S, E), bv + (S, Ev))]
    if float_mask:
        arrays.append(rng.standard_normal((bq[-1], 1, S)))

    def f(m, q, k, v, *mask):
        extra = constants(m, kwargs) | ({"attn_mask": mask[0]} if mask else {})
        with _math_kernel():
            return functional_of(m).scaled_dot_product_attention(q, k, v, **extra)

    _compare(f, arrays, seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(MHA))
def test_multi_head_attention_forward_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    heads, L, S, N = int(rng.integers(1, 4)), *ints(rng, 1, 5, 3)
    E = heads * int(rng.integers(1, 3))
    flags = MHA[name](rng, L, S, N, heads)
    output = flags.pop("output", 0)
    named = mha_arrays(rng, E, L, S, N, flags)
    fixed = {"in_proj_weight": None, "bias_k": None, "bias_v": None, "add_zero_attn": False}
    fixed |= {"embed_dim_to_check": E, "num_heads": heads, "dropout_p": 0.0, "training": False}

    def f(m, *xs):
        kwargs = fixed | constants(m, flags) | dict(zip(named, xs))
        with _math_kernel():
            return functional_of(m).multi_head_attention_forward(**kwargs)[output]

    _compare(f, list(named.values()), seed)


@pytest.mark.parametrize("name", sorted(MHA_MODULES))
def test_multihead_attention_module_second_derivative_matches_torch(name):
    kwargs = MHA_MODULES[name]
    rng = np.random.default_rng(len(name))
    theirs, ours, names, params = _twins("MultiheadAttention", (4, 2), kwargs, 0)
    L, S, N = ints(rng, 1, 5, 3)
    kdim, vdim = kwargs.get("kdim", 4), kwargs.get("vdim", 4)
    lead = (lambda s: (N, s)) if kwargs.get("batch_first") else (lambda s: (s, N))
    shapes = [(*lead(L), 4), (*lead(S), kdim), (*lead(S), vdim)]

    def f(m, q, k, v, *ps):
        call = cr.func.functional_call if m is cr else torch.func.functional_call
        with _math_kernel():
            out, weights = call(ours if m is cr else theirs, dict(zip(names, ps)), (q, k, v))
        return out * weights.sum()

    _compare(f, [rng.standard_normal(s) for s in shapes] + params, 0)


# ----- recurrent layers and cells --------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_second_derivative_matches_torch(name, seed):
    cls, kwargs, with_state, batched = RECURRENT[name]
    rng = np.random.default_rng(seed)
    (features, hidden), (steps, n) = ints(rng, 1, 4, 2), ints(rng, 1, 4, 2)
    hidden += 1  # ≥ 2: room for proj_size 1
    theirs, ours, names, params = _twins(cls, (features, hidden), kwargs, seed)
    batch = (n,) if batched else ()
    if cls.endswith("Cell"):
        x_shape = (*batch, features)
    elif kwargs.get("batch_first") and batched:
        x_shape = (n, steps, features)
    else:
        x_shape = (steps, *batch, features)
    states = [rng.standard_normal(s) for s in state_shapes(cls, kwargs, batch, hidden)]
    states = states if with_state else []

    def f(m, x, *rest):
        hx, ps = rest[: len(states)], rest[len(states) :]
        call = cr.func.functional_call if m is cr else torch.func.functional_call
        args = (x,) if not hx else (x, hx[0] if len(hx) == 1 else tuple(hx))
        return joined(call(ours if m is cr else theirs, dict(zip(names, ps)), args))

    _compare(f, [rng.standard_normal(x_shape), *states, *params], seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_packed_sequence_second_derivative_matches_torch(cls, seed):
    rng = np.random.default_rng(seed)
    features, hidden, steps, n = ints(rng, 1, 4, 2) + ints(rng, 2, 5, 2)
    lengths = [steps, *ints(rng, 1, steps + 1, n - 1)]
    theirs, ours, names, params = _twins(cls, (features, hidden, 2), {"bidirectional": True}, seed)

    def f(m, x, *ps):
        utils = (cr if m is cr else torch).nn.utils.rnn
        packed = utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
        call = cr.func.functional_call if m is cr else torch.func.functional_call
        out, state = call(ours if m is cr else theirs, dict(zip(names, ps)), (packed,))
        return joined((utils.pad_packed_sequence(out)[0], state))

    _compare(f, [rng.standard_normal((steps, n, features)), *params], seed)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", sorted(CELL_FUNCTIONS))
def test_cell_function_second_derivative_matches_torch(name, bias):
    rng = np.random.default_rng(len(name))
    features, hidden, n = ints(rng, 1, 5, 3)
    gates = CELL_FUNCTIONS[name] * hidden
    shapes = [(n, features), (n, hidden), (gates, features), (gates, hidden)]
    shapes += [(gates,), (gates,)] if bias else []

    def f(m, x, h, *weights):
        cell = getattr(rnn_cells if m is cr else torch, name)
        return joined(cell(x, (h, 0.5 * h) if name == "lstm_cell" else h, *weights))

    _compare(f, [rng.standard_normal(s) for s in shapes], 0)
