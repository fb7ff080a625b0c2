"""Parity of chainrule.nn with torch.nn: layer outputs and gradients, init, gradient clipping.

Each layer test builds a chainrule module in float64, copies its ``state_dict()`` into the same
torch module with ``load_state_dict(strict=True)`` (which also pins down that the names and shapes
are PyTorch's), runs the same inputs through both, backpropagates the same random upstream
gradient and requires outputs, input gradients and every parameter's gradient to agree to 1e-10
relative. Random initializations are compared statistically. Skipped without torch.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-10, 1e-12


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def close(ours: np.ndarray, theirs: object, what: str) -> None:
    want = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(ours, want, rtol=RTOL, atol=ATOL, err_msg=what)


def copy_into_torch(ours: nn.Module, theirs: tnn.Module) -> None:
    """Load our state into torch's module: fails unless names, shapes and dtypes agree."""
    state = {k: torch.from_numpy(v) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)
    for k, v in theirs.state_dict().items():
        assert v.dtype == state[k].dtype, k


def run_both(
    ours: nn.Module,
    theirs: tnn.Module,
    x: np.ndarray,
    rng: np.random.Generator,
    *extra: object,
) -> None:
    """One forward and backward in each library; compare output and every gradient."""
    xo = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out = ours(xo, *extra)
    expected = theirs(xt, *(torch.from_numpy(e) for e in extra))
    assert out.shape == tuple(expected.shape)
    assert out.dtype == np.float64
    close(out.numpy(), expected, "forward values")
    upstream = rng.standard_normal(out.shape)
    if out.ndim == 0:
        out.backward()
        expected.backward()
    else:
        out.backward(upstream)
        expected.backward(torch.from_numpy(upstream))
    close(xo.grad.numpy(), xt.grad, "gradient of the input")
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for name, p in ours_params.items():
        assert p.grad is not None, name
        assert p.grad.dtype == np.float64
        close(p.grad.numpy(), theirs_params[name].grad, f"gradient of {name}")
    ours.zero_grad()
    theirs.zero_grad()


def parity(ours: nn.Module, theirs: tnn.Module, *shape: int, name: str, scale: float = 1.0):
    rng = rng_for(name)
    copy_into_torch(ours, theirs)
    run_both(ours, theirs, scale * rng.standard_normal(shape), rng)


# ----- layers ----------------------------------------------------------------------------------

