"""The grouped ("foreach") updates of SGD and Adam/AdamW: the same bits as the per-parameter loop,
and the parameter and state semantics PyTorch users rely on."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

SHAPES: list[tuple[tuple[int, ...], Any]] = [
    ((7, 3), np.float32),
    ((3,), np.float32),
    ((), np.float64),
    ((0, 4), np.float32),
    ((5,), np.float64),
    ((2, 2), np.float32),
]


def _sgd_options() -> list[dict[str, Any]]:
    cases = []
    for momentum, dampening, nesterov, wd, maximize in itertools.product(
        [0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 0.1], [False, True]
    ):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        cases.append(
            dict(
                lr=0.1,
                momentum=momentum,
                dampening=dampening,
                nesterov=nesterov,
                weight_decay=wd,
                maximize=maximize,
            )
        )
    return cases


def _adam_options() -> list[dict[str, Any]]:
    return [
        dict(lr=0.01, amsgrad=a, weight_decay=wd, decoupled_weight_decay=d, maximize=m)
        for a, wd, d, m in itertools.product(
            [False, True], [0.0, 0.1], [False, True], [False, True]
        )
    ]


CASES = [("SGD", o) for o in _sgd_options()] + [("Adam", o) for o in _adam_options()]
CASES += [("AdamW", dict(lr=0.01))]
IDS = [f"{cls}-{i}" for i, (cls, _) in enumerate(CASES)]


def _params(seed: int = 0) -> list[cr.Tensor]:
    rng = np.random.default_rng(seed)
    return [cr.tensor(rng.standard_normal(s).astype(d), requires_grad=True) for s, d in SHAPES]


def _train(cls: str, options: dict[str, Any], foreach: bool | None, skip_some: bool) -> Any:
    """Two groups (mixed float32/float64, a 0-d and a size-0 parameter), 30 steps; with
    ``skip_some`` some gradients are None on some steps."""
    rng = np.random.default_rng(1)
    ps = _params()
    groups = [{"params": ps[:3]}, {"params": ps[3:], "lr": 0.05}]
    opt = getattr(optim, cls)(groups, foreach=foreach, **options)
    for t in range(30):
        for i, p in enumerate(ps):
            if skip_some and (t + i) % 5 == 0:
                p.grad = None
            else:
                p.grad = cr.tensor(rng.standard_normal(p.shape).astype(p.dtype))
        opt.step()
    return ps, opt


def _assert_same_state(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["state"].keys() == b["state"].keys()
    for index, saved in a["state"].items():
        assert saved.keys() == b["state"][index].keys()
        for name, value in saved.items():
            other = b["state"][index][name]
            if isinstance(value, np.ndarray):
                assert value.dtype == other.dtype
                np.testing.assert_array_equal(value, other)
            else:
                assert value == other


@pytest.mark.parametrize("skip_some", [False, True], ids=["all-grads", "some-none"])
@pytest.mark.parametrize("cls, options", CASES, ids=IDS)
def test_grouped_update_gives_the_same_bits_as_the_per_parameter_loop(
    cls: str, options: dict[str, Any], skip_some: bool
) -> None:
    plain, plain_opt = _train(cls, options, False, skip_some)
    grouped, grouped_opt = _train(cls, options, None, skip_some)
    for a, b in zip(plain, grouped):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    _assert_same_state(plain_opt.state_dict(), grouped_opt.state_dict())


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_grouped_state_entries_are_views_of_one_flat_buffer_per_name(cls: str) -> None:
    ps = [cr.tensor(np.ones(s, np.float32), requires_grad=True) for s in [(3, 2), (2,), ()]]
    opt = getattr(optim, cls)(ps, lr=0.1, **({"momentum": 0.9} if cls == "SGD" else {}))
    for _ in range(2):
        for p in ps:
            p.grad = cr.tensor(np.ones(p.shape, np.float32))
        opt.step()
    name = "momentum_buffer" if cls == "SGD" else "exp_avg"
    owner = opt.state[ps[0]][name].base
    assert owner is not None and owner.ndim == 1
    assert all(opt.state[p][name].base is owner for p in ps)
    assert [opt.state[p][name].shape for p in ps] == [(3, 2), (2,), ()]


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW"])
def test_an_alias_of_the_parameter_taken_before_the_first_step_sees_every_update(
    cls: str,
) -> None:
    ps = _params()
    aliases = [p.numpy() for p in ps]
    data_views = [p.data for p in ps]
    opt = getattr(optim, cls)(ps, lr=0.1, **({"momentum": 0.9} if cls == "SGD" else {}))
    for seed in range(3):
        for p in ps:
            p.grad = cr.tensor(np.random.default_rng(seed).standard_normal(p.shape).astype(p.dtype))
        before = [a.copy() for a in aliases]
        opt.step()
        for p, alias, view, old in zip(ps, aliases, data_views, before):
            assert p.numpy() is alias
            np.testing.assert_array_equal(view.numpy(), alias)
            if alias.size:
                assert not np.array_equal(alias, old)


def _step(opt: optim.Optimizer, ps: list[cr.Tensor], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for p in ps:
        p.grad = cr.tensor(rng.standard_normal(p.shape).astype(p.dtype))
    opt.step()


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_replacing_param_data_mid_training_updates_the_new_array(cls: str) -> None:
    options = {"momentum": 0.9} if cls == "SGD" else {}
    runs = []
    for foreach in (False, None):
        ps = _params()
        opt = getattr(optim, cls)(ps, lr=0.1, foreach=foreach, **options)
        _step(opt, ps, 0)
        replacement = np.full(ps[0].shape, 0.5, ps[0].dtype)
        ps[0].data = cr.from_numpy(replacement)
        ps[1].data = cr.tensor(np.zeros((4,), ps[1].dtype))  # a new shape: a new segment
        opt.state.pop(ps[1])  # its old state no longer fits
        _step(opt, ps, 1)
        assert ps[0].numpy() is replacement
        runs.append([p.numpy().copy() for p in ps])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_load_state_dict_mid_training_is_adopted_by_the_grouped_update(cls: str) -> None:
    options = {"momentum": 0.9} if cls == "SGD" else {}
    reference_ps = _params()
    reference = getattr(optim, cls)(reference_ps, lr=0.1, foreach=False, **options)
    ps = _params()
    opt = getattr(optim, cls)(ps, lr=0.1, **options)
    for seed in range(3):
        _step(reference, reference_ps, seed)
        _step(opt, ps, seed)
    saved = opt.state_dict()
    for seed in range(3, 5):
        _step(opt, ps, seed)  # trained on past the save...
    for p, r in zip(ps, reference_ps):
        p.data = cr.tensor(r.numpy().copy())
    opt.load_state_dict(saved)  # ...and rewound to it
    for seed in range(3, 8):
        _step(reference, reference_ps, seed)
        _step(opt, ps, seed)
    for p, r in zip(ps, reference_ps):
        np.testing.assert_array_equal(p.numpy(), r.numpy())
    _assert_same_state(reference.state_dict(), opt.state_dict())


def test_a_state_array_replaced_by_the_user_is_copied_into_the_flat_buffer() -> None:
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    _step(opt, ps, 0)
    replaced = np.full(ps[0].shape, 0.25, ps[0].dtype)
    opt.state[ps[0]]["exp_avg"] = replaced
    reference_ps = _params()
    reference = optim.Adam(reference_ps, lr=0.1, foreach=False)
    _step(reference, reference_ps, 0)
    reference.state[reference_ps[0]]["exp_avg"] = replaced.copy()
    _step(opt, ps, 1)
    _step(reference, reference_ps, 1)
    for p, r in zip(ps, reference_ps):
        np.testing.assert_array_equal(p.numpy(), r.numpy())


def test_add_param_group_mid_training_keeps_the_steps_of_both_groups_exact() -> None:
    runs = []
    for foreach in (False, None):
        ps = _params()
        opt = optim.Adam(ps[:3], lr=0.01, foreach=foreach)
        _step(opt, ps[:3], 0)
        opt.add_param_group({"params": ps[3:], "lr": 0.1})
        for seed in range(1, 4):
            _step(opt, ps, seed)
        runs.append(([p.numpy().copy() for p in ps], opt.state_dict()))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    _assert_same_state(runs[0][1], runs[1][1])


def test_parameters_with_different_step_counts_get_their_own_bias_corrections() -> None:
    runs = []
    for foreach in (False, None):
        ps = _params()
        opt = optim.Adam(ps, lr=0.01, foreach=foreach)
        _step(opt, ps[:2], 0)  # only the first two have gradients
        for p in ps[2:]:
            p.grad = None
        opt.step()
        for seed in range(1, 4):
            _step(opt, ps, seed)
        runs.append(([p.numpy().copy() for p in ps], opt.state_dict()))
    assert runs[1][1]["state"][0]["step"] == 5 and runs[1][1]["state"][2]["step"] == 3
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)


def test_a_gradient_of_another_dtype_takes_the_per_parameter_update() -> None:
    runs = []
    for foreach in (False, None):
        p = cr.tensor(np.ones(3, np.float32), requires_grad=True)
        q = cr.tensor(np.ones(2, np.float32), requires_grad=True)
        opt = optim.Adam([p, q], lr=0.1, foreach=foreach)
        for seed in range(3):
            p.grad = cr.tensor(np.random.default_rng(seed).standard_normal(3))  # float64
            q.grad = cr.tensor(np.random.default_rng(seed).standard_normal(2).astype(np.float32))
            opt.step()
        runs.append((p.numpy().copy(), q.numpy().copy()))
    for a, b in zip(*runs):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_other_optimizers_keep_the_per_parameter_update() -> None:
    ps = _params()
    for cls in (optim.RMSprop, optim.Adagrad, optim.NAdam):
        opt = cls(ps, lr=0.01)
        _step(opt, ps, 0)
        assert not opt._segment_cache
