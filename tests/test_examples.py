"""The XOR examples run as a learner would run them, and reach what their docstrings promise."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("seed", range(10))
def test_seed_xor_converges_for_ten_of_ten_seeds(examples_path, seed):
    import seed_xor

    network, cost = seed_xor.train(seed=seed, verbose=False)
    x, y = data.xor()
    assert cost < 0.05
    np.testing.assert_array_equal(cr.predict(network, x) > 0.5, y > 0.5)


@pytest.mark.parametrize("seed", range(0, 40, 8))
def test_raw_tensor_xor_converges_for_every_seed(examples_path, seed):
    import xor_raw_tensors

    params, cost = xor_raw_tensors.train(seed=seed, verbose=False)
    with cr.no_grad():
        predictions = xor_raw_tensors.forward(params, cr.tensor(xor_raw_tensors.X)).numpy()
    assert cost < 0.05
    np.testing.assert_array_equal(predictions > 0.5, xor_raw_tensors.Y > 0.5)


@pytest.mark.parametrize("script", ["seed_xor.py", "xor_raw_tensors.py"])
def test_xor_examples_print_the_articles_progress_lines(script, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [script, "--epochs", "30"])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Epoch    1/30 Cost: 0\.\d{6}", lines[0])
    assert [line[:13] for line in lines[1:4]] == ["Epoch   10/30", "Epoch   20/30", "Epoch   30/30"]
    assert "Predictions after training:" in lines
    assert sum(" XOR " in line for line in lines) == 4