LAYERS: dict[str, tuple[Callable[[], nn.Module], Callable[[], tnn.Module], tuple[int, ...]]] = {
    "linear": (lambda: nn.Linear(4, 3, dtype=np.float64), lambda: tnn.Linear(4, 3), (6, 4)),
    "linear-no-bias": (
        lambda: nn.Linear(4, 3, bias=False, dtype=np.float64),
        lambda: tnn.Linear(4, 3, bias=False),
        (6, 4),
    ),
    "linear-batched-3d": (
        lambda: nn.Linear(5, 2, dtype=np.float64),
        lambda: tnn.Linear(5, 2),
        (2, 3, 5),
    ),
    "linear-1d-input": (lambda: nn.Linear(5, 2).double(), lambda: tnn.Linear(5, 2), (5,)),
    "sigmoid": (nn.Sigmoid, tnn.Sigmoid, (4, 5)),
    "tanh": (nn.Tanh, tnn.Tanh, (4, 5)),
    "relu": (nn.ReLU, tnn.ReLU, (4, 5)),
    "leaky-relu": (lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (4, 5)),
    "elu": (lambda: nn.ELU(0.7), lambda: tnn.ELU(0.7), (4, 5)),
    "gelu": (nn.GELU, tnn.GELU, (4, 5)),
    "gelu-tanh": (lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (4, 5)),
    "softplus": (lambda: nn.Softplus(2.0, 3.0), lambda: tnn.Softplus(2.0, 3.0), (4, 5)),
    "softmax-dim1": (lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (4, 5)),
    "softmax-dim0": (lambda: nn.Softmax(dim=0), lambda: tnn.Softmax(dim=0), (4, 5, 2)),
    "log-softmax": (lambda: nn.LogSoftmax(dim=-1), lambda: tnn.LogSoftmax(dim=-1), (4, 5)),
    "flatten": (nn.Flatten, tnn.Flatten, (2, 3, 4)),
    "flatten-range": (lambda: nn.Flatten(0, 1), lambda: tnn.Flatten(0, 1), (2, 3, 4)),
    "identity": (nn.Identity, tnn.Identity, (3, 2)),
    "dropout-eval": (lambda: nn.Dropout(0.5).eval(), lambda: tnn.Dropout(0.5).eval(), (3, 4)),
    "dropout-p0": (lambda: nn.Dropout(0.0), lambda: tnn.Dropout(0.0), (3, 4)),
    "mlp": (
        lambda: nn.Sequential(
            nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 6), nn.GELU(), nn.Linear(6, 2)
        ).double(),
        lambda: tnn.Sequential(
            tnn.Linear(4, 6), tnn.Tanh(), tnn.Linear(6, 6), tnn.GELU(), tnn.Linear(6, 2)
        ).double(),
        (5, 4),
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch_values_and_gradients(name: str) -> None:
    make_ours, make_theirs, shape = LAYERS[name]
    parity(make_ours(), make_theirs().double(), *shape, name=name, scale=1.5)


# ----- batch norm: training steps, then evaluation ------------------------------------------

BATCH_NORMS = {
    "2d": ({}, (8, 3)),
    "3d": ({}, (4, 3, 5)),
    "momentum-none": ({"momentum": None}, (6, 3)),
    "momentum-0.3-3d": ({"momentum": 0.3, "eps": 1e-3}, (3, 3, 4)),
    "no-affine": ({"affine": False}, (6, 3)),
    "no-bias": ({"bias": False}, (6, 3)),
    "no-running-stats": ({"track_running_stats": False}, (5, 3, 2)),
}


@pytest.mark.parametrize("name", sorted(BATCH_NORMS))
def test_batchnorm1d_matches_torch_in_training_and_eval_with_running_stats(name: str) -> None:
    kwargs, shape = BATCH_NORMS[name]
    rng = rng_for(name)
    ours = nn.BatchNorm1d(3, dtype=np.float64, **kwargs)
    theirs = tnn.BatchNorm1d(3, **kwargs).double()
    if ours.weight is not None:  # away from the initial 1 and 0, so the affine part is tested
        ours.weight.numpy()[...] = rng.uniform(0.5, 2.0, 3)
    if ours.bias is not None:
        ours.bias.numpy()[...] = rng.standard_normal(3)
    copy_into_torch(ours, theirs)
    for _ in range(3):
        x = 2.0 * rng.standard_normal(shape) + rng.standard_normal(3).reshape(
            (3,) + (1,) * (len(shape) - 2)
        )
        run_both(ours, theirs, x, rng)
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value, f"buffer {key} after three training steps")
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, rng.standard_normal(shape), rng)


def test_batchnorm1d_eval_output_uses_running_statistics() -> None:
    ours = nn.BatchNorm1d(2, dtype=np.float64).eval()
    ours.running_mean.numpy()[...] = [1.0, -2.0]
    ours.running_var.numpy()[...] = [4.0, 0.25]
    theirs = tnn.BatchNorm1d(2).double().eval()
    copy_into_torch(ours, theirs)
    run_both(ours, theirs, np.array([[1.0, 2.0], [3.0, -1.0]]), rng_for("bn-eval"))


# ----- losses -----------------------------------------------------------------------------------


def _labels(rng: np.random.Generator, classes: int, n: int) -> np.ndarray:
    return rng.integers(0, classes, n).astype(np.int64)


