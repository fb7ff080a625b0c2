"""Time one full training step (forward, backward, SGD update) in chainrule, PyTorch and NumPy.

Two workloads, float32 throughout:

- ``xor``: the 2-4-1 XOR network on its 4 samples, a sigmoid hidden layer of 4 units and binary
  cross-entropy computed from the output logit;
- ``mlp-B``: an MLP 784-256-128-10 with ReLU and softmax cross-entropy on integer labels, at
  batch sizes B = 32, 128 and 1024 (random inputs in [0, 1), random labels).

Each workload runs in three implementations that do identical work:

- **chainrule**: ``F.linear`` / ``F.sigmoid`` / ``F.relu`` and the fused losses, ``backward()``,
  then ``p.data -= lr * p.grad.data; p.grad = None`` for each parameter;
- **torch** (CPU eager, if importable): ``torch.nn.functional`` with the same layout and losses,
  ``backward()``, then ``with torch.no_grad(): p -= lr * p.grad`` and ``p.grad = None``;
- **numpy**: the same forward and backward written out by hand (the floor reference: what the
  step costs without any autodiff bookkeeping).

All three start from the same weights (drawn once with NumPy, PyTorch's ``(out, in)`` layout) and
see the same data. Before timing, each implementation runs a few steps from those weights and its
parameters are compared with the hand-written NumPy ones, so a mismatch in the work shows up as a
large difference in the report.

Timing: every implementation is warmed up, then the run goes in *rounds*. A round times one
block of each implementation (in an order that rotates from round to round): first the
implementation runs untimed for ``--settle-seconds`` (so that thread pools left spinning by the
previous implementation go idle), then its parameters are reset to the initial weights and a
block of ``n`` steps runs back to back (``n`` sized so that a block lasts about
``--block-seconds``). The report gives, per implementation, the median over rounds of the time
per step. Rounds during which other processes kept the CPUs busy (read from ``/proc/stat``) are
left out of the medians, and the report says how many were.

Run from the repository root::

    python benchmarks/engine_step.py                 # full run (about 80 s on 2 cores)
    python benchmarks/engine_step.py --quick         # smoke run, a few seconds
    python benchmarks/engine_step.py --json out.json --repeat 41 --batches 32,256

The goals for chainrule/torch are printed next to each ratio; they are targets, not assertions.
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
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr

try:  # PyTorch is optional: without it the torch column reads 'not installed'.
    import torch
    import torch.nn.functional as TF

    TORCH_IMPORT_ERROR: str | None = None
except (ImportError, OSError) as _err:  # pragma: no cover - depends on the environment
    torch = None  # type: ignore[assignment]
    TF = None  # type: ignore[assignment]
    TORCH_IMPORT_ERROR = f"{type(_err).__name__}: {_err}"

CF = cr.functional

#: Where ``--json`` writes by default: ``benchmarks/results/engine_step.json``.
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "engine_step.json"

#: Goals for the chainrule/torch step-time ratio, by case name (printed, never asserted).
TARGETS: dict[str, float] = {"xor": 0.25, "mlp-32": 0.6, "mlp-128": 0.75, "mlp-1024": 0.85}

FRAMEWORKS = ("chainrule", "torch", "numpy")
MLP_SIZES = (784, 256, 128, 10)
XOR_SIZES = (2, 4, 1)
DEFAULT_BATCHES = (32, 128, 1024)
LR = 1e-2
#: Steps run from the initial weights before timing to check that the three sides agree.
CHECK_STEPS = 3

Step = Callable[[], Any]


# ----- workloads -------------------------------------------------------------------------------


@dataclass
class Case:
    """One workload: its data and initial parameters as NumPy arrays (shared by every side).

    ``params`` is ``[W1, b1, W2, b2, ...]`` with each weight in PyTorch's ``(out, in)`` layout;
    ``target`` holds float targets (XOR, shape ``(4, 1)``) or integer labels (MLP, ``(B,)``).
    """

    name: str
    description: str
    kind: str  # "xor" or "mlp"
    sizes: tuple[int, ...]
    x: np.ndarray
    target: np.ndarray
    params: list[np.ndarray]
    lr: float = LR
    target_ratio: float | None = None
    batch: int = field(init=False)

    def __post_init__(self) -> None:
        self.batch = int(self.x.shape[0])


def _init_params(sizes: Sequence[int], rng: np.random.Generator) -> list[np.ndarray]:
    """PyTorch's default ``nn.Linear`` init: uniform in ±1/√fan_in, weights ``(out, in)``."""
    params: list[np.ndarray] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return params


