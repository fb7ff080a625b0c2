"""``run.py``'s scaling section: how the MLP SGD step's cost grows with the work.

Two sweeps, chainrule beside PyTorch, no targets:

- **batch**: the 784-256-128-10 MLP at batch 32 … 4096;
- **depth**: an MLP of ``depth`` Linear layers (784, then width 256, then 10; ReLU between)
  at batch 128.

Every row is a ``run_workloads.Workload`` timed like the MLP rows (same initial weights on
both sides, same batch, same-work check). The table puts each row's FLOPs and step times next
to those of its sweep's first row (``work ×``, ``cr ×``, ``torch ×``): a step whose time grows
more slowly than its work has a fixed cost (Python, dispatch) that the larger rows amortise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import harness
import run_workloads as rw

DEFAULT_BATCHES = (32, 128, 512, 1024, 2048, 4096)
DEFAULT_DEPTHS = (2, 4, 8, 16)
DEPTH_WIDTH = 256
DEPTH_BATCH = 128


def workloads(batches: Sequence[int], depths: Sequence[int]) -> list[tuple[str, rw.Workload]]:
    """``(sweep, workload)`` for every row: the batch sweep first, then the depth sweep."""
    rows = [("batch", rw.make_workload("mlp", "sgd", b, name=f"scale-batch-{b}")) for b in batches]
    for depth in depths:
        sizes = rw.mlp_sizes(depth, DEPTH_WIDTH)
        name = f"scale-depth-{depth}"
        rows.append(("depth", rw.make_workload("mlp", "sgd", DEPTH_BATCH, sizes=sizes, name=name)))
    return rows


def format_sizes(sizes: Sequence[int]) -> str:
    """Layer widths, runs of one width shortened: ``784-256×15-10`` for depth 16."""
    parts: list[list[int]] = []  # [width, count] runs
    for width in sizes:
        if parts and parts[-1][0] == width:
            parts[-1][1] += 1
        else:
            parts.append([width, 1])
    return "-".join(f"{w}×{n}" if n > 1 else str(w) for w, n in parts)


def _growth(row: dict[str, Any], first: dict[str, Any], side: str) -> str:
    """This row's median over the sweep's first row's, for ``side``; '-' if either is missing."""
    value = harness.ratio(row["results"][side], first["results"][side])
    return harness.fmt_ratio(value)


def format_scaling(rows: Sequence[dict[str, Any]]) -> str:
    """The scaling table: sizes, medians, cr/torch, and growth against the sweep's first row."""
    head = "case|sizes|batch|chainrule µs|torch µs|cr/torch|work ×|cr ×|torch ×|floor µs|cr/floor"
    table = [head.split("|")]
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        first = firsts.setdefault(row["sweep"], row)
        table.append(
            [
                row["name"],
                format_sizes(row["sizes"]),
                str(row["batch"]),
                harness.fmt_us(row["results"]["chainrule"], "-"),
                harness.fmt_us(row["results"]["torch"], "-"),
                harness.fmt_ratio(row["ratio_chainrule_torch"]),
                f"{row['step_flops'] / first['step_flops']:.1f}",
                _growth(row, first, "chainrule"),
                _growth(row, first, "torch"),
                f"{row['gemm_floor_us']:.1f}",
                f"{row['ratio_chainrule_floor']:.1f}",
            ]
        )
    return harness.format_columns(table)
