"""What a Hessian-vector product costs next to one gradient, chainrule and PyTorch side by side.

The network is the 784-256-128-10 ReLU MLP of ``engine_step.py`` with softmax cross-entropy,
float32, batch 128, random inputs. Per library, two steps are timed (interleaved rounds, from
``harness.time_case``):

- ``grad``: forward and one backward pass (the gradient with respect to all six parameters);
- ``hvp``: forward, the gradient with ``create_graph=True``, its dot product with a fixed random
  vector v, and a backward pass through that: H·v for all parameters (Pearlmutter's trick).

The report is the ratio hvp ÷ grad for each library, and chainrule's hvp ÷ PyTorch's, with the
machine facts. Before timing, both libraries' H·v are compared (float64 copies, same weights).

    python benchmarks/hvp_cost.py [--quick] [--repeat N] [--batch 128]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr
import harness

torch, TORCH_IMPORT_ERROR = harness.import_torch()

SIZES = (784, 256, 128, 10)


def make_problem(batch: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append(rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in))
        params.append(np.zeros(fan_out))
    return {
        "x": rng.standard_normal((batch, SIZES[0])),
        "y": rng.integers(0, SIZES[-1], batch),
        "params": params,
        "v": [rng.standard_normal(p.shape) for p in params],
    }


def make_steps(lib: Any, problem: dict[str, Any], dtype: Any) -> dict[str, Any]:
    """The two steps (and H·v itself) for ``lib`` (chainrule or torch) in ``dtype``."""
    ps = [lib.tensor(p, dtype=dtype, requires_grad=True) for p in problem["params"]]
    vs = [lib.tensor(v, dtype=dtype) for v in problem["v"]]
    x, y = lib.tensor(problem["x"], dtype=dtype), lib.tensor(problem["y"])
    F = lib.nn.functional

    def loss():
        h = x
        for i in range(0, len(ps) - 2, 2):
            h = F.relu(F.linear(h, ps[i], ps[i + 1]))
        return F.cross_entropy(F.linear(h, ps[-2], ps[-1]), y)

    def grad():
        return lib.autograd.grad(loss(), ps)

    def hvp():
        gs = lib.autograd.grad(loss(), ps, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gs, vs))
        return lib.autograd.grad(dot, ps)

    return {"grad": grad, "hvp": hvp}


def check_agreement(problem: dict[str, Any]) -> float | None:
    """The largest relative difference between the two libraries' H·v (float64)."""
    if torch is None:
        return None
    ours = make_steps(cr, problem, cr.float64)["hvp"]()
    theirs = make_steps(torch, problem, torch.float64)["hvp"]()
    return max(
        float(np.max(np.abs(a.numpy() - b.numpy())) / (np.max(np.abs(b.numpy())) + 1e-300))
        for a, b in zip(ours, theirs)
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_timing_arguments(parser)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    cfg = harness.make_config(args.quick, args.repeat, args.block_seconds, args.settle_seconds)
    use_torch = torch is not None and not args.no_torch
    print(harness.format_facts(harness.machine_facts(torch, TORCH_IMPORT_ERROR, use_torch)))
    problem = make_problem(args.batch)
    difference = check_agreement(problem) if use_torch else None
    steps = {f"chainrule {k}": s for k, s in make_steps(cr, problem, cr.float32).items()}
    if use_torch:
        steps.update(
            {f"torch {k}": s for k, s in make_steps(torch, problem, torch.float32).items()}
        )
    result = harness.time_case(steps, cfg)["frameworks"]
    us = {name: r["median_us"] for name, r in result.items()}
    rows = [("step", "median µs")] + [(name, f"{t:.0f}") for name, t in us.items()]
    print(harness.format_columns(rows))
    ratios = {"chainrule hvp ÷ grad": us["chainrule hvp"] / us["chainrule grad"]}
    if use_torch:
        ratios["torch hvp ÷ grad"] = us["torch hvp"] / us["torch grad"]
        ratios["chainrule hvp ÷ torch hvp"] = us["chainrule hvp"] / us["torch hvp"]
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}")
    if difference is not None:
        print(f"H·v agreement with PyTorch (float64): largest relative difference {difference:.1e}")
    return {"medians_us": us, "ratios": ratios, "agreement": difference}


if __name__ == "__main__":
    main()
