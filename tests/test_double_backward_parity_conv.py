"""Second derivatives of the convolutions against PyTorch (float64).

For conv1d, conv2d, conv_transpose1d and conv_transpose2d on random shapes and geometries
(stride, padding, ``'same'`` with even kernels, output padding, dilation, groups, with and
without bias): ``L = Σ f(conv(x, w, b)) · v`` with ``v`` a leaf too, ``(gx, gw) = grad(L, (x, w),
create_graph=True)``, then ``h = grad(Σ gx·a + gw·c, (x, w, b, v))`` for random ``a`` and ``c``,
in both libraries. ``f`` is the identity (the conv is bilinear in ``(x, w)``: only the cross
terms and ``v``'s survive) or a square (every term, the window ops' own backward included).
First and second derivatives must agree to 1e-10.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

SEEDS = range(6)


def _conv_geometry(rng: np.random.Generator, dims: int) -> tuple[dict, tuple, tuple]:
    """Keyword arguments of conv1d/conv2d, the input shape and the weight shape."""
    groups = int(rng.choice([1, 2, 3]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
    dilation = tuple(int(d) for d in rng.integers(1, 3, dims))
    if rng.random() < 0.3:
        stride, padding = (1,) * dims, "same"
    else:
        stride = tuple(int(s) for s in rng.integers(1, 4, dims))
        padding = tuple(int(p) for p in rng.integers(0, 3, dims))
    reach = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    spatial = tuple(r + int(rng.integers(0, 5)) for r in reach)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return kwargs, (int(rng.integers(1, 4)), cin, *spatial), (cout, cin // groups, *kernel)


def _transpose_geometry(rng: np.random.Generator, dims: int) -> tuple[dict, tuple, tuple]:
    """Keyword arguments of conv_transpose1d/2d, the input shape and the weight shape."""
    groups = int(rng.choice([1, 2, 3]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
    dilation = tuple(int(d) for d in rng.integers(1, 3, dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, dims))
    spatial = tuple(int(n) for n in rng.integers(1, 5, dims))
    out_pad = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    # Padding crops at most what leaves one output cell along each axis.
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(spatial, stride, dilation, kernel)]
    padding = tuple(int(rng.integers(0, (f - 1) // 2 + 1)) for f in full)
    kwargs = {
        "stride": stride, "padding": padding, "output_padding": out_pad, "dilation": dilation,
        "groups": groups,
    }  # fmt: skip
    return kwargs, (int(rng.integers(1, 4)), cin, *spatial), (cin, cout // groups, *kernel)


# name -> (geometry maker, dims, the function's name in chainrule.functional and torch's)
OPS = {
    "conv1d": (_conv_geometry, 1, "conv1d"),
    "conv2d": (_conv_geometry, 2, "conv2d"),
    "conv_transpose1d": (_transpose_geometry, 1, "conv_transpose1d"),
    "conv_transpose2d": (_transpose_geometry, 2, "conv_transpose2d"),
}


def _second(lib, name: str, arrays: list, kwargs: dict, square: bool, seed: int):
    """(first, second) derivatives as arrays (or None) in ``lib`` (cr or torch).

    ``arrays``: x, w, then the bias or None. First: ``(gx, gw)``; second: per x, w, b, v.
    """
    make = cr.tensor if lib is cr else torch.tensor
    leaves = [make(a, requires_grad=True) for a in arrays if a is not None]
    x, w = leaves[:2]
    b = leaves[2] if len(leaves) > 2 else None
    with warnings.catch_warnings():  # torch warns that 'same' with an even kernel pads a copy
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        y = getattr(F if lib is cr else tF, name)(x, w, b, **kwargs)
    rng = np.random.default_rng(seed)
    v = make(rng.standard_normal(tuple(y.shape)), requires_grad=True)
    loss = ((y * y if square else y) * v).sum()
    gx, gw = lib.autograd.grad(loss, [x, w], create_graph=True)
    a, c = make(rng.standard_normal(x.shape)), make(rng.standard_normal(w.shape))
    total = (gx * a).sum() + (gw * c).sum()
    hs = lib.autograd.grad(total, [*leaves, v], allow_unused=True)

    def arr(t):
        return None if t is None else (t.detach().numpy() if lib is torch else t.numpy())

    return [arr(gx), arr(gw)], [arr(h) for h in hs]


def _inputs(name: str, seed: int, bias: bool) -> tuple[list, dict]:
    geometry, dims, _ = OPS[name]
    rng = np.random.default_rng(1000 * seed + dims)
    kwargs, x_shape, w_shape = geometry(rng, dims)
    out_channels = w_shape[0] if "transpose" not in name else w_shape[1] * kwargs["groups"]
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    arrays.append(rng.standard_normal(out_channels) if bias else None)
    return arrays, kwargs


@pytest.mark.parametrize("square", [False, True], ids=["linear", "square"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(OPS))
def test_second_derivatives_match_torch(name, seed, bias, square):
    arrays, kwargs = _inputs(name, seed, bias)
    fn_name = OPS[name][2]
    ours = _second(cr, fn_name, arrays, kwargs, square, seed)
    theirs = _second(torch, fn_name, arrays, kwargs, square, seed)
    labels = ["x", "w", "b", "v"] if bias else ["x", "w", "v"]
    for order, mine, ref, names in (
        ("first", ours[0], theirs[0], ["x", "w"]),
        ("second", ours[1], theirs[1], labels),
    ):
        for label, a, b in zip(names, mine, ref):
            if a is None or b is None:  # no path: the other side must be zero (or None) too
                assert (a is None or not np.any(a)) and (b is None or not np.any(b)), label
                continue
            np.testing.assert_allclose(
                a, b, rtol=1e-10, atol=1e-10, err_msg=f"{order} derivative of {label} ({kwargs})"
            )


def test_second_derivatives_are_not_all_zero():
    """The square variant has a nonzero x–x term (through Im2col's and Col2im's backward)."""
    arrays, kwargs = _inputs("conv2d", 0, True)
    _, second = _second(cr, "conv2d", arrays, kwargs, True, 0)
    assert all(h is not None and np.any(h) for h in second)
