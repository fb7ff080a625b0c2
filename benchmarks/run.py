"""One command for the headline numbers: chainrule vs PyTorch CPU eager vs scikit-learn.

On identical work (same initial weights, same batch, float32):

- ``mlp-{sgd,adam}-B``: MLP 784-256-128-10 (ReLU, softmax cross-entropy) training step with
  ``optim.SGD`` / ``optim.Adam`` (default options, lr 1e-3) at B = 32, 128, 1024; scikit-learn's
  ``MLPClassifier.partial_fit`` on the same batch is one step of the same network;
- ``xor``: the 2-4-1 XOR step of ``engine_step.py`` (functional ops, hand-written SGD);
- ``cnn-adam-64``: a LeNet-style CNN step with Adam at batch 64 (chainrule vs torch);
- ``gpt-adam-12``, ``lstm-adam-32``: the GPT step of ``gpt_step.py`` (nanoGPT's CPU
  configuration, AdamW) and the char-LSTM step of ``lstm_step.py`` (chainrule vs torch);
- the scaling table: the MLP SGD step against batch size (32 … 4096) and depth (2 … 16 Linear
  layers), chainrule beside torch, no targets (``run_scaling.py``);
- peak resident memory of a fresh process training one MNIST-shaped epoch, and the time of
  ``import chainrule`` / ``import torch`` in fresh processes.

Every timed row also gets the GEMM-rate floor: the step's matrix-product FLOPs divided by this
machine's float32 NumPy matrix-product rate, measured in the same run. Targets are printed next
to the ratios; they are goals, never asserted. Timing is ``harness.time_case`` (interleaved
rounds, settling, busy rounds dropped); see ``benchmarks/README.md``.

Run from the repository root::

    python benchmarks/run.py                  # full run, under 10 minutes on 2 cores
    python benchmarks/run.py --quick          # smoke run, rough numbers
    python benchmarks/run.py --only gpt,lstm  # some sections only
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chainrule as cr
import engine_step
import harness
import run_scaling
import run_sequences
import run_workloads as rw

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "run.json"
SECTIONS = ("mlp", "xor", "cnn", "gpt", "lstm", "scaling", "memory", "import")
DEFAULT_BATCHES = (32, 128, 1024)
#: Goals for chainrule/torch by batch size (MLP, SGD and Adam alike), and for the other rows.
MLP_TARGETS = {32: 0.6, 128: 0.75, 1024: 0.85}
XOR_TARGET = 0.25
CNN_TARGET = 1.0
SEQUENCE_TARGETS = {"gpt": 1.0, "lstm": 1.0}
#: Default rounds of the slower sections (--repeat, when given, sets every section's): a GPT or
#: LSTM block is at least 3 steps of 0.1-0.5 s, so 25 rounds would take minutes per row.
SECTION_REPEAT = {"gpt": 11, "lstm": 11, "scaling": 15}
SKLEARN_TARGET = 1.3  # scikit-learn's step at least this many times chainrule's
MEMORY_TARGET = 0.5  # chainrule's peak at most this fraction of PyTorch's
IMPORT_TARGET_S = 0.25
MEMORY_ROWS, MEMORY_BATCH = 60_000, 128


def _met(value: float | None, target: float | None, at_least: bool = False) -> bool | None:
    if value is None or target is None:
        return None
    return value >= target if at_least else value <= target


def time_workload(
    work: rw.Workload,
    cfg: harness.TimingConfig,
    use_torch: bool,
    use_sklearn: bool,
    rate: float,
    target: float | None,
) -> dict[str, Any]:
    """Check that the sides agree, then time chainrule, torch and (MLP) scikit-learn."""
    runners: dict[str, Any] = {"chainrule": rw.ModuleRunner("chainrule", work)}
    if use_torch:
        runners["torch"] = rw.ModuleRunner("torch", work)
    if use_sklearn and work.kind == "mlp":
        runners["sklearn"] = rw.SklearnRunner(work)
    check = rw.check_agreement(runners)
    if "sklearn" in runners:
        check["sklearn_dtype"] = runners["sklearn"].dtype
    meter = harness.LoadMeter()
    timings = harness.time_case(
        {k: r.step for k, r in runners.items()}, cfg, {k: r.reset for k, r in runners.items()}
    )
    results = {k: timings["frameworks"].get(k) for k in ("chainrule", "torch", "sklearn")}
    results["numpy"] = None
    flops = rw.step_flops(work.kind, work.batch, work.sizes)
    return _case_report(
        work.name, work.description, work.batch, results, target, check,
        meter.other_cpus(), timings["rounds"], rate, flops,
    )  # fmt: skip


def _case_report(
    name: str,
    description: str,
    batch: int,
    results: dict[str, Any],
    target: float | None,
    check: dict[str, Any],
    other_cpus: float | None,
    rounds: dict[str, Any],
    rate: float,
    flops: float,
) -> dict[str, Any]:
    cr_torch = harness.ratio(results["chainrule"], results["torch"])
    sk_cr = harness.ratio(results["sklearn"], results["chainrule"])
    floor_us = flops / rate * 1e6
    return {
        "name": name,
        "description": description,
        "batch": batch,
        "results": results,
        "ratio_chainrule_torch": cr_torch,
        "target_chainrule_torch": target,
        "meets_target": _met(cr_torch, target),
        "ratio_sklearn_chainrule": sk_cr,
        "target_sklearn_chainrule": SKLEARN_TARGET if results["sklearn"] else None,
        "meets_sklearn_target": _met(sk_cr, SKLEARN_TARGET if sk_cr else None, at_least=True),
        "step_flops": flops,
        "gemm_floor_us": floor_us,
        "ratio_chainrule_floor": results["chainrule"]["median_us"] / floor_us,
        "check": check,
        "other_processes_cpus": other_cpus,
        "rounds": rounds,
    }


def time_xor(cfg: harness.TimingConfig, use_torch: bool, rate: float) -> dict[str, Any]:
    """The XOR case of ``engine_step.py`` (chainrule, torch and hand-written NumPy)."""
    case = engine_step.make_xor_case()
    rep = engine_step.run_case(case, cfg, use_torch)
    results = dict(rep["results"], sklearn=None)
    check = {
        "steps": rep["check"]["steps"],
        "reference": "numpy",
        "max_abs_param_diff": rep["check"]["max_abs_param_diff_vs_numpy"],
    }
    return _case_report(
        "xor", case.description + " (functional ops, manual SGD)", case.batch, results,
        XOR_TARGET, check, rep["other_processes_cpus"], rep["rounds"], rate,
        rw.step_flops("xor", case.batch),
    )  # fmt: skip


def time_sequence(
    section: str, cfg: harness.TimingConfig, use_torch: bool, rate: float
) -> dict[str, Any]:
    """The ``gpt`` or ``lstm`` row (``run_sequences.py``), as a case of the main table."""
    timer = run_sequences.time_gpt if section == "gpt" else run_sequences.time_lstm
    row = timer(cfg, use_torch)
    return _case_report(
        row["name"], row["description"], row["batch"], row["results"], SEQUENCE_TARGETS[section],
        row["check"], row["other_processes_cpus"], row["rounds"], rate, row["step_flops"],
    )  # fmt: skip


def time_scaling(
    args: argparse.Namespace, cfg: harness.TimingConfig, use_torch: bool, rate: float, say: Any
) -> list[dict[str, Any]]:
    """The scaling rows (``run_scaling.py``): MLP SGD steps against batch and depth."""
    started = time.perf_counter()
    rows = []
    for sweep, work in run_scaling.workloads(args.scaling_batches, args.scaling_depths):
        row = time_workload(work, cfg, use_torch, False, rate, None)
        rows.append({**row, "sweep": sweep, "sizes": list(work.sizes)})
        say(f"  done {work.name} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return rows


def section_config(
    cfg: harness.TimingConfig, args: argparse.Namespace, section: str
) -> harness.TimingConfig:
    """``cfg`` with the section's default number of rounds, unless --repeat or --quick."""
    if args.repeat is not None or args.quick or section not in SECTION_REPEAT:
        return cfg
    return dataclasses.replace(cfg, repeat=SECTION_REPEAT[section])


