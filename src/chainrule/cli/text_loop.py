"""The training loop of a language model: iterations on random batches, a loss estimate every
``eval_interval`` iterations, a checkpoint after each estimate and on Ctrl-C.

Like ``fit``, the loop drives its callbacks through one
:class:`~chainrule.training.CallbackList`, its progress line (:class:`EvalLine`) among them:
``on_train_begin``, ``on_batch_end`` after each iteration, ``on_epoch_end`` after each
estimate (its ``epoch`` argument is the iteration count) and ``on_train_end``.

Everything random is in two generators, both checkpointed: chainrule's global one (initial
weights, dropout) and the loop's own NumPy generator, which draws the training batches. The
estimates draw their batches from a generator reseeded each time, so every estimate scores
the same batches and none moves the training stream. A run cut at any iteration and resumed
therefore ends with the same weights, bit for bit, as one run straight through.
"""

from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule import from_numpy, no_grad
from chainrule.cli.registry import TextData, TextModelInfo
from chainrule.data import random_blocks
from chainrule.nn import functional as F
from chainrule.nn.utils import clip_grad_norm_
from chainrule.random import default_generator
from chainrule.training import Callback, CallbackList
from chainrule.training.trainer import Interrupt

#: The columns of a language-model run's history, one entry per estimate.
HISTORY_KEYS = ("iter", "train_loss", "val_loss", "lr", "seconds")


@dataclass
class TextRun:
    """Everything a language-model run trains: its options, the registry's recipe for the
    pair, the data, the model, the optimizer and the model's constructor arguments."""

    opts: dict[str, Any]
    info: TextModelInfo
    data: TextData
    model: Any
    optimizer: Any
    model_kwargs: dict[str, Any]


@dataclass
class LoopState:
    """Where a run is, handed to the callbacks: iterations done of ``iters``, the estimates so
    far (:data:`HISTORY_KEYS` → list), the seconds spent in earlier sessions, the batch
    generator, and whether Ctrl-C or SIGTERM stopped it."""

    model: Any
    optimizer: Any
    iters: int
    iteration: int = 0
    history: dict[str, list] = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})
    seconds_before: float = 0.0
    rng: np.random.Generator = field(default_factory=np.random.default_rng)
    interrupted: bool = False
    verbose: int = 1
    stop_training: bool = False


def lr_at(run: TextRun, iteration: int) -> float:
    """The learning rate of step ``iteration`` (0-based) under the pair's schedule."""
    d, lr, iters = run.info.defaults, run.opts["lr"], run.opts["iters"]
    final = lr * d.lr_final
    if d.schedule == "step":
        return lr if iteration < iters // 2 else final
    if d.schedule != "cosine":
        return lr
    if iteration < d.warmup:
        return lr * (iteration + 1) / (d.warmup + 1)
    if iteration >= iters:
        return final
    ratio = (iteration - d.warmup) / max(1, iters - d.warmup)
    return final + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - final)


def draw_batch(run: TextRun, split: Any, rng: np.random.Generator) -> tuple[Any, Any]:
    """A random batch ``(x, y)`` of ``batch_size``: windows of a stream and their shifted
    targets, or contexts and their next ids."""
    batch_size = run.opts["batch_size"]
    if not run.data.contexts:
        return random_blocks(split, run.opts["block_size"], batch_size, generator=rng)
    x, y = split
    rows = rng.integers(0, len(y), size=batch_size)
    return from_numpy(x[rows]), from_numpy(y[rows])


def batch_loss(run: TextRun, x: Any, y: Any) -> Any:
    """The mean next-token cross-entropy of the batch (the model's own for a GPT)."""
    if run.info.loss_in_forward:
        return run.model(x, y)[1]
    out = run.model(x)
    logits = out[0] if isinstance(out, tuple) else out
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def estimate(run: TextRun) -> dict[str, float]:
    """The mean loss of ``eval_iters`` batches of each split, in eval mode, without a graph.
    The batches come from a generator seeded afresh, so every estimate scores the same ones."""
    rng = np.random.default_rng([run.opts["seed"], 1])
    losses = {}
    run.model.eval()
    try:
        with no_grad():
            for name, split in (("train_loss", run.data.train), ("val_loss", run.data.val)):
                batches = (draw_batch(run, split, rng) for _ in range(run.opts["eval_iters"]))
                values = [batch_loss(run, x, y).item() for x, y in batches]
                losses[name] = float(np.mean(values))
    finally:
        run.model.train()
    return losses


