"""LayerNorm, RMSNorm, GroupNorm, InstanceNorm1d/2d, LocalResponseNorm and BatchNorm against
PyTorch (float64, state dicts moved both ways, outputs, input and parameter gradients, running
buffers after several training steps, train and eval), and without PyTorch: worked examples,
errors, signatures and reprs."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(name="torch")
def _torch():
    return pytest.importorskip("torch")


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def close(ours, theirs, what: str) -> None:
    want = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(ours), want, rtol=RTOL, atol=ATOL, err_msg=what)


def perturb(module: nn.Module, rng: np.random.Generator) -> None:
    """Parameters away from their initial 1 and 0, so the affine part is tested."""
    for p in module.parameters():
        p.numpy()[...] = rng.uniform(0.5, 2.0, p.shape)


def run_both(torch, ours, theirs, x: np.ndarray, rng: np.random.Generator) -> None:
    xo = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    close(yo.numpy(), yt, "output")
    g = rng.standard_normal(yt.shape)
    (yo * cr.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    close(xo.grad.numpy(), xt.grad, "input gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad.numpy(), theirs_params[name].grad, f"gradient of {name}")
        p.grad = None
        theirs_params[name].grad = None


def both_ways(torch, ours, theirs) -> None:
    """Ours → torch with strict=True, and back: names, shapes and dtypes are PyTorch's."""
    theirs.load_state_dict(
        {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}, strict=True
    )
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)


LAYERS = {
    "layernorm": (lambda lib: lib.LayerNorm(5), (3, 4, 5)),
    "layernorm-2d-shape-no-bias": (lambda lib: lib.LayerNorm([4, 5], bias=False), (3, 4, 5)),
    "layernorm-no-affine": (lambda lib: lib.LayerNorm(5, 1e-3, False), (2, 5)),
    "rmsnorm": (lambda lib: lib.RMSNorm([4, 5]), (3, 4, 5)),
    "rmsnorm-eps": (lambda lib: lib.RMSNorm(5, eps=1e-2, elementwise_affine=False), (3, 5)),
    "groupnorm": (lambda lib: lib.GroupNorm(3, 6), (2, 6, 3, 2)),
    "groupnorm-one-group-no-bias": (lambda lib: lib.GroupNorm(1, 4, bias=False), (3, 4)),
    "groupnorm-no-affine": (lambda lib: lib.GroupNorm(2, 4, affine=False), (3, 4, 5)),
    "localresponsenorm": (lambda lib: lib.LocalResponseNorm(3, 0.5, 0.75, 2.0), (2, 5, 3)),
    "localresponsenorm-even": (lambda lib: lib.LocalResponseNorm(4), (2, 6, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch_with_state_moved_both_ways(torch, name: str) -> None:
    make, shape = LAYERS[name]
    rng = rng_for(name)
    ours, theirs = make(nn).to(dtype=np.float64), make(torch.nn).double()
    perturb(ours, rng)
    both_ways(torch, ours, theirs)
    assert repr(ours).splitlines()[0] == repr(theirs)
    run_both(torch, ours, theirs, 3.0 * rng.standard_normal(shape) + 1.0, rng)


STATEFUL = {
    "batchnorm1d-cumulative": (lambda lib: lib.BatchNorm1d(3, momentum=None), (6, 3, 2)),
    "batchnorm2d-momentum": (lambda lib: lib.BatchNorm2d(3, momentum=0.3), (4, 3, 2, 2)),
    "batchnorm2d-cumulative": (lambda lib: lib.BatchNorm2d(3, momentum=None), (4, 3, 2, 2)),
    "batchnorm2d-no-stats": (
        lambda lib: lib.BatchNorm2d(3, track_running_stats=False),
        (4, 3, 2, 2),
    ),
    "instancenorm1d": (lambda lib: lib.InstanceNorm1d(3), (2, 3, 5)),
    "instancenorm1d-stats-affine": (
        lambda lib: lib.InstanceNorm1d(3, 1e-3, 0.2, True, True),
        (2, 3, 5),
    ),
    "instancenorm2d-stats": (
        lambda lib: lib.InstanceNorm2d(3, track_running_stats=True),
        (2, 3, 3, 2),
    ),
    "instancenorm2d-affine-cumulative": (
        lambda lib: lib.InstanceNorm2d(3, momentum=None, affine=True, track_running_stats=True),
        (2, 3, 2, 2),
    ),
}


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_running_buffers_and_both_modes_match_torch(torch, name: str) -> None:
    make, shape = STATEFUL[name]
    rng = rng_for(name)
    ours, theirs = make(nn).to(dtype=np.float64), make(torch.nn).double()
    perturb(ours, rng)
    both_ways(torch, ours, theirs)
    assert repr(ours).splitlines()[0] == repr(theirs)
    offset = rng.standard_normal(shape[1]).reshape((shape[1],) + (1,) * (len(shape) - 2))
    for _ in range(3):
        run_both(torch, ours, theirs, 2.0 * rng.standard_normal(shape) + offset, rng)
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value, f"buffer {key} after three training steps")
    ours.eval()
    theirs.eval()
    run_both(torch, ours, theirs, rng.standard_normal(shape), rng)


def test_unbatched_instance_norm_matches_torch(torch) -> None:
    rng = rng_for("unbatched")
    ours = nn.InstanceNorm2d(2, affine=True, dtype=np.float64)
    theirs = torch.nn.InstanceNorm2d(2, affine=True).double()
    perturb(ours, rng)
    both_ways(torch, ours, theirs)
    run_both(torch, ours, theirs, rng.standard_normal((2, 3, 3)), rng)


def test_functional_batch_norm_updates_running_stats_in_place_as_torch(torch) -> None:
    rng = rng_for("functional-bn")
    x = rng.standard_normal((5, 3, 2))
    mean, var = np.zeros(3), np.ones(3)
    rm, rv = cr.tensor(mean.copy()), cr.tensor(var.copy())
    trm, trv = torch.tensor(mean.copy()), torch.tensor(var.copy())
    for _ in range(2):
        F.batch_norm(cr.tensor(x), rm, rv, training=True, momentum=0.25)
        torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.25)
    close(rm.numpy(), trm, "running_mean")
    close(rv.numpy(), trv, "running_var")
    out = F.batch_norm(cr.tensor(x), rm, rv, training=False)
    close(out.numpy(), torch.nn.functional.batch_norm(torch.tensor(x), trm, trv), "eval output")


def test_constructor_signatures_follow_torch(torch) -> None:
    import inspect

    for name in ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "RMSNorm", "GroupNorm"):
        ours = list(inspect.signature(getattr(nn, name)).parameters.items())
        theirs = list(inspect.signature(getattr(torch.nn, name)).parameters.items())
        assert [(k, p.default) for k, p in ours][: len(theirs)] == [
            (k, p.default) for k, p in theirs
        ], name
    for name in ("InstanceNorm1d", "InstanceNorm2d", "LocalResponseNorm"):
        ours = [k for k in inspect.signature(getattr(nn, name)).parameters]
        assert ours == list(inspect.signature(getattr(torch.nn, name)).parameters), name


