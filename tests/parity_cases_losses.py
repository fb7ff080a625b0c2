"""PyTorch parity for the losses and distances (values and gradients in float64): label
smoothing with weights and ignore_index, weighted regression losses, smooth L1, KL divergence,
Poisson and Gaussian NLL (variance broadcasting), the margin and embedding losses, and
cosine_similarity, pairwise_distance, cdist and pdist, each for every reduction."""

from __future__ import annotations

import numpy as np
import pytest

from parity_support import (
    TF,
    F,
    case,
    fixed,
    inputs,
    labels,
    probs,
    randn,
    register,
    torch,
    uniform,
)

REDUCTIONS = ("mean", "sum", "none")


def _signs(*shape: int):
    return lambda rng: np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _kl(fn, x, t, reduction, log_target):
    """kl_div, which warns (as PyTorch does) that 'mean' is not the divergence's mean."""
    if reduction != "mean":
        return fn(x, t, reduction=reduction, log_target=log_target)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        return fn(x, t, reduction=reduction, log_target=log_target)


def _smoothing(r: str) -> list:
    w = uniform(0.5, 2.0, 4)
    return [
        case(
            f"loss-cross-entropy-smoothing-{r}",
            "CrossEntropy",
            inputs(x=randn(6, 4), y=labels(4, 6)),
            lambda t: F.cross_entropy(t.x, t.y, reduction=r, label_smoothing=0.2),
            lambda t: TF.cross_entropy(t.x, t.y, reduction=r, label_smoothing=0.2),
        ),
        case(
            f"loss-cross-entropy-smoothing-weight-ignore-{r}",
            "CrossEntropy",
            inputs(x=randn(6, 4), y=labels(4, 6, ignore=-100), w=w),
            lambda t: F.cross_entropy(t.x, t.y, t.w, reduction=r, label_smoothing=0.35),
            lambda t: TF.cross_entropy(t.x, t.y, t.w, reduction=r, label_smoothing=0.35),
            const="w",
        ),
        case(
            f"loss-cross-entropy-smoothing-spatial-ignore-1-{r}",
            "CrossEntropy",
            inputs(x=randn(2, 4, 3), y=labels(4, 2, 3, ignore=1), w=w),
            lambda t: F.cross_entropy(
                t.x, t.y, t.w, ignore_index=1, reduction=r, label_smoothing=1.0
            ),
            lambda t: TF.cross_entropy(
                t.x, t.y, t.w, ignore_index=1, reduction=r, label_smoothing=1.0
            ),
            const="w",
        ),
        case(
            f"loss-cross-entropy-smoothing-probabilities-{r}",
            "SoftCrossEntropy",
            inputs(x=randn(5, 4), p=probs(5, 4), w=w),
            lambda t: F.cross_entropy(t.x, t.p, t.w, reduction=r, label_smoothing=0.3),
            lambda t: TF.cross_entropy(t.x, t.p, t.w, reduction=r, label_smoothing=0.3),
            const="w",
        ),
    ]


def _regression(r: str) -> list:
    pair = inputs(x=randn(4, 5, scale=2.0), y=randn(4, 5), w=uniform(0.5, 2.0, 4, 5))
    cases = [
        case(
            f"loss-{name}-weight-{r}",
            op,
            pair,
            lambda t, n=name: getattr(F, n)(t.x, t.y, reduction=r, weight=t.w),
            lambda t, n=name: getattr(TF, n)(t.x, t.y, reduction=r, weight=t.w),
            const="w",
        )
        for name, op in (
            ("mse_loss", "MSELoss"),
            ("l1_loss", "L1Loss"),
            ("huber_loss", "HuberLoss"),
        )
    ]
    for beta in (1.0, 0.4, 0.0):
        cases.append(
            case(
                f"loss-smooth-l1-beta={beta}-{r}",
                "L1Loss" if beta == 0 else "HuberLoss",
                pair,
                lambda t, b=beta: F.smooth_l1_loss(t.x, t.y, reduction=r, beta=b),
                lambda t, b=beta: TF.smooth_l1_loss(t.x, t.y, reduction=r, beta=b),
                const="w",
            )
        )
    return cases