def make_xor_case(seed: int = 0) -> Case:
    """The 2-4-1 XOR network on its four samples."""
    rng = np.random.default_rng(seed)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    t = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return Case(
        name="xor",
        description="XOR 2-4-1 sigmoid, BCE-with-logits, batch 4",
        kind="xor",
        sizes=XOR_SIZES,
        x=x,
        target=t,
        params=_init_params(XOR_SIZES, rng),
        lr=0.5,
        target_ratio=TARGETS["xor"],
    )


def make_mlp_case(batch: int, seed: int = 0) -> Case:
    """MLP 784-256-128-10 with ReLU and softmax cross-entropy on ``batch`` random samples."""
    rng = np.random.default_rng(seed)
    params = _init_params(MLP_SIZES, rng)
    data_rng = np.random.default_rng(seed + batch)
    x = data_rng.random((batch, MLP_SIZES[0]), dtype=np.float32)
    labels = data_rng.integers(0, MLP_SIZES[-1], size=batch, dtype=np.int64)
    name = f"mlp-{batch}"
    return Case(
        name=name,
        description=f"MLP 784-256-128-10 ReLU, cross-entropy, batch {batch}",
        kind="mlp",
        sizes=MLP_SIZES,
        x=x,
        target=labels,
        params=params,
        lr=LR,
        target_ratio=TARGETS.get(name),
    )


# ----- the three implementations ---------------------------------------------------------------


class Runner:
    """One implementation of one case: ``step()`` trains one step, ``reset()`` restores weights."""

    framework = ""

    def __init__(self, case: Case) -> None:
        self.case = case

    def step(self) -> Any:
        """Forward, backward and SGD update on the case's batch; returns the loss."""
        raise NotImplementedError

    def reset(self) -> None:
        """Copy the initial weights back into the parameters, in place, and clear gradients."""
        raise NotImplementedError

    def params_numpy(self) -> list[np.ndarray]:
        """The current parameters as NumPy arrays (copies)."""
        raise NotImplementedError

    @staticmethod
    def loss_value(loss: Any) -> float:
        """The loss returned by ``step`` as a Python float."""
        return float(loss)


class ChainruleRunner(Runner):
    """chainrule: fused ``F.linear`` layers, fused losses, manual SGD on ``.data``."""

    framework = "chainrule"

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        self.params = [cr.tensor(p, requires_grad=True) for p in case.params]
        self.x = cr.tensor(case.x)
        self.target = cr.tensor(case.target)
        self.step = self._xor_step if case.kind == "xor" else self._mlp_step  # type: ignore

    def _xor_step(self) -> Any:
        w1, b1, w2, b2 = self.params
        h = CF.sigmoid(CF.linear(self.x, w1, b1))
        logits = CF.linear(h, w2, b2)
        loss = CF.binary_cross_entropy_with_logits(logits, self.target)
        loss.backward()
        self._sgd()
        return loss

    def _mlp_step(self) -> Any:
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = CF.relu(CF.linear(self.x, w1, b1))
        h2 = CF.relu(CF.linear(h1, w2, b2))
        logits = CF.linear(h2, w3, b3)
        loss = CF.cross_entropy(logits, self.target)
        loss.backward()
        self._sgd()
        return loss

    def _sgd(self) -> None:
        lr = self.case.lr
        for p in self.params:
            p.data -= lr * p.grad.data
            p.grad = None

    def reset(self) -> None:
        for p, init in zip(self.params, self.case.params):
            p.data[...] = init
            p.grad = None

    def params_numpy(self) -> list[np.ndarray]:
        return [p.data.copy() for p in self.params]

    @staticmethod
    def loss_value(loss: Any) -> float:
        return float(loss.item())


class TorchRunner(Runner):
    """PyTorch CPU eager: ``torch.nn.functional`` ops, manual SGD under ``torch.no_grad()``."""

    framework = "torch"

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        self.params = [torch.tensor(p).requires_grad_(True) for p in case.params]
        self.x = torch.tensor(case.x)
        self.target = torch.tensor(case.target)
        self.step = self._xor_step if case.kind == "xor" else self._mlp_step  # type: ignore

    def _xor_step(self) -> Any:
        w1, b1, w2, b2 = self.params
        h = torch.sigmoid(TF.linear(self.x, w1, b1))
        logits = TF.linear(h, w2, b2)
        loss = TF.binary_cross_entropy_with_logits(logits, self.target)
        loss.backward()
        self._sgd()
        return loss

    def _mlp_step(self) -> Any:
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = TF.relu(TF.linear(self.x, w1, b1))
        h2 = TF.relu(TF.linear(h1, w2, b2))
        logits = TF.linear(h2, w3, b3)
        loss = TF.cross_entropy(logits, self.target)
        loss.backward()
        self._sgd()
        return loss

    def _sgd(self) -> None:
        lr = self.case.lr
        with torch.no_grad():
            for p in self.params:
                p -= lr * p.grad
        for p in self.params:
            p.grad = None

    def reset(self) -> None:
        with torch.no_grad():
            for p, init in zip(self.params, self.case.params):
                p.copy_(torch.from_numpy(init))
                p.grad = None

    def params_numpy(self) -> list[np.ndarray]:
        return [p.detach().numpy().copy() for p in self.params]

    @staticmethod
    def loss_value(loss: Any) -> float:
        return float(loss.item())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) from e^−|x| (never overflows): the formula chainrule uses."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


