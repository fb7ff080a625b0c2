"""Time ``chainrule.fit`` against the hand-written loop it replaces, on scikit-learn's digits.

The quality bar: fit's own overhead on top of a hand-written training loop is at most 10% on
digits. Both sides train the same 64-64-10 ReLU MLP with Adam (lr 1e-3) and cross-entropy on all
1,797 digits, in shuffled batches of 32 (57 batches an epoch), from the same initial weights,
the same fresh optimizer and the same shuffling seed:

- ``fit``: ``chainrule.fit(model, loss, opt, (X, y), epochs=E, batch_size=32, verbose=0,
  metrics=...)``;
- ``hand``: what a learner writes instead: a ``DataLoader`` over a ``TensorDataset`` with
  ``shuffle=True``, then per epoch ``model.train()`` and per batch ``zero_grad``, forward, loss,
  ``backward``, ``step``, accumulating the sample-weighted loss (``loss.item()``) and, to match
  fit's accuracy metric, the number of correct argmax predictions.

Each runs twice: with the accuracy metric (``metrics=("accuracy",)`` / counting correct
predictions) and without (``metrics=()`` / the loss only), so the table separates the cost of
the metric from the cost of fit's loop. Before timing, one call of each is run from the initial
weights and compared: the parameters and the per-epoch loss and accuracy must agree (they are
bit-identical when the two sides do the same work).

Timing uses ``benchmarks/harness.py`` (interleaved rounds, settling, rounds disturbed by other
processes left out); one timed step is one call covering ``--epochs`` epochs, and times are
reported per epoch. The 10% bar is printed with a yes/no, never asserted.

Run from the repository root (needs scikit-learn: ``pip install "chainrule[datasets]"``)::

    python benchmarks/fit_overhead.py               # full run, about 30 s
    python benchmarks/fit_overhead.py --quick       # smoke run, a second or two, rough numbers
    python benchmarks/fit_overhead.py --profile     # plus cProfile of fit's extra work
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
import harness
from chainrule import data, nn, optim

#: Where ``--json`` writes by default: ``benchmarks/results/fit_overhead.json``.
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "fit_overhead.json"

#: The quality bar: fit / hand loop − 1, per epoch, at most this (printed, never asserted).
TARGET_OVERHEAD = 0.10

BATCH_SIZE = 32
LR = 1e-3
SEED = 0
#: The four implementations, in the order of the table: (name, side, with accuracy).
IMPLEMENTATIONS = (
    ("fit+accuracy", "fit", True),
    ("hand+accuracy", "hand", True),
    ("fit", "fit", False),
    ("hand", "hand", False),
)
#: Rows of the table: (label, fit implementation, hand implementation).
PAIRS = (("accuracy", "fit+accuracy", "hand+accuracy"), ("none", "fit", "hand"))


# ----- the two sides ---------------------------------------------------------------------------


def build_model() -> nn.Sequential:
    """The MLP of ``examples/digits_mlp.py``: 64 pixels → 64 ReLU units → 10 logits."""
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


class Runner:
    """One implementation: its own model and optimizer, so interleaved blocks never interact.

    ``step()`` trains ``epochs`` epochs and returns per-epoch ``(loss, accuracy or None)``;
    ``reset()`` restores the initial weights, a fresh Adam and the shuffling seed.
    """

    def __init__(
        self,
        side: str,
        accuracy: bool,
        x: np.ndarray,
        y: np.ndarray,
        init: dict[str, np.ndarray],
        epochs: int,
    ) -> None:
        self.side, self.accuracy = side, accuracy
        self.x, self.y, self.init, self.epochs = x, y, init, epochs
        self.model = build_model()
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer: optim.Optimizer = optim.Adam(self.model.parameters(), lr=LR)
        self.step: Callable[[], list[tuple[float, float | None]]] = (
            self.fit_step if side == "fit" else self.hand_step
        )
        self.reset()

    def reset(self) -> None:
        self.model.load_state_dict(self.init)
        # Adam's moments and step count are part of the work: every block starts from zero.
        self.optimizer = optim.Adam(self.model.parameters(), lr=LR)
        # Both sides shuffle with chainrule's global generator, so they see the same batches.
        cr.manual_seed(SEED)

    def fit_step(self) -> list[tuple[float, float | None]]:
        history = cr.fit(
            self.model,
            self.loss_fn,
            self.optimizer,
            (self.x, self.y),
            epochs=self.epochs,
            batch_size=BATCH_SIZE,
            verbose=0,
            metrics=("accuracy",) if self.accuracy else (),
        )
        accuracies = history["accuracy"] if self.accuracy else [None] * len(history)
        return list(zip(history["loss"], accuracies))

    def hand_step(self) -> list[tuple[float, float | None]]:
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        count_correct = self.accuracy  # locals, as a hand-written loop would have them
        loader = data.DataLoader(
            data.TensorDataset(self.x, self.y), batch_size=BATCH_SIZE, shuffle=True
        )
        epochs = []
        for _ in range(self.epochs):
            model.train()
            total_loss, correct, seen = 0.0, 0, 0
            for xb, yb in loader:
                optimizer.zero_grad()
                output = model(xb)
                loss = loss_fn(output, yb)
                loss.backward()
                optimizer.step()
                n = len(yb.numpy())
                seen += n
                total_loss += loss.item() * n
                if count_correct:
                    correct += int((output.numpy().argmax(axis=1) == yb.numpy()).sum())
            epochs.append((total_loss / seen, correct / seen if count_correct else None))
        return epochs

    def params(self) -> list[np.ndarray]:
        return [p.numpy().copy() for p in self.model.parameters()]


def make_runners(epochs: int) -> dict[str, Runner]:
    """Every implementation, all from the same initial weights."""
    x, y = data.digits()
    cr.manual_seed(SEED)
    init = build_model().state_dict()
    return {name: Runner(side, acc, x, y, init, epochs) for name, side, acc in IMPLEMENTATIONS}


def check_agreement(runners: dict[str, Runner]) -> dict[str, Any]:
    """One step of each from the initial weights; fit's results against the hand loop's.

    Returns, per table row, the largest parameter difference and the largest difference in
    per-epoch loss and accuracy (0.0 each when both sides did exactly the same arithmetic).
    """
    outputs, params = {}, {}
    for name, runner in runners.items():
        runner.reset()
        outputs[name] = runner.step()
        params[name] = runner.params()
        runner.reset()
    rows = {}
    for label, fit_name, hand_name in PAIRS:
        fit_out, hand_out = outputs[fit_name], outputs[hand_name]
        rows[label] = {
            "max_abs_param_diff": max(
                float(np.max(np.abs(a - b))) for a, b in zip(params[fit_name], params[hand_name])
            ),
            "max_abs_loss_diff": max(abs(f[0] - h[0]) for f, h in zip(fit_out, hand_out)),
            "max_abs_accuracy_diff": (
                max(abs(f[1] - h[1]) for f, h in zip(fit_out, hand_out))
                if fit_out[0][1] is not None
                else None
            ),
            "loss": [f[0] for f in fit_out],
            "accuracy": [f[1] for f in fit_out],
        }
    return rows


# ----- timing and the report -------------------------------------------------------------------


def paired_overheads(fit_us: list[float], hand_us: list[float], used: list[int]) -> float:
    """Median over rounds of fit / hand − 1, each round's two blocks run back to back.

    Less sensitive than the ratio of medians to the machine's speed drifting between rounds.
    """
    return statistics.median(fit_us[i] / hand_us[i] - 1 for i in used)


def summarize(timings: dict[str, Any], epochs: int, batches: int) -> list[dict[str, Any]]:
    """One row per metric setting: per-epoch medians, overheads, extra µs per batch."""
    results, rounds = timings["frameworks"], timings["rounds"]
    used = (
        list(range(rounds["count"]))
        if rounds["too_few_quiet"]
        else [i for i in range(rounds["count"]) if i not in rounds["busy"]]
    )
    rows = []
    for label, fit_name, hand_name in PAIRS:
        fit_ms = results[fit_name]["median_us"] / epochs / 1e3
        hand_ms = results[hand_name]["median_us"] / epochs / 1e3
        overhead = fit_ms / hand_ms - 1
        rows.append(
            {
                "metrics": label,
                "fit_ms_per_epoch": fit_ms,
                "hand_ms_per_epoch": hand_ms,
                "overhead": overhead,
                "overhead_paired": paired_overheads(
                    results[fit_name]["samples_us"], results[hand_name]["samples_us"], used
                ),
                "extra_us_per_batch": (fit_ms - hand_ms) * 1e3 / batches,
                "meets_target": overhead <= TARGET_OVERHEAD,
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """The per-epoch medians and overheads as a fixed-width table, plus the metric's cost."""
    header = "metrics|fit ms/epoch|hand ms/epoch|fit/hand−1|paired|target|met|extra µs/batch"
    table = [header.split("|")]
    for r in rows:
        table.append(
            (
                r["metrics"],
                f"{r['fit_ms_per_epoch']:.3f}",
                f"{r['hand_ms_per_epoch']:.3f}",
                f"{r['overhead']:+.1%}",
                f"{r['overhead_paired']:+.1%}",
                f"≤ {TARGET_OVERHEAD:.0%}",
                "yes" if r["meets_target"] else "no",
                f"{r['extra_us_per_batch']:.1f}",
            )
        )
    with_acc, without = rows
    fit_cost = with_acc["fit_ms_per_epoch"] / without["fit_ms_per_epoch"] - 1
    hand_cost = with_acc["hand_ms_per_epoch"] / without["hand_ms_per_epoch"] - 1
    metric_cost = f"cost of the accuracy metric: fit {fit_cost:+.1%}, hand loop {hand_cost:+.1%}"
    return harness.format_columns(table) + "\n" + metric_cost


