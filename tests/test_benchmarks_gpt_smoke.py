"""Smoke test for ``benchmarks/gpt_step.py``: it runs, checks the same work and writes JSON.

Timings are never asserted; only that both libraries are reported and did the same work.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_gpt_step_quick_run_reports_both_libraries_doing_the_same_work(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("gpt_step", None)
    gpt_step = importlib.import_module("gpt_step")
    out = tmp_path / "gpt.json"
    report = gpt_step.main(["--quick", "--repeat", "1", "--json", str(out)])
    assert set(report["results"]) == {"chainrule", "torch"}
    assert report["check"]["agree"] is True
    assert report["check"]["max_abs_diff"] < 1e-4
    assert report["ratio_chainrule_torch"] > 0
    assert json.loads(out.read_text())["benchmark"] == "gpt_step"
