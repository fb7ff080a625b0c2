"""Measuring machinery shared by the benchmark scripts in this folder.

A benchmark script defines its workloads: for each *case*, one step callable per implementation
(``{"chainrule": step, "torch": step, ...}``), optionally with a reset callable each. This module
times them and reports what the timings depend on:

- :class:`TimingConfig` / :data:`QUICK` / :func:`make_config` / :func:`add_timing_arguments`:
  warm-up, settling, block sizes and when a round counts as disturbed, and their CLI options;
- :func:`time_case`: warms every step up, then times blocks of steps in interleaved rounds and
  returns per-name median µs per step, leaving out rounds during which other processes kept
  the CPUs busy (measured by :class:`LoadMeter` from ``/proc/stat``);
- :func:`machine_facts` / :func:`format_facts`: Python, CPU, NumPy's BLAS, native thread pools,
  torch threads and thread environment variables;
- :func:`ratio`, :func:`fmt_us`, :func:`fmt_ratio`, :func:`format_columns`, :func:`format_load`,
  :func:`format_timing`: the pieces of the printed report;
- :func:`utc_timestamp`, :func:`write_json`: the JSON report.

Scripts import it as ``harness``: ``python benchmarks/<script>.py`` puts ``benchmarks/`` first
on ``sys.path``, so no package or path manipulation is needed (tests add the folder themselves).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import io
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import chainrule as cr

#: One training step (or any unit of work); its return value is ignored when timing.
Step = Callable[[], Any]

# ----- configuration ---------------------------------------------------------------------------


def import_torch() -> tuple[ModuleType | None, str | None]:
    """PyTorch if it imports, else ``None`` and why: it is optional, and without it the scripts
    time chainrule alone (the torch column reads 'not installed')."""
    try:
        import torch
    except (ImportError, OSError) as err:  # pragma: no cover - depends on the environment
        return None, f"{type(err).__name__}: {err}"
    return torch, None


#: Parameters further apart than this after a few steps mean the two sides did different work.
SAME_WORK_TOLERANCE = 1e-4


def named_parameter_agreement(runners: Mapping[str, Any], steps: int) -> dict[str, Any]:
    """The same-work check of runners with ``step()``, ``reset()`` and ``params()`` (a dict of
    named arrays): ``steps`` steps on each side, then the largest parameter difference of
    ``'torch'`` from ``'chainrule'`` (None without a torch runner); each runner is reset."""
    params = {}
    for name, runner in runners.items():
        for _ in range(steps):
            runner.step()
        params[name] = runner.params()
        runner.reset()
    if "torch" not in params:
        return {"steps": steps, "max_abs_diff": None, "agree": None}
    diff = max(
        float(np.max(np.abs(params["chainrule"][k] - params["torch"][k]))) for k in params["torch"]
    )
    return {"steps": steps, "max_abs_diff": diff, "agree": diff < SAME_WORK_TOLERANCE}


@dataclass
class TimingConfig:
    """How to warm up, settle and size the timed blocks, and when a round counts as disturbed.

    - Before every timed block the same implementation runs untimed for ``settle_seconds``:
      after a NumPy-based block, OpenBLAS's worker threads keep spinning for about 0.1 s and
      would otherwise slow down the first ~100 ms of a following PyTorch block by up to 2x.
    - A block stops early once it has run ``deadline_factor * block_seconds`` (at least one step
      always runs), so a machine slowed down by other processes cannot stretch the run without
      bound. Block sizes are re-estimated after every round from the median step time.
    - A round (one block of each implementation) during which other processes kept more than
      ``busy_cpus`` CPUs busy is left out of the medians, if at least ``min_quiet_rounds``
      quiet rounds remain. Rounds shorter than ``min_judged_seconds`` are not judged (the
      kernel counts CPU time in 10 ms ticks).
    """

    repeat: int = 25
    block_seconds: float = 0.12
    settle_seconds: float = 0.12
    warmup_seconds: float = 0.2
    min_warmup_steps: int = 3
    min_steps: int = 3
    max_steps: int = 100_000
    deadline_factor: float = 4.0
    busy_cpus: float = 0.25
    min_quiet_rounds: int = 3
    min_judged_seconds: float = 0.2


QUICK = TimingConfig(
    repeat=3,
    block_seconds=0.002,
    settle_seconds=0.0,
    warmup_seconds=0.0,
    min_warmup_steps=1,
    min_steps=1,
)


def make_config(
    quick: bool = False,
    repeat: int | None = None,
    block_seconds: float | None = None,
    settle_seconds: float | None = None,
) -> TimingConfig:
    """The default (or quick) settings with any command-line overrides (None: keep)."""
    # A copy, so that overriding never alters the shared QUICK instance.
    cfg = TimingConfig(**vars(QUICK if quick else TimingConfig()))
    if repeat is not None:
        cfg.repeat = repeat
    if block_seconds is not None:
        cfg.block_seconds = block_seconds
    if settle_seconds is not None:
        cfg.settle_seconds = settle_seconds
    return cfg


def add_timing_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--repeat``, ``--quick``, ``--block-seconds`` and ``--settle-seconds``.

    Their None defaults mean "keep the default (or quick) setting": pass the four values to
    :func:`make_config`.
    """
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="rounds, i.e. timed blocks per implementation and case (default 25; quick: 3)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast smoke run: tiny blocks, little warm-up, 3 repeats (timings are rough)",
    )
    parser.add_argument(
        "--block-seconds",
        type=float,
        default=None,
        help="target duration of one timed block (default 0.12)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=None,
        help="untimed steps before each block, in seconds (default 0.12; 0 to turn off)",
    )