def measure_processes(
    sections: Sequence[str], quick: bool, use_torch: bool, say: Any
) -> dict[str, Any]:
    """Peak memory of an epoch and import time, each in fresh processes."""
    frameworks = ["chainrule"] + (["torch"] if use_torch else [])
    out: dict[str, Any] = {}
    if "memory" in sections:
        rows = 4096 if quick else MEMORY_ROWS
        runs = 1 if quick else 3
        mem = {fw: rw.epoch_memory(fw, rows, MEMORY_BATCH, runs) for fw in frameworks}
        value = mem["chainrule"]["peak_mb"] / mem["torch"]["peak_mb"] if use_torch else None
        out["memory"] = {
            "rows": rows,
            "batch": MEMORY_BATCH,
            "data_mb": rows * 784 * 4 / 2**20,
            "results": mem,
            "ratio_chainrule_torch": value,
            "target": MEMORY_TARGET,
            "meets_target": _met(value, MEMORY_TARGET),
        }
        say("  done memory", file=sys.stderr)
    if "import" in sections:
        runs = 1 if quick else 7
        imp = {fw: rw.import_time(fw, runs, warmup=0 if quick else 1) for fw in frameworks}
        out["import"] = {
            "results": imp,
            "target_chainrule_s": IMPORT_TARGET_S,
            "meets_target": _met(imp["chainrule"]["median_s"], IMPORT_TARGET_S),
        }
        say("  done import", file=sys.stderr)
    return out


