"""``fit``: the training loop written once, with its checks.

The loop is the article's, repeated: :func:`~chainrule.training.step.train_step` (zero the
gradients, forward pass, loss, ``backward()``, optimizer step) per batch in
:func:`train_epoch`, per epoch in :func:`run_epoch`, plus what a practitioner needs around it:
validation, metrics (:mod:`~chainrule.training.metrics`, whose accumulator training and
evaluation share), a progress display (:class:`~chainrule.training.progress.ProgressLogger`,
a callback like the others, all driven through one
:class:`~chainrule.training.callbacks.CallbackList`), a learning-rate schedule, a clear stop on
a non-finite loss, Ctrl-C that ends the run after the current batch instead of losing it, and
checkpoints to resume from (:mod:`~chainrule.training.checkpoint`).

The data it accepts is :mod:`~chainrule.training.inputs`'s, the state of a run it hands the
callbacks is :class:`~chainrule.training.trainer.Trainer`, and validation runs
:mod:`~chainrule.training.evaluation` (``evaluate`` and ``predict``, re-exported here).
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.training.allocator import tune_allocator
from chainrule.training.callbacks import Callback, CallbackList
from chainrule.training.checkpoint import (
    Checkpointer,
    NoCheckpoint,
    RunStart,
    partial_epoch_state,
    restore_partial_epoch,
)
from chainrule.training.evaluation import (
    check_from_logits,
    evaluate,
    evaluate_loader,
    metric_specs,
    predict,
)
from chainrule.training.history import History
from chainrule.training.inputs import as_loader, check_arrays, split_validation
from chainrule.training.metrics import MetricAccumulator
from chainrule.training.progress import ProgressLogger
from chainrule.training.step import NonFiniteLossError, TrainingError, train_step
from chainrule.training.trainer import Interrupt, Trainer

__all__ = [
    "Trainer",
    "TrainingError",
    "as_loader",
    "check_arrays",
    "evaluate",
    "evaluate_loader",
    "fit",
    "predict",
    "run_epoch",
    "split_validation",
    "train_epoch",
]


def train_epoch(trainer: Trainer, batches: Iterable[Any], done: int = 0) -> int:
    """One pass of :func:`train_step` over ``batches`` (numbered from ``done + 1``), adding each
    to ``trainer.metrics`` and calling the callbacks' ``on_batch_end``.

    Returns the number of the last batch done; it stops early, after the current batch, when
    ``trainer.interrupt.requested`` (Ctrl-C). Raises :class:`TrainingError` on a NaN or inf
    loss, and a ValueError naming ``drop_last`` when the incomplete last batch cannot be trained.
    """
    model, loss_fn, optimizer = trainer.model, trainer.loss_fn, trainer.optimizer
    update, interrupt, epoch = trainer.metrics.update, trainer.interrupt, trainer.epoch
    callbacks = trainer.callbacks
    # Bound once, and skipped when no callback wants batches: this loop is fit's per-step cost.
    on_batch_end = callbacks.on_batch_end if callbacks.wants_batches else None
    last_finite = trainer.last_finite
    try:
        for batch, (x, y) in enumerate(batches, start=done + 1):
            try:
                loss, output = train_step(model, loss_fn, optimizer, x, y)
            except NonFiniteLossError as err:
                message = _non_finite_message(err.value, epoch, batch, last_finite)
                raise TrainingError(message) from None
            except ValueError as err:
                _refuse_short_batch(trainer, batch, len(x._data), err)
                raise
            value = loss._data.item()  # train_step checked it is a finite scalar
            last_finite = (value, epoch, batch)
            update(value, len(x._data), output._data, y._data)
            if on_batch_end is not None:
                trainer.last_finite = last_finite
                on_batch_end(trainer, batch, value)
            done = batch
            if interrupt.requested:
                break
    finally:
        trainer.last_finite = last_finite
    return done


def run_epoch(trainer: Trainer, epoch: int, partial: dict[str, Any] | None = None,
              done: int = 0) -> bool:  # fmt: skip
    """Epoch ``epoch`` of a run: its batches (:func:`train_epoch`), validation, logs, callbacks,
    scheduler step and checkpoint. ``partial`` and ``done`` continue an epoch a checkpoint cut
    after ``done`` batches. Returns whether training goes on."""
    trainer.epoch = epoch
    trainer.callbacks.on_epoch_begin(trainer, epoch)
    lr, started = _current_lr(trainer.optimizer), time.perf_counter()
    trainer.model.train()
    trainer.metrics.reset()
    if partial is not None:
        lr, trainer.last_finite = restore_partial_epoch(partial, trainer.metrics)
    else:
        done = 0
    batches = trainer.checkpointer.epoch_batches(trainer.loader, epoch)
    done = train_epoch(trainer, batches, done)
    if trainer.metrics.seen == 0:
        return False
    logs = _epoch_logs(trainer, lr, started)
    if trainer.interrupt.requested:
        state = partial_epoch_state(trainer.metrics, lr, trainer.last_finite)
        trainer.checkpointer.interrupted(trainer.history, epoch, done, state)
        trainer.history.record(epoch, logs)  # the cut epoch is reported, not checkpointed
        trainer.history.stopped_early = "interrupted"
        trainer.callbacks.on_epoch_interrupted(trainer, epoch, logs)
        return False
    trainer.history.record(epoch, logs)
    trainer.callbacks.on_epoch_end(trainer, epoch, logs)
    if trainer.scheduler is not None:
        _step_scheduler(trainer.scheduler, logs)
    last = epoch == trainer.epochs or trainer.stop_training
    trainer.checkpointer.epoch_done(trainer.history, epoch, last)
    return not trainer.stop_training


def _epoch_logs(trainer: Trainer, lr: float, started: float) -> dict[str, float]:
    logs = trainer.metrics.results()
    if trainer.validation is not None:
        specs = trainer.metrics.specs
        scores = evaluate_loader(trainer.model, trainer.loss_fn, trainer.validation, specs)
        logs.update({f"val_{k}": v for k, v in scores.items()})
    logs["lr"] = lr
    logs["seconds"] = time.perf_counter() - started
    return logs


def _run(trainer: Trainer, start: RunStart) -> None:
    """Every epoch from ``start``, between the callbacks' train begin and end."""
    trainer.callbacks.on_train_begin(trainer)
    try:
        for epoch in range(start.first_epoch, trainer.epochs + 1):
            resumed = epoch == start.first_epoch and start.partial is not None
            partial = start.partial if resumed else None
            if not run_epoch(trainer, epoch, partial, start.batch if resumed else 0):
                break
    finally:
        trainer.callbacks.on_train_end(trainer)


