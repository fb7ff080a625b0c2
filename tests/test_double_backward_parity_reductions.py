"""Second derivatives of reductions, statistics, scans and sorting against PyTorch (float64).

For each op ``f``: ``g = grad(f(x), x, v, create_graph=True)`` and ``h = grad((g * w).sum(), x)``,
in both libraries, on random small shapes with negative dims and keepdim both ways. Order
statistics get tie-free inputs (values at least 0.1 apart); prod and cumprod also get exact
zeros, where PyTorch has its own double backward. Each op runs plain and cubed (``f(x)³``), so
that ``h`` also holds the op's first derivative twice (linear ops have ``h = 0`` plain).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

SEEDS = range(6)


def distinct(rng, shape):
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 + rng.uniform(-0.05, 0.05, n) - n * 0.15).reshape(shape)


def normal(rng, shape):
    return rng.standard_normal(shape)


def with_zeros(rng, shape):
    x = np.sign(rng.standard_normal(shape)) * (0.5 + rng.random(shape))
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=min(flat.size, rng.integers(1, 4)), replace=False)] = 0.0
    return x


def positive(rng, shape):
    return 0.5 + rng.random(shape)


def draw(rng):
    """A shape of 1 to 3 dims (sides 1-4), a dim (possibly negative) and a keepdim."""
    shape = tuple(int(s) for s in rng.integers(1, 5, rng.integers(1, 4)))
    dim = int(rng.integers(-len(shape), len(shape)))
    return shape, dim, bool(rng.integers(0, 2))


def dims(rng, shape):
    """A tuple of distinct dims, some negative."""
    n = int(rng.integers(1, len(shape) + 1))
    chosen = rng.choice(len(shape), size=n, replace=False)
    return tuple(int(d) - len(shape) if rng.integers(0, 2) else int(d) for d in chosen)


# name -> (input maker, f(lib, x, shape, dim, keepdim, rng-drawn extras)); lib is cr or torch.
OPS = {
    "sum-dims": (normal, lambda m, x, d, k, e: m.sum(x, e["dims"], keepdim=k)),
    "sum-all": (normal, lambda m, x, d, k, e: m.sum(x)),
    "mean-dim": (normal, lambda m, x, d, k, e: m.mean(x, d, keepdim=k)),
    "var-correction": (
        normal,
        lambda m, x, d, k, e: m.var(x, e["dims"], keepdim=k, correction=e["c"]),
    ),
    "std-correction": (
        normal,
        lambda m, x, d, k, e: m.std(x, e["dims"], keepdim=k, correction=e["c"]),
    ),
    "prod-dim": (normal, lambda m, x, d, k, e: m.prod(x, d, keepdim=k)),
    "prod-dim-zeros": (with_zeros, lambda m, x, d, k, e: m.prod(x, d, keepdim=k)),
    "prod-all-zeros": (with_zeros, lambda m, x, d, k, e: m.prod(x)),
    "amax": (distinct, lambda m, x, d, k, e: m.amax(x, e["dims"], keepdim=k)),
    "amin": (distinct, lambda m, x, d, k, e: m.amin(x, e["dims"], keepdim=k)),
    "max-all": (distinct, lambda m, x, d, k, e: m.max(x)),
    "max-dim": (distinct, lambda m, x, d, k, e: m.max(x, d, keepdim=k).values),
    "min-dim": (distinct, lambda m, x, d, k, e: m.min(x, d, keepdim=k).values),
    "logsumexp": (normal, lambda m, x, d, k, e: m.logsumexp(x, e["dims"], keepdim=k)),
    "cumsum": (normal, lambda m, x, d, k, e: m.cumsum(x, d)),
    "cumprod": (normal, lambda m, x, d, k, e: m.cumprod(x, d)),
    "cumprod-zeros": (with_zeros, lambda m, x, d, k, e: m.cumprod(x, d)),
    "cummax": (distinct, lambda m, x, d, k, e: m.cummax(x, d).values),
    "cummin": (distinct, lambda m, x, d, k, e: m.cummin(x, d).values),
    "logcumsumexp": (normal, lambda m, x, d, k, e: m.logcumsumexp(x, d)),
    "sort": (distinct, lambda m, x, d, k, e: m.sort(x, d, descending=k).values),
    "topk": (distinct, lambda m, x, d, k, e: m.topk(x, e["k"], d, largest=k).values),
    "kthvalue": (distinct, lambda m, x, d, k, e: m.kthvalue(x, e["k"], d, keepdim=k).values),
    "median-dim": (distinct, lambda m, x, d, k, e: m.median(x, d, keepdim=k).values),
    "median-all": (distinct, lambda m, x, d, k, e: m.median(x)),
    "mode": (distinct, lambda m, x, d, k, e: m.mode(x, d, keepdim=k).values),
}


def second_derivatives(lib, f, x, v, w, cube):
    """(g, h) for ``lib`` (chainrule or torch) as NumPy arrays."""
    x = lib.tensor(x, requires_grad=True)
    y = f(lib, x)
    if cube:
        y = y * y * y
    (g,) = lib.autograd.grad(y, x, lib.tensor(v.reshape(tuple(y.shape))), create_graph=True)
    if not g.requires_grad:  # g does not depend on x (a linear op): h = 0
        return g.detach().numpy(), np.zeros(x.shape)
    (h,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x, allow_unused=True)
    h = np.zeros(x.shape) if h is None else h.detach().numpy()
    return g.detach().numpy(), h


def extras(rng, shape, dim):
    n = shape[dim]
    c = int(rng.integers(0, 2))
    return {"dims": dims(rng, shape), "k": int(rng.integers(1, n + 1)), "c": c}


@pytest.mark.parametrize("cube", [False, True], ids=["plain", "cubed"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(OPS))
def test_second_derivative_matches_torch(name, seed, cube):
    rng = np.random.default_rng([seed, sorted(OPS).index(name)])
    make, op = OPS[name]
    shape, dim, keep = draw(rng)
    e = extras(rng, shape, dim)
    if name.startswith(("var", "std")):
        reduced = int(np.prod([shape[a] for a in e["dims"]]))
        e["c"] = e["c"] if reduced > 1 else 0  # no 0/0 (NaN in both)
    x = make(rng, shape)
    out_shape = tuple(op(torch, torch.tensor(x), dim, keep, e).shape)
    v, w = rng.standard_normal(out_shape), rng.standard_normal(shape)

    def f(lib, t):
        return op(lib, t, dim, keep, e)

    g_cr, h_cr = second_derivatives(cr, f, x, v, w, cube)
    g_t, h_t = second_derivatives(torch, f, x, v, w, cube)
    np.testing.assert_allclose(g_cr, g_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_cr, h_t, rtol=1e-10, atol=1e-12)


def test_prod_double_backward_at_two_zeros_matches_torch():
    """A slice with two zeros: the gradient is 0 everywhere, its derivative is not."""
    x = np.array([[0.0, 2.0, 0.0, 3.0], [1.5, 0.0, -2.0, 0.5]])
    v, w = np.array([0.7, -1.3]), np.arange(8.0).reshape(2, 4) - 3.0
    g_cr, h_cr = second_derivatives(cr, lambda m, t: m.prod(t, 1), x, v, w, False)
    g_t, h_t = second_derivatives(torch, lambda m, t: m.prod(t, 1), x, v, w, False)
    np.testing.assert_allclose(g_cr, g_t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_cr, h_t, rtol=1e-12, atol=1e-14)
    assert np.abs(h_t).max() > 1.0  # not a comparison of zeros