class NumpyRunner(Runner):
    """Hand-written NumPy: the same forward and backward math, no graph, no autodiff."""

    framework = "numpy"

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        self.params = [p.copy() for p in case.params]
        self.x = case.x.copy()
        self.target = case.target.copy()
        self.rows = np.arange(case.batch)
        self.step = self._xor_step if case.kind == "xor" else self._mlp_step  # type: ignore

    def _xor_step(self) -> Any:
        w1, b1, w2, b2 = self.params
        x, t = self.x, self.target
        # forward: h = σ(x W1ᵀ + b1), z = h W2ᵀ + b2, loss = mean[(1 − t) z + log(1 + e^−z)]
        a1 = x @ w1.T
        a1 += b1
        h = _sigmoid(a1)
        z = h @ w2.T
        z += b2
        loss = ((1 - t) * z + np.logaddexp(0, -z)).mean()
        # backward: dz = (σ(z) − t)/n, dh = dz W2, da1 = dh σ′
        dz = (_sigmoid(z) - t) * (1.0 / z.size)
        gw2, gb2 = dz.T @ h, dz.sum(axis=0)
        da1 = (dz @ w2) * h * (1 - h)
        gw1, gb1 = da1.T @ x, da1.sum(axis=0)
        self._sgd((gw1, gb1, gw2, gb2))
        return loss

    def _mlp_step(self) -> Any:
        w1, b1, w2, b2, w3, b3 = self.params
        x, labels, rows = self.x, self.target, self.rows
        n = len(labels)
        # forward
        h1 = x @ w1.T
        h1 += b1
        h1 = np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        h2 = np.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[rows, labels].sum() / n
        # backward: dz = (softmax − onehot)/n, then through each layer (no gradient for x)
        dz = np.exp(log_p)
        dz[rows, labels] -= 1
        dz *= 1.0 / n
        gw3, gb3 = dz.T @ h2, dz.sum(axis=0)
        dh2 = dz @ w3
        dh2 *= h2 > 0
        gw2, gb2 = dh2.T @ h1, dh2.sum(axis=0)
        dh1 = dh2 @ w2
        dh1 *= h1 > 0
        gw1, gb1 = dh1.T @ x, dh1.sum(axis=0)
        self._sgd((gw1, gb1, gw2, gb2, gw3, gb3))
        return loss

    def _sgd(self, grads: Sequence[np.ndarray]) -> None:
        lr = self.case.lr
        for p, g in zip(self.params, grads):
            p -= lr * g

    def reset(self) -> None:
        for p, init in zip(self.params, self.case.params):
            p[...] = init

    def params_numpy(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]


RUNNERS: dict[str, type[Runner]] = {
    "chainrule": ChainruleRunner,
    "torch": TorchRunner,
    "numpy": NumpyRunner,
}


# ----- timing ----------------------------------------------------------------------------------


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


def _run_steps(step: Step, n: int, deadline: float = math.inf) -> tuple[float, int]:
    """Run ``step`` up to ``n`` times, stopping early after ``deadline`` (a perf_counter time).

    Returns the elapsed seconds and the number of steps run (at least one).
    """
    perf = time.perf_counter
    t0 = perf()
    done = 0
    for _ in range(n):
        step()
        done += 1
        if perf() > deadline:
            break
    return perf() - t0, done


def _run_for(step: Step, seconds: float) -> tuple[float, int]:
    """Run ``step`` until ``seconds`` have passed (no step if ``seconds`` <= 0)."""
    perf = time.perf_counter
    t0 = perf()
    done = 0
    while perf() - t0 < seconds:
        step()
        done += 1
    return perf() - t0, done


def _steps_for(per_step: float, cfg: TimingConfig) -> int:
    """Steps that fill one block of ``cfg.block_seconds`` at ``per_step`` seconds a step."""
    n = math.ceil(cfg.block_seconds / per_step) if per_step > 0 else cfg.max_steps
    return max(cfg.min_steps, min(cfg.max_steps, n))


