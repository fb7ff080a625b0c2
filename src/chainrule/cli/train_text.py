"""``chainrule train --data CORPUS --model NAME``: train a character-level language model.

:func:`run_any_train` is what the ``train`` parser runs: a text corpus (or a run folder of
one) goes to :func:`run_text_train`, anything else to :func:`chainrule.cli.train.run_train`,
unchanged. The run folder's files are :mod:`chainrule.cli.text_rundir`'s, the loop
:mod:`chainrule.cli.text_loop`'s.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from chainrule import optim
from chainrule.cli import registry
from chainrule.cli.errors import EXIT_FAILED, EXIT_OK, Interrupted, UsageError
from chainrule.cli.text_loop import EvalLine, LoopState, TextRun, train_loop
from chainrule.cli.text_options import (
    fresh_text_options,
    is_text_data,
    read_text_config,
    refuse_text_options,
    resumed_text_options,
)
from chainrule.cli.text_rundir import (
    CHECKPOINT_FILE,
    WEIGHTS_FILE,
    build_model,
    read_checkpoint,
    read_tokenizer,
    restore,
    save_checkpoint,
    write_json,
    write_run_files,
)
from chainrule.cli.train import TRAINING_ERRORS, run_train
from chainrule.io import save
from chainrule.random import manual_seed
from chainrule.training import CallbackList


def run_any_train(args: argparse.Namespace) -> int:
    """``chainrule train``: a language model for a text corpus, the MLP or CNN otherwise."""
    if args.resume is not None:
        raw = read_text_config(args.resume)
        if raw is not None:
            return run_text_train(args, resumed_text_options(args, raw))
    elif is_text_data(args.data):
        return run_text_train(args, fresh_text_options(args))
    if args.data is not None:
        refuse_text_options(args)
    return run_train(args)


def prepare_text(opts: dict[str, Any]) -> TextRun:
    """Load the corpus and build the model and optimizer for validated ``opts``."""
    info = registry.TEXT_MODELS_INFO[(opts["data"], opts["model"])]
    data = registry.TEXT_CORPORA[opts["data"]](opts["block_size"])
    manual_seed(opts["seed"])  # the initial weights
    kwargs = info.model_kwargs(opts, data.tokenizer.vocab_size)
    model = build_model(info.model_class, kwargs, f"--model {opts['model']}")
    return TextRun(opts, info, data, model, build_text_optimizer(info, model, opts["lr"]), kwargs)


def build_text_optimizer(info: registry.TextModelInfo, model: Any, lr: float) -> Any:
    """The pair's optimizer: AdamW through the model's ``configure_optimizers`` (decay on the
    matrices only), or the registry's Adam or SGD over every parameter."""
    d = info.defaults
    cls = registry.OPTIMIZER_CLASSES[d.optimizer]
    if cls is optim.AdamW and hasattr(model, "configure_optimizers"):
        return model.configure_optimizers(
            weight_decay=d.weight_decay, learning_rate=lr, betas=d.betas
        )
    takes = inspect.signature(cls).parameters
    extra = {k: getattr(d, k) for k in ("betas", "weight_decay") if k in takes}
    return cls(model.parameters(), lr=lr, **extra)


def run_text_train(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Train the language model of ``opts`` into the run folder; returns the exit status."""
    if args.show_defaults:
        print(json.dumps(opts, indent=2))
        return EXIT_OK
    out = args.resume or args.out or Path("runs") / f"{opts['data']}-{opts['model']}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; it must be a folder (or not exist)")
    resumed = args.resume is not None
    try:
        run = prepare_text(opts)
        state = _start(run, out, resumed)
    except KeyboardInterrupt:
        raise Interrupted("interrupted before training started; nothing was written") from None
    except TRAINING_ERRORS as err:
        return _failed(err)
    return _train(run, state, out, verbose=0 if args.quiet else 1)


def _start(run: TextRun, out: Path, resumed: bool) -> LoopState:
    """The loop's state: afresh, or restored from the checkpoint of a resumed run."""
    state = LoopState(run.model, run.optimizer, run.opts["iters"])
    state.rng = np.random.default_rng([run.opts["seed"], 0])
    if not resumed:
        return state
    where = f"--resume {out}"
    if read_tokenizer(out, where) != run.data.tokenizer:
        raise UsageError(f"{where}: its tokenizer.json is not the vocabulary of {run.opts['data']}")
    ckpt = read_checkpoint(out, where)
    if ckpt is None:
        print(f"chainrule train: no checkpoint in {out} yet; starting from iteration 0")
        return state
    if ckpt["iteration"] > run.opts["iters"]:
        raise UsageError(
            f"{where}: the run has done {ckpt['iteration']} iterations already; give --iters "
            f"{ckpt['iteration']} or more"
        )
    restore(run, state, ckpt, out)
    return state


def _train(run: TextRun, state: LoopState, out: Path, verbose: int) -> int:
    start = time.perf_counter()
    state.verbose = verbose
    if verbose:
        print(_header(run, state))
    write_run_files(out, run)
    for stale in (WEIGHTS_FILE, "history.json"):  # a finished run's; training goes on now
        (out / stale).unlink(missing_ok=True)
    callbacks = CallbackList([EvalLine()] if verbose else [])
    try:
        train_loop(run, state, callbacks, lambda s: save_checkpoint(out, run, s))
    except KeyboardInterrupt:  # a second Ctrl-C: the last checkpoint written is whole
        kept = (out / CHECKPOINT_FILE).exists()
        raise Interrupted(_resume_hint(out, "interrupted; stopped at once", kept)) from None
    except TRAINING_ERRORS as err:
        return _failed(err)
    if state.interrupted:
        raise Interrupted(
            _resume_hint(out, f"interrupted at iteration {state.iteration}/{state.iters}", True)
        )
    _finish(run, state, out)
    if verbose:
        print(f"done in {time.perf_counter() - start:.1f}s; saved to {out}/")
    return EXIT_OK


def _resume_hint(out: Path, what: str, kept: bool) -> str:
    if not kept:
        return f"{what}, before the first checkpoint; nothing to resume in {out}"
    return (
        f"{what}; checkpoint saved; continue with `chainrule train --resume "
        f"{shlex.quote(str(out))}`"
    )


def _header(run: TextRun, state: LoopState) -> str:
    opts, d = run.opts, run.info.defaults
    params = sum(p.numel() for p in run.model.parameters())
    start = f", from iteration {state.iteration}" if state.iteration else ""
    return (
        f"chainrule train: {opts['data']}, vocabulary {run.data.tokenizer.vocab_size}; model "
        f"{run.info.model_class} {_args(run.model_kwargs)} ({params:,} parameters); "
        f"{d.optimizer} lr={opts['lr']:g} ({d.schedule}); {opts['iters']} iterations of "
        f"{opts['batch_size']}{start}"
    )


def _args(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "vocab_size")


def _finish(run: TextRun, state: LoopState, out: Path) -> None:
    """The final weights, the estimates, and the last one as the results in config.json."""
    save(run.model.state_dict(), out / WEIGHTS_FILE)
    write_json(out / "history.json", state.history)
    h = state.history
    results = {"train_loss": h["train_loss"][-1], "val_loss": h["val_loss"][-1]}
    write_json(out / "config.json", {**run.opts, "results": results})


def _failed(err: Exception) -> int:
    print(f"chainrule: {type(err).__name__}: {err}", file=sys.stderr)
    return EXIT_FAILED
