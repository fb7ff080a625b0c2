"""Second derivatives of one function in chainrule and in PyTorch, and their comparison.

For ``f(lib, *inputs)``: ``g = grad(f, inputs, v, create_graph=True)`` and
``h = grad(Σ g·w, inputs)`` with random ``v`` and ``w`` drawn from the same seed on both sides.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


# Input samplers the case tables share: (rng, shape) -> float64 array.
def normal(rng, shape):
    return rng.standard_normal(shape)


def away(rng, shape):
    return np.sign(rng.standard_normal(shape)) * (0.2 + rng.random(shape) * 2)


def positive(rng, shape):
    return 0.3 + rng.random(shape) * 2


def second_derivatives(lib, f, arrays, rng, allow_unused: bool = False):
    """(g, h), one array (or None) per input, for ``f(lib, *inputs)`` in ``lib`` (cr or torch).

    ``allow_unused`` lets an input with no path to the output have no first derivative;
    without it, such an input is an error.
    """
    as_lib = cr.tensor if lib is cr else torch.tensor
    xs = [as_lib(a, requires_grad=True) for a in arrays]
    y = f(lib, *xs)
    v = rng.standard_normal(tuple(y.shape))
    w = [rng.standard_normal(a.shape) for a in arrays]
    gs = lib.autograd.grad(y, xs, as_lib(v), create_graph=True, allow_unused=allow_unused)
    terms = [(g * as_lib(wi)).sum() for g, wi in zip(gs, w) if g is not None]
    hs = lib.autograd.grad(sum(terms), xs, allow_unused=True)

    def arr(t):
        return None if t is None else (t.detach().numpy() if lib is torch else t.numpy())

    return [arr(g) for g in gs], [arr(h) for h in hs]


def compare_with_torch(f, arrays, seed, rtol, atol, allow_unused: bool = False):
    """Assert that chainrule's first and second derivatives of ``f`` equal PyTorch's."""
    g1, h1 = second_derivatives(cr, f, arrays, np.random.default_rng(seed), allow_unused)
    g2, h2 = second_derivatives(torch, f, arrays, np.random.default_rng(seed), allow_unused)
    for what, ours, theirs in (("first", g1, g2), ("second", h1, h2)):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if a is None or b is None:  # no path: the other side must be zero (or None) too
                assert (a is None or not np.any(a)) and (b is None or not np.any(b)), (what, i)
                continue
            np.testing.assert_allclose(
                a, b, rtol=rtol, atol=atol, err_msg=f"{what} derivative of input {i}"
            )
