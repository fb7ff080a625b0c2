"""The second-derivative examples (Newton's method, a physics-informed network, a gradient
penalty) run as a learner would run them and reach what their docstrings promise."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_newton_converges_quadratically_on_logistic_regression(examples_path, capsys):
    newton = importlib.import_module("newton")
    log = newton.main(["--samples", "200", "--steps", "8"])
    norms = [norm for _, _, norm in log]
    assert norms[-1] < 1e-12
    # Quadratic convergence: once the gradient is small, the next one is about its square.
    close = [
        (a, b) for a, b in zip(norms, norms[1:]) if 1e-9 < a < 1e-2
    ]  # above the rounding floor
    assert close and all(b < 20 * a * a for a, b in close)
    assert "|gradient|" in capsys.readouterr().out


def test_pinn_solves_the_ode_to_within_one_percent_of_sin(examples_path, capsys):
    pinn = importlib.import_module("pinn_ode")
    error = pinn.main(["--adam-steps", "1500", "--lbfgs-steps", "300"])  # the defaults
    assert error <= 1e-2
    out = capsys.readouterr().out
    assert "lbfgs" in out and "max |u(x) − sin x|" in out


def test_gradient_penalty_critic_recovers_the_wasserstein_distance(examples_path, capsys):
    gp = importlib.import_module("gradient_penalty")
    distance, slope = gp.main(["--steps", "600", "--shift", "3.0"])
    assert abs(slope - 1.15) < 0.08  # the soft penalty's optimum, 1 + W/2λ
    assert abs(distance / slope - 3.0) < 0.2
    assert "estimate ÷ slope" in capsys.readouterr().out
