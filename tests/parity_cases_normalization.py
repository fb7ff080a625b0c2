"""PyTorch parity for the normalization and look-up functions (values and gradients in float64):
layer_norm over one and two axes with and without affine, group_norm, instance_norm, rms_norm,
batch_norm, local_response_norm, embedding (padding, frequency scaling, repeats) and
embedding_bag in its three modes."""

from __future__ import annotations

import numpy as np

from parity_support import TF, F, case, fixed, inputs, randn, register

IDX = fixed([[0, 2, 1, 2], [4, 4, 0, 3]], np.int64)
BAG = fixed([1, 2, 2, 4, 0, 3, 2], np.int64)
OFFSETS = fixed([0, 3, 3, 5], np.int64)

CASES = [
    case(
        "layer_norm-affine",
        "LayerNorm",
        inputs(x=randn(3, 4, 5), w=randn(5), b=randn(5)),
        lambda t: F.layer_norm(t.x, (5,), t.w, t.b),
        lambda t: TF.layer_norm(t.x, (5,), t.w, t.b),
    ),
    case(
        "layer_norm-two-axes-weight-only",
        "LayerNorm",
        inputs(x=randn(3, 4, 5, scale=10.0), w=randn(4, 5)),
        lambda t: F.layer_norm(t.x, (4, 5), t.w, eps=1e-3),
        lambda t: TF.layer_norm(t.x, (4, 5), t.w, eps=1e-3),
    ),
    case(
        "layer_norm-plain",
        "LayerNorm",
        inputs(x=randn(2, 6)),
        lambda t: F.layer_norm(t.x, 6),
        lambda t: TF.layer_norm(t.x, (6,)),
    ),
    case(
        "group_norm",
        "LayerNorm",
        inputs(x=randn(2, 6, 3, 2), w=randn(6), b=randn(6)),
        lambda t: F.group_norm(t.x, 3, t.w, t.b),
        lambda t: TF.group_norm(t.x, 3, t.w, t.b),
    ),
    case(
        "instance_norm",
        "LayerNorm",
        inputs(x=randn(2, 3, 5), w=randn(3), b=randn(3)),
        lambda t: F.instance_norm(t.x, weight=t.w, bias=t.b),
        lambda t: TF.instance_norm(t.x, weight=t.w, bias=t.b),
    ),
    case(
        "rms_norm",
        "",
        inputs(x=randn(3, 4, 5), w=randn(4, 5)),
        lambda t: F.rms_norm(t.x, (4, 5), t.w),
        lambda t: TF.rms_norm(t.x, (4, 5), t.w),
    ),
    case(
        "batch_norm-training",
        "",
        inputs(x=randn(4, 3, 2), w=randn(3), b=randn(3)),
        lambda t: F.batch_norm(t.x, None, None, t.w, t.b, training=True),
        lambda t: TF.batch_norm(t.x, None, None, t.w, t.b, training=True),
    ),
    case(
        "local_response_norm",
        "",
        inputs(x=randn(2, 6, 3)),
        lambda t: F.local_response_norm(t.x, 3, alpha=0.5, k=2.0),
        lambda t: TF.local_response_norm(t.x, 3, alpha=0.5, k=2.0),
    ),
    case(
        "embedding-repeats",
        "Embedding",
        inputs(w=randn(5, 3), i=IDX),
        lambda t: F.embedding(t.i, t.w),
        lambda t: TF.embedding(t.i, t.w),
    ),
    case(
        "embedding-padding-and-frequency",
        "Embedding",
        inputs(w=randn(5, 3), i=IDX),
        lambda t: F.embedding(t.i, t.w, padding_idx=-1, scale_grad_by_freq=True),
        lambda t: TF.embedding(t.i, t.w, padding_idx=-1, scale_grad_by_freq=True),
    ),
    *[
        case(
            f"embedding_bag-{mode}",
            "Embedding",
            inputs(w=randn(5, 3), i=BAG, o=OFFSETS),
            lambda t, mode=mode: F.embedding_bag(t.i, t.w, t.o, mode=mode, padding_idx=2),
            lambda t, mode=mode: TF.embedding_bag(t.i, t.w, t.o, mode=mode, padding_idx=2),
        )
        for mode in ("sum", "mean", "max")
    ],
    case(
        "embedding_bag-per-sample-weights",
        "Embedding",
        inputs(w=randn(5, 3), i=IDX, p=randn(2, 4)),
        lambda t: F.embedding_bag(t.i, t.w, mode="sum", per_sample_weights=t.p),
        lambda t: TF.embedding_bag(t.i, t.w, mode="sum", per_sample_weights=t.p),
    ),
]

register(*CASES)
