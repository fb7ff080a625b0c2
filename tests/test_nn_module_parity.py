"""Parity of containers, the Module API, nn.utils and nn.init with torch: state-dict keys,
reprs, non-strict load results, clipping, gains and the deterministic inits. Skipped without
torch."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def build(lib) -> object:
    """The same nested structure in either library (``lib`` is ``nn`` or ``torch.nn``)."""

    class Net(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = lib.Sequential(
                OrderedDict(fc=lib.Linear(2, 3), act=lib.ReLU(), norm=lib.BatchNorm1d(3))
            )
            self.blocks = lib.ModuleList([lib.Linear(3, 3) for _ in range(3)] + [lib.Tanh()])
            self.heads = lib.ModuleDict(
                {"cls": lib.Linear(3, 2), "box": lib.Linear(3, 4, bias=False)}
            )
            self.scales = lib.ParameterList([lib.Parameter(fill(lib, (3,))) for _ in range(2)])
            self.extra = lib.ParameterDict(OrderedDict(b=lib.Parameter(fill(lib, (2,)))))
            self.pair = lib.Bilinear(3, 2, 1)

    return Net()


def fill(lib, shape: tuple[int, ...]) -> object:
    return np.ones(shape, np.float32) if lib is nn else torch.ones(shape)


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_nested_containers_have_torchs_state_dict_keys_and_shapes() -> None:
    ours, theirs = build(nn), build(tnn)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        assert ours_state[key].shape == tuple(value.shape), key
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours_state.items()})


def test_nested_containers_print_torchs_repr() -> None:
    ours, theirs = build(nn), build(tnn)
    assert repr(ours) == f"{theirs!r}\nTrainable parameters: {count(theirs):,}"


REPRS: dict[str, Callable[[object], object]] = {
    "sequential-of-equal-layers": lambda lib: lib.Sequential(*(lib.Linear(2, 2) for _ in range(3))),
    "module-list-runs": lambda lib: lib.ModuleList(
        [lib.ReLU(), lib.ReLU(), lib.Linear(2, 2), lib.Sequential(lib.ReLU()), lib.ReLU()]
    ),
    "empty-containers": lambda lib: lib.Sequential(lib.ModuleList(), lib.ModuleDict()),
    "parameter-list": lambda lib: lib.ParameterList(
        [lib.Parameter(fill(lib, (2, 3))), lib.Parameter(fill(lib, (4,)))]
    ),
    "parameter-dict-sorted": lambda lib: lib.ParameterDict(
        {"w": lib.Parameter(fill(lib, (2, 3))), "a": lib.Parameter(fill(lib, (1,)))}
    ),
    "module-dict": lambda lib: lib.ModuleDict({"z": lib.Identity(), "a": lib.Linear(1, 1)}),
}


@pytest.mark.parametrize("name", REPRS)
def test_container_reprs_match_torch(name: str) -> None:
    ours, theirs = REPRS[name](nn), REPRS[name](tnn)
    tail = f"\nTrainable parameters: {count(theirs):,}" if count(theirs) else ""
    assert repr(ours) == repr(theirs) + tail
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_sequential_operators_give_torchs_structure() -> None:
    def structure(lib) -> list[str]:
        seq = lib.Sequential(lib.ReLU(), lib.Tanh())
        seq = (seq + lib.Sequential(lib.Sigmoid())) * 2
        seq.insert(-2, lib.Identity())
        del seq[0:2]
        seq.pop(0)
        return [f"{k}:{type(m).__name__}" for k, m in seq._modules.items()]

    assert structure(nn) == structure(tnn)


def test_non_strict_load_reports_what_torch_reports() -> None:
    ours, theirs = build(nn), build(tnn)
    state = ours.state_dict()
    del state["stem.norm.running_var"], state["blocks.1.bias"]
    state["blocks.9.weight"] = np.zeros(1, np.float32)
    result = ours.load_state_dict(state, strict=False)
    expected = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, False)
    assert result.missing_keys == expected.missing_keys
    assert result.unexpected_keys == expected.unexpected_keys


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, -math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [tnn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for o, t, g in zip(ours, theirs, grads, strict=True):
        o.grad, t.grad = cr.tensor(g.copy()), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = tnn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert total.shape == tuple(expected.shape) == ()
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    tensors = [cr.tensor(g) for g in grads]
    np.testing.assert_allclose(
        nn.utils.get_total_norm(tensors, norm_type).item(),
        tnn.utils.get_total_norm([torch.tensor(g) for g in grads], norm_type).item(),
        rtol=1e-12,
    )


def test_clip_grad_value_matches_torch() -> None:
    g = np.linspace(-3, 3, 13)
    ours, theirs = nn.Parameter(np.zeros(13)), tnn.Parameter(torch.zeros(13, dtype=torch.float64))
    ours.grad, theirs.grad = cr.tensor(g.copy()), torch.tensor(g)
    nn.utils.clip_grad_value_(ours, 1.25)
    tnn.utils.clip_grad_value_(theirs, 1.25)
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_parameters_to_vector_matches_torch() -> None:
    ours, theirs = build(nn), build(tnn)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    np.testing.assert_array_equal(
        vec.numpy(), tnn.utils.parameters_to_vector(theirs.parameters()).detach().numpy()
    )


@pytest.mark.parametrize(
    ("name", "param"),
    [
        (n, None)
        for n in (
            "linear",
            "conv1d",
            "conv2d",
            "conv3d",
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "sigmoid",
            "tanh",
            "relu",
            "leaky_relu",
            "selu",
        )
    ]
    + [("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5))],
)
def test_calculate_gain_matches_torch(name: str, param: float | None) -> None:
    assert nn.init.calculate_gain(name, param) == pytest.approx(
        tnn.init.calculate_gain(name, param), rel=1e-15
    )


@pytest.mark.parametrize(("bad", "param"), [("swish", None), ("leaky_relu", "x")])
def test_calculate_gain_errors_match_torch(bad: str, param: object) -> None:
    with pytest.raises(ValueError) as theirs:
        tnn.init.calculate_gain(bad, param)
    with pytest.raises(ValueError, match=str(theirs.value)):
        nn.init.calculate_gain(bad, param)


@pytest.mark.parametrize(
    ("shape", "groups"), [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 1, 3, 3), 1), ((3, 1, 5), 3)]
)
def test_dirac_matches_torch_exactly(shape: tuple[int, ...], groups: int) -> None:
    ours = nn.init.dirac_(np.empty(shape), groups)
    np.testing.assert_array_equal(ours, tnn.init.dirac_(torch.empty(shape), groups).numpy())


def test_eye_matches_torch_exactly() -> None:
    np.testing.assert_array_equal(
        nn.init.eye_(np.empty((3, 5))), tnn.init.eye_(torch.empty(3, 5)).numpy()
    )


def test_trunc_normal_matches_torchs_moments() -> None:
    torch.manual_seed(0)
    n = 200_000
    ours = nn.init.trunc_normal_(np.empty(n), 0.5, 2.0, -1.0, 3.0, generator=0)
    theirs = tnn.init.trunc_normal_(
        torch.empty(n, dtype=torch.float64), 0.5, 2.0, -1.0, 3.0
    ).numpy()
    tolerance = 5 * theirs.std() * math.sqrt(2 / n)
    assert abs(ours.mean() - theirs.mean()) < tolerance
    assert abs(ours.std() - theirs.std()) < tolerance


def test_bilinear_matches_torch() -> None:
    ours = nn.Bilinear(3, 2, 4, dtype=np.float64)
    theirs = tnn.Bilinear(3, 2, 4).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    a, b = cr.tensor(x1, requires_grad=True), cr.tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out, expected = ours(a, b), theirs(ta, tb)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    upstream = rng.standard_normal((5, 4))
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for mine, torchs in [(a, ta), (b, tb), (ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        np.testing.assert_allclose(mine.grad.numpy(), torchs.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(ours).splitlines()[0] == repr(theirs)


def parameters_of(fn: Callable[..., object]) -> list[tuple[str, object]]:
    import inspect

    return [
        (p.name, p.default)
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self" and p.kind is not p.VAR_KEYWORD
    ]


SAME_SIGNATURES = [
    *(
        (getattr(nn.init, name), getattr(tnn.init, name))
        for name in (
            "uniform_",
            "normal_",
            "trunc_normal_",
            "constant_",
            "ones_",
            "zeros_",
            "eye_",
            "dirac_",
            "xavier_uniform_",
            "xavier_normal_",
            "kaiming_uniform_",
            "kaiming_normal_",
            "orthogonal_",
            "sparse_",
            "calculate_gain",
        )
    ),
    *(
        (getattr(nn.utils, name), getattr(tnn.utils, name))
        for name in (
            "clip_grad_norm_",
            "clip_grad_norm",
            "clip_grad_value_",
            "get_total_norm",
            "clip_grads_with_norm_",
            "parameters_to_vector",
            "vector_to_parameters",
            "fuse_conv_bn_eval",
            "fuse_conv_bn_weights",
            "fuse_linear_bn_eval",
            "fuse_linear_bn_weights",
        )
    ),
    *(
        (getattr(nn.Module, name), getattr(tnn.Module, name))
        for name in (
            "named_modules",
            "named_parameters",
            "named_buffers",
            "register_buffer",
            "get_submodule",
            "requires_grad_",
            "zero_grad",
            "load_state_dict",
            "register_forward_pre_hook",
            "register_forward_hook",
            "train",
        )
    ),
]


@pytest.mark.parametrize(("ours", "theirs"), SAME_SIGNATURES, ids=lambda f: f.__qualname__)
def test_signatures_match_torch(ours: Callable[..., object], theirs: Callable[..., object]) -> None:
    assert parameters_of(ours) == parameters_of(theirs)


def test_layer_constructors_take_torchs_positional_order() -> None:
    for ours, theirs in [(nn.Linear, tnn.Linear), (nn.Bilinear, tnn.Bilinear)]:
        mine = [name for name, _ in parameters_of(ours.__init__) if name != "generator"]
        assert mine == [name for name, _ in parameters_of(theirs.__init__)]


def test_backward_pre_hook_replaces_grad_output_as_torchs_does() -> None:
    def run(lib, make):
        layer = lib.Linear(3, 2).double()
        layer.load_state_dict(
            {"weight": make(np.arange(6.0).reshape(2, 3)), "bias": make(np.zeros(2))}
        )
        seen = []
        layer.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 2,))
        layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0], go[0])))
        x = make(np.ones((4, 3))).requires_grad_(True)
        layer(x).sum().backward()
        return [
            np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)
            for t in (x.grad, layer.weight.grad, *seen[0])
        ]

    ours = run(nn, lambda a: cr.tensor(a))
    theirs = run(tnn, torch.from_numpy)
    for mine, torchs in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, torchs)


@pytest.mark.parametrize("transpose", [False, True])
def test_fused_conv_bn_weights_match_torch(transpose: bool) -> None:
    rng = np.random.default_rng(11)
    arrays = {
        "w": rng.standard_normal((4, 3, 3, 3) if not transpose else (3, 4, 3, 3)),
        "b": rng.standard_normal(4),
        "rm": rng.standard_normal(4),
        "rv": rng.random(4) + 0.5,
        "g": rng.standard_normal(4),
        "beta": rng.standard_normal(4),
    }
    ours = nn.utils.fuse_conv_bn_weights(
        *(cr.tensor(arrays[k]) for k in ("w", "b", "rm", "rv")), 1e-5,
        *(cr.tensor(arrays[k]) for k in ("g", "beta")), transpose,
    )  # fmt: skip
    theirs = tnn.utils.fuse_conv_bn_weights(
        *(torch.from_numpy(arrays[k]) for k in ("w", "b", "rm", "rv")), 1e-5,
        *(torch.from_numpy(arrays[k]) for k in ("g", "beta")), transpose,
    )  # fmt: skip
    for mine, torchs in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), torchs.detach().numpy(), rtol=1e-12)


def test_fused_linear_bn_weights_match_torch() -> None:
    rng = np.random.default_rng(12)
    shapes = {"w": (5, 3), "b": (5,), "rm": (5,), "rv": (5,), "g": (5,), "beta": (5,)}
    arrays = {k: rng.random(s) + 0.5 for k, s in shapes.items()}
    order = ("w", "b", "rm", "rv")
    ours = nn.utils.fuse_linear_bn_weights(
        *(cr.tensor(arrays[k]) for k in order),
        1e-3,
        cr.tensor(arrays["g"]),
        cr.tensor(arrays["beta"]),
    )
    theirs = tnn.utils.fuse_linear_bn_weights(
        *(torch.from_numpy(arrays[k]) for k in order),
        1e-3,
        torch.from_numpy(arrays["g"]),
        torch.from_numpy(arrays["beta"]),
    )
    for mine, torchs in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), torchs.detach().numpy(), rtol=1e-12)
