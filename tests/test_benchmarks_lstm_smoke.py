"""Smoke tests for ``benchmarks/lstm_step.py``: it runs, checks the same work and writes JSON.

Tiny sizes (batch 4, 8 positions, width 16) keep them fast. Timings are never asserted; only
that the requested libraries are reported and did the same work.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TINY = ["--batch", "4", "--seq-len", "8", "--hidden", "16", "--layers", "2"]


@pytest.fixture
def lstm_step(monkeypatch):
    """The ``lstm_step`` script as a module (``benchmarks/`` is not a package)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("lstm_step", None)
    return importlib.import_module("lstm_step")


def test_lstm_step_quick_run_reports_both_libraries_doing_the_same_work(lstm_step, tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "lstm.json"
    report = lstm_step.main(["--quick", "--repeat", "1", "--json", str(out), *TINY])
    assert set(report["results"]) == {"chainrule", "torch"}
    assert report["check"]["agree"] is True
    assert report["check"]["max_abs_diff"] < 1e-4
    assert report["ratio_chainrule_torch"] > 0
    saved = json.loads(out.read_text())
    assert saved["benchmark"] == "lstm_step"
    assert saved["config"]["hidden_size"] == 16 and saved["config"]["seq_len"] == 8


def test_lstm_step_without_torch_times_chainrule_alone(lstm_step, tmp_path):
    out = tmp_path / "lstm.json"
    report = lstm_step.main(["--quick", "--repeat", "1", "--no-torch", "--json", str(out), *TINY])
    assert set(report["results"]) == {"chainrule"}
    assert report["check"]["agree"] is None
    assert report["ratio_chainrule_torch"] is None


def test_lstm_runners_share_parameter_names_and_initial_weights(lstm_step):
    pytest.importorskip("torch")
    cfg = lstm_step.Config(embedding_dim=8, hidden_size=8, batch=2, seq_len=3)
    runners = lstm_step.make_runners(True, cfg)
    ours, theirs = runners["chainrule"].params(), runners["torch"].params()
    assert list(ours) == list(theirs)
    for name in ours:
        assert (ours[name] == theirs[name]).all(), name
