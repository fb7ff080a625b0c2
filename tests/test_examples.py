"""The examples run as a learner would run them, and reach what their docstrings promise."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def seed_xor(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import seed_xor

    return seed_xor


@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_seed_xor_converges_for_every_seed(seed_xor, seed):
    import chainrule as cr

    params, cost = seed_xor.train(seed=seed, verbose=False)
    with cr.no_grad():
        predictions = seed_xor.forward(params, cr.tensor(seed_xor.X)).numpy()
    assert cost < 0.05
    np.testing.assert_array_equal(predictions > 0.5, seed_xor.Y > 0.5)


def test_seed_xor_prints_the_articles_progress_lines(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["seed_xor.py", "--epochs", "30"])
    runpy.run_path(str(EXAMPLES / "seed_xor.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Epoch    1/30 Cost: 0\.\d{6}", lines[0])
    assert [line[:13] for line in lines[1:4]] == ["Epoch   10/30", "Epoch   20/30", "Epoch   30/30"]
    assert "Predictions after training:" in lines
    assert sum(" XOR " in line for line in lines) == 4