def _likelihood(r: str) -> list:
    log_probs = lambda rng: np.log(probs(4, 5)(rng))  # noqa: E731
    counts = lambda rng: rng.poisson(2.5, (4, 5)).astype(np.float64)  # noqa: E731
    cases = []
    for rr in (r, "batchmean") if r == "sum" else (r,):
        for log_target in (False, True):
            target = log_probs if log_target else probs(4, 5)
            cases.append(
                case(
                    f"loss-kl-div-log-target={log_target}-{rr}",
                    "",
                    inputs(x=log_probs, t=target),
                    lambda t, rr=rr, lt=log_target: _kl(F.kl_div, t.x, t.t, rr, lt),
                    lambda t, rr=rr, lt=log_target: _kl(TF.kl_div, t.x, t.t, rr, lt),
                )
            )
    for log_input in (True, False):
        for full in (False, True):
            x = randn(4, 5) if log_input else uniform(0.1, 3.0, 4, 5)
            cases.append(
                case(
                    f"loss-poisson-nll-log-input={log_input}-full={full}-{r}",
                    "",
                    inputs(x=x, t=counts),
                    lambda t, li=log_input, f=full: F.poisson_nll_loss(
                        t.x, t.t, log_input=li, full=f, reduction=r
                    ),
                    lambda t, li=log_input, f=full: TF.poisson_nll_loss(
                        t.x, t.t, log_input=li, full=f, reduction=r
                    ),
                    const="t",
                )
            )
    for shape in ((4, 5), (4,), (4, 1), (1, 5)):

        def var(rng, shape=shape):
            v = rng.uniform(0.2, 2.0, shape)
            v.reshape(-1)[0] = 1e-8  # below eps: clamped in the value, not in the gradient
            return v

        cases.append(
            case(
                f"loss-gaussian-nll-var{list(shape)}-{r}".replace(" ", ""),
                "",
                inputs(x=randn(4, 5), y=randn(4, 5), v=var),
                lambda t: F.gaussian_nll_loss(t.x, t.y, t.v, full=True, reduction=r),
                lambda t: TF.gaussian_nll_loss(t.x, t.y, t.v, full=True, reduction=r),
            )
        )
    return cases


def _margins(r: str) -> list:
    lab = labels(5, 4)
    multilabel = fixed(
        [[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, -1, 4, 4]], np.int64
    )
    w = uniform(0.5, 2.0, 5)
    return [
        case(
            f"loss-margin-ranking-{r}",
            "",
            inputs(a=randn(6), b=randn(6), y=_signs(6)),
            lambda t: F.margin_ranking_loss(t.a, t.b, t.y, margin=0.3, reduction=r),
            lambda t: TF.margin_ranking_loss(t.a, t.b, t.y, margin=0.3, reduction=r),
        ),
        case(
            f"loss-hinge-embedding-{r}",
            "",
            inputs(x=randn(4, 5), y=_signs(4, 5)),
            lambda t: F.hinge_embedding_loss(t.x, t.y, margin=0.8, reduction=r),
            lambda t: TF.hinge_embedding_loss(t.x, t.y, margin=0.8, reduction=r),
            const="y",
        ),
        case(
            f"loss-soft-margin-{r}",
            "",
            inputs(x=randn(4, 5, scale=3.0), y=_signs(4, 5)),
            lambda t: F.soft_margin_loss(t.x, t.y, reduction=r),
            lambda t: TF.soft_margin_loss(t.x, t.y, reduction=r),
            const="y",
        ),
        case(
            f"loss-cosine-embedding-{r}",
            "",
            inputs(a=randn(4, 5), b=randn(4, 5), y=_signs(4)),
            lambda t: F.cosine_embedding_loss(t.a, t.b, t.y, margin=0.2, reduction=r),
            lambda t: TF.cosine_embedding_loss(t.a, t.b, t.y, margin=0.2, reduction=r),
            const="y",
        ),
        case(
            f"loss-cosine-embedding-unbatched-{r}",
            "",
            inputs(a=randn(5), b=randn(5), y=fixed(-1.0)),
            lambda t: F.cosine_embedding_loss(t.a, t.b, t.y, margin=-0.5, reduction=r),
            lambda t: TF.cosine_embedding_loss(t.a, t.b, t.y, margin=-0.5, reduction=r),
            const="y",
        ),
        case(
            f"loss-multilabel-soft-margin-weight-{r}",
            "",
            inputs(x=randn(4, 5, scale=2.0), y=lambda rng: (rng.random((4, 5)) < 0.5) * 1.0, w=w),
            lambda t: F.multilabel_soft_margin_loss(t.x, t.y, t.w, reduction=r),
            lambda t: TF.multilabel_soft_margin_loss(t.x, t.y, t.w, reduction=r),
            const="w",
        ),
        *[
            case(
                f"loss-multi-margin-p={p}-weight-{r}",
                "",
                inputs(x=randn(4, 5), y=lab, w=w),
                lambda t, p=p: F.multi_margin_loss(t.x, t.y, p, 0.7, t.w, reduction=r),
                lambda t, p=p: TF.multi_margin_loss(t.x, t.y, p, 0.7, t.w, reduction=r),
                const="w",
            )
            for p in (1, 2)
        ],
        case(
            f"loss-multi-margin-unbatched-{r}",
            "",
            inputs(x=randn(5), y=fixed(2, np.int64)),
            lambda t: F.multi_margin_loss(t.x, t.y, reduction=r),
            lambda t: TF.multi_margin_loss(t.x, t.y, reduction=r),
        ),
        case(
            f"loss-multilabel-margin-{r}",
            "",
            inputs(x=randn(4, 5), y=multilabel),
            lambda t: F.multilabel_margin_loss(t.x, t.y, reduction=r),
            lambda t: TF.multilabel_margin_loss(t.x, t.y, reduction=r),
        ),
        *[
            case(
                f"loss-triplet-margin-swap={swap}-{r}",
                "",
                inputs(a=randn(4, 5), p=randn(4, 5), n=randn(4, 5)),
                lambda t, s=swap: F.triplet_margin_loss(
                    t.a, t.p, t.n, margin=0.5, p=1.5, swap=s, reduction=r
                ),
                lambda t, s=swap: TF.triplet_margin_loss(
                    t.a, t.p, t.n, margin=0.5, p=1.5, swap=s, reduction=r
                ),
            )
            for swap in (False, True)
        ],
        case(
            f"loss-triplet-with-cosine-distance-swap-{r}",
            "",
            inputs(a=randn(4, 5), p=randn(4, 5), n=randn(4, 5)),
            lambda t: F.triplet_margin_with_distance_loss(
                t.a,
                t.p,
                t.n,
                distance_function=lambda u, v: 1 - F.cosine_similarity(u, v),
                swap=True,
                reduction=r,
            ),
            lambda t: TF.triplet_margin_with_distance_loss(
                t.a,
                t.p,
                t.n,
                distance_function=lambda u, v: 1 - TF.cosine_similarity(u, v),
                swap=True,
                reduction=r,
            ),
        ),
    ]


