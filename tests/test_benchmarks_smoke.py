"""Smoke tests for ``benchmarks/engine_step.py``: it runs and writes a well-formed report.

Timings are never asserted (they depend on the machine); only that every case and framework
is reported, that the JSON is valid, that the three implementations did the same work, and
that ``benchmarks/harness.py`` leaves out rounds disturbed by other processes.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
CASES = ["xor", "mlp-32", "mlp-128", "mlp-1024"]
TOP_KEYS = {
    "benchmark",
    "schema_version",
    "created",
    "quick",
    "timing",
    "unit",
    "frameworks",
    "machine",
    "cases",
    "elapsed_seconds",
}
CASE_KEYS = {
    "name",
    "description",
    "sizes",
    "batch",
    "lr",
    "results",
    "ratio_chainrule_torch",
    "ratio_numpy_torch",
    "ratio_chainrule_numpy",
    "target_chainrule_torch",
    "meets_target",
    "check",
    "other_processes_cpus",
    "rounds",
}
RESULT_KEYS = {
    "median_us",
    "min_us",
    "max_us",
    "median_all_rounds_us",
    "steps_per_block",
    "blocks",
    "samples_us",
}


@pytest.fixture(scope="module")
def modules():
    """``engine_step`` and ``harness``, imported the way the script sees them.

    ``benchmarks/`` is not a package: run as a script, Python puts its folder first on
    ``sys.path``, which is what makes ``import harness`` work, so the tests do the same.
    """
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("engine_step"), importlib.import_module("harness")
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in ("engine_step", "harness"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def bench(modules):
    """The benchmark script as a module."""
    return modules[0]


@pytest.fixture(scope="module")
def harness(modules):
    """The shared timing machinery."""
    return modules[1]


def _check_result(result: dict) -> None:
    assert set(result) == RESULT_KEYS
    assert result["blocks"] == len(result["samples_us"]) == len(result["steps_per_block"]) >= 1
    assert all(n >= 1 for n in result["steps_per_block"])
    assert math.isfinite(result["median_us"]) and result["median_us"] > 0


def _run(bench, tmp_path: Path, *extra: str) -> tuple[dict, dict]:
    out = tmp_path / "nested" / "engine_step.json"
    report = bench.main(["--quick", "--repeat", "1", "--json", str(out), *extra])
    assert out.is_file()
    return report, json.loads(out.read_text(encoding="utf-8"))


def test_quick_run_writes_report(bench, tmp_path, capsys):
    report, data = _run(bench, tmp_path)
    assert set(data) == TOP_KEYS
    assert data["benchmark"] == "engine_step" and data["quick"] is True
    assert data["frameworks"] == ["chainrule", "torch", "numpy"]
    assert [c["name"] for c in data["cases"]] == CASES
    machine = data["machine"]
    for key in ("numpy", "numpy_blas", "cpu_count", "torch", "torch_status"):
        assert key in machine
    has_torch = bench.torch is not None
    for case in data["cases"]:
        assert set(case) == CASE_KEYS
        results = case["results"]
        _check_result(results["chainrule"])
        _check_result(results["numpy"])
        if has_torch:
            _check_result(results["torch"])
            assert case["ratio_chainrule_torch"] > 0
            assert isinstance(case["meets_target"], bool)
        else:
            assert results["torch"] is None and case["ratio_chainrule_torch"] is None
        # Identical work: chainrule's parameters follow the hand-written NumPy ones.
        diffs = case["check"]["max_abs_param_diff_vs_numpy"]
        assert diffs["chainrule"] < 1e-4
    printed = capsys.readouterr().out
    assert "cr/torch" in printed and "mlp-1024" in printed
    if not has_torch:
        assert "not installed" in printed


def test_torch_side_matches_numpy(bench, tmp_path):
    if bench.torch is None:
        pytest.skip("torch is not installed")
    _, data = _run(bench, tmp_path, "--quiet", "--batches", "32")
    assert [c["name"] for c in data["cases"]] == ["xor", "mlp-32"]
    for case in data["cases"]:
        assert case["check"]["max_abs_param_diff_vs_numpy"]["torch"] < 1e-4
        losses = case["check"]["first_loss"]
        assert losses["torch"] == pytest.approx(losses["numpy"], rel=1e-4)
    assert data["machine"]["torch_num_threads"] >= 1


def test_without_torch_column_says_not_installed(bench, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "torch", None)
    monkeypatch.setattr(bench, "TORCH_IMPORT_ERROR", "ImportError: simulated")
    _, data = _run(bench, tmp_path, "--batches", "32")
    assert data["machine"]["torch"] is None
    for case in data["cases"]:
        assert case["results"]["torch"] is None
        assert case["ratio_chainrule_torch"] is None and case["ratio_numpy_torch"] is None
        assert case["meets_target"] is None
        _check_result(case["results"]["chainrule"])
    assert "not installed" in capsys.readouterr().out


def test_no_torch_flag_skips_torch(bench, tmp_path):
    _, data = _run(bench, tmp_path, "--quiet", "--no-torch", "--batches", "")
    assert [c["name"] for c in data["cases"]] == ["xor"]
    assert data["cases"][0]["results"]["torch"] is None


@pytest.mark.parametrize(
    ("loads", "busy", "used", "too_few"),
    [
        ([0.0, 2.0, 0.0, None, 0.1], [1], 4, False),
        ([1.0, 2.0, 0.0, 1.5, 0.9], [0, 1, 3, 4], 5, True),
    ],
)
def test_rounds_disturbed_by_other_processes_are_left_out(
    harness, monkeypatch, loads, busy, used, too_few
):
    readings = iter(loads)

    class FakeMeter:
        """Reports the next scripted load for each round."""

        def __init__(self):
            self.load = next(readings)

        def elapsed(self):
            return 1.0

        def other_cpus(self):
            return self.load

    monkeypatch.setattr(harness, "LoadMeter", FakeMeter)
    cfg = harness.TimingConfig(
        repeat=len(loads),
        block_seconds=1e-4,
        settle_seconds=0.0,
        warmup_seconds=0.0,
        min_warmup_steps=1,
        min_steps=1,
    )
    resets = []
    out = harness.time_case(
        {"a": lambda: 0.0, "b": lambda: 0.0}, cfg, resets={"a": lambda: resets.append("a")}
    )
    rounds = out["rounds"]
    assert rounds["busy"] == busy and rounds["used"] == used
    assert rounds["too_few_quiet"] is too_few
    assert rounds["other_processes_cpus"] == loads
    for stats in out["frameworks"].values():
        assert stats["blocks"] == len(loads)
    assert resets == ["a"] * len(loads)  # once before each of a's timed blocks