def warm_up_and_calibrate(runner: Runner, cfg: TimingConfig) -> int:
    """Warm ``runner`` up and return the number of steps that fills one timed block."""
    elapsed, steps = _run_for(runner.step, cfg.warmup_seconds)
    while steps < cfg.min_warmup_steps:
        elapsed += _run_steps(runner.step, 1)[0]
        steps += 1
    return _steps_for(elapsed / steps, cfg)


def check_agreement(runners: dict[str, Runner], steps: int = CHECK_STEPS) -> dict[str, Any]:
    """Run ``steps`` steps from the initial weights on every side and compare with NumPy's.

    Returns the first-step loss of each side and, for each side other than ``numpy``, the
    largest absolute difference of any parameter from the hand-written NumPy parameters.
    """
    losses: dict[str, float] = {}
    params: dict[str, list[np.ndarray]] = {}
    for name, runner in runners.items():
        runner.reset()
        losses[name] = runner.loss_value(runner.step())
        for _ in range(steps - 1):
            runner.step()
        params[name] = runner.params_numpy()
        runner.reset()
    reference = params["numpy"]
    diffs = {
        name: max(float(np.max(np.abs(a - b))) for a, b in zip(ps, reference))
        for name, ps in params.items()
        if name != "numpy"
    }
    return {"steps": steps, "first_loss": losses, "max_abs_param_diff_vs_numpy": diffs}


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
        return max(0.0, other / wall)


def time_case(runners: dict[str, Runner], cfg: TimingConfig) -> dict[str, Any]:
    """Median per-step time of each runner, blocks interleaved across runners in rounds.

    Each round runs one block of every runner, in an order rotated by one each round: settle
    (untimed steps), reset to the initial weights, then the timed block.
    Returns ``{"frameworks": {name: stats}, "rounds": info}``.
    """
    steps = {name: warm_up_and_calibrate(r, cfg) for name, r in runners.items()}
    samples: dict[str, list[float]] = {name: [] for name in runners}
    counts: dict[str, list[int]] = {name: [] for name in runners}
    loads: list[float | None] = []
    limit = cfg.deadline_factor * cfg.block_seconds
    names = list(runners)
    for round_index in range(cfg.repeat):
        meter = LoadMeter()
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            runner = runners[name]
            _run_for(runner.step, cfg.settle_seconds)
            runner.reset()
            elapsed, done = _run_steps(runner.step, steps[name], time.perf_counter() + limit)
            samples[name].append(elapsed / done)
            counts[name].append(done)
            steps[name] = _steps_for(statistics.median(samples[name]), cfg)
        judged = meter.elapsed() >= cfg.min_judged_seconds
        loads.append(meter.other_cpus() if judged else None)
    busy = [i for i, load in enumerate(loads) if load is not None and load > cfg.busy_cpus]
    quiet = [i for i in range(cfg.repeat) if i not in busy]
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


def machine_facts(use_torch: bool = True) -> dict[str, Any]:
    """Versions, BLAS, thread counts and CPUs that the timings depend on."""
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
        facts["torch_status"] = f"not installed ({TORCH_IMPORT_ERROR})"
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


# ----- driver ----------------------------------------------------------------------------------


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    if a is None or b is None:
        return None
    return a["median_us"] / b["median_us"]


def run_case(case: Case, cfg: TimingConfig, use_torch: bool) -> dict[str, Any]:
    """Check agreement, then time every available implementation of ``case``."""
    frameworks = [f for f in FRAMEWORKS if f != "torch" or (use_torch and torch is not None)]
    runners = {name: RUNNERS[name](case) for name in frameworks}
    check = check_agreement(runners)
    meter = LoadMeter()
    timings = time_case(runners, cfg)
    other_cpus = meter.other_cpus()
    results = {name: timings["frameworks"].get(name) for name in FRAMEWORKS}
    cr_torch = _ratio(results["chainrule"], results["torch"])
    target = case.target_ratio
    return {
        "name": case.name,
        "description": case.description,
        "sizes": list(case.sizes),
        "batch": case.batch,
        "lr": case.lr,
        "results": results,
        "ratio_chainrule_torch": cr_torch,
        "ratio_numpy_torch": _ratio(results["numpy"], results["torch"]),
        "ratio_chainrule_numpy": _ratio(results["chainrule"], results["numpy"]),
        "target_chainrule_torch": target,
        "meets_target": None if cr_torch is None or target is None else cr_torch <= target,
        "check": check,
        "other_processes_cpus": other_cpus,
        "rounds": timings["rounds"],
    }


