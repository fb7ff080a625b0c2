"""The losses and distances without PyTorch: worked examples with hand-computed numbers, the
legacy size_average/reduce mapping, label smoothing's closed form, errors, and central-difference
gradient checks of the composed losses."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn
from chainrule.finite_differences import gradcheck


def t(values, grad: bool = False) -> cr.Tensor:
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


# ----- worked examples ----------------------------------------------------------------------


def test_label_smoothing_is_cross_entropy_against_the_mixed_target_whose_gradient_is_p_minus_q():
    # p = softmax([0, ln 3]) = (1/4, 3/4); with ε = 1/2 over 2 classes the target 1 becomes
    # q = (1/4, 3/4) = p, so the loss is p's entropy and the gradient p − q is zero.
    logits = t([[0.0, math.log(3.0)]], grad=True)
    loss = F.cross_entropy(logits, np.array([1]), label_smoothing=0.5)
    assert loss.item() == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[0.0, 0.0]], atol=1e-15)


def test_label_smoothing_leaves_ignored_rows_out_of_both_terms_and_of_the_mean():
    logits = t([[0.0, math.log(3.0)], [5.0, -5.0]])
    both = F.cross_entropy(logits, np.array([1, -100]), label_smoothing=0.5)
    first = F.cross_entropy(logits[:1], np.array([1]), label_smoothing=0.5)
    assert both.item() == pytest.approx(first.item())


def test_label_smoothing_zero_and_probability_targets_agree_with_the_plain_loss():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    plain = F.cross_entropy(x, y).item()
    assert F.cross_entropy(x, y, label_smoothing=0.0).item() == plain
    one_hot = np.eye(3)[y]
    smoothed = F.cross_entropy(x, one_hot, label_smoothing=0.3).item()
    assert smoothed == pytest.approx(F.cross_entropy(x, y, label_smoothing=0.3).item())


def test_smooth_l1_is_quadratic_below_beta_and_linear_above():
    # d = 0.2: ½·0.04/0.5 = 0.04; d = −2: 2 − 0.25 = 1.75.
    out = F.smooth_l1_loss(t([0.2, -2.0]), [0.0, 0.0], reduction="none", beta=0.5)
    np.testing.assert_allclose(out.numpy(), [0.04, 1.75])
    assert nn.SmoothL1Loss(beta=0.0)(t([0.2, -2.0]), [0.0, 0.0]).item() == pytest.approx(1.1)


def test_kl_div_batchmean_of_a_point_mass_against_a_fair_coin_is_log_2():
    out = F.kl_div(t(np.log([[0.5, 0.5]])), [[1.0, 0.0]], reduction="batchmean")
    assert out.item() == pytest.approx(math.log(2))
    same = F.kl_div(t(np.log([[0.5, 0.5]])), np.log([[0.5, 0.5]]), reduction="sum", log_target=True)
    assert same.item() == pytest.approx(0.0)


def test_poisson_nll_with_and_without_stirlings_term():
    # e^0 − 2·0 = 1; Stirling adds 2 log 2 − 2 + ½ log(4π) for t = 2, nothing for t ≤ 1.
    plain = F.poisson_nll_loss(t([0.0, 0.0]), [2.0, 1.0], reduction="none")
    full = F.poisson_nll_loss(t([0.0, 0.0]), [2.0, 1.0], full=True, reduction="none")
    np.testing.assert_allclose(plain.numpy(), [1.0, 1.0])
    stirling = 2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi)
    np.testing.assert_allclose(full.numpy(), [1.0 + stirling, 1.0])
    rate = F.poisson_nll_loss(t([2.0]), [2.0], log_input=False, eps=0.0)
    assert rate.item() == pytest.approx(2 - 2 * math.log(2))


def test_gaussian_nll_of_a_unit_error_under_variance_4():
    out = F.gaussian_nll_loss(t([1.0]), [0.0], t([4.0]))
    assert out.item() == pytest.approx(0.5 * (math.log(4) + 0.25))
    full = nn.GaussianNLLLoss(full=True)(t([1.0]), [0.0], 4.0)
    assert full.item() == pytest.approx(out.item() + 0.5 * math.log(2 * math.pi))


def test_gaussian_nll_accepts_one_variance_per_sample_and_clamps_it_at_eps():
    x = t([[1.0, 3.0], [0.0, 0.0]])
    per_sample = F.gaussian_nll_loss(x, np.zeros((2, 2)), t([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(per_sample.numpy(), [[0.5, 4.5], [0.0, 0.0]])
    clamped = F.gaussian_nll_loss(t([0.0]), [0.0], t([0.0]), eps=1e-2)
    assert clamped.item() == pytest.approx(0.5 * math.log(1e-2))


def test_margin_hinge_and_soft_margin_examples():
    assert F.margin_ranking_loss(t([1.0]), t([2.0]), t([1.0]), margin=0.5).item() == 1.5
    assert F.margin_ranking_loss(t([1.0]), t([2.0]), t([-1.0]), margin=0.5).item() == 0.0
    hinge = F.hinge_embedding_loss(t([0.3, 2.0, 0.3]), [-1.0, -1.0, 1.0], reduction="none")
    np.testing.assert_allclose(hinge.numpy(), [0.7, 0.0, 0.3])
    assert F.soft_margin_loss(t([0.0]), [1.0]).item() == pytest.approx(math.log(2))
    # −logsigmoid stays exact where log(1 + e^(−yx)) would overflow.
    assert F.soft_margin_loss(t([-1000.0]), [1.0]).item() == pytest.approx(1000.0)


def test_cosine_embedding_loss_of_orthogonal_vectors():
    x1, x2 = t([[1.0, 0.0], [1.0, 0.0]]), t([[0.0, 1.0], [0.0, 1.0]])
    out = F.cosine_embedding_loss(x1, x2, [1.0, -1.0], margin=-0.5, reduction="none")
    np.testing.assert_allclose(out.numpy(), [1.0, 0.5])


def test_multi_margin_and_multilabel_margin_examples():
    x = t([[0.1, 0.2, 0.4, 0.8]])
    # ¼[(1 − 0.8 + 0.1) + (1 − 0.8 + 0.2) + (1 − 0.8 + 0.4)] = 0.325
    assert F.multi_margin_loss(x, np.array([3])).item() == pytest.approx(0.325)
    # targets {3, 0}; non-targets {1, 2}: ¼[(1−(0.8−0.2)) + (1−(0.8−0.4)) + (1−(0.1−0.2))
    # + (1−(0.1−0.4))] = 0.85
    assert F.multilabel_margin_loss(x, np.array([[3, 0, -1, 1]])).item() == pytest.approx(0.85)


def test_multilabel_soft_margin_averages_the_logistic_terms_over_classes():
    out = F.multilabel_soft_margin_loss(t([[0.0, 0.0]]), [[1.0, 0.0]], reduction="none")
    np.testing.assert_allclose(out.numpy(), [math.log(2)])


def test_triplet_losses_with_a_3_4_5_triangle():
    a, p, n = t([[0.0, 0.0]]), t([[3.0, 4.0]]), t([[0.0, 1.0]])
    assert F.triplet_margin_loss(a, p, n, eps=0.0).item() == pytest.approx(5.0)
    # swap: d(p, n) = √(9 + 9) exceeds d(a, n) = 1, so the negative distance stays 1.
    assert F.triplet_margin_loss(a, p, n, eps=0.0, swap=True).item() == pytest.approx(5.0)
    manhattan = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: F.pairwise_distance(u, v, p=1.0, eps=0.0)
    )
    assert manhattan(a, p, n).item() == pytest.approx(7.0)


def test_distances_of_small_integers():
    assert F.cosine_similarity(t([[1.0, 0.0]]), t([[1.0, 1.0]])).item() == pytest.approx(
        1 / math.sqrt(2)
    )
    assert F.pairwise_distance(t([[0.0, 0.0]]), t([[3.0, 4.0]]), eps=0.0).item() == 5.0
    np.testing.assert_allclose(
        F.cdist(t([[0.0, 0.0]]), t([[3.0, 4.0], [0.0, 0.0]])).numpy(), [[5, 0]]
    )
    np.testing.assert_allclose(F.pdist(t([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])).numpy(), [5, 10, 5])
    assert cr.cdist is F.cdist


def test_zero_distances_have_zero_gradients_not_nan():
    x = t([[1.0, 2.0], [1.0, 2.0]], grad=True)
    F.cdist(x, x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))
    y = t([[1.0, 2.0], [1.0, 2.0]], grad=True)
    F.pdist(y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.zeros((2, 2)))


# ----- legacy arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size_average, reduce, expected",
    [
        (None, None, "mean"),
        (True, None, "mean"),
        (False, None, "sum"),
        (None, False, "none"),
        (False, False, "none"),
        (True, True, "mean"),
        (False, True, "sum"),
    ],
)
def test_size_average_and_reduce_map_to_reduction_as_in_pytorch(size_average, reduce, expected):
    if size_average is None and reduce is None:
        assert nn.L1Loss().reduction == "mean"
        return
    with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
        module = nn.BCELoss(size_average=size_average, reduce=reduce, reduction="sum")
    assert module.reduction == expected
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        out = F.l1_loss(t([1.0, 3.0]), [0.0, 0.0], size_average, reduce)
    assert out.shape == ((2,) if expected == "none" else ())


def test_loss_modules_take_pytorchs_positional_order():
    ce = nn.CrossEntropyLoss(None, None, 3, None, "sum", 0.1)
    assert (ce.ignore_index, ce.reduction, ce.label_smoothing) == (3, "sum", 0.1)
    poisson = nn.PoissonNLLLoss(False, True, None, 1e-4, None, "none")
    assert (poisson.log_input, poisson.full, poisson.eps, poisson.reduction) == (
        False,
        True,
        1e-4,
        "none",
    )
    margin = nn.MultiMarginLoss(2, 0.5, np.ones(3))
    assert (margin.p, margin.margin, list(margin.state_dict())) == (2, 0.5, ["weight"])
    triplet = nn.TripletMarginLoss(0.5, 1.0, 1e-3, True)
    assert (triplet.margin, triplet.p, triplet.eps, triplet.swap) == (0.5, 1.0, 1e-3, True)


# ----- errors ----------------------------------------------------------------------------------


def test_loss_modules_refuse_bad_settings_when_built():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.SoftMarginLoss(reduction="avg")
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.GaussianNLLLoss(reduction="batchmean")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


def test_new_elementwise_losses_refuse_mismatched_shapes_instead_of_broadcasting():
    for loss in (F.smooth_l1_loss, F.soft_margin_loss, F.hinge_embedding_loss, F.kl_div):
        with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape"):
            loss(t(np.zeros((4, 1))), np.zeros(4), reduction="sum")


def test_class_index_losses_refuse_float_targets_and_bad_smoothing():
    with pytest.raises(RuntimeError, match="expected scalar type Long but found float64"):
        F.multi_margin_loss(t([[0.0, 1.0]]), np.array([1.0]))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(t([[0.0, 1.0]]), np.array([1]), label_smoothing=-0.1)
    with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
        F.multilabel_margin_loss(t([[0.0, 1.0]]), np.array([[2, -1]]))


# ----- gradients against central differences ---------------------------------------------------

RNG = np.random.default_rng(7)
A, B, C = (RNG.standard_normal((3, 4)) for _ in range(3))
SIGNS = np.where(RNG.random((3, 4)) < 0.5, -1.0, 1.0)
COMPOSED = {
    "smooth-l1": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.3), [A, B]),
    "kl-div": (lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True), [A, B]),
    "kl-div-probabilities": (lambda a, b: F.kl_div(a, b, None, None, "sum"), [A, np.abs(B)]),
    "poisson-full": (lambda a: F.poisson_nll_loss(a, np.abs(B) * 3, full=True), [A]),
    "poisson-rate": (lambda a: F.poisson_nll_loss(a, np.abs(B), log_input=False), [np.abs(A)]),
    "gaussian": (lambda a, b, v: F.gaussian_nll_loss(a, b, v), [A, B, np.abs(C[:, :1]) + 0.5]),
    "margin-ranking": (lambda a, b: F.margin_ranking_loss(a, b, SIGNS, 0.1), [A, B]),
    "hinge": (lambda a: F.hinge_embedding_loss(a, SIGNS, margin=0.7), [A]),
    "soft-margin": (lambda a: F.soft_margin_loss(a, SIGNS), [A]),
    "cosine-embedding": (lambda a, b: F.cosine_embedding_loss(a, b, SIGNS[:, 0], 0.1), [A, B]),
    "multilabel-soft": (lambda a: F.multilabel_soft_margin_loss(a, SIGNS > 0, np.ones(4)), [A]),
    "multi-margin-p2": (lambda a: F.multi_margin_loss(a, np.array([0, 3, 1]), p=2), [A]),
    "multilabel-margin": (
        lambda a: F.multilabel_margin_loss(a, np.array([[1, -1, 0, 0]] * 3)),
        [A],
    ),
    "triplet-swap": (lambda a, b, c: F.triplet_margin_loss(a, b, c, p=3, swap=True), [A, B, C]),
    "cosine-similarity": (lambda a, b: F.cosine_similarity(a, b[:1], dim=1), [A, B]),
    "pairwise-distance": (lambda a, b: F.pairwise_distance(a, b, p=1.5, keepdim=True), [A, B]),
    "cdist": (lambda a, b: F.cdist(a, b[:2], p=2.0), [A, B]),
    "pdist": (lambda a: F.pdist(a, p=3.0), [A]),
    "cross-entropy-smoothing": (
        lambda a: F.cross_entropy(
            a, np.array([0, 2, -100]), np.arange(1.0, 5.0), label_smoothing=0.4
        ),
        [A],
    ),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_composed_loss_gradients_match_central_differences(name):
    fn, arrays = COMPOSED[name]
    assert gradcheck(fn, [t(a, grad=True) for a in arrays])


@pytest.mark.parametrize(
    "fn, smoothing", [("cross_entropy", 0.0), ("cross_entropy", 0.1), ("nll_loss", 0.0)]
)
def test_mean_over_only_ignored_targets_is_nan_with_a_zero_gradient(fn, smoothing):
    """As PyTorch: no target counts, so the mean is 0/0 = NaN, and the gradient is 0 (no
    warning, no NaN sent back into the network)."""
    x = cr.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    extra = {"label_smoothing": smoothing} if fn == "cross_entropy" else {}
    loss = getattr(F, fn)(x, cr.tensor([-100, -100]), **extra)
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