# ----- running steps ---------------------------------------------------------------------------


def run_steps(step: Step, n: int, deadline: float = math.inf) -> tuple[float, int]:
    """Run ``step`` up to ``n`` times, stopping early after ``deadline`` (a perf_counter time).

    Returns the elapsed seconds and the number of steps run (at least one).
    """
    perf = time.perf_counter  # a local name: the loop is the timed region
    t0 = perf()
    done = 0
    for _ in range(n):
        step()
        done += 1
        if perf() > deadline:
            break
    return perf() - t0, done


def run_for(step: Step, seconds: float) -> tuple[float, int]:
    """Run ``step`` until ``seconds`` have passed (no step if ``seconds`` <= 0)."""
    perf = time.perf_counter
    t0 = perf()
    done = 0
    while perf() - t0 < seconds:
        step()
        done += 1
    return perf() - t0, done


def steps_for(per_step: float, cfg: TimingConfig) -> int:
    """Steps that fill one block of ``cfg.block_seconds`` at ``per_step`` seconds a step."""
    n = math.ceil(cfg.block_seconds / per_step) if per_step > 0 else cfg.max_steps
    return max(cfg.min_steps, min(cfg.max_steps, n))


def warm_up_and_calibrate(step: Step, cfg: TimingConfig) -> int:
    """Warm ``step`` up and return the number of steps that fills one timed block."""
    elapsed, steps = run_for(step, cfg.warmup_seconds)
    while steps < cfg.min_warmup_steps:
        elapsed += run_steps(step, 1)[0]
        steps += 1
    return steps_for(elapsed / steps, cfg)


# ----- load of other processes -----------------------------------------------------------------