LOSSES = {
    "mse": (nn.MSELoss, tnn.MSELoss, {}, "normal"),
    "l1": (nn.L1Loss, tnn.L1Loss, {}, "normal"),
    "huber": (
        lambda **k: nn.HuberLoss(delta=0.5, **k),
        lambda **k: tnn.HuberLoss(delta=0.5, **k),
        {},
        "normal",
    ),
    "bce-weighted": (nn.BCELoss, tnn.BCELoss, {"weight": (4, 3)}, "probability"),
    "bce-with-logits-weighted": (
        nn.BCEWithLogitsLoss,
        tnn.BCEWithLogitsLoss,
        {"weight": (4, 3), "pos_weight": (3,)},
        "binary",
    ),
    "cross-entropy-weighted-ignore": (
        lambda **k: nn.CrossEntropyLoss(ignore_index=1, **k),
        lambda **k: tnn.CrossEntropyLoss(ignore_index=1, **k),
        {"weight": (3,)},
        "labels",
    ),
    "cross-entropy-probabilities": (nn.CrossEntropyLoss, tnn.CrossEntropyLoss, {}, "soft"),
    "nll-weighted-ignore": (
        lambda **k: nn.NLLLoss(ignore_index=2, **k),
        lambda **k: tnn.NLLLoss(ignore_index=2, **k),
        {"weight": (3,)},
        "labels",
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_module_matches_torch(name: str, reduction: str) -> None:
    make_ours, make_theirs, weight_shapes, target_kind = LOSSES[name]
    rng = rng_for(f"{name}-{reduction}")
    weights = {k: rng.uniform(0.5, 2.0, s) for k, s in weight_shapes.items()}
    ours = make_ours(reduction=reduction, **weights)
    theirs = make_theirs(
        reduction=reduction, **{k: torch.from_numpy(w) for k, w in weights.items()}
    )
    x = rng.standard_normal((4, 3))
    if target_kind == "probability":
        x = rng.uniform(0.05, 0.95, (4, 3))
    targets = {
        "normal": lambda: rng.standard_normal((4, 3)),
        "probability": lambda: rng.random((4, 3)),
        "binary": lambda: (rng.random((4, 3)) < 0.5).astype(np.float64),
        "labels": lambda: _labels(rng, 3, 4),
        "soft": lambda: rng.dirichlet(np.ones(3), 4),
    }
    copy_into_torch(ours, theirs)
    run_both(ours, theirs, x, rng, targets[target_kind]())


def test_mlp_with_batchnorm_and_nll_loss_trains_like_torch() -> None:
    rng = rng_for("mlp-bn-nll")
    ours = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3), nn.LogSoftmax(dim=1)
    ).double()
    theirs = tnn.Sequential(
        tnn.Linear(4, 8), tnn.BatchNorm1d(8), tnn.ReLU(), tnn.Linear(8, 3), tnn.LogSoftmax(dim=1)
    ).double()
    copy_into_torch(ours, theirs)
    loss_ours, loss_theirs = nn.NLLLoss(), tnn.NLLLoss()
    for _ in range(3):
        x, y = rng.standard_normal((10, 4)), _labels(rng, 3, 10)
        lo = loss_ours(ours(cr.tensor(x)), y)
        lt = loss_theirs(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        close(lo.numpy(), lt, "loss")
        lo.backward()
        lt.backward()
        with cr.no_grad(), torch.no_grad():
            for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
                close(p.grad.numpy(), q.grad, "parameter gradient")
                p.data -= 0.1 * p.grad.numpy()
                q -= 0.1 * q.grad
        ours.zero_grad()
        theirs.zero_grad()
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value, key)


# ----- init ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4), (5, 3, 2, 2), (2, 7, 3), (1, 1)])
def test_fans_equal_torch(shape: tuple[int, ...]) -> None:
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert nn.init.calculate_fan_in_and_fan_out(np.empty(shape)) == expected
    assert nn.init._calculate_fan_in_and_fan_out(cr.tensor(np.empty(shape))) == expected


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("leaky_relu", 3),
        ("selu", None),
    ],
)
def test_gains_equal_torch(nonlinearity: str, param: float | None) -> None:
    assert nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param
    )


SHAPE = (300, 400)  # fan_in 400, fan_out 300; 120,000 draws put the std within ~0.5%

INITS = {
    "uniform": (
        lambda t, g: nn.init.uniform_(t, -0.3, 0.7, g),
        lambda t: tnn.init.uniform_(t, -0.3, 0.7),
    ),
    "normal": (
        lambda t, g: nn.init.normal_(t, 0.5, 2.0, g),
        lambda t: tnn.init.normal_(t, 0.5, 2.0),
    ),
    "xavier-uniform": (
        lambda t, g: nn.init.xavier_uniform_(t, gain=2.0, generator=g),
        lambda t: tnn.init.xavier_uniform_(t, gain=2.0),
    ),
    "xavier-normal": (
        lambda t, g: nn.init.xavier_normal_(t, gain=0.5, generator=g),
        lambda t: tnn.init.xavier_normal_(t, gain=0.5),
    ),
    "kaiming-uniform": (
        lambda t, g: nn.init.kaiming_uniform_(t, generator=g),
        lambda t: tnn.init.kaiming_uniform_(t),
    ),
    "kaiming-uniform-relu-fan-out": (
        lambda t, g: nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu", generator=g),
        lambda t: tnn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
    ),
    "kaiming-normal-leaky": (
        lambda t, g: nn.init.kaiming_normal_(t, a=0.2, generator=g),
        lambda t: tnn.init.kaiming_normal_(t, a=0.2),
    ),
    "kaiming-normal-tanh-fan-out": (
        lambda t, g: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh", generator=g),
        lambda t: tnn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"),
    ),
}