DISTANCES = [
    case(
        "distance-cosine-similarity",
        "",
        inputs(a=randn(4, 5), b=randn(4, 5)),
        lambda t: F.cosine_similarity(t.a, t.b),
        lambda t: TF.cosine_similarity(t.a, t.b),
    ),
    case(
        "distance-cosine-similarity-broadcast-dim=-1",
        "",
        inputs(a=randn(2, 1, 4), b=randn(3, 4)),
        lambda t: F.cosine_similarity(t.a, t.b, dim=-1),
        lambda t: TF.cosine_similarity(t.a, t.b, dim=-1),
    ),
    case(
        "distance-cosine-similarity-norm-below-eps",
        "",
        inputs(a=fixed([[1e-9, 2e-9, 0.0], [1.0, 2.0, 3.0]]), b=randn(2, 3)),
        lambda t: F.cosine_similarity(t.a, t.b),
        lambda t: TF.cosine_similarity(t.a, t.b),
    ),
    *[
        case(
            f"distance-pairwise-p={p}",
            "",
            inputs(a=randn(4, 5), b=randn(4, 5)),
            lambda t, p=p: F.pairwise_distance(t.a, t.b, p),
            lambda t, p=p: TF.pairwise_distance(t.a, t.b, p),
        )
        for p in (2.0, 1.0, 3.0, 0.5, float("inf"))
    ],
    case(
        "distance-pairwise-broadcast-keepdim",
        "",
        inputs(a=randn(4, 5), b=randn(5)),
        lambda t: F.pairwise_distance(t.a, t.b, keepdim=True),
        lambda t: TF.pairwise_distance(t.a, t.b, keepdim=True),
    ),
    case(
        "distance-pairwise-unbatched",
        "",
        inputs(a=randn(5), b=randn(5)),
        lambda t: F.pairwise_distance(t.a, t.b),
        lambda t: TF.pairwise_distance(t.a, t.b),
    ),
    *[
        case(
            f"distance-cdist-p={p}",
            "",
            inputs(a=randn(2, 4, 3), b=randn(5, 3)),
            lambda t, p=p: F.cdist(t.a, t.b, p),
            lambda t, p=p: torch.cdist(t.a, t.b, p, compute_mode="donot_use_mm_for_euclid_dist"),
        )
        for p in (2.0, 1.0, 3.0, 0.5, float("inf"))
    ],
    case(
        "distance-cdist-zero-distances",
        "",
        inputs(a=fixed([[0.0, 1.0], [2.0, 2.0]]), b=fixed([[0.0, 1.0], [2.0, 2.0], [0.0, 1.0]])),
        lambda t: F.cdist(t.a, t.b),
        lambda t: torch.cdist(t.a, t.b),
    ),
    *[
        case(
            f"distance-pdist-p={p}",
            "",
            inputs(x=randn(5, 3)),
            lambda t, p=p: F.pdist(t.x, p),
            lambda t, p=p: TF.pdist(t.x, p),
        )
        for p in (2.0, 1.0, 0.5, float("inf"))
    ],
]

register(
    *[c for r in REDUCTIONS for c in _smoothing(r) + _regression(r) + _likelihood(r) + _margins(r)],
    *DISTANCES,
)