def _busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux ``/proc/stat``), or None.

    Busy is user + nice + system + irq + softirq + steal: everything but idle and iowait.
    """
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    # Old kernels report fewer columns (no steal); the missing ones count as zero.
    fields += [0] * (8 - len(fields))
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / ticks


class LoadMeter:
    """How many CPUs other processes kept busy while a case ran (0 on a quiet machine).

    Compares the machine's busy CPU time (``/proc/stat``) with this process's own CPU time
    (``os.times``) over the same wall-clock interval. None where ``/proc/stat`` is missing.
    """

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.busy = _busy_cpu_seconds()
        t = os.times()
        self.own = t.user + t.system

    def elapsed(self) -> float:
        """Wall-clock seconds since this meter was created."""
        return time.perf_counter() - self.wall

    def other_cpus(self) -> float | None:
        """Average number of CPUs used by other processes since this meter was created."""
        busy = _busy_cpu_seconds()
        if busy is None or self.busy is None:
            return None
        t = os.times()
        wall = time.perf_counter() - self.wall
        if wall <= 0:
            return None
        other = (busy - self.busy) - (t.user + t.system - self.own)
        # Tick rounding can make the difference slightly negative on a quiet machine.
        return max(0.0, other / wall)


# ----- timing one case -------------------------------------------------------------------------


def time_case(
    steps: Mapping[str, Step],
    cfg: TimingConfig,
    resets: Mapping[str, Callable[[], None]] | None = None,
) -> dict[str, Any]:
    """Median per-step time of each named step, blocks interleaved across names in rounds.

    Each round runs one block of every step, in an order rotated by one each round: settle
    (untimed steps), ``resets[name]()`` if given (so every block does the same work, e.g. from
    the same initial weights), then the timed block.
    Returns ``{"frameworks": {name: stats}, "rounds": info}``.
    """
    resets = resets or {}
    sizes = {name: warm_up_and_calibrate(step, cfg) for name, step in steps.items()}
    samples: dict[str, list[float]] = {name: [] for name in steps}
    counts: dict[str, list[int]] = {name: [] for name in steps}
    loads: list[float | None] = []
    limit = cfg.deadline_factor * cfg.block_seconds
    names = list(steps)
    for round_index in range(cfg.repeat):
        meter = LoadMeter()
        # Rotating the order spreads any penalty of running right after another name evenly.
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            step = steps[name]
            run_for(step, cfg.settle_seconds)
            if name in resets:
                resets[name]()
            elapsed, done = run_steps(step, sizes[name], time.perf_counter() + limit)
            samples[name].append(elapsed / done)
            counts[name].append(done)
            sizes[name] = steps_for(statistics.median(samples[name]), cfg)
        judged = meter.elapsed() >= cfg.min_judged_seconds
        loads.append(meter.other_cpus() if judged else None)
    busy = [i for i, load in enumerate(loads) if load is not None and load > cfg.busy_cpus]
    quiet = [i for i in range(cfg.repeat) if i not in busy]
    # With too few quiet rounds a median of them would be noise: keep all and say so.
    filtered = len(quiet) >= min(cfg.min_quiet_rounds, cfg.repeat)
    used = quiet if filtered else list(range(cfg.repeat))
    frameworks: dict[str, dict[str, Any]] = {}
    for name, values in samples.items():
        us = [v * 1e6 for v in values]
        chosen = [us[i] for i in used]
        frameworks[name] = {
            "median_us": statistics.median(chosen),
            "min_us": min(chosen),
            "max_us": max(chosen),
            "median_all_rounds_us": statistics.median(us),
            "blocks": len(us),
            "steps_per_block": counts[name],
            "samples_us": us,
        }
    rounds = {
        "count": cfg.repeat,
        "other_processes_cpus": loads,
        "busy": busy,
        "used": len(used),
        "too_few_quiet": not filtered,
    }
    return {"frameworks": frameworks, "rounds": rounds}


# ----- machine facts ---------------------------------------------------------------------------


def _numpy_blas() -> dict[str, Any]:
    """NumPy's BLAS as NumPy reports it (``show_config``), best effort."""
    try:
        config = np.show_config(mode="dicts")  # NumPy >= 1.25
    except TypeError:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            np.show_config()
        lines = [ln.strip() for ln in buffer.getvalue().splitlines() if "blas" in ln.lower()]
        return {"show_config": lines[:8]}
    except Exception as err:  # facts are best effort: never fail the run over them
        return {"error": f"{type(err).__name__}: {err}"}
    blas = (config or {}).get("Build Dependencies", {}).get("blas", {})
    keys = ("name", "version", "openblas configuration")
    return {k: blas[k] for k in keys if k in blas}


