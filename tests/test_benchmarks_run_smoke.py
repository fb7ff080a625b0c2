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


def test_quick_sequence_sections_report_gpt_and_lstm_rows(run, tmp_path, monkeypatch):
    # Tiny models: the sections' wiring is under test here, the full sizes in their own smoke
    # tests (test_benchmarks_gpt_smoke.py, test_benchmarks_lstm_smoke.py).
    seq = run.run_sequences
    gpt = {"vocab_size": 65, "block_size": 8, "n_layer": 1, "n_head": 2, "n_embd": 16}
    monkeypatch.setattr(seq.gpt_step, "CONFIG", gpt)
    monkeypatch.setattr(seq.gpt_step, "BATCH", 2)
    tiny = seq.lstm_step.Config(embedding_dim=16, hidden_size=16, batch=4, seq_len=8)
    monkeypatch.setattr(seq.lstm_step, "CONFIG", tiny)
    out = tmp_path / "run.json"
    argv = ["--quick", "--quiet", "--json", str(out), "--only", "gpt,lstm"]
    report = run.main(argv + _optional_flags(run))
    assert [c["name"] for c in report["cases"]] == ["gpt-adam-2", "lstm-adam-4"]
    has_torch = run.rw.torch is not None
    for case in report["cases"]:
        assert case["results"]["chainrule"]["median_us"] > 0
        assert (case["results"]["torch"] is not None) == has_torch
        assert case["results"]["sklearn"] is None
        assert case["target_chainrule_torch"] == 1.0
        assert case["step_flops"] > 0
        assert case["check"]["agree"] is (True if has_torch else None)
    assert "lstm-adam-4" in run.format_table(report)


def test_quick_scaling_section_sweeps_batch_and_depth(run, tmp_path):
    out = tmp_path / "run.json"
    argv = ["--quick", "--quiet", "--json", str(out), "--only", "scaling"]
    argv += ["--scaling-batches", "8,16", "--scaling-depths", "2,3"]
    report = run.main(argv + _optional_flags(run))
    assert report["cases"] == []
    rows = report["scaling"]
    assert [r["name"] for r in rows] == [
        "scale-batch-8",
        "scale-batch-16",
        "scale-depth-2",
        "scale-depth-3",
    ]
    assert [r["sweep"] for r in rows] == ["batch", "batch", "depth", "depth"]
    assert rows[0]["sizes"] == [784, 256, 128, 10]
    assert rows[3]["sizes"] == [784, 256, 256, 10] and rows[3]["batch"] == 128
    assert rows[1]["step_flops"] == 2 * rows[0]["step_flops"]
    for row in rows:
        assert row["target_chainrule_torch"] is None and row["meets_target"] is None
        assert all(d < 1e-4 for d in row["check"]["max_abs_param_diff"].values())
    table = run.run_scaling.format_scaling(rows)
    assert "784-256×2-10" in table and "work ×" in table


def test_slower_sections_take_fewer_rounds_unless_repeat_is_given(run):
    cfg = run.harness.make_config()
    default = run.parse_args([])
    assert run.section_config(cfg, default, "lstm").repeat == run.SECTION_REPEAT["lstm"]
    assert run.section_config(cfg, default, "mlp").repeat == cfg.repeat
    explicit = run.parse_args(["--repeat", "5"])
    assert run.section_config(cfg, explicit, "lstm").repeat == cfg.repeat
