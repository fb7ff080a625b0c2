"""Is this checkout slower than an earlier one? The engine-step benchmark on two source trees.

Two versions of chainrule cannot live in one process (they are the same package), so this
script runs ``engine_step.py`` (and, with ``--fit``, ``fit_overhead.py``) in child processes,
alternating between the trees round after round, and reports each case's median over rounds and
the ratio new ÷ base. Alternating spreads the machine's slow and fast moments over both trees.

Make the base tree with git, outside the checkout::

    git worktree add /tmp/chainrule-base <commit>
    python benchmarks/compare_trees.py --base /tmp/chainrule-base            # about 4 minutes
    python benchmarks/compare_trees.py --base /tmp/chainrule-base --rounds 2 --quick

The NumPy column is the same hand-written code in both trees: its ratio shows how much of a
difference is the machine, not chainrule.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEW_TREE = HERE.parent


def run_engine_step(tree: Path, quick: bool, repeat: int) -> dict[str, dict[str, float]]:
    """One engine_step run of ``tree``'s chainrule: {case: {implementation: median µs}}."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, str(HERE / "engine_step.py"), "--no-torch", "--quiet"]
        cmd += ["--json", str(out), "--repeat", str(repeat)] + (["--quick"] if quick else [])
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        subprocess.run(cmd, check=True, env=env, cwd=tree)
        report = json.loads(out.read_text())
    return {
        c["name"]: {k: v["median_us"] for k, v in c["results"].items() if v is not None}
        for c in report["cases"]
    }


def check_tree(tree: Path) -> None:
    """Refuse a folder that holds no chainrule source (PYTHONPATH would silently fall back)."""
    if not (tree / "src" / "chainrule" / "__init__.py").is_file():
        raise SystemExit(f"{tree}: no src/chainrule/__init__.py there; pass a chainrule checkout")


def compare(
    base: Path,
    rounds: int,
    quick: bool,
    repeat: int,
    verbose: bool = False,
    new: Path = NEW_TREE,
) -> str:
    """Alternate base and new for ``rounds`` rounds; a table of medians and new ÷ base."""
    samples: dict[str, dict[str, dict[str, list[float]]]] = {"base": {}, "new": {}}
    for r in range(rounds):
        order = [("base", base), ("new", new)]
        for label, tree in order if r % 2 == 0 else order[::-1]:
            for case, results in run_engine_step(tree, quick, repeat).items():
                for impl, us in results.items():
                    samples[label].setdefault(case, {}).setdefault(impl, []).append(us)
    lines = [f"{'case':10} {'impl':10} {'base µs':>10} {'new µs':>10} {'new/base':>9}"]
    for case, impls in samples["new"].items():
        for impl, values in impls.items():
            b = statistics.median(samples["base"][case][impl])
            n = statistics.median(values)
            lines.append(f"{case:10} {impl:10} {b:10.1f} {n:10.1f} {n / b:9.3f}")
            if verbose:
                rounds = zip(samples["base"][case][impl], values)
                pairs = ", ".join(f"{x:.1f}/{y:.1f}" for x, y in rounds)
                lines.append(f"    rounds (base/new): {pairs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the earlier checkout")
    parser.add_argument(
        "--new", type=Path, default=NEW_TREE, help="the later checkout (default: this one)"
    )
    parser.add_argument("--rounds", type=int, default=6, help="runs per tree (default 6)")
    parser.add_argument("--repeat", type=int, default=7, help="timed blocks per run (default 7)")
    parser.add_argument("--quick", action="store_true", help="engine_step's smoke settings")
    parser.add_argument("--verbose", action="store_true", help="print every round's medians")
    args = parser.parse_args(argv)
    check_tree(args.base)
    check_tree(args.new)
    print(f"base: {args.base.resolve()}\nnew:  {args.new.resolve()}")
    base, new = args.base.resolve(), args.new.resolve()
    print(compare(base, args.rounds, args.quick, args.repeat, args.verbose, new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