def _threadpools() -> list[dict[str, Any]] | None:
    """Native thread pools (BLAS, OpenMP) and their sizes, if threadpoolctl is installed."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    keys = ("user_api", "internal_api", "version", "num_threads", "prefix")
    return [{k: info.get(k) for k in keys} for info in threadpoolctl.threadpool_info()]


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def machine_facts(
    torch: ModuleType | None, torch_error: str | None, use_torch: bool = True
) -> dict[str, Any]:
    """Versions, BLAS, thread counts and CPUs that the timings depend on.

    ``torch`` is the imported module or None (then ``torch_error`` says why the import failed);
    the caller passes it because PyTorch is optional and each script imports it itself.
    """
    affinity = getattr(os, "sched_getaffinity", None)
    facts: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": len(affinity(0)) if affinity else os.cpu_count(),
        "chainrule": cr.__version__,
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "threadpoolctl": _threadpools(),
        "thread_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            if k in os.environ
        },
    }
    if torch is None:
        facts["torch"] = None
        facts["torch_status"] = f"not installed ({torch_error})"
    elif not use_torch:
        facts["torch"] = torch.__version__
        facts["torch_status"] = "skipped (--no-torch)"
    else:
        facts["torch"] = torch.__version__
        facts["torch_status"] = "ok"
        facts["torch_num_threads"] = torch.get_num_threads()
        facts["torch_num_interop_threads"] = torch.get_num_interop_threads()
    return facts


def format_facts(facts: dict[str, Any]) -> str:
    """The machine facts as a few readable lines."""
    blas = facts["numpy_blas"]
    blas_text = " ".join(str(blas[k]) for k in ("name", "version") if k in blas) or str(blas)
    lines = [
        f"python {facts['python']} on {facts['platform']}",
        f"CPU: {facts['cpu_model']}, os.cpu_count()={facts['cpu_count']}, "
        f"available to this process={facts['cpus_available']}",
        f"numpy {facts['numpy']}, BLAS: {blas_text}",
    ]
    if "openblas configuration" in blas:
        lines.append(f"  {blas['openblas configuration']}")
    pools = facts["threadpoolctl"]
    if pools is None:
        lines.append("threadpoolctl: not installed (native thread-pool sizes not shown)")
    else:
        for pool in pools:
            lines.append(
                f"threadpool: {pool['internal_api']} {pool['version']} "
                f"num_threads={pool['num_threads']} ({pool['prefix']})"
            )
    if facts["torch_status"] == "ok":
        lines.append(
            f"torch {facts['torch']}, torch.get_num_threads()={facts['torch_num_threads']}, "
            f"interop threads={facts['torch_num_interop_threads']}"
        )
    else:
        lines.append(f"torch: {facts['torch_status']}")
    if facts["thread_env"]:
        lines.append("env: " + " ".join(f"{k}={v}" for k, v in facts["thread_env"].items()))
    return "\n".join(lines)


# ----- report pieces ---------------------------------------------------------------------------


def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    """``a``'s median over ``b``'s (two ``time_case`` stats), None if either did not run."""
    if a is None or b is None:
        return None
    return a["median_us"] / b["median_us"]


def fmt_us(result: dict[str, Any] | None, missing: str) -> str:
    """A stats entry's median µs for a table cell, or ``missing`` when it did not run."""
    return missing if result is None else f"{result['median_us']:.1f}"


def fmt_ratio(value: float | None) -> str:
    """A ratio for a table cell."""
    return "-" if value is None else f"{value:.2f}"


def format_columns(rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width text table: the first row is the header, then a rule of dashes.

    The first column is left-aligned (names), the others right-aligned (numbers).
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_timing(cfg: TimingConfig, quick: bool) -> str:
    """One line that says how the blocks were timed."""
    return (
        f"timing: {cfg.repeat} rounds; in each, per implementation, "
        f"{cfg.settle_seconds * 1e3:.0f} ms untimed then a block of "
        f"~{cfg.block_seconds * 1e3:.0f} ms" + (" (quick)" if quick else "")
    )


#: Average CPUs used by other processes during a case whose rounds were too short to judge
#: one by one (quick runs) above which the report warns.
BUSY_WARNING_CPUS = 0.2


def format_load(cases: Sequence[dict[str, Any]]) -> str:
    """How busy other processes kept the machine during each case, and which rounds counted.

    Each case needs ``name``, ``other_processes_cpus`` (a :class:`LoadMeter` reading over the
    whole case) and ``rounds`` (as returned by :func:`time_case`).
    """
    lines = []
    warn = False
    for c in cases:
        load, rounds = c["other_processes_cpus"], c["rounds"]
        text = "unknown (no /proc/stat)" if load is None else f"{load:.2f} CPUs"
        note = f"{rounds['used']} of {rounds['count']} rounds used"
        if rounds["busy"]:
            note += f" ({len(rounds['busy'])} dropped: other processes busy)"
        judged = any(v is not None for v in rounds["other_processes_cpus"])
        if rounds["too_few_quiet"]:
            note += " (too few quiet rounds: all kept, timings disturbed)"
            warn = True
        elif not judged and load is not None and load > BUSY_WARNING_CPUS:
            # Rounds too short to judge one by one: fall back on the whole case's load.
            warn = True
        lines.append(f"{c['name']}: other processes used {text} while timing; {note}")
    if warn:
        lines.append(
            "WARNING: the machine was not quiet; timings are inflated and noisy "
            "(rerun when nothing else is running)"
        )
    return "\n".join(lines)


# ----- JSON report -----------------------------------------------------------------------------


def utc_timestamp() -> str:
    """Now in UTC, ISO 8601 to the second (the report's ``created``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, report: dict[str, Any]) -> None:
    """Write ``report`` to ``path`` as indented JSON, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