# ----- report ----------------------------------------------------------------------------------

_YES = {None: "-", True: "yes", False: "no"}
#: The sequence rows' verdict (see harness.named_parameter_agreement).
AGREE_TEXT = {None: "", True: " (same work)", False: " (NOT the same work: check the models)"}


def format_table(report: dict[str, Any]) -> str:
    """Median µs per step, ratios next to their targets, and the GEMM floor."""
    head = "case|chainrule µs|torch µs|sklearn µs|cr/torch|target|met|sk/cr|target|met"
    rows = [(head + "|floor µs|cr/floor").split("|")]
    for c in report["cases"]:
        res, t, st = c["results"], c["target_chainrule_torch"], c["target_sklearn_chainrule"]
        rows.append(
            (
                c["name"],
                harness.fmt_us(res["chainrule"], "-"),
                harness.fmt_us(res["torch"], "-"),
                harness.fmt_us(res["sklearn"], "-"),
                harness.fmt_ratio(c["ratio_chainrule_torch"]),
                "-" if t is None else f"≤ {t:.2f}",
                _YES[c["meets_target"]],
                harness.fmt_ratio(c["ratio_sklearn_chainrule"]),
                "-" if st is None else f"≥ {st:.2f}",
                _YES[c["meets_sklearn_target"]],
                f"{c['gemm_floor_us']:.{1 if c['gemm_floor_us'] >= 1 else 3}f}",
                f"{c['ratio_chainrule_floor']:.1f}",
            )
        )
    return harness.format_columns(rows)


def format_processes(proc: dict[str, Any]) -> str:
    """Peak memory and import time: chainrule vs torch."""
    rows = [["measure", "chainrule", "torch", "cr/torch", "target", "met"]]
    if "memory" in proc:
        m = proc["memory"]
        torch_mb = m["results"].get("torch", {}).get("peak_mb")
        rows.append(
            [
                f"peak RSS MB, 1 epoch {m['rows']}x784 (data {m['data_mb']:.0f} MB)",
                f"{m['results']['chainrule']['peak_mb']:.0f}",
                "-" if torch_mb is None else f"{torch_mb:.0f}",
                harness.fmt_ratio(m["ratio_chainrule_torch"]),
                f"≤ {m['target']:.2f}",
                _YES[m["meets_target"]],
            ]
        )
    if "import" in proc:
        i = proc["import"]
        cr_s = i["results"]["chainrule"]["median_s"]
        torch_s = i["results"].get("torch", {}).get("median_s")
        rows.append(
            [
                "import time s (fresh process)",
                f"{cr_s:.3f}",
                "-" if torch_s is None else f"{torch_s:.3f}",
                "-" if torch_s is None else f"{cr_s / torch_s:.2f}",
                f"cr ≤ {i['target_chainrule_s']:.2f} s",
                _YES[i["meets_target"]],
            ]
        )
    return harness.format_columns(rows) if len(rows) > 1 else ""