def fit(
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    train: Any,
    *,
    epochs: int,
    batch_size: int = 32,
    validation: Any = None,
    validation_split: float = 0.0,
    metrics: Sequence[str | Callable[[np.ndarray, np.ndarray], float]] = ("accuracy",),
    from_logits: bool | None = None,
    scheduler: Any = None,
    callbacks: Iterable[Callback] = (),
    verbose: int = 1,
    shuffle: bool = True,
    drop_last: bool = False,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 1,
) -> History:
    """Train ``model`` by minibatch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : Module
        Called on a batch of inputs; returns outputs for ``loss_fn``.
    loss_fn : callable
        ``loss_fn(output, target)`` returning a scalar tensor, e.g. ``nn.CrossEntropyLoss()``.
    optimizer : Optimizer
        Updates the model's parameters from their gradients.
    train, validation : Dataset, DataLoader or (X, y)
        Training data (shuffled each epoch unless ``shuffle=False`` or a DataLoader is given)
        and optional validation data, evaluated after every epoch.
    epochs : int
        Passes over the training data.
    batch_size : int
        Samples per step when ``train`` is not already a DataLoader.
    validation_split : float
        Instead of ``validation``: hold out the last fraction of ``train`` (an (X, y) pair or a
        Dataset), as Keras does, before shuffling; see :func:`split_validation`.
    metrics : sequence of str or callable
        Reported next to the loss, for training and validation: built-in names
        (``'accuracy'``, ``'top_5_accuracy'``, ``'precision'``, ``'recall'``, ``'f1'`` and
        their ``'_macro'`` forms, ``'roc_auc'``, ``'mae'``, ``'mse'``; see
        :mod:`chainrule.training.metrics`) and callables ``(y_pred, y_true) -> float``, named
        by their ``__name__`` and computed over the whole epoch.
    from_logits : bool, optional
        Whether a model with one output per sample outputs logits (the class metrics then split
        at 0) or probabilities (at 0.5). By default the loss says: chainrule's losses are known
        (:func:`~chainrule.training.metrics.loss_from_logits`), and any loss with a boolean
        attribute ``from_logits``. For another loss, a class metric on one output per sample
        refuses to guess and asks for this argument.
    scheduler : LRScheduler or ReduceLROnPlateau, optional
        Stepped once per epoch (ReduceLROnPlateau with the validation loss if there is one).
    callbacks : iterable of Callback
        E.g. ``EarlyStopping``.
    verbose : int
        0 silent; 1 a live progress bar during each epoch where one can be seen (a terminal, a
        Jupyter notebook: :mod:`chainrule.training.progress`) and one line per epoch; 2 only the
        line per epoch.
    drop_last : bool
        Skip the last batch of each epoch when it is smaller than ``batch_size`` (a DataLoader
        given as ``train`` must then have been built with ``drop_last=True``). Needed when a
        last batch of one sample meets BatchNorm in training mode; fit says so when it happens.
    checkpoint : path, optional
        A directory (created if missing) for ``checkpoint.npz``: model, optimizer and scheduler
        state, the random generators, the epoch and batch counters and the History. It is
        written atomically every ``checkpoint_every`` epochs, at the last epoch, when training
        stops early, and on Ctrl-C or SIGTERM (mid-epoch). Without ``resume`` an existing
        checkpoint there is overwritten.
    resume : bool
        Continue from the checkpoint in ``checkpoint`` (start afresh if there is none yet):
        training k epochs, stopping, and resuming to ``epochs`` gives the same weights, bit for
        bit, as one run of ``epochs`` (same seed, data and settings). The returned History
        includes the epochs run before.
    checkpoint_every : int
        Epochs between checkpoints.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or inf; the message names the epoch and batch and the last
        finite loss. The model keeps the weights of the last update, which came from a finite
        loss.

    Ctrl-C ends training after the current batch; the History so far is returned with
    ``stopped_early='interrupted'``. With ``checkpoint``, a checkpoint is written first, and
    SIGTERM does the same, after which the signal is delivered again (the process ends as
    SIGTERM asked, its work saved).

    Under glibc (Linux), fit first calls :func:`~chainrule.training.allocator.tune_allocator`,
    so that each step reuses the memory the previous one freed instead of faulting fresh pages
    in (the LeNet-style CNN step of ``benchmarks/`` went from ~2,700 page faults to none). It
    lasts for the process; ``CHAINRULE_TUNE_ALLOCATOR=0`` in the environment opts out.
    """
    _check_arguments(epochs, checkpoint_every, resume, checkpoint, from_logits)
    tune_allocator()
    if validation_split:
        if validation is not None:
            raise ValueError("pass either validation or validation_split, not both")
        train, validation = split_validation(train, validation_split)
    loader = as_loader(train, batch_size, shuffle, "train", drop_last=drop_last)
    val_loader = (
        None if validation is None else as_loader(validation, batch_size, False, "validation")
    )
    specs = metric_specs(metrics, loss_fn, from_logits)
    saver = (
        NoCheckpoint()
        if checkpoint is None
        else Checkpointer(checkpoint, model, optimizer, scheduler, loader, checkpoint_every)
    )
    start = saver.start(resume)
    interrupt = Interrupt(sigterm=saver.writes)
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        start.history,
        epochs=epochs if start.last_epoch is None else start.last_epoch,
        loader=loader,
        metrics=MetricAccumulator(specs),
        callbacks=CallbackList([ProgressLogger(verbose), *callbacks] if verbose else callbacks),
        verbose=verbose,
        scheduler=scheduler,
        validation=val_loader,
        checkpointer=saver,
        interrupt=interrupt,
    )
    # A diverging run overflows inside NumPy; train_step's loss check reports it in words.
    with interrupt, np.errstate(over="ignore", invalid="ignore"):
        _run(trainer, start)
    if interrupt.signum == signal.SIGTERM:
        # Deliver it again, now that the checkpoint is written and the old handler is back.
        signal.raise_signal(signal.SIGTERM)
    return trainer.history


