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