def step(run: TextRun, state: LoopState) -> float:
    """One optimizer step on a training batch; returns its loss. A NaN or inf loss stops the
    run (RuntimeError) before it can overwrite the weights."""
    lr = lr_at(run, state.iteration)
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    x, y = draw_batch(run, run.data.train, state.rng)
    loss = batch_loss(run, x, y)
    value = loss.item()
    if not math.isfinite(value):
        raise RuntimeError(
            f"the loss became {value} at iteration {state.iteration + 1}; the step was not "
            f"taken. Try a smaller --lr (now {run.opts['lr']})"
        )
    run.optimizer.zero_grad()
    loss.backward()
    if run.info.defaults.clip:
        clip_grad_norm_(run.model.parameters(), run.info.defaults.clip)
    run.optimizer.step()
    state.iteration += 1
    return value


def train_loop(run: TextRun, state: LoopState, callbacks: CallbackList, save: Any) -> None:
    """Train from ``state.iteration`` to ``state.iters``, estimating every ``eval_interval``
    iterations and at the end, calling ``save(state)`` after each estimate and when Ctrl-C or
    SIGTERM stops the run (after the current iteration; ``state.interrupted`` is then set)."""
    started = time.perf_counter() - state.seconds_before
    interval = run.opts["eval_interval"]
    with Interrupt(sigterm=True) as interrupt:
        callbacks.on_train_begin(state)
        try:
            while True:
                due = state.iteration % interval == 0 or state.iteration == state.iters
                if due and _last_estimate(state) != state.iteration:
                    _estimate_and_save(run, state, callbacks, save, started)
                if state.iteration >= state.iters or state.stop_training:
                    break
                loss = step(run, state)
                callbacks.on_batch_end(state, state.iteration, loss)
                if interrupt.requested:
                    state.interrupted = True
                    state.seconds_before = time.perf_counter() - started
                    save(state)
                    break
        finally:
            callbacks.on_train_end(state)
    if interrupt.signum == signal.SIGTERM:
        signal.raise_signal(signal.SIGTERM)  # as fit does: the work is saved, now end


def _last_estimate(state: LoopState) -> int | None:
    its = state.history["iter"]
    return its[-1] if its else None


def _estimate_and_save(
    run: TextRun, state: LoopState, callbacks: CallbackList, save: Any, started: float
) -> None:
    logs = estimate(run)
    logs["lr"] = lr_at(run, state.iteration)
    state.seconds_before = logs["seconds"] = time.perf_counter() - started
    for key in HISTORY_KEYS:
        state.history[key].append(state.iteration if key == "iter" else logs[key])
    callbacks.on_epoch_end(state, state.iteration, logs)
    save(state)


def rng_state(state: LoopState) -> dict[str, Any]:
    """The two generators' states (JSON-able dicts) for a checkpoint."""
    return {
        "global": default_generator().bit_generator.state,
        "train": state.rng.bit_generator.state,
    }


def set_rng_state(state: LoopState, saved: dict[str, Any]) -> None:
    """Put both generators back as :func:`rng_state` recorded them."""
    default_generator().bit_generator.state = saved["global"]
    state.rng.bit_generator.state = saved["train"]


class EvalLine(Callback):
    """The progress display: one line per estimate,
    ``iter  250/2000 - train loss 2.1234 - val loss 2.2345 - lr 0.000976 - 12.3s``."""

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        width = len(str(trainer.iters))
        print(
            f"iter {epoch:>{width}}/{trainer.iters} - train loss {logs['train_loss']:.4f} - "
            f"val loss {logs['val_loss']:.4f} - lr {logs['lr']:.3g} - {logs['seconds']:.1f}s",
            flush=True,
        )