def _check_arguments(
    epochs: Any, checkpoint_every: Any, resume: bool, checkpoint: Any, from_logits: Any
) -> None:
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer; got {epochs!r}")
    if not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be a positive integer; got {checkpoint_every!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=DIR, the directory to resume from")
    check_from_logits(from_logits)


def _current_lr(optimizer: Any) -> float:
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else math.nan


def _non_finite_message(value: float, epoch: int, batch: int, last: tuple | None) -> str:
    before = (
        f"the last finite loss was {last[0]:.6g} (epoch {last[1]}, batch {last[2]})"
        if last
        else "no batch had a finite loss yet"
    )
    return (
        f"the loss became {value} at epoch {epoch}, batch {batch}; {before}. Usual causes: a "
        "learning rate too high for this model (try one 10 times smaller), inputs that are not "
        "scaled (standardize features to mean 0 and standard deviation 1), or NaN/inf in the "
        "data. The model keeps the weights of the last update, which came from a finite loss."
    )


def _refuse_short_batch(trainer: Trainer, batch: int, n: int, err: ValueError) -> None:
    """Raise a ValueError naming ``drop_last`` if the batch that failed is the incomplete last
    one of an epoch whose earlier batches trained (e.g. 1 sample into BatchNorm)."""
    batch_size = getattr(trainer.loader, "batch_size", None)
    if batch <= 1 or not batch_size or n >= batch_size:
        return
    total = len(trainer.loader.dataset)
    raise ValueError(
        f"the last batch of epoch {trainer.epoch} (batch {batch}) has {n} sample(s), fewer than "
        f"batch_size={batch_size}, and the model cannot train on it: {err}\n"
        "Pass drop_last=True to fit (or to the DataLoader) to skip an incomplete last batch, or "
        f"choose a batch_size that does not leave {n} of the {total} training samples over."
    ) from err


def _step_scheduler(scheduler: Any, logs: dict[str, float]) -> None:
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()
