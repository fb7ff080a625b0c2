"""Time one full training step (forward, backward, SGD update) in chainrule, PyTorch and NumPy.

Two workloads, float32 throughout:

- ``xor``: the 2-4-1 XOR network on its 4 samples, a sigmoid hidden layer of 4 units and binary
  cross-entropy computed from the output logit;
- ``mlp-B``: an MLP 784-256-128-10 with ReLU and softmax cross-entropy on integer labels, at
  batch sizes B = 32, 128 and 1024 (random inputs in [0, 1), random labels).

Each workload runs in three implementations that do identical work (see the ``*Runner``
classes): chainrule, PyTorch CPU eager (if importable) and the same forward and backward
written out by hand in NumPy (the floor: what the step costs without autodiff bookkeeping).

All three start from the same weights (drawn once with NumPy, PyTorch's ``(out, in)`` layout) and
see the same data. Before timing, each implementation runs a few steps from those weights and its
parameters are compared with the hand-written NumPy ones, so a mismatch in the work shows up as a
large difference in the report.

Timing (interleaved rounds, settling, dropping rounds disturbed by other processes) is done
by ``benchmarks/harness.py``; see its docstrings and ``benchmarks/README.md``.

Run from the repository root::

    python benchmarks/engine_step.py                 # full run (about 80 s on 2 cores)
    python benchmarks/engine_step.py --quick         # smoke run, a few seconds
    python benchmarks/engine_step.py --json out.json --repeat 41 --batches 32,256

The goals for chainrule/torch are printed next to each ratio; they are targets, not assertions.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
import harness

torch, TORCH_IMPORT_ERROR = harness.import_torch()
TF = torch.nn.functional if torch is not None else None

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
        """The loss returned by ``step`` as a Python float (tensor or NumPy scalar)."""
        return float(loss.item())


class ChainruleRunner(Runner):
    """chainrule: fused ``F.linear`` layers, fused losses, manual SGD on the parameters' arrays."""

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
            values = p.numpy()  # the parameter's own array: updated in place, outside the graph
            values -= lr * p.grad.numpy()
            p.grad = None

    def reset(self) -> None:
        for p, init in zip(self.params, self.case.params):
            p.numpy()[...] = init
            p.grad = None

    def params_numpy(self) -> list[np.ndarray]:
        return [p.numpy().copy() for p in self.params]


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
    r.framework: r for r in (ChainruleRunner, TorchRunner, NumpyRunner)
}


# ----- agreement and driver --------------------------------------------------------------------


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


def run_case(case: Case, cfg: harness.TimingConfig, use_torch: bool) -> dict[str, Any]:
    """Check agreement, then time every available implementation of ``case``."""
    frameworks = [f for f in FRAMEWORKS if f != "torch" or (use_torch and torch is not None)]
    runners = {name: RUNNERS[name](case) for name in frameworks}
    check = check_agreement(runners)
    meter = harness.LoadMeter()
    timings = harness.time_case(
        {name: r.step for name, r in runners.items()},
        cfg,
        resets={name: r.reset for name, r in runners.items()},
    )
    other_cpus = meter.other_cpus()
    results = {name: timings["frameworks"].get(name) for name in FRAMEWORKS}
    cr_torch = harness.ratio(results["chainrule"], results["torch"])
    target = case.target_ratio
    return {
        "name": case.name,
        "description": case.description,
        "sizes": list(case.sizes),
        "batch": case.batch,
        "lr": case.lr,
        "results": results,
        "ratio_chainrule_torch": cr_torch,
        "ratio_numpy_torch": harness.ratio(results["numpy"], results["torch"]),
        "ratio_chainrule_numpy": harness.ratio(results["chainrule"], results["numpy"]),
        "target_chainrule_torch": target,
        "meets_target": None if cr_torch is None or target is None else cr_torch <= target,
        "check": check,
        "other_processes_cpus": other_cpus,
        "rounds": timings["rounds"],
    }


def format_table(report: dict[str, Any]) -> str:
    """The results as a fixed-width text table (median µs per step, ratios, targets)."""
    status = report["machine"]["torch_status"]
    missing_torch = "not installed" if status.startswith("not installed") else "skipped"
    rows = ["case|chainrule µs|torch µs|numpy µs|cr/torch|target|met|np/torch|cr/np".split("|")]
    for c in report["cases"]:
        res = c["results"]
        target = c["target_chainrule_torch"]
        met = {None: "-", True: "yes", False: "no"}[c["meets_target"]]
        rows.append(
            (
                c["name"],
                harness.fmt_us(res["chainrule"], "-"),
                harness.fmt_us(res["torch"], missing_torch),
                harness.fmt_us(res["numpy"], "-"),
                harness.fmt_ratio(c["ratio_chainrule_torch"]),
                "-" if target is None else f"≤ {target:.2f}",
                met,
                harness.fmt_ratio(c["ratio_numpy_torch"]),
                harness.fmt_ratio(c["ratio_chainrule_numpy"]),
            )
        )
    return harness.format_columns(rows)


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
    harness.add_timing_arguments(parser)
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
    cfg = harness.make_config(args.quick, args.repeat, args.block_seconds, args.settle_seconds)
    use_torch = not args.no_torch
    say = (lambda *a, **k: None) if args.quiet else print

    # Module globals read at call time, so tests can pretend torch is missing.
    facts = harness.machine_facts(torch, TORCH_IMPORT_ERROR, use_torch)
    say(harness.format_facts(facts))
    say(harness.format_timing(cfg, args.quick))
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
        "created": harness.utc_timestamp(),
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
    say(harness.format_load(report["cases"]))

    harness.write_json(args.json, report)
    say(f"\nwrote {args.json}")
    return report


if __name__ == "__main__":
    main()