def format_checks(report: dict[str, Any]) -> str:
    """Same-work check per case and the dtype scikit-learn computed in."""
    lines = []
    for c in report["cases"]:
        ch = c["check"]
        diffs = ", ".join(f"{k} {v:.1e}" for k, v in ch["max_abs_param_diff"].items())
        dtype = f"; sklearn dtype {ch['sklearn_dtype']}" if "sklearn_dtype" in ch else ""
        agree = AGREE_TEXT[ch["agree"]] if "agree" in ch else ""
        lines.append(
            f"{c['name']}: max |Δparam| vs {ch['reference']} after {ch['steps']} steps: "
            f"{diffs or '-'}{dtype}{agree}"
        )
    if any("sklearn_dtype" in c["check"] for c in report["cases"]):
        lines.append(
            "(scikit-learn's Adam adds eps before the bias correction, i.e. an effective eps "
            "~30x larger at step 1: parameters with tiny gradients move less, ~1e-3 after 3 steps)"
        )
    return "\n".join(lines)


def int_list(text: str) -> tuple[int, ...]:
    """``"32,128"`` → ``(32, 128)`` (empty items are skipped)."""
    return tuple(int(v) for v in text.split(",") if v)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="chainrule vs PyTorch vs scikit-learn: step times, memory, import time."
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="JSON report path")
    harness.add_timing_arguments(parser)
    parser.add_argument(
        "--batches",
        type=int_list,
        default=DEFAULT_BATCHES,
        help="comma-separated MLP batch sizes (default: 32,128,1024)",
    )
    parser.add_argument(
        "--optimizers", default="sgd,adam", help="MLP optimizers (default: sgd,adam)"
    )
    parser.add_argument(
        "--only",
        type=lambda s: tuple(v for v in s.split(",") if v),
        default=SECTIONS,
        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--scaling-batches",
        type=int_list,
        default=run_scaling.DEFAULT_BATCHES,
        help="batch sizes of the scaling section's batch sweep (default: 32,...,4096)",
    )
    parser.add_argument(
        "--scaling-depths",
        type=int_list,
        default=run_scaling.DEFAULT_DEPTHS,
        help="Linear-layer counts of the scaling section's depth sweep (default: 2,4,8,16)",
    )
    parser.add_argument(
        "--allocator",
        choices=("tuned", "default"),
        default="tuned",
        help="tuned (default): call chainrule.tune_allocator() first, as fit() does (glibc's "
        "malloc keeps freed memory for the next step; the process-wide setting applies to "
        "PyTorch and scikit-learn too); default: glibc's own thresholds",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-sklearn", action="store_true", help="leave scikit-learn out")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {sorted(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run everything asked for, print the tables and write the JSON report; return it."""
    args = parse_args(argv)
    cfg = harness.make_config(args.quick, args.repeat, args.block_seconds, args.settle_seconds)
    # Module globals read at call time, so tests can pretend a library is missing.
    use_torch = not args.no_torch and rw.torch is not None
    use_sklearn = not args.no_sklearn and rw.MLPClassifier is not None
    say = (lambda *a, **k: None) if args.quiet else print
    started = time.perf_counter()
    tuned = args.allocator == "tuned" and cr.tune_allocator()

    facts = harness.machine_facts(rw.torch, rw.TORCH_IMPORT_ERROR, not args.no_torch)
    facts["sklearn"] = rw.sklearn.__version__ if rw.sklearn is not None else None
    facts["sklearn_status"] = (
        "ok" if use_sklearn else "skipped" if rw.sklearn else rw.SKLEARN_IMPORT_ERROR
    )
    gemm = rw.gemm_rate(512, 3) if args.quick else rw.gemm_rate()
    facts["gemm_float32"] = gemm
    say(harness.format_facts(facts))
    say(f"scikit-learn: {facts['sklearn'] or facts['sklearn_status']}")
    facts["allocator"] = "tuned" if tuned else "default"
    say(f"malloc: {'tune_allocator() (what fit() sets)' if tuned else 'glibc defaults'}")
    say(
        f"NumPy float32 GEMM rate: {gemm['flops_per_s'] / 1e9:.1f} GFLOP/s "
        f"({gemm['n']}x{gemm['n']} product, median of {gemm['repeat']})"
    )
    say(harness.format_timing(cfg, args.quick))
    say()

    rate = gemm["flops_per_s"]
    cases = time_cases(args, cfg, use_torch, use_sklearn, rate, say)
    scaling: list[dict[str, Any]] = []
    if "scaling" in args.only:
        scaling = time_scaling(args, section_config(cfg, args, "scaling"), use_torch, rate, say)
    processes = measure_processes(args.only, args.quick, use_torch, say)

    report = {
        "benchmark": "run",
        "schema_version": 1,
        "created": harness.utc_timestamp(),
        "quick": bool(args.quick),
        "timing": vars(cfg),
        "section_repeat": {s: section_config(cfg, args, s).repeat for s in SECTION_REPEAT},
        "unit": "microseconds per training step (forward + backward + optimizer step)",
        "machine": facts,
        "cases": cases,
        "scaling": scaling,
        "processes": processes,
        "elapsed_seconds": time.perf_counter() - started,
    }
    print_report(report, say)
    harness.write_json(args.json, report)
    say(f"\nwrote {args.json} ({report['elapsed_seconds']:.0f} s)")
    return report


def time_cases(
    args: argparse.Namespace,
    cfg: harness.TimingConfig,
    use_torch: bool,
    use_sklearn: bool,
    rate: float,
    say: Any,
) -> list[dict[str, Any]]:
    """The rows of the main table, section by section, in the order of SECTIONS."""
    started = time.perf_counter()
    cases = []

    def done(name: str) -> None:
        say(f"  done {name} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    if "mlp" in args.only:
        for opt in (o for o in args.optimizers.split(",") if o):
            for batch in args.batches:
                work = rw.make_workload("mlp", opt, batch)
                target = MLP_TARGETS.get(batch)
                cases.append(time_workload(work, cfg, use_torch, use_sklearn, rate, target))
                done(work.name)
    if "xor" in args.only:
        cases.append(time_xor(cfg, use_torch, rate))
        done("xor")
    if "cnn" in args.only:
        work = rw.make_workload("cnn", "adam", rw.CNN_BATCH)
        cases.append(time_workload(work, cfg, use_torch, False, rate, CNN_TARGET))
        done(work.name)
    for section in ("gpt", "lstm"):
        if section in args.only:
            cases.append(
                time_sequence(section, section_config(cfg, args, section), use_torch, rate)
            )
            done(cases[-1]["name"])
    return cases


def print_report(report: dict[str, Any], say: Any) -> None:
    """The main table, the scaling table, fresh-process measures, checks and load."""
    cases, scaling, processes = report["cases"], report["scaling"], report["processes"]
    if cases:
        say(format_table(report))
        say()
    if scaling:
        say("scaling: MLP SGD step against batch size and depth (no targets)")
        say(run_scaling.format_scaling(scaling))
        say()
    if processes:
        say(format_processes(processes))
        say()
    if cases or scaling:
        say(format_checks({"cases": cases + scaling}))
        say(harness.format_load(cases + scaling))


if __name__ == "__main__":
    main()
