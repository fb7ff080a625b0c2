"""Gradcheck cases for the loss ops' newer paths: cross_entropy with label smoothing (class
indices with weights and ignore_index on (C,), (N, C) and spatial inputs; probability targets)
and the weighted regression losses."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import chainrule.functional as F
from gradcheck_support import case, leaf

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@case("CrossEntropy")
def smoothed_class_index_cross_entropy(draw):
    classes, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(st.sampled_from(["1d", "2d", "spatial"]))
    shape = {"1d": (classes,), "2d": (n, classes), "spatial": (n, classes, 2)}[lead]
    target_shape = {"1d": (), "2d": (n,), "spatial": (n, 2)}[lead]
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    labels = rng.integers(0, classes, size=target_shape)
    ignore = -100
    if labels.size > 1 and draw(st.booleans()):  # one ignored target, never all of them
        labels.reshape(-1)[0] = ignore
    weight = rng.random(classes) + 0.5 if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.1, 0.5, 1.0]))
    reduction = draw(REDUCTIONS)
    x = leaf(2 * rng.standard_normal(shape))
    return (
        lambda x: F.cross_entropy(x, labels, weight, reduction=reduction, label_smoothing=smoothing)
    ), [x]


@case("SoftCrossEntropy")
def smoothed_probability_cross_entropy(draw):
    classes, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    probs = rng.random((n, classes))
    probs /= probs.sum(axis=1, keepdims=True)
    smoothing = draw(st.sampled_from([0.1, 0.6]))
    reduction = draw(REDUCTIONS)
    return (lambda x, p: F.cross_entropy(x, p, reduction=reduction, label_smoothing=smoothing)), [
        leaf(rng.standard_normal((n, classes))),
        leaf(probs),
    ]


@case("MSELoss", "L1Loss", "HuberLoss")
def weighted_regression_losses(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (2, 1, 2)]))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    weight = rng.random(shape) + 0.5
    reduction = draw(REDUCTIONS)
    name = draw(st.sampled_from(["mse_loss", "l1_loss", "huber_loss"]))
    x = 2 * rng.standard_normal(shape)
    x = np.sign(x) * (np.abs(x) + 0.1)  # keeps |x − t| off L1's and Huber's kinks
    return (lambda x, t: getattr(F, name)(x, t, reduction=reduction, weight=weight)), [
        leaf(x),
        leaf(np.zeros(shape)),
    ]