def _fmt_us(result: dict[str, Any] | None, missing: str) -> str:
    return missing if result is None else f"{result['median_us']:.1f}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(report: dict[str, Any]) -> str:
    """The results as a fixed-width text table (median µs per step, ratios, targets)."""
    status = report["machine"]["torch_status"]
    missing_torch = "not installed" if status.startswith("not installed") else "skipped"
    header = (
        "case",
        "chainrule µs",
        "torch µs",
        "numpy µs",
        "cr/torch",
        "target",
        "met",
        "np/torch",
        "cr/np",
    )
    rows = [header]
    for c in report["cases"]:
        res = c["results"]
        target = c["target_chainrule_torch"]
        met = {None: "-", True: "yes", False: "no"}[c["meets_target"]]
        rows.append(
            (
                c["name"],
                _fmt_us(res["chainrule"], "-"),
                _fmt_us(res["torch"], missing_torch),
                _fmt_us(res["numpy"], "-"),
                _fmt_ratio(c["ratio_chainrule_torch"]),
                "-" if target is None else f"≤ {target:.2f}",
                met,
                _fmt_ratio(c["ratio_numpy_torch"]),
                _fmt_ratio(c["ratio_chainrule_numpy"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for k, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_checks(report: dict[str, Any]) -> str:
    """One line per case: how far each side's parameters are from NumPy's after a few steps."""
    lines = []
    for c in report["cases"]:
        check = c["check"]
        diffs = ", ".join(f"{k} {v:.1e}" for k, v in check["max_abs_param_diff_vs_numpy"].items())
        loss = ", ".join(f"{k} {v:.6f}" for k, v in check["first_loss"].items())
        lines.append(
            f"{c['name']}: max |Δparam| vs numpy after {check['steps']} steps: {diffs}; "
            f"first loss: {loss}"
        )
    return "\n".join(lines)


#: Average CPUs used by other processes during a case whose rounds were too short to judge
#: one by one (quick runs) above which the report warns.
BUSY_WARNING_CPUS = 0.2


def format_load(report: dict[str, Any]) -> str:
    """How busy other processes kept the machine during each case, and which rounds counted."""
    lines = []
    warn = False
    for c in report["cases"]:
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
            warn = True
        lines.append(f"{c['name']}: other processes used {text} while timing; {note}")
    if warn:
        lines.append(
            "WARNING: the machine was not quiet; timings are inflated and noisy "
            "(rerun when nothing else is running)"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Time a full training step in chainrule, PyTorch (CPU eager) and NumPy."
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="write the results here as JSON (default: benchmarks/results/engine_step.json)",
    )
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
    parser.add_argument(
        "--batches",
        type=lambda s: tuple(int(v) for v in s.split(",") if v),
        default=DEFAULT_BATCHES,
        help="comma-separated MLP batch sizes (default: 32,128,1024)",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table and write the JSON report; return the report."""
    args = parse_args(argv)
    base = QUICK if args.quick else TimingConfig()
    cfg = TimingConfig(**vars(base))
    if args.repeat is not None:
        cfg.repeat = args.repeat
    if args.block_seconds is not None:
        cfg.block_seconds = args.block_seconds
    if args.settle_seconds is not None:
        cfg.settle_seconds = args.settle_seconds
    use_torch = not args.no_torch
    say = (lambda *a, **k: None) if args.quiet else print

    facts = machine_facts(use_torch)
    say(format_facts(facts))
    say(
        f"timing: {cfg.repeat} rounds; in each, per implementation, "
        f"{cfg.settle_seconds * 1e3:.0f} ms untimed then a block of "
        f"~{cfg.block_seconds * 1e3:.0f} ms" + (" (quick)" if args.quick else "")
    )
    say()

    cases = [make_xor_case()] + [make_mlp_case(b) for b in args.batches]
    started = time.perf_counter()
    case_reports = []
    for case in cases:
        case_reports.append(run_case(case, cfg, use_torch))
        if not args.quiet:
            print(f"  done {case.name} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)

    report = {
        "benchmark": "engine_step",
        "schema_version": 1,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": bool(args.quick),
        "timing": vars(cfg),
        "unit": "microseconds per training step (forward + backward + SGD update)",
        "frameworks": list(FRAMEWORKS),
        "machine": facts,
        "cases": case_reports,
        "elapsed_seconds": time.perf_counter() - started,
    }
    say(format_table(report))
    say()
    say(format_checks(report))
    say(format_load(report))

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    say(f"\nwrote {args.json}")
    return report


if __name__ == "__main__":
    main()
