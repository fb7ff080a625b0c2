"""Smoke tests for ``benchmarks/fit_overhead.py``: it runs, agrees with itself, writes a report.

Timings are never asserted (they depend on the machine): only that both metric settings are
reported with finite per-epoch times, that ``fit`` and the hand-written loop did exactly the
same work, and that the JSON report and the optional profile are written.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytest.importorskip("sklearn")  # the benchmark trains on scikit-learn's digits


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """``fit_overhead`` imported the way the script sees it, with ``benchmarks/`` on the path."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("fit_overhead")
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in ("fit_overhead", "harness"):
            sys.modules.pop(name, None)


def test_quick_run_reports_both_metric_settings(bench, tmp_path, capsys):
    out = tmp_path / "nested" / "fit_overhead.json"
    report = bench.main(["--quick", "--repeat", "1", "--json", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["benchmark"] == "fit_overhead" and data["quick"] is True
    assert data["workload"]["batches_per_epoch"] == 57
    assert set(data["results"]) == {"fit+accuracy", "hand+accuracy", "fit", "hand"}
    assert [r["metrics"] for r in data["rows"]] == ["accuracy", "none"]
    for row in data["rows"]:
        for key in ("fit_ms_per_epoch", "hand_ms_per_epoch", "overhead", "overhead_paired"):
            assert math.isfinite(row[key])
        assert row["fit_ms_per_epoch"] > 0 and row["hand_ms_per_epoch"] > 0
        assert isinstance(row["meets_target"], bool)
    # Same work: from the same weights and batches, fit and the hand loop end up identical.
    for label, check in data["check"].items():
        assert check["max_abs_param_diff"] == 0.0, label
        assert check["max_abs_loss_diff"] == 0.0, label
    assert data["check"]["accuracy"]["max_abs_accuracy_diff"] == 0.0
    assert data["check"]["none"]["max_abs_accuracy_diff"] is None
    assert "numpy_blas" in data["machine"] and "threadpoolctl" in data["machine"]
    assert report["rows"] == data["rows"]
    printed = capsys.readouterr().out
    assert "fit/hand−1" in printed and "cost of the accuracy metric" in printed
    assert "BLAS" in printed


def test_profile_names_what_fit_calls(bench, tmp_path, capsys):
    bench.main(
        ["--quick", "--repeat", "1", "--json", str(tmp_path / "r.json"), "--profile"]
        + ["--profile-epochs", "1"]
    )
    printed = capsys.readouterr().out
    assert "what the loop calls directly" in printed
    assert "(train_step)" in printed and "(fit)" in printed
    assert "hand+accuracy: 1 epochs" in printed
