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