def format_checks(checks: dict[str, Any]) -> str:
    """How far fit's parameters, loss and accuracy are from the hand loop's after one call."""
    lines = []
    for label, c in checks.items():
        acc = c["max_abs_accuracy_diff"]
        lines.append(
            f"same work ({label}): max |Δparam| {c['max_abs_param_diff']:.1e}, "
            f"max |Δloss| {c['max_abs_loss_diff']:.1e}"
            + ("" if acc is None else f", max |Δaccuracy| {acc:.1e}")
            + f"; last epoch loss {c['loss'][-1]:.4f}"
        )
    return "\n".join(lines)


def profile_fit(runners: dict[str, Runner], epochs: int, top: int) -> str:
    """cProfile of fit and of the hand loop over ``epochs`` epochs each, accuracy metric on.

    The same functions do the training in both; what differs is what fit adds. The report
    lists the functions the loop calls directly (their line in loop.py is where the time goes) and
    the top functions by own time for each side.
    """
    out = io.StringIO()
    for name in ("fit+accuracy", "hand+accuracy"):
        runner = runners[name]
        runner.reset()
        saved = runner.epochs
        runner.epochs = epochs
        profiler = cProfile.Profile()
        try:
            profiler.runcall(runner.step)
        finally:
            runner.epochs = saved
            runner.reset()
        stats = pstats.Stats(profiler, stream=out)
        out.write(f"\n===== {name}: {epochs} epochs, functions by own time =====\n")
        stats.sort_stats("tottime").print_stats(top)
        if name.startswith("fit"):
            out.write("===== what the loop calls directly (fit, train_epoch, train_step) =====\n")
            stats.sort_stats("cumulative").print_callees(
                r"training[/\\]\w+\.py:\d+\((fit|train_epoch|train_step)\)"
            )
    return out.getvalue()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Time chainrule.fit against a hand-written training loop on digits."
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="write the results here as JSON (default: benchmarks/results/fit_overhead.json)",
    )
    harness.add_timing_arguments(parser)
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs per timed call of fit / the hand loop (default 5; quick: 1)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after timing, print a cProfile of fit and of the hand loop",
    )
    parser.add_argument(
        "--profile-epochs", type=int, default=50, help="epochs profiled (default 50)"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.epochs is None:
        args.epochs = 1 if args.quick else 5
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table and write the JSON report; return the report."""
    args = parse_args(argv)
    cfg = harness.make_config(args.quick, args.repeat, args.block_seconds, args.settle_seconds)
    say = (lambda *a, **k: None) if args.quiet else print

    facts = harness.machine_facts(None, None, use_torch=False)
    # machine_facts reads a missing module as "not installed"; here torch is simply not used.
    facts["torch_status"] = "not used by this benchmark"
    say(harness.format_facts(facts))
    say(harness.format_timing(cfg, args.quick) + f"; one step = {args.epochs} epoch(s)")

    started = time.perf_counter()
    runners = make_runners(args.epochs)
    batches = len(data.DataLoader(data.TensorDataset(runners["fit"].x), batch_size=BATCH_SIZE))
    checks = check_agreement(runners)
    meter = harness.LoadMeter()
    timings = harness.time_case(
        {name: r.step for name, r in runners.items()},
        cfg,
        resets={name: r.reset for name, r in runners.items()},
    )
    other_cpus = meter.other_cpus()
    rows = summarize(timings, args.epochs, batches)
    if not args.quiet:
        print(f"  timed in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    report = {
        "benchmark": "fit_overhead",
        "schema_version": 1,
        "created": harness.utc_timestamp(),
        "quick": bool(args.quick),
        "timing": vars(cfg),
        "workload": {
            "data": f"scikit-learn digits, {len(runners['fit'].x)} samples",
            "model": "64-64-10 ReLU MLP, cross-entropy, Adam lr 1e-3",
            "batch_size": BATCH_SIZE,
            "batches_per_epoch": batches,
            "epochs_per_step": args.epochs,
        },
        "unit": "milliseconds per epoch (median over rounds)",
        "target_overhead": TARGET_OVERHEAD,
        "machine": facts,
        "rows": rows,
        "results": timings["frameworks"],
        "check": checks,
        "other_processes_cpus": other_cpus,
        "rounds": timings["rounds"],
        "elapsed_seconds": time.perf_counter() - started,
    }
    say(
        f"\ndigits: {report['workload']['data']}, {batches} batches of {BATCH_SIZE} per epoch; "
        "64-64-10 ReLU, Adam"
    )
    say(format_table(rows))
    say()
    say(format_checks(checks))
    say(
        harness.format_load(
            [{"name": "digits", "other_processes_cpus": other_cpus, "rounds": timings["rounds"]}]
        )
    )
    if args.profile:
        say(profile_fit(runners, args.profile_epochs, top=25))

    harness.write_json(args.json, report)
    say(f"\nwrote {args.json}")
    return report


if __name__ == "__main__":
    main()
