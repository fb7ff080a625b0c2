"""Loss and distance modules against PyTorch: values and every gradient for every reduction,
class weights moved through state_dict both ways, the legacy size_average/reduce arguments and
their warning, KLDivLoss's 'mean' warning, and PyTorch's error types and wording."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def signs(rng, *shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


# name -> (module kwargs, weight shape or None, inputs maker, indices of inputs given no grad)
MODULES = {
    "MSELoss": ({}, None, lambda g: [g.standard_normal((4, 3)), g.standard_normal((4, 3))], ()),
    "L1Loss": ({}, None, lambda g: [g.standard_normal((4, 3)), g.standard_normal((4, 3))], ()),
    "SmoothL1Loss": (
        {"beta": 0.5},
        None,
        lambda g: [g.standard_normal((4, 3)), g.standard_normal((4, 3))],
        (),
    ),
    "CrossEntropyLoss": (
        {"label_smoothing": 0.25, "ignore_index": 1},
        (3,),
        lambda g: [g.standard_normal((5, 3)), g.integers(0, 3, 5)],
        (),
    ),
    "NLLLoss": (
        {"ignore_index": 2},
        (3,),
        lambda g: [np.log(g.dirichlet(np.ones(3), 5)), g.integers(0, 3, 5)],
        (),
    ),
    "BCELoss": (
        {},
        (4, 3),
        lambda g: [g.uniform(0.05, 0.95, (4, 3)), g.random((4, 3))],
        (),
    ),
    "BCEWithLogitsLoss": (
        {},
        (4, 3),
        lambda g: [g.standard_normal((4, 3)), g.random((4, 3))],
        (),
    ),
    "KLDivLoss": (
        {"log_target": True},
        None,
        lambda g: [np.log(g.dirichlet(np.ones(3), 4)), np.log(g.dirichlet(np.ones(3), 4))],
        (),
    ),
    "PoissonNLLLoss": (
        {"log_input": False, "full": True},
        None,
        lambda g: [g.uniform(0.2, 3.0, (4, 3)), g.poisson(2.0, (4, 3)).astype(float)],
        (1,),
    ),
    "GaussianNLLLoss": (
        {"full": True, "eps": 1e-3},
        None,
        lambda g: [g.standard_normal((4, 3)), g.standard_normal((4, 3)), g.uniform(0, 2, (4, 1))],
        (),
    ),
    "MarginRankingLoss": (
        {"margin": 0.2},
        None,
        lambda g: [g.standard_normal(6), g.standard_normal(6), signs(g, 6)],
        (),
    ),
    "HingeEmbeddingLoss": (
        {"margin": 0.5},
        None,
        lambda g: [g.standard_normal((4, 3)), signs(g, 4, 3)],
        (1,),
    ),
    "SoftMarginLoss": ({}, None, lambda g: [g.standard_normal((4, 3)), signs(g, 4, 3)], (1,)),
    "CosineEmbeddingLoss": (
        {"margin": 0.1},
        None,
        lambda g: [g.standard_normal((4, 3)), g.standard_normal((4, 3)), signs(g, 4)],
        (2,),
    ),
    "MultiLabelSoftMarginLoss": (
        {},
        (3,),
        lambda g: [g.standard_normal((4, 3)), (g.random((4, 3)) < 0.5) * 1.0],
        (),
    ),
    "MultiMarginLoss": (
        {"p": 2, "margin": 0.6},
        (3,),
        lambda g: [g.standard_normal((4, 3)), g.integers(0, 3, 4)],
        (),
    ),
    "MultiLabelMarginLoss": (
        {},
        None,
        lambda g: [g.standard_normal((2, 4)), np.array([[2, 0, -1, 1], [3, -1, 0, 0]])],
        (),
    ),
    "TripletMarginLoss": (
        {"margin": 0.7, "p": 1.0, "swap": True},
        None,
        lambda g: [g.standard_normal((4, 3)) for _ in range(3)],
        (),
    ),
    "TripletMarginWithDistanceLoss": (
        {"margin": 0.5, "swap": True},
        None,
        lambda g: [g.standard_normal((4, 3)) for _ in range(3)],
        (),
    ),
}


def _both(name: str, reduction: str, weight: np.ndarray | None = None, **kwargs):
    if weight is not None:
        ours = getattr(nn, name)(reduction=reduction, weight=cr.tensor(weight), **kwargs)
        theirs = getattr(tnn, name)(reduction=reduction, weight=torch.from_numpy(weight), **kwargs)
        return ours, theirs
    return getattr(nn, name)(reduction=reduction, **kwargs), getattr(tnn, name)(
        reduction=reduction, **kwargs
    )


def _compare(ours_out, theirs_out, ours_in, theirs_in, rng):
    assert ours_out.shape == tuple(theirs_out.shape)
    np.testing.assert_allclose(ours_out.numpy(), theirs_out.detach().numpy(), RTOL, ATOL)
    upstream = rng.standard_normal(ours_out.shape)
    ours_out.backward(cr.tensor(upstream))
    theirs_out.backward(torch.from_numpy(upstream))
    for a, b in zip(ours_in, theirs_in):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), RTOL, ATOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_loss_module_matches_torch_with_weights_moved_both_ways(name: str, reduction: str):
    kwargs, weight_shape, make, no_grad = MODULES[name]
    rng = rng_for(f"{name}-{reduction}")
    if weight_shape is None:
        ours, theirs = _both(name, reduction, **kwargs)
    else:
        # A weighted module: ours → torch strictly, then torch's (new) weights → ours.
        ours, theirs = _both(name, reduction, np.ones(weight_shape), **kwargs)
        ours.weight = cr.tensor(rng.uniform(0.5, 2.0, weight_shape))
        state = {k: torch.from_numpy(np.asarray(v)) for k, v in ours.state_dict().items()}
        theirs.load_state_dict(state, strict=True)
        np.testing.assert_array_equal(theirs.weight.numpy(), ours.weight.numpy())
        fresh = rng.uniform(0.5, 2.0, weight_shape)
        theirs.weight.copy_(torch.from_numpy(fresh))
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        np.testing.assert_array_equal(ours.weight.numpy(), fresh)
    arrays = make(rng)
    grads = [a.dtype.kind == "f" and i not in no_grad for i, a in enumerate(arrays)]
    ours_in = [cr.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    theirs_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    if name == "KLDivLoss" and reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            outputs = ours(*ours_in), theirs(*theirs_in)
    else:
        outputs = ours(*ours_in), theirs(*theirs_in)
    _compare(*outputs, ours_in, theirs_in, rng)


@pytest.mark.parametrize(
    "kwargs",
    [{"dim": 1}, {"dim": 0, "eps": 1e-3}],
    ids=["dim=1", "dim=0-eps"],
)
def test_cosine_similarity_module_matches_torch(kwargs):
    rng = rng_for(f"cos-{kwargs}")
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    ours_in = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours, theirs = nn.CosineSimilarity(**kwargs), tnn.CosineSimilarity(**kwargs)
    _compare(ours(*ours_in), theirs(*theirs_in), ours_in, theirs_in, rng)


def test_pairwise_distance_module_matches_torch_and_keeps_torchs_attribute_names():
    rng = rng_for("pairwise-module")
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    ours_in = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours, theirs = nn.PairwiseDistance(1.5, 1e-4, True), tnn.PairwiseDistance(1.5, 1e-4, True)
    assert (ours.norm, ours.eps, ours.keepdim) == (theirs.norm, theirs.eps, theirs.keepdim)
    assert repr(ours) == repr(theirs)
    _compare(ours(*ours_in), theirs(*theirs_in), ours_in, theirs_in, rng)


LEGACY = [(None, False), (False, None), (False, True), (True, False), (True, True), (None, True)]


@pytest.mark.parametrize("size_average, reduce", LEGACY)
def test_legacy_size_average_and_reduce_choose_torchs_reduction_with_its_warning(
    size_average, reduce
):
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = tnn.MSELoss(size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning) as ours_warned:
        ours = nn.MSELoss(size_average=size_average, reduce=reduce)
    assert ours.reduction == theirs.reduction
    assert str(ours_warned[0].message) == str(theirs_warned[0].message)
    rng = rng_for(f"legacy-{size_average}-{reduce}")
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = F.cross_entropy(x, np.array([0, 1, 1]), size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.cross_entropy(
            torch.from_numpy(x), torch.tensor([0, 1, 1]), size_average=size_average, reduce=reduce
        )
    np.testing.assert_allclose(out.numpy(), expected.numpy(), RTOL, ATOL)
    np.testing.assert_allclose(ours(x, y).numpy(), theirs(torch.from_numpy(x), torch.from_numpy(y)))


def test_kl_div_module_warns_on_mean_at_forward_as_torch_and_not_on_batchmean():
    x = np.log(np.full((2, 3), 1 / 3))
    t = np.full((2, 3), 1 / 3)
    with pytest.warns(UserWarning, match="'mean' will be changed to behave the same as"):
        nn.KLDivLoss()(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.KLDivLoss(reduction="batchmean")(x, t).item() == pytest.approx(0.0, abs=1e-15)


X = np.zeros((3, 4))
BAD_CALLS = {
    "multi-margin-p": lambda F, T: F.multi_margin_loss(T(X), T(np.array([0, 1, 2])), p=3),
    "multi-margin-target": lambda F, T: F.multi_margin_loss(T(X), T(np.array([0, 1]))),
    "multi-margin-weight": lambda F, T: F.multi_margin_loss(
        T(X), T(np.array([0, 1, 2])), weight=T(np.ones(2))
    ),
    "multi-margin-range": lambda F, T: F.multi_margin_loss(T(X), T(np.array([0, 1, 5]))),
    "multilabel-margin-shape": lambda F, T: F.multilabel_margin_loss(T(X), T(np.array([0, 1]))),
    "triplet-dims": lambda F, T: F.triplet_margin_loss(T(X), T(X[0]), T(X)),
    "triplet-with-distance-margin": lambda F, T: F.triplet_margin_with_distance_loss(
        T(X), T(X), T(X), margin=0.0
    ),
    "margin-ranking-dims": lambda F, T: F.margin_ranking_loss(T(X), T(X), T(np.ones(3))),
    "cosine-embedding-2d-target": lambda F, T: F.cosine_embedding_loss(
        T(X[None]), T(X[None]), T(np.ones((1, 3)))
    ),
    "smooth-l1-beta": lambda F, T: F.smooth_l1_loss(T(X), T(X), beta=-1.0),
    "huber-delta": lambda F, T: F.huber_loss(T(X), T(X), delta=0.0),
    "kl-reduction": lambda F, T: F.kl_div(T(X), T(X), reduction="avg"),
    "gaussian-var-size": lambda F, T: F.gaussian_nll_loss(T(X), T(X), T(np.ones(2))),
    "gaussian-var-negative": lambda F, T: F.gaussian_nll_loss(T(X), T(X), -1.0),
    "mse-weight-size": lambda F, T: F.mse_loss(T(X), T(X), weight=T(np.ones(4))),
    "label-smoothing-range": lambda F, T: F.cross_entropy(
        T(X), T(np.array([0, 1, 2])), label_smoothing=1.5
    ),
    "cdist-1d": lambda F, T: F.cdist(T(X[0]), T(X)),
    "cdist-columns": lambda F, T: F.cdist(T(X), T(np.zeros((2, 5)))),
    "cdist-p": lambda F, T: F.cdist(T(X), T(X), p=-1.0),
    "cdist-mode": lambda F, T: F.cdist(T(X), T(X), compute_mode="fast"),
    "pdist-1d": lambda F, T: F.pdist(T(X[0])),
    "cosine-similarity-dim": lambda F, T: F.cosine_similarity(T(X), T(X), dim=3),
    "pairwise-broadcast": lambda F, T: F.pairwise_distance(T(X), T(np.zeros((2, 5)))),
}


def _torch_call(name):
    namespace = type("TorchNS", (), {})()
    for attr in dir(TF):
        setattr(namespace, attr, getattr(TF, attr))
    namespace.cdist = torch.cdist
    return BAD_CALLS[name](namespace, torch.from_numpy)


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_arguments_raise_torchs_error_type_and_wording(name):
    with pytest.raises(Exception) as theirs:
        _torch_call(name)
    with pytest.raises(type(theirs.value)) as ours:
        BAD_CALLS[name](F, cr.tensor)
    # Shapes print as tuples here, as torch.Size in PyTorch: compare the text before them.
    expected = str(theirs.value).splitlines()[0].split("torch.Size")[0].rsplit(": ", 1)[0]
    assert str(ours.value).startswith(expected)
