"""Second derivatives of indexing, layout, in-place and linear-algebra ops against PyTorch.

In float64, for each function ``f`` of one or two tensors:
``g = grad(f(x, s), (x, s), v, create_graph=True)`` and ``h = grad(Σ gᵢ·wᵢ, (x, s))``, in both
libraries. Each function runs cubed (``f³``), so that ``h`` is not zero for the linear moves
(plain, their second derivative is 0 and says little). Negative dims, repeated indices,
PyTorch's integer-first indexing and in-place ops on a non-leaf are among the cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

SEEDS = range(4)


def _index(rng, shape, dim, n):
    ishape = list(shape)
    ishape[dim] = n
    return rng.integers(0, shape[dim], ishape).astype(np.int64)


def _distinct_rows(rng, shape, dim, k):
    order = np.argsort(rng.random(shape), axis=dim)
    return np.take(order, range(k), axis=dim).astype(np.int64)


# name -> (shapes of the differentiable inputs, maker(rng) -> (chainrule fn, torch fn))
def _gather(rng):
    i = _index(rng, (3, 4), -1, 5)
    return ((3, 4),), lambda lib, x: lib.gather(x, -1, _t(lib, i))


def _scatter(rng):
    i = _distinct_rows(rng, (3, 4), 0, 2)
    return ((3, 4), (2, 4)), lambda lib, x, s: lib.scatter(x, 0, _t(lib, i), s)


def _scatter_add(rng):
    i = _index(rng, (3, 4), 0, 3)
    return ((3, 4), (3, 4)), lambda lib, x, s: lib.scatter_add(x, -2, _t(lib, i), s)


def _scatter_prod(rng):
    i = _index(rng, (3, 4), 1, 4)
    return ((3, 4), (3, 4)), lambda lib, x, s: lib.scatter_reduce(x, 1, _t(lib, i), s, "prod")


def _scatter_mean(rng):
    i = _index(rng, (3, 4), 0, 2)

    def f(lib, x, s):
        return lib.scatter_reduce(x, 0, _t(lib, i), s, "mean", include_self=False)

    return ((3, 4), (2, 4)), f


def _index_add(rng):
    i = rng.integers(0, 4, 5).astype(np.int64)
    return ((3, 4), (3, 5)), lambda lib, x, s: lib.index_add(x, -1, _t(lib, i), s, alpha=-0.5)


def _getitem(rng):
    rows = rng.integers(0, 3, 4)
    return ((3, 4, 2),), lambda lib, x: x[rows, 1:, -1] + x[1, :, [0, 1, 0]].sum()


def _mask(rng):
    m = rng.random((3, 4)) > 0.5
    return ((3, 4),), lambda lib, x: x[_t(lib, m)]


def _layout(rng):
    def f(lib, x):
        y = lib.flip(x, (-1,)) + lib.roll(x, 1, -2) + lib.movedim(x, 0, -1).reshape(x.shape)
        return lib.diagonal(y, 1, -2, -1).sum() + lib.tril(y, -1) + x.permute(1, 0).T

    return ((4, 4),), f


def _pad(rng):
    return ((2, 3, 4),), lambda lib, x: _pad_of(lib)(x, (1, 2, 0, 1), mode="reflect") * 1.5


def _put(rng):
    def f(lib, x, s):
        y = x * 1.0
        y[1:, 0] = s[1:, 1]
        y.mul_(s)
        y.add_(x, alpha=2.0)
        return y

    return ((3, 4), (3, 4)), f


def _products(rng):
    def f(lib, a, b):
        p = lib.einsum("ij,kj->ik", a, b) + lib.tensordot(a, b, ([1], [1]))
        return lib.matmul(a, b.T) * p + lib.bmm(a[None], b.T[None])[0]

    return ((2, 3), (4, 3)), f


def _linear(rng):
    return ((2, 3), (4, 3)), lambda lib, x, w: _linear_of(lib)(x, w, w[:, 0])


MAKERS = {
    "gather": _gather,
    "scatter": _scatter,
    "scatter_add": _scatter_add,
    "scatter_reduce_prod": _scatter_prod,
    "scatter_reduce_mean": _scatter_mean,
    "index_add": _index_add,
    "getitem": _getitem,
    "mask": _mask,
    "layout": _layout,
    "pad_reflect": _pad,
    "in_place": _put,
    "products": _products,
    "linear": _linear,
}


def _t(lib, a):
    return torch.from_numpy(a) if lib is torch else a


def _pad_of(lib):
    return torch.nn.functional.pad if lib is torch else cr.functional.pad


def _linear_of(lib):
    return torch.nn.functional.linear if lib is torch else cr.functional.linear


def _second(lib, f, values, v, w):
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in values]
    y = f(lib, *xs) ** 3
    gs = lib.autograd.grad(y, xs, lib.tensor(v), create_graph=True)
    total = sum((g * lib.tensor(wi)).sum() for g, wi in zip(gs, w))
    hs = lib.autograd.grad(total, xs, allow_unused=True)
    return [g.detach().numpy() for g in gs], [None if h is None else h.numpy() for h in hs]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    shapes, f = MAKERS[name](rng)
    values = [0.5 + rng.random(s) for s in shapes]  # positive: prod's others are nonzero
    out_shape = tuple(f(torch, *[torch.tensor(a) for a in values]).shape)
    v = rng.standard_normal(out_shape)
    w = [rng.standard_normal(s) for s in shapes]
    g_cr, h_cr = _second(cr, f, values, v, w)
    g_t, h_t = _second(torch, f, values, v, w)
    for a, b in zip(g_cr, g_t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(h_cr, h_t):
        np.testing.assert_allclose(
            np.zeros_like(w[0]) if a is None else a,
            np.zeros_like(w[0]) if b is None else b,
            rtol=1e-10,
            atol=1e-12,
        )
