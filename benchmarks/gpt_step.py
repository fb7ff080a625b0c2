"""Time one GPT training step (forward, backward, AdamW step) in chainrule and in PyTorch.

The model is ``chainrule.models.GPT`` in ``examples/char_gpt.py``'s configuration (4 layers,
4 heads, width 128, context 64, batch 12, vocabulary 65, float32); the PyTorch side is the
same source loaded under torch by that example's ``load_gpt_source``. Both start from the
same weights (chainrule's state_dict copied into torch) and see the same batches, and
before timing both run a few steps and their parameters are compared (the same-work check).

Timing is done by ``benchmarks/harness.py`` (interleaved rounds; see ``benchmarks/README.md``).

Run from the repository root::

    python benchmarks/gpt_step.py            # full run
    python benchmarks/gpt_step.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
import harness

torch, TORCH_IMPORT_ERROR = harness.import_torch()

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "gpt_step.json"
CONFIG = {"vocab_size": 65, "block_size": 64, "n_layer": 4, "n_head": 4, "n_embd": 128}
BATCH = 12
CHECK_STEPS = 3


def load_example() -> Any:
    """``examples/char_gpt.py`` as a module (it holds the loader that switches libraries)."""
    spec = importlib.util.spec_from_file_location("char_gpt", ROOT / "examples" / "char_gpt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Runner:
    """One library's GPT, AdamW and a fixed list of batches; ``step()`` trains on the next."""

    def __init__(self, lib: Any, gpt: Any, state: dict, batches: list) -> None:
        self.lib, self.gpt, self.state = lib, gpt, state
        self.batches = [(lib.from_numpy(x), lib.from_numpy(y)) for x, y in batches]
        self.reset()

    def reset(self) -> None:
        """Back to the shared initial weights and a fresh optimizer."""
        self.model = self.gpt.GPT(**CONFIG)
        self.model.load_state_dict(
            {k: self.lib.from_numpy(v.copy()) for k, v in self.state.items()}
        )
        self.opt = self.model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
        self.i = 0

    def step(self) -> Any:
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        _, loss = self.model(x, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> dict[str, np.ndarray]:
        return {n: p.detach().numpy().copy() for n, p in self.model.named_parameters()}


def make_runners(use_torch: bool) -> dict[str, Runner]:
    """The runners, sharing chainrule's initial weights and 8 random batches."""
    example = load_example()
    cr.manual_seed(0)
    state = {
        k: np.array(v)
        for k, v in example.load_gpt_source("chainrule").GPT(**CONFIG).state_dict().items()
    }
    rng = np.random.default_rng(0)
    shape = (BATCH, CONFIG["block_size"])
    batches = [(rng.integers(0, 65, shape), rng.integers(0, 65, shape)) for _ in range(8)]
    runners = {"chainrule": Runner(cr, example.load_gpt_source("chainrule"), state, batches)}
    if use_torch and torch is not None:
        runners["torch"] = Runner(torch, example.load_gpt_source("torch"), state, batches)
    return runners


def check_agreement(runners: dict[str, Runner]) -> dict[str, Any]:
    """CHECK_STEPS steps on each side; the largest parameter difference from chainrule."""
    return harness.named_parameter_agreement(runners, CHECK_STEPS)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_timing_arguments(p)
    p.add_argument("--no-torch", action="store_true", help="time chainrule only")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Check, time, print and write the JSON report; return the report."""
    args = parse_args(argv)
    cfg = harness.make_config(args.quick, args.repeat, args.block_seconds, args.settle_seconds)
    facts = harness.machine_facts(torch, TORCH_IMPORT_ERROR, not args.no_torch)
    print(harness.format_facts(facts))
    runners = make_runners(not args.no_torch)
    check = check_agreement(runners)
    timings = harness.time_case(
        {n: r.step for n, r in runners.items()},
        cfg,
        resets={n: r.reset for n, r in runners.items()},
    )
    results = timings["frameworks"]
    ratio = harness.ratio(results.get("chainrule"), results.get("torch"))
    for name, res in results.items():
        print(f"{name:10s} {harness.fmt_us(res, '-')} µs per step")
    print(f"chainrule/torch {harness.fmt_ratio(ratio)}; same work: {check}")
    report = {
        "benchmark": "gpt_step",
        "created": harness.utc_timestamp(),
        "quick": bool(args.quick),
        "config": {**CONFIG, "batch": BATCH},
        "machine": facts,
        "results": results,
        "ratio_chainrule_torch": ratio,
        "check": check,
        "rounds": timings["rounds"],
    }
    harness.write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()
