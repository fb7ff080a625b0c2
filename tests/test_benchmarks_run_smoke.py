"""Smoke tests for ``benchmarks/run.py``: its pieces run in quick mode and report well-formed JSON.

Timings are never asserted (they depend on the machine): only that every requested case and
measure is reported, that the sides did the same work, and that scikit-learn kept float32. The
PyTorch and scikit-learn columns are left out where those libraries are not installed.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def run():
    """The ``run`` script as a module (``benchmarks/`` is not a package)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module("run")


def _optional_flags(run) -> list[str]:
    flags = []
    if run.rw.torch is None:
        flags.append("--no-torch")
    if run.rw.MLPClassifier is None:
        flags.append("--no-sklearn")
    return flags


def test_quick_step_cases_report_every_side(run, tmp_path):
    out = tmp_path / "run.json"
    argv = ["--quick", "--quiet", "--json", str(out), "--only", "mlp,xor,cnn", "--batches", "32"]
    report = run.main(argv + _optional_flags(run))
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    names = [c["name"] for c in report["cases"]]
    assert names == ["mlp-sgd-32", "mlp-adam-32", "xor", "cnn-adam-64"]
    has_torch = run.rw.torch is not None
    has_sklearn = run.rw.MLPClassifier is not None
    for case in report["cases"]:
        res = case["results"]
        assert res["chainrule"]["median_us"] > 0
        assert (res["torch"] is not None) == has_torch
        expect_sklearn = has_sklearn and case["name"].startswith("mlp")
        assert (res["sklearn"] is not None) == expect_sklearn
        assert case["gemm_floor_us"] > 0 and case["step_flops"] > 0
        diffs = case["check"]["max_abs_param_diff"]
        for side, diff in diffs.items():
            # scikit-learn's Adam places eps differently (see run.format_checks).
            limit = 1e-2 if side == "sklearn" and "adam" in case["name"] else 1e-4
            assert diff < limit, (case["name"], side, diff)
        if expect_sklearn:
            assert case["check"]["sklearn_dtype"] == "float32"
    assert "mlp-sgd-32" in run.format_table(report)
    assert report["machine"]["gemm_float32"]["flops_per_s"] > 0


def test_quick_fresh_process_measures(run, tmp_path):
    out = tmp_path / "run.json"
    argv = ["--quick", "--quiet", "--no-torch", "--json", str(out), "--only", "memory,import"]
    report = run.main(argv)
    assert report["cases"] == []
    memory = report["processes"]["memory"]["results"]["chainrule"]
    assert memory["peak_mb"] > memory["import_peak_mb"] > 0
    assert report["processes"]["import"]["results"]["chainrule"]["median_s"] > 0
    assert "import time" in run.format_processes(report["processes"])


def test_unknown_section_is_rejected(run):
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "gpu"])
