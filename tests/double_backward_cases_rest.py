"""Cases for ``test_double_backward_parity_rest``: ``f(lib, *inputs)`` with input makers.

``lib`` is chainrule or torch. Where PyTorch has no double backward for an op's own kernel
(cdist/pdist for p != 2 and small sizes, hardsigmoid, multi_margin_loss,
multilabel_margin_loss), torch's side is the op written out in differentiable torch ops, and
``test_explicit_margin_references_equal_torch_forward`` pins that this equals PyTorch's op.
Importing this module skips the importing test module without torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from double_backward_support import away, normal, positive

torch = pytest.importorskip("torch")
tF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]


def fn(m, name):
    """``name`` in chainrule.functional, or in torch (``torch.nn.functional`` first)."""
    if m is cr:
        return getattr(F, name)
    return getattr(tF, name, None) or getattr(torch, name)


def const(m, a):
    """A constant (labels, targets, weights, indices) as a tensor of ``m``."""
    return cr.tensor(a) if m is cr else torch.tensor(a)


def distinct(rng, shape):
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 + rng.uniform(-0.05, 0.05, n) - n * 0.15).reshape(shape)


def _minkowski(diff, p):
    """‖diff‖_p over the last dim, written out (torch's reference for cdist/pdist)."""
    if p == float("inf"):
        return diff.abs().amax(-1)
    return (diff.abs() ** p).sum(-1) ** (1.0 / p)


def cdist(m, a, b, p=2.0):
    """``cdist``; PyTorch has no double backward for its own kernel, so its side is explicit."""
    if m is cr:
        return F.cdist(a, b, p=p)
    return _minkowski(a.unsqueeze(-2) - b.unsqueeze(-3), p)


def pdist(m, a, p=2.0):
    """``pdist``: the upper triangle of ``cdist(a, a)``, row by row (explicit on torch's side)."""
    if m is cr:
        return F.pdist(a, p=p)
    i, j = np.triu_indices(a.shape[0], 1)
    return _minkowski(a[i] - a[j], p)


# name -> (f(lib, *xs), [(maker, shape), ...]): distances (broadcasting where the op broadcasts).
DISTANCES = {
    "cdist-p2": (lambda m, a, b: cdist(m, a, b), [(normal, (2, 3, 4)), (normal, (2, 5, 4))]),
    "cdist-p2-broadcast": (
        lambda m, a, b: cdist(m, a, b),
        [(normal, (2, 1, 3, 4)), (normal, (3, 5, 4))],
    ),
    "cdist-p2-mm": (
        lambda m, a, b: fn(m, "cdist")(a, b, compute_mode="use_mm_for_euclid_dist"),
        [(normal, (3, 4)), (normal, (2, 4))],
    ),
    "cdist-p2-over-25-rows": (  # torch's own cdist (its mm path, double-differentiable)
        lambda m, a, b: fn(m, "cdist")(a, b),
        [(normal, (26, 3)), (normal, (27, 3))],
    ),
    "cdist-p1": (
        lambda m, a, b: cdist(m, a, b, 1.0) ** 2,
        [(distinct, (3, 4)), (distinct, (2, 4))],
    ),
    "cdist-p3": (lambda m, a, b: cdist(m, a, b, 3.0), [(normal, (3, 4)), (normal, (2, 4))]),
    "cdist-pinf": (
        lambda m, a, b: cdist(m, a, b, float("inf")) ** 2,
        [(distinct, (3, 4)), (distinct, (2, 4))],
    ),
    "pdist-p2": (lambda m, a: pdist(m, a), [(normal, (4, 3))]),
    "pdist-p1": (lambda m, a: pdist(m, a, 1.0) ** 2, [(distinct, (4, 3))]),
    "pdist-p3": (lambda m, a: pdist(m, a, 3.0), [(normal, (4, 3))]),
    "pairwise_distance-p1-keepdim": (
        lambda m, a, b: fn(m, "pairwise_distance")(a, b, p=1.0, keepdim=True) ** 2,
        [(distinct, (3, 4)), (distinct, (3, 4))],
    ),
    "pairwise_distance-p3-broadcast": (
        lambda m, a, b: fn(m, "pairwise_distance")(a, b, p=3.0),
        [(normal, (2, 3, 4)), (normal, (3, 4))],
    ),
}


def triplet_distance(a, b):
    return ((a - b) ** 2).sum(-1)


def reduce_loss(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def multi_margin(m, x, y, reduction, p=1, margin=1.0, weight=None):
    """``multi_margin_loss``; PyTorch cannot differentiate its backward, so its side is explicit:
    ``loss_i = Σ_{j≠y_i} w_{y_i}·max(0, margin − x_{i,y_i} + x_ij)^p / C``."""
    if m is cr:
        w = None if weight is None else cr.tensor(weight)
        return F.multi_margin_loss(x, cr.tensor(y), p, margin, w, reduction=reduction)
    n, c = x.shape
    picked = x[np.arange(n), y].unsqueeze(1)
    others = torch.tensor(np.arange(c)[None, :] != y[:, None], dtype=torch.float64)
    terms = torch.clamp(margin - picked + x, min=0.0) ** p * others
    if weight is not None:
        terms = terms * torch.tensor(weight[y])[:, None]
    return reduce_loss(terms.sum(1) / c, reduction)


def multilabel_margin(m, x, target, reduction):
    """``multilabel_margin_loss`` (explicit on PyTorch's side, as for :func:`multi_margin`):
    ``loss_i = Σ_{j∈T_i} Σ_{k∉T_i} max(0, 1 − (x_ij − x_ik)) / C``, ``T_i`` = labels before −1."""
    if m is cr:
        return F.multilabel_margin_loss(x, cr.tensor(target), reduction=reduction)
    n, c = x.shape
    pair = np.zeros((n, c, c))
    for i, row in enumerate(target):
        labels = list(row[: list(row).index(-1)] if -1 in row else row)
        inside = np.isin(np.arange(c), labels)
        pair[i, np.unique(labels)[:, None], np.flatnonzero(~inside)[None, :]] = 1.0
    hinge = torch.clamp(1.0 - (x.unsqueeze(2) - x.unsqueeze(1)), min=0.0)
    return reduce_loss((hinge * torch.tensor(pair)).sum((1, 2)) / c, reduction)


def loss_cases(rng, reduction):
    """(f(lib, *xs), input arrays) per loss; targets and margins keep every case off its kinks."""
    r = reduction
    sign = np.where(rng.random(4) < 0.5, -1.0, 1.0)
    mc_labels = rng.integers(0, 5, 4)
    ml_target = np.array([[3, 0, -1, 1, 2], [1, 4, 2, -1, 0], [0, -1, 3, 3, 3], [4, 2, 1, 0, 3]])
    bin_target = (rng.random((4, 5)) < 0.5).astype(np.float64)
    class_w = rng.random(5) + 0.5
    a_pos = rng.standard_normal((4, 3))
    sign_45 = np.sign(normal(rng, (4, 5)))
    return {
        "triplet_margin_loss-p2": (
            lambda m, a, p, n: fn(m, "triplet_margin_loss")(a, p, n, margin=4.0, reduction=r) ** 2,
            [a_pos, a_pos + 0.3 * normal(rng, (4, 3)), normal(rng, (4, 3))],
        ),
        "triplet_margin_loss-p1-swap": (
            lambda m, a, p, n: (
                fn(m, "triplet_margin_loss")(a, p, n, margin=6.0, p=1, swap=True, reduction=r) ** 2
            ),
            [distinct(rng, (4, 3)), distinct(rng, (4, 3)), distinct(rng, (4, 3))],
        ),
        "triplet_margin_with_distance_loss": (
            lambda m, a, p, n: (
                fn(m, "triplet_margin_with_distance_loss")(a, p, n, margin=20.0, reduction=r) ** 2
            ),
            [a_pos, normal(rng, (4, 3)), normal(rng, (4, 3))],
        ),
        "triplet_margin_with_distance_loss-custom-swap": (
            lambda m, a, p, n: (
                fn(m, "triplet_margin_with_distance_loss")(
                    a,
                    p,
                    n,
                    distance_function=triplet_distance,
                    margin=40.0,
                    swap=True,
                    reduction=r,
                )
                ** 2
            ),
            [a_pos, normal(rng, (4, 3)), normal(rng, (4, 3))],
        ),
        "margin_ranking_loss": (
            lambda m, a, b: (
                fn(m, "margin_ranking_loss")(a, b, const(m, sign), margin=10.0, reduction=r) ** 2
            ),
            [normal(rng, 4), normal(rng, 4)],
        ),
        "hinge_embedding_loss": (
            lambda m, x: (
                fn(m, "hinge_embedding_loss")(x, const(m, sign_45), margin=3.0, reduction=r) ** 2
            ),
            [rng.uniform(0.2, 2.0, (4, 5))],
        ),
        "multi_margin_loss-p1": (
            lambda m, x: multi_margin(m, x, mc_labels, r) ** 2,
            [normal(rng, (4, 5)) * 0.2],
        ),
        "multi_margin_loss-p2-weight": (
            lambda m, x: multi_margin(m, x, mc_labels, r, 2, 3.0, class_w),
            [normal(rng, (4, 5))],
        ),
        "multilabel_margin_loss": (
            lambda m, x: multilabel_margin(m, x, ml_target, r) ** 2,
            [normal(rng, (4, 5)) * 0.2],
        ),
        "soft_margin_loss": (
            lambda m, x: fn(m, "soft_margin_loss")(x, const(m, sign_45), reduction=r),
            [normal(rng, (4, 5))],
        ),
        "multilabel_soft_margin_loss": (
            lambda m, x: fn(m, "multilabel_soft_margin_loss")(
                x, const(m, bin_target), weight=const(m, class_w), reduction=r
            ),
            [normal(rng, (4, 5))],
        ),
        "cosine_embedding_loss": (
            lambda m, a, b: (
                fn(m, "cosine_embedding_loss")(a, b, const(m, sign), margin=-1.0, reduction=r) ** 2
            ),
            [normal(rng, (4, 3)), normal(rng, (4, 3))],
        ),
        "l1_loss": (
            lambda m, a, b: fn(m, "l1_loss")(a, b, reduction=r) ** 2,
            [distinct(rng, (3, 4)), distinct(rng, (3, 4))],
        ),
        "poisson_nll_loss-log-input": (
            lambda m, a, t: fn(m, "poisson_nll_loss")(a, t, full=True, reduction=r),
            [normal(rng, (3, 4)), positive(rng, (3, 4)) * 2],
        ),
        "poisson_nll_loss-rate-input": (
            lambda m, a, t: fn(m, "poisson_nll_loss")(a, t, log_input=False, reduction=r),
            [positive(rng, (3, 4)), positive(rng, (3, 4))],
        ),
        "gaussian_nll_loss-full": (
            lambda m, a, t, v: fn(m, "gaussian_nll_loss")(a, t, v, full=True, reduction=r),
            [normal(rng, (3, 4)), normal(rng, (3, 4)), positive(rng, (3, 4))],
        ),
        "gaussian_nll_loss-broadcast-var": (
            lambda m, a, t, v: fn(m, "gaussian_nll_loss")(a, t, v, reduction=r),
            [normal(rng, (3, 4)), normal(rng, (3, 4)), positive(rng, (3, 1))],
        ),
    }


def hardsigmoid(m, x):
    """``hardsigmoid``; PyTorch cannot differentiate its backward, so its side is explicit."""
    return F.hardsigmoid(x) if m is cr else torch.clamp(x / 6 + 0.5, 0.0, 1.0)


def inplace(m, name, x, *args):
    """``name_`` applied to a non-leaf copy of ``x`` (a leaf that requires grad cannot be)."""
    return fn(m, name + "_")(x * 1.0, *args)


# name -> (f(lib, *xs), [(maker, shape), ...]): activations, normalizations, products.
OTHERS = {
    "prelu-channels": (
        lambda m, x, a: fn(m, "prelu")(x, a) ** 2,
        [(away, (2, 3, 4)), (positive, (3,))],
    ),
    "prelu-shared": (lambda m, x, a: fn(m, "prelu")(x, a) ** 3, [(away, (2, 3)), (positive, (1,))]),
    "relu6": (lambda m, x: fn(m, "relu6")(x * 4) ** 2, [(away, (3, 4))]),
    "hardshrink": (lambda m, x: fn(m, "hardshrink")(x, 0.1) ** 2, [(away, (3, 4))]),
    "softshrink": (lambda m, x: fn(m, "softshrink")(x, 0.1) ** 2, [(away, (3, 4))]),
    "tanhshrink": (lambda m, x: fn(m, "tanhshrink")(x), [(normal, (3, 4))]),
    "threshold": (lambda m, x: fn(m, "threshold")(x, 0.1, -2.0) ** 2, [(away, (3, 4))]),
    "hardsigmoid": (lambda m, x: hardsigmoid(m, x * 2) ** 2, [(away, (3, 4))]),
    "rrelu-eval": (lambda m, x: fn(m, "rrelu")(x, 0.1, 0.3) ** 2, [(away, (3, 4))]),
    "relu_": (lambda m, x: inplace(m, "relu", x) ** 2, [(away, (3, 4))]),
    "leaky_relu_": (lambda m, x: inplace(m, "leaky_relu", x, 0.2) ** 2, [(away, (3, 4))]),
    "elu_": (lambda m, x: inplace(m, "elu", x, 1.3), [(away, (3, 4))]),
    "celu_": (lambda m, x: inplace(m, "celu", x, 0.7), [(away, (3, 4))]),
    "selu_": (lambda m, x: inplace(m, "selu", x), [(away, (3, 4))]),
    "hardtanh_": (lambda m, x: inplace(m, "hardtanh", x) ** 2, [(away, (3, 4))]),
    "threshold_": (lambda m, x: inplace(m, "threshold", x, 0.1, -2.0) ** 2, [(away, (3, 4))]),
    "rrelu_-eval": (lambda m, x: inplace(m, "rrelu", x, 0.1, 0.3) ** 2, [(away, (3, 4))]),
    "alpha_dropout-eval": (
        lambda m, x: fn(m, "alpha_dropout")(x, 0.5, training=False) ** 3,
        [(normal, (3, 4))],
    ),
    "feature_alpha_dropout-eval": (
        lambda m, x: fn(m, "feature_alpha_dropout")(x, 0.5, training=False) ** 3,
        [(normal, (2, 3, 4))],
    ),
    "dropout1d-eval": (
        lambda m, x: fn(m, "dropout1d")(x, 0.5, training=False) ** 3,
        [(normal, (2, 3, 4))],
    ),
    "dropout2d-eval": (
        lambda m, x: fn(m, "dropout2d")(x, 0.5, training=False) ** 3,
        [(normal, (2, 3, 2, 2))],
    ),
    "dropout3d-eval": (
        lambda m, x: fn(m, "dropout3d")(x, 0.5, training=False) ** 3,
        [(normal, (2, 3, 2, 2, 1))],
    ),
    "local_response_norm-3d": (
        lambda m, x: fn(m, "local_response_norm")(x, 3, alpha=0.5, beta=0.75, k=1.5),
        [(normal, (2, 5, 4))],
    ),
    "local_response_norm-4d": (
        lambda m, x: fn(m, "local_response_norm")(x, 2, alpha=0.3, beta=1.2, k=0.8),
        [(normal, (2, 4, 3, 2))],
    ),
    "rms_norm-weight": (
        lambda m, x, w: fn(m, "rms_norm")(x, (3, 4), w, eps=1e-5),
        [(normal, (2, 3, 4)), (normal, (3, 4))],
    ),
    "rms_norm-plain": (lambda m, x: fn(m, "rms_norm")(x, (4,)), [(normal, (2, 3, 4))]),
    "addmm": (
        lambda m, c, a, b: fn(m, "addmm")(c, a, b, beta=0.5, alpha=1.5) ** 2,
        [(normal, (3,)), (normal, (3, 2)), (normal, (2, 3))],
    ),
    "addmv": (
        lambda m, c, a, b: fn(m, "addmv")(c, a, b, beta=0.5, alpha=1.5) ** 2,
        [(normal, (3,)), (normal, (3, 2)), (normal, (2,))],
    ),
    "addbmm": (
        lambda m, c, a, b: fn(m, "addbmm")(c, a, b, beta=0.5, alpha=1.5) ** 2,
        [(normal, (3, 1)), (normal, (2, 3, 2)), (normal, (2, 2, 4))],
    ),
    "baddbmm": (
        lambda m, c, a, b: fn(m, "baddbmm")(c, a, b, beta=0.5, alpha=1.5) ** 2,
        [(normal, (1, 3, 4)), (normal, (2, 3, 2)), (normal, (2, 2, 4))],
    ),
    "mm": (lambda m, a, b: fn(m, "mm")(a, b), [(normal, (3, 2)), (normal, (2, 4))]),
    "mv": (lambda m, a, b: fn(m, "mv")(a, b), [(normal, (3, 2)), (normal, (2,))]),
    "outer": (lambda m, a, b: fn(m, "outer")(a, b) ** 2, [(normal, (3,)), (normal, (2,))]),
    "ger": (lambda m, a, b: fn(m, "ger")(a, b), [(normal, (3,)), (normal, (2,))]),
    "matrix_power-3": (lambda m, a: fn(m, "matrix_power")(a, 3), [(normal, (2, 3, 3))]),
    "matrix_power-0": (lambda m, a: fn(m, "matrix_power")(a, 0) * a**2, [(normal, (3, 3))]),
    "matrix_power-1": (lambda m, a: fn(m, "matrix_power")(a, 1) ** 3, [(normal, (3, 3))]),
    "fmod": (lambda m, a, b: fn(m, "fmod")(a, b) ** 2, [(normal, (3, 4)), (positive, (4,))]),
    "remainder": (
        lambda m, a, b: fn(m, "remainder")(a, b) ** 2,
        [(normal, (3, 4)), (positive, (4,))],
    ),
    "true_divide": (lambda m, a, b: fn(m, "true_divide")(a, b), [(normal, (3, 4)), (away, (4,))]),
    "divide": (lambda m, a, b: fn(m, "divide")(a, b), [(normal, (2, 1)), (away, (3,))]),
    "arctan2": (lambda m, a, b: fn(m, "arctan2")(a, b), [(normal, (2, 1)), (away, (3,))]),
    "arcsin": (lambda m, x: fn(m, "arcsin")(x * 0.4), [(normal, (3, 4))]),
    "arccos": (lambda m, x: fn(m, "arccos")(x * 0.4), [(normal, (3, 4))]),
    "arctan": (lambda m, x: fn(m, "arctan")(x), [(normal, (3, 4))]),
    "arcsinh": (lambda m, x: fn(m, "arcsinh")(x), [(normal, (3, 4))]),
    "arccosh": (lambda m, x: fn(m, "arccosh")(x + 1.2), [(positive, (3, 4))]),
    "arctanh": (lambda m, x: fn(m, "arctanh")(x * 0.4), [(normal, (3, 4))]),
    "clip": (lambda m, x: fn(m, "clip")(x, -0.5, 0.5) ** 2, [(away, (3, 4))]),
    "neg": (lambda m, x: fn(m, "neg")(x) ** 3, [(normal, (3, 4))]),
    "trunc": (lambda m, x: fn(m, "trunc")(x) * x**2, [(away, (3, 4))]),
    "fix": (lambda m, x: fn(m, "fix")(x) * x**2, [(away, (3, 4))]),
    "sgn": (lambda m, x: fn(m, "sgn")(x) * x**3, [(away, (3, 4))]),
    "std_mean": (
        lambda m, x: fn(m, "std_mean")(x, 1)[0] ** 2 * fn(m, "std_mean")(x, 1)[1],
        [(normal, (3, 4))],
    ),
    "var_mean": (
        lambda m, x: fn(m, "var_mean")(x, 0, keepdim=True)[0] * fn(m, "var_mean")(x, 0)[1],
        [(normal, (3, 4))],
    ),
    "aminmax": (
        lambda m, x: fn(m, "aminmax")(x, dim=1).min ** 2 * fn(m, "aminmax")(x, dim=1).max,
        [(distinct, (3, 4))],
    ),
    "msort": (lambda m, x: fn(m, "msort")(x) ** 3, [(distinct, (3, 4))]),
}


def cubes(parts):
    """Σ_k (k+1)·Σ parts[k]³: one scalar that depends on every piece of a split differently."""
    return sum((t**3).sum() * (k + 1) for k, t in enumerate(parts))


def pooled(m, x):
    """max_pool2d's values with indices, and max_unpool2d placing them back (cubed)."""
    y, i = fn(m, "max_pool2d_with_indices")(x, 2)
    return (fn(m, "max_unpool2d")(y**2, i, 2) ** 3).sum() + (y**3).sum()


def pooled1d(m, x):
    """adaptive_max_pool1d's values with indices, and max_unpool1d placing them back (cubed)."""
    y, i = fn(m, "adaptive_max_pool1d")(x, 3, return_indices=True)
    return (fn(m, "max_unpool1d")(y**2, i, 2) ** 3).sum() + (y**3).sum()


PICK = np.array([[2, 0, 0, 1], [1, 1, 2, 0]])


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


# name -> (f(lib, *xs), [(maker, shape), ...]): layout, indexing and pooling-with-indices ops,
# all linear in their input, so they are cubed.
LAYOUT = {
    "cat": (lambda m, a, b: fn(m, "cat")([a, b], -1) ** 3, [(normal, (2, 3)), (normal, (2, 2))]),
    "concatenate": (
        lambda m, a, b: fn(m, "concatenate")([a, b], 0) ** 3,
        [(normal, (2, 3)), (normal, (1, 3))],
    ),
    "chunk": (lambda m, x: cubes(fn(m, "chunk")(x, 3, 1)), [(normal, (2, 5))]),
    "split-size": (lambda m, x: cubes(fn(m, "split")(x, 2, 1)), [(normal, (2, 5))]),
    "split-sections": (lambda m, x: cubes(fn(m, "split")(x, [1, 3], 0)), [(normal, (4, 2))]),
    "unbind": (lambda m, x: cubes(fn(m, "unbind")(x, 1)), [(normal, (2, 3))]),
    "squeeze": (lambda m, x: fn(m, "squeeze")(x, 1) ** 3, [(normal, (2, 1, 3))]),
    "unsqueeze": (lambda m, x: fn(m, "unsqueeze")(x, -2) ** 3, [(normal, (2, 3))]),
    "expand": (
        lambda m, x: (F.expand(x, (2, 3, 4)) if m is cr else x.expand(2, 3, 4)) ** 3,
        [(normal, (3, 1))],
    ),
    "flatten": (lambda m, x: fn(m, "flatten")(x, 1) ** 3, [(normal, (2, 3, 2))]),
    "unflatten": (lambda m, x: fn(m, "unflatten")(x, 1, (2, 3)) ** 3, [(normal, (2, 6))]),
    "tile": (lambda m, x: fn(m, "tile")(x, (2, 1, 3)) ** 3, [(normal, (2, 3))]),
    "repeat_interleave": (
        lambda m, x: fn(m, "repeat_interleave")(x, 2, dim=1) ** 3,
        [(normal, (2, 3))],
    ),
    "narrow": (lambda m, x: fn(m, "narrow")(x, 1, 1, 2) ** 3, [(normal, (2, 4))]),
    "swapaxes": (lambda m, x: fn(m, "swapaxes")(x, 0, 2) ** 3, [(normal, (2, 3, 4))]),
    "swapdims": (lambda m, x: fn(m, "swapdims")(x, 1, -1) ** 3, [(normal, (2, 3, 4))]),
    "moveaxis": (lambda m, x: fn(m, "moveaxis")(x, 0, -1) ** 3, [(normal, (2, 3, 4))]),
    "fliplr": (lambda m, x: fn(m, "fliplr")(x) * x**2, [(normal, (2, 3))]),
    "flipud": (lambda m, x: fn(m, "flipud")(x) * x**2, [(normal, (3, 2))]),
    "diag-vector": (lambda m, x: fn(m, "diag")(x, 1) ** 3, [(normal, (3,))]),
    "diag-matrix": (lambda m, x: fn(m, "diag")(x, -1) ** 3, [(normal, (3, 4))]),
    "diag_embed": (lambda m, x: fn(m, "diag_embed")(x, 1) ** 3, [(normal, (2, 3))]),
    "triu": (lambda m, x: fn(m, "triu")(x, -1) ** 3, [(normal, (2, 3, 4))]),
    "take_along_dim": (
        lambda m, x: fn(m, "take_along_dim")(x, const(m, PICK), 0) ** 3,
        [(normal, (3, 4))],
    ),
    "index_select": (
        lambda m, x: fn(m, "index_select")(x, 1, const(m, np.array([2, 0, 2]))) ** 3,
        [(normal, (2, 3))],
    ),
    "masked_fill": (
        lambda m, x: fn(m, "masked_fill")(x, const(m, MASK), 0.5) ** 3,
        [(normal, (3, 4))],
    ),
    "masked_select": (
        lambda m, x: fn(m, "masked_select")(x, const(m, MASK[:, :1])) ** 3,
        [(normal, (3, 4))],
    ),
    "clone": (lambda m, x: fn(m, "clone")(x) ** 3, [(normal, (2, 3))]),
    "cast": (
        lambda m, x: (F.cast(x, cr.float64) if m is cr else x.to(torch.float64)) ** 3,
        [(normal, (2, 3))],
    ),
    "max_pool2d_with_indices+max_unpool2d": (pooled, [(distinct, (1, 2, 4, 4))]),
    "adaptive_max_pool1d+max_unpool1d": (pooled1d, [(distinct, (2, 2, 6))]),
    "Tensor.unfold": (lambda m, x: x.unfold(1, 3, 2) ** 3, [(normal, (2, 7, 2))]),
    "Tensor.unfold-last": (lambda m, x: x.unfold(-1, 2, 1) ** 3, [(normal, (3, 4))]),
    "meshgrid": (
        lambda m, a, b: cubes(fn(m, "meshgrid")(a, b, indexing="ij")),
        [(normal, (3,)), (normal, (2,))],
    ),
}
