"""LBFGS: trajectories against torch.optim.LBFGS (Rosenbrock, least squares; fixed steps and the
strong-Wolfe line search), state, state dicts, and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

RTOL, ATOL = 1e-8, 1e-10
_rng = np.random.default_rng(3)
A = _rng.standard_normal((12, 5))
B = _rng.standard_normal(12)


def _rosenbrock(lib: Any, p: dict[str, Any]) -> Any:
    x, y = p["x"], p["y"]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _least_squares(lib: Any, p: dict[str, Any]) -> Any:
    a, b = lib.tensor(A), lib.tensor(B)
    return (((a @ p["w"]) + p["c"] - b) ** 2).mean()


PROBLEMS = {
    "rosenbrock": (_rosenbrock, {"x": np.array(-1.5), "y": np.array([2.0])}),
    "least-squares": (_least_squares, {"w": np.zeros(5), "c": np.array(0.3)}),
}


def _run(lib: Any, problem: str, steps: int, **options: Any) -> tuple[list, dict, Any]:
    loss_fn, start = PROBLEMS[problem]
    p = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in start.items()}
    opt = (optim if lib is cr else lib.optim).LBFGS(list(p.values()), **options)

    def closure() -> Any:
        opt.zero_grad()
        loss = loss_fn(lib, p)
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = opt.step(closure)
        values = [
            v.detach().numpy().copy() if lib is not cr else v.numpy().copy() for v in p.values()
        ]
        trajectory.append([loss.detach().item(), *values])
    return trajectory, p, opt


def _numpy(value: Any) -> Any:
    return value.detach().numpy() if hasattr(value, "detach") else value


CONFIGS = {
    "fixed-step": dict(lr=0.05, max_iter=5, history_size=4),
    "fixed-step-lr1": dict(max_iter=3),
    "strong-wolfe": dict(line_search_fn="strong_wolfe", max_iter=4),
    "strong-wolfe-short-history": dict(line_search_fn="strong_wolfe", history_size=2),
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_trajectory_matches_torch(problem: str, config: str) -> None:
    torch = pytest.importorskip("torch")
    options = CONFIGS[config]
    ours, _, opt = _run(cr, problem, 6, **options)
    theirs, _, topt = _run(torch, problem, 6, **options)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        for j, (u, v) in enumerate(zip(a, b)):
            np.testing.assert_allclose(u, _numpy(v), rtol=RTOL, atol=ATOL, err_msg=f"{i} {j}")
    state = next(iter(opt.state.values()))
    tstate = next(iter(topt.state.values()))
    assert set(state) == set(tstate)
    assert state["func_evals"] == tstate["func_evals"] and state["n_iter"] == tstate["n_iter"]
    np.testing.assert_allclose(state["d"], tstate["d"].numpy(), rtol=RTOL, atol=ATOL)
    assert len(state["old_dirs"]) == len(tstate["old_dirs"])


def test_strong_wolfe_minimizes_rosenbrock() -> None:
    _, p, _ = _run(cr, "rosenbrock", 10, line_search_fn="strong_wolfe")
    np.testing.assert_allclose(p["x"].numpy(), 1.0, atol=1e-5)
    np.testing.assert_allclose(p["y"].numpy(), [1.0], atol=1e-5)


def test_least_squares_converges_to_the_normal_equations_solution() -> None:
    _, p, _ = _run(cr, "least-squares", 5, line_search_fn="strong_wolfe")
    design = np.hstack([A, np.ones((12, 1))])
    solution = np.linalg.lstsq(design, B, rcond=None)[0]
    np.testing.assert_allclose(p["w"].numpy(), solution[:5], atol=1e-6)


def test_state_dict_round_trip_continues_identically() -> None:
    _, p, opt = _run(cr, "least-squares", 1, max_iter=3, history_size=5)
    sd = opt.state_dict()
    clone = {k: cr.tensor(v.numpy().copy(), requires_grad=True) for k, v in p.items()}
    other = optim.LBFGS(list(clone.values()), max_iter=3, history_size=5)
    other.load_state_dict(sd)
    for params, o in ((p, opt), (clone, other)):

        def closure(params: dict = params, o: Any = o) -> Any:
            o.zero_grad()
            loss = _least_squares(cr, params)
            loss.backward()
            return loss

        o.step(closure)
    np.testing.assert_array_equal(p["w"].numpy(), clone["w"].numpy())


def test_step_without_closure_and_bad_options_raise() -> None:
    p = cr.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step()
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([p], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="parameter groups"):
        q = cr.tensor(np.ones(2), requires_grad=True)
        optim.LBFGS([{"params": [p]}, {"params": [q]}])
    with pytest.raises(ValueError, match="learning rate"):
        optim.LBFGS([p], lr=-1)


def test_signature_and_defaults_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(optim.LBFGS).parameters
    theirs = inspect.signature(torch.optim.LBFGS).parameters
    assert [(n, p.default) for n, p in ours.items()] == [(n, p.default) for n, p in theirs.items()]
    our = optim.LBFGS([cr.tensor(np.zeros(2), requires_grad=True)]).defaults
    their = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)]).defaults
    assert our == their


def _to_numpy(value: Any) -> Any:
    if isinstance(value, list):
        return [_to_numpy(v) for v in value]
    if hasattr(value, "detach"):
        return value.item() if value.ndim == 0 else value.detach().numpy().copy()
    return value


def _to_torch(torch: Any, value: Any) -> Any:
    if isinstance(value, list):
        return [_to_torch(torch, v) for v in value]
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


def _closure(lib: Any, p: dict[str, Any], opt: Any) -> Any:
    def closure() -> Any:
        opt.zero_grad()
        loss = _least_squares(lib, p)
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("direction", ["torch-to-ours", "ours-to-torch"])
def test_state_dict_moves_between_libraries_and_training_continues(direction: str) -> None:
    torch = pytest.importorskip("torch")
    options = dict(max_iter=3, history_size=3, line_search_fn="strong_wolfe")
    libs = (torch, cr) if direction == "torch-to-ours" else (cr, torch)
    _, p_src, opt_src = _run(libs[0], "least-squares", 1, **options)
    values = {k: _numpy(v) if libs[0] is torch else v.numpy() for k, v in p_src.items()}
    p_dst = {k: libs[1].tensor(v.copy(), requires_grad=True) for k, v in values.items()}
    opt_dst = (optim if libs[1] is cr else torch.optim).LBFGS(list(p_dst.values()), **options)
    sd = opt_src.state_dict()
    if libs[0] is torch:
        sd["state"] = {i: {k: _to_numpy(v) for k, v in s.items()} for i, s in sd["state"].items()}
    else:
        sd["state"] = {
            i: {k: _to_torch(torch, v) for k, v in s.items()} for i, s in sd["state"].items()
        }
    opt_dst.load_state_dict(sd)
    for _ in range(2):
        opt_src.step(_closure(libs[0], p_src, opt_src))
        opt_dst.step(_closure(libs[1], p_dst, opt_dst))
    for k in p_src:
        a, b = p_src[k], p_dst[k]
        a, b = (
            (_numpy(a) if libs[0] is torch else a.numpy()),
            (_numpy(b) if libs[1] is torch else b.numpy()),
        )
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=k)
