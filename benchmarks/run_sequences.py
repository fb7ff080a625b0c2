"""``run.py``'s sequence-model rows: the GPT step of ``gpt_step.py`` and the LSTM step of
``lstm_step.py``, each in chainrule and PyTorch, with the same-work check and a FLOP count.

The runners, weights and batches are those scripts' own (``make_runners``), so the rows time
exactly what ``python benchmarks/gpt_step.py`` and ``python benchmarks/lstm_step.py`` time. The
sizes are read from those modules' ``CONFIG`` (and ``gpt_step.BATCH``) at call time, so a test
can shrink them.
"""

from __future__ import annotations

from typing import Any

import gpt_step
import harness
import lstm_step


def gpt_step_flops() -> float:
    """Matrix-product FLOPs (2 per multiply-add) of one GPT training step at gpt_step's sizes.

    Per sequence, forward: every block's four projections (q/k/v 3C², output C², MLP 4C² + 4C²:
    12·T·C² multiply-adds), attention's two products (q kᵀ and the weights times v: 2·T²·C,
    counted in full, as a plain implementation computes them; the causal mask only hides half),
    and the tied read-out (T·C·V). The backward pass costs twice the forward (each product's two
    operand gradients; the embedding is trainable, so the first block's input gradient counts).
    """
    c, t = gpt_step.CONFIG["n_embd"], gpt_step.CONFIG["block_size"]
    layers, vocab = gpt_step.CONFIG["n_layer"], gpt_step.CONFIG["vocab_size"]
    macs = gpt_step.BATCH * (layers * (12 * t * c * c + 2 * t * t * c) + t * c * vocab)
    return 2.0 * 3 * macs


def lstm_step_flops(cfg: lstm_step.Config) -> float:
    """Matrix-product FLOPs (2 per multiply-add) of one LSTM training step.

    Per position, forward: each layer's four gates from its input and the previous state
    (4·H·(in + H) multiply-adds, ``in`` the embedding width for the first layer, H after) and
    the read-out (H·V). The backward pass costs twice the forward, as for the GPT.
    """
    h = cfg.hidden_size
    widths = [cfg.embedding_dim] + [h] * (cfg.num_layers - 1)
    per_position = sum(4 * h * (w + h) for w in widths) + h * cfg.vocab_size
    return 2.0 * 3 * cfg.batch * cfg.seq_len * per_position


def _check(agreement: dict[str, Any]) -> dict[str, Any]:
    """A step script's same-work check in ``run.py``'s form (differences against torch)."""
    diff = agreement["max_abs_diff"]
    return {
        "steps": agreement["steps"],
        "reference": "torch" if diff is not None else "chainrule",
        "max_abs_param_diff": {} if diff is None else {"chainrule": diff},
        "agree": agreement["agree"],
    }


def _time(module: Any, runners: dict[str, Any], cfg: harness.TimingConfig) -> dict[str, Any]:
    check = _check(module.check_agreement(runners))
    meter = harness.LoadMeter()
    timings = harness.time_case(
        {n: r.step for n, r in runners.items()}, cfg, {n: r.reset for n, r in runners.items()}
    )
    results = {k: timings["frameworks"].get(k) for k in ("chainrule", "torch")}
    return {
        "results": dict(results, sklearn=None, numpy=None),
        "check": check,
        "other_processes_cpus": meter.other_cpus(),
        "rounds": timings["rounds"],
    }


def time_gpt(cfg: harness.TimingConfig, use_torch: bool) -> dict[str, Any]:
    """The ``gpt-adam-12`` row: name, description, batch, results, check, rounds, FLOPs."""
    c = gpt_step.CONFIG
    description = (
        f"GPT {c['n_layer']} layers, {c['n_head']} heads, width {c['n_embd']}, context "
        f"{c['block_size']}, vocab {c['vocab_size']} (nanoGPT CPU config), AdamW lr 1e-3"
    )
    row = _time(gpt_step, gpt_step.make_runners(use_torch), cfg)
    row.update(name=f"gpt-adam-{gpt_step.BATCH}", description=description)
    row.update(batch=gpt_step.BATCH, step_flops=gpt_step_flops())
    return row


def time_lstm(cfg: harness.TimingConfig, use_torch: bool) -> dict[str, Any]:
    """The ``lstm-adam-32`` row: name, description, batch, results, check, rounds, FLOPs."""
    c = lstm_step.CONFIG
    description = (
        f"char LSTM: embedding {c.embedding_dim}, {c.num_layers}-layer LSTM {c.hidden_size}, "
        f"Linear {c.hidden_size}-{c.vocab_size}, sequence {c.seq_len}, Adam lr {lstm_step.LR:g}"
    )
    row = _time(lstm_step, lstm_step.make_runners(use_torch, c), cfg)
    row.update(name=f"lstm-adam-{c.batch}", description=description)
    row.update(batch=c.batch, step_flops=lstm_step_flops(c))
    return row