# ----- without PyTorch --------------------------------------------------------------------------


def test_layer_norm_worked_example() -> None:
    # Row [1, 2, 3]: mean 2, biased variance 2/3, so x̂ = (x − 2)/√(2/3 + eps).
    x = cr.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    y = F.layer_norm(x, 3, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[-np.sqrt(1.5), 0.0, np.sqrt(1.5)]])
    # Σ of a normalized row is constant, so its gradient is zero everywhere.
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-15)


def test_rms_norm_worked_example_and_default_eps() -> None:
    # [3, 4]: mean square 12.5, so y = x / √12.5.
    y = F.rms_norm(cr.tensor(np.array([3.0, 4.0])), 2, eps=0.0)
    np.testing.assert_allclose(y.numpy(), np.array([3.0, 4.0]) / np.sqrt(12.5))
    zero = F.rms_norm(cr.tensor(np.zeros(2, dtype=np.float32)), 2)
    assert np.all(zero.numpy() == 0) and zero.numpy().dtype == np.float32


def test_layer_norm_is_exact_for_a_large_offset() -> None:
    # A two-pass variance: an offset of 1e8 does not swamp a spread of 1 in float64.
    x = 1e8 + np.array([[-1.0, 0.0, 1.0]])
    y = F.layer_norm(cr.tensor(x), 3, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[-np.sqrt(1.5), 0.0, np.sqrt(1.5)]], rtol=1e-12)


def test_group_norm_refuses_indivisible_channels() -> None:
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"divisible by num_groups.*\[2, 6\] and num_groups=4"):
        F.group_norm(cr.tensor(np.ones((2, 6))), 4)


def test_layer_norm_names_the_shape_it_expected() -> None:
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[\*, 4\].*\[2, 3\]"):
        nn.LayerNorm(4)(cr.tensor(np.ones((2, 3), dtype=np.float32)))


def test_batch_norm_one_value_per_channel_in_training_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(cr.tensor(np.ones((1, 3))), None, None, training=True)


def test_layers_refuse_other_devices_and_integer_dtypes() -> None:
    for make in (
        lambda **kw: nn.LayerNorm(3, **kw),
        lambda **kw: nn.RMSNorm(3, **kw),
        lambda **kw: nn.GroupNorm(1, 3, **kw),
        lambda **kw: nn.BatchNorm1d(3, **kw),
        lambda **kw: nn.InstanceNorm1d(3, **kw),
    ):
        with pytest.raises(RuntimeError, match="cuda"):
            make(device="cuda")
        with pytest.raises(TypeError, match="float32 or float64"):
            make(dtype=np.int64)
        assert make(device="cpu") is not None


def test_instance_norm_running_stats_and_num_batches_tracked() -> None:
    layer = nn.InstanceNorm1d(1, momentum=0.5, track_running_stats=True, dtype=np.float64)
    layer(cr.tensor(np.array([[[0.0, 2.0]], [[4.0, 6.0]]])))
    # Per-sample means 1 and 5 average to 3; unbiased variances are 2 and 2.
    np.testing.assert_allclose(layer.running_mean.numpy(), [1.5])
    np.testing.assert_allclose(layer.running_var.numpy(), [1.5])
    assert int(layer.num_batches_tracked.numpy()) == 0


def test_instance_norm_rejects_wrong_rank_and_mismatched_affine_channels() -> None:
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.InstanceNorm1d(3)(cr.tensor(np.ones((1, 3, 2, 2))))
    with pytest.raises(ValueError, match=r"num_features \(3\), but got: 2"):
        nn.InstanceNorm1d(3, affine=True)(cr.tensor(np.ones((1, 2, 4), dtype=np.float32)))


def test_old_batchnorm_path_still_imports() -> None:
    from chainrule.nn.batchnorm import BatchNorm1d
    from chainrule.nn.normalization import BatchNorm1d as Again

    assert BatchNorm1d is Again is nn.BatchNorm1d