def assert_same_distribution(ours: np.ndarray, theirs: np.ndarray, uniform: bool) -> None:
    """Same mean, std and (for uniform draws) range, within the sampling error."""
    std = theirs.std()
    assert ours.std() == pytest.approx(std, rel=0.02)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.02 * std)
    if uniform:
        assert ours.min() == pytest.approx(theirs.min(), abs=0.01 * std)
        assert ours.max() == pytest.approx(theirs.max(), abs=0.01 * std)


@pytest.mark.parametrize("name", sorted(INITS))
def test_init_draws_from_torchs_distribution(name: str) -> None:
    ours_fn, theirs_fn = INITS[name]
    ours = nn.Parameter(np.empty(SHAPE))
    assert ours_fn(ours, rng_for(name)) is ours
    torch.manual_seed(zlib.crc32(name.encode()))
    theirs = theirs_fn(torch.empty(SHAPE, dtype=torch.float64)).numpy()
    assert_same_distribution(ours.numpy(), theirs, uniform="uniform" in name)


def test_linear_default_init_matches_torch_bounds() -> None:
    ours = nn.Linear(400, 300, dtype=np.float64, generator=rng_for("linear-init"))
    torch.manual_seed(0)
    theirs = tnn.Linear(400, 300).double()
    bound = 1 / math.sqrt(400)  # PyTorch's kaiming_uniform_(a=√5) bound, and the bias bound
    assert_same_distribution(ours.weight.numpy(), theirs.weight.detach().numpy(), uniform=True)
    assert ours.weight.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    for values in (ours.weight.numpy(), ours.bias.numpy(), theirs.bias.detach().numpy()):
        assert 0.95 * bound < np.abs(values).max() <= bound


# ----- gradient clipping -----------------------------------------------------------------------


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    rng = rng_for(f"clip-{norm_type}-{max_norm}")
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(np.zeros(g.shape)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad = cr.tensor(g)
        q.grad = torch.from_numpy(g.copy())
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.shape == () and total.dtype == np.float64
    close(total.numpy(), expected, "total norm")
    for p, q in zip(ours, theirs, strict=True):
        close(p.grad.numpy(), q.grad, "clipped gradient")


def test_clip_grad_value_matches_torch() -> None:
    g = rng_for("clip-value").standard_normal((5, 4))
    p, q = nn.Parameter(np.zeros_like(g)), torch.zeros(5, 4, dtype=torch.float64)
    p.grad, q.grad = cr.tensor(g), torch.from_numpy(g.copy())
    nn.utils.clip_grad_value_([p], 0.5)
    torch.nn.utils.clip_grad_value_([q], 0.5)
    close(p.grad.numpy(), q.grad, "clipped gradient")


# ----- printing ----------------------------------------------------------------------------------


def test_architecture_repr_reads_like_torch() -> None:
    ours = nn.Sequential(
        nn.Linear(4, 8),
        nn.BatchNorm1d(8, momentum=None),
        nn.Sequential(nn.GELU("tanh"), nn.Softplus()),
        nn.ModuleList([nn.LeakyReLU(), nn.Flatten()]),
        nn.Linear(8, 3, bias=False),
        nn.LogSoftmax(dim=1),
        nn.CrossEntropyLoss(),
    )
    theirs = tnn.Sequential(
        tnn.Linear(4, 8),
        tnn.BatchNorm1d(8, momentum=None),
        tnn.Sequential(tnn.GELU("tanh"), tnn.Softplus()),
        tnn.ModuleList([tnn.LeakyReLU(), tnn.Flatten()]),
        tnn.Linear(8, 3, bias=False),
        tnn.LogSoftmax(dim=1),
        tnn.CrossEntropyLoss(),
    )
    count = sum(p.numel() for p in theirs.parameters())
    assert repr(ours) == f"{theirs!r}\nTrainable parameters: {count:,}"
