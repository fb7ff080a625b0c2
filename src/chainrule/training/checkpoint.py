"""Checkpoints for ``fit(..., checkpoint=DIR)``: everything needed to resume a run bit-identically.

One file, ``DIR/checkpoint.npz``, written with :func:`chainrule.save` (atomic: a crash or a kill
leaves the previous checkpoint whole) and replaced at each save. It holds:

- ``model``, ``optimizer``, ``scheduler``: their ``state_dict()`` (scheduler None without one);
- ``history``: ``History.to_dict()`` of the completed epochs;
- ``epoch``: epochs completed; ``batch``: batches done of the next epoch (0 at an epoch boundary,
  more when Ctrl-C or SIGTERM stopped the run mid-epoch), with ``partial``: that epoch's running
  loss/metric totals, sample count, lr and last finite loss, so its logs come out the same;
- ``rng``: the generators' ``bit_generator.state`` (chainrule's global generator and the training
  loader's own generator, if it has one) twice: ``epoch_start``, as they were when the epoch
  began, before the loader drew its shuffling order, and ``current``, as they are now.

Why two: the shuffling order of an epoch comes from the generator state at its start, but within
the epoch the global generator keeps moving (dropout masks). Resuming mid-epoch restores
``epoch_start``, lets the loader draw the same order, then restores ``current`` and skips the
batches already done. At an epoch boundary the two are the same.

Not saved: callbacks' internal state (``EarlyStopping`` starts counting patience afresh).

The loop's side of it lives here too: :meth:`Checkpointer.start` (resume or start afresh),
:meth:`Checkpointer.epoch_batches` (the generators and the batches to skip of a resumed epoch),
:meth:`Checkpointer.epoch_done` and :meth:`Checkpointer.interrupted` (when and what to save).
:class:`NoCheckpoint` has the same methods and does nothing, for runs without ``checkpoint``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from chainrule.io.serialization import ChainruleFormatError, load, nonfinite_entries, save
from chainrule.random import default_generator
from chainrule.training.history import History

CHECKPOINT_FILE = "checkpoint.npz"
CHECKPOINT_VERSION = 1


def checkpoint_path(directory: str | Path) -> Path:
    """Where ``fit(checkpoint=directory)`` keeps its checkpoint."""
    return Path(directory) / CHECKPOINT_FILE


class RunStart(NamedTuple):
    """Where a ``fit`` run begins: afresh, or where its checkpoint left off."""

    #: The epochs done so far (empty when starting afresh).
    history: History
    #: The first epoch to run (1-based).
    first_epoch: int
    #: The last epoch to run when it is fixed by the checkpoint (a run that early stopping
    #: ended stays ended), else None: ``fit``'s ``epochs``.
    last_epoch: int | None
    #: For a run cut mid-epoch: the partial state of ``first_epoch`` (see
    #: :func:`partial_epoch_state`), else None.
    partial: dict[str, Any] | None
    #: Batches of ``first_epoch`` already done (0 but for a run cut mid-epoch).
    batch: int = 0


def partial_epoch_state(
    metrics: Any, lr: float, last_finite: tuple[float, int, int] | None
) -> dict[str, Any]:
    """What a mid-epoch checkpoint keeps of the cut epoch so that its logs come out whole: the
    accumulator's running sums (``metrics.state_dict()``), the epoch's lr, the last finite loss
    as (value, epoch, batch)."""
    state = dict(metrics.state_dict())
    state["lr"] = lr
    state["last_finite"] = None if last_finite is None else list(last_finite)
    return state


def restore_partial_epoch(
    partial: dict[str, Any], metrics: Any
) -> tuple[float, tuple[float, int, int] | None]:
    """Load a :func:`partial_epoch_state` into ``metrics``; returns (lr, last_finite)."""
    metrics.load_state_dict(partial)
    last = partial["last_finite"]
    return partial["lr"], None if not last else (float(last[0]), int(last[1]), int(last[2]))


class Checkpointer:
    """Saves and restores one ``fit`` run's state in ``directory``.

    Parameters
    ----------
    directory : path
        Created if missing.
    model, optimizer, scheduler : the run's objects (``scheduler`` may be None); each needs
        ``state_dict()`` and ``load_state_dict()``.
    loader : DataLoader
        The training loader; its ``generator`` (if not None) is saved and restored.
    every : int
        :meth:`epoch_done` saves every ``every`` epochs (and at the last one).
    """

    #: Whether this object writes anything (``fit`` then also checkpoints on SIGTERM).
    writes = True

    def __init__(
        self,
        directory: str | Path,
        model: Any,
        optimizer: Any,
        scheduler: Any,
        loader: Any,
        every: int = 1,
    ) -> None:
        for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
            if obj is not None and not hasattr(obj, "state_dict"):
                raise TypeError(
                    f"checkpointing needs the {name} to have state_dict()/load_state_dict(); "
                    f"{type(obj).__name__} has not"
                )
        self.path = checkpoint_path(directory)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.model, self.optimizer, self.scheduler, self.loader = (
            model,
            optimizer,
            scheduler,
            loader,
        )
        self.every = every
        self._resume: dict[str, Any] | None = None  # the checkpoint, until its epoch starts
        self._epoch_rng: dict[str, Any] | None = None

    # ----- the loop's side -------------------------------------------------------------------
    def start(self, resume: bool) -> RunStart:
        """Restore the checkpoint if ``resume`` and there is one; say where the run begins."""
        ckpt = self.restore() if resume else None
        if ckpt is None:
            return RunStart(History(), 1, None, None)
        history = ckpt["history"]
        if history.stopped_early == "interrupted":
            history.stopped_early = None
        last = ckpt["epoch"] if history.stopped_early == "early_stopping" else None
        self._resume = ckpt
        partial = ckpt["partial"] if ckpt["batch"] else None
        return RunStart(history, ckpt["epoch"] + 1, last, partial, int(ckpt["batch"]))

    def epoch_batches(self, loader: Any, epoch: int) -> Iterable[Any]:
        """The batches of ``epoch`` (1-based): ``loader`` itself, except for the epoch a
        checkpoint resumes, whose generators are put back as they were when it began and whose
        batches already done are skipped. Call it when the epoch starts."""
        ckpt, batches = self._resume, loader
        if ckpt is not None and epoch == ckpt["epoch"] + 1:
            self._resume = None
            self.set_rng_state(ckpt["rng"]["epoch_start"])
            if ckpt["batch"]:
                batches = skip_done_batches(loader, ckpt["batch"], self, ckpt["rng"]["current"])
        self._epoch_rng = self.rng_state()  # before the loader draws the epoch's order
        return batches

    def epoch_done(self, history: History, epoch: int, last: bool) -> None:
        """After ``epoch`` ended (its logs in ``history``): save every ``every`` epochs and when
        it is the ``last`` (the final epoch, or training stops)."""
        if epoch % self.every == 0 or last:
            self.save(history.to_dict(), epoch)

    def interrupted(
        self, history: History, epoch: int, batch: int, partial: dict[str, Any]
    ) -> None:
        """Ctrl-C or SIGTERM after ``batch`` batches of ``epoch``: save the epochs completed in
        ``history`` (the cut one not recorded yet) and the cut epoch's ``partial`` state."""
        self.save(history.to_dict(), epoch - 1, batch, self._epoch_rng, partial)

    # ----- generators ------------------------------------------------------------------------
    def rng_state(self) -> dict[str, Any]:
        """The generators' states now (JSON-able dicts; the loader's is None without one)."""
        own = getattr(self.loader, "generator", None)
        return {
            "global": default_generator().bit_generator.state,
            "loader": own.bit_generator.state if isinstance(own, np.random.Generator) else None,
        }

    def set_rng_state(self, state: dict[str, Any]) -> None:
        """Put the generators back into ``state`` (as returned by :meth:`rng_state`)."""
        own = getattr(self.loader, "generator", None)
        has_own = isinstance(own, np.random.Generator)
        if has_own != (state["loader"] is not None):
            raise ValueError(
                f"checkpoint {self.path}: the training loader "
                f"{'has' if has_own else 'has no'} generator of its own but the checkpointed "
                "one had " + ("none" if has_own else "one") + "; resume with the same data setup"
            )
        try:
            default_generator().bit_generator.state = state["global"]
            if has_own:
                own.bit_generator.state = state["loader"]
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(
                f"checkpoint {self.path}: cannot restore the random generators ({err}); they "
                "must be of the same kind (default_rng's PCG64) as when it was saved"
            ) from None

    # ----- saving ----------------------------------------------------------------------------
    def save(
        self,
        history: dict[str, Any],
        epoch: int,
        batch: int = 0,
        epoch_rng: dict[str, Any] | None = None,
        partial: dict[str, Any] | None = None,
    ) -> None:
        """Write the checkpoint: ``epoch`` epochs done, ``batch`` batches into the next one.

        ``history`` is ``History.to_dict()`` of the completed epochs only; ``epoch_rng`` and
        ``partial`` are needed when ``batch > 0``.
        """
        current = self.rng_state()
        save(
            {
                "chainrule_checkpoint": CHECKPOINT_VERSION,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                "history": history,
                "epoch": int(epoch),
                "batch": int(batch),
                "rng": {"epoch_start": epoch_rng if batch else current, "current": current},
                "partial": partial if batch else None,
            },
            self.path,
        )

    # ----- resuming --------------------------------------------------------------------------
    def restore(self) -> dict[str, Any] | None:
        """Load the checkpoint into the model, optimizer and scheduler and return it, with
        ``'history'`` rebuilt as a :class:`History`; None when there is no checkpoint yet.

        Everything is checked first; if any part does not fit (a model of other shapes: the
        error lists every mismatch, as ``load_state_dict`` does), the objects are left as they
        were. The generators are not touched here: the training loop sets them per epoch.
        """
        if not self.path.exists():
            return None
        ckpt = load(self.path)
        if not isinstance(ckpt, dict) or ckpt.get("chainrule_checkpoint") != CHECKPOINT_VERSION:
            raise ChainruleFormatError(f"{self.path} is a chainrule file but not a fit checkpoint")
        bad = nonfinite_entries(ckpt["model"])
        if bad:
            raise ValueError(
                f"checkpoint {self.path} holds non-finite weights ({', '.join(bad)}); refusing "
                "to resume from it"
            )
        if (ckpt["scheduler"] is None) != (self.scheduler is None):
            raise ValueError(
                f"checkpoint {self.path} was saved "
                + ("without" if ckpt["scheduler"] is None else "with")
                + " an lr scheduler but this run has "
                + ("one" if self.scheduler is not None else "none")
            )
        if ckpt["batch"] > len(self.loader):
            raise ValueError(
                f"checkpoint {self.path} was taken after batch {ckpt['batch']} of an epoch, but "
                f"the training data now has {len(self.loader)} batches per epoch; resume with "
                "the same data and batch_size"
            )
        self._load_states(ckpt)
        ckpt["history"] = History.from_dict(ckpt["history"])
        return ckpt

    def _load_states(self, ckpt: dict[str, Any]) -> None:
        before = [(obj, obj.state_dict()) for obj in self._objects()]
        try:
            try:
                self.model.load_state_dict(ckpt["model"])
            except RuntimeError as err:
                raise RuntimeError(
                    f"checkpoint {self.path} does not fit this model (was it saved from another "
                    f"architecture?)\n{err}"
                ) from None
            try:
                self.optimizer.load_state_dict(ckpt["optimizer"])
                if self.scheduler is not None:
                    self.scheduler.load_state_dict(ckpt["scheduler"])
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(
                    f"checkpoint {self.path} does not fit this optimizer/scheduler: {err}"
                ) from None
        except BaseException:
            for obj, state in before:
                obj.load_state_dict(state)
            raise

    def _objects(self) -> list[Any]:
        return [o for o in (self.model, self.optimizer, self.scheduler) if o is not None]


def skip_done_batches(loader: Any, done: int, checkpointer: Checkpointer, current: dict) -> Any:
    """Iterate ``loader`` as a resumed epoch: the first ``done`` batches are drawn and dropped.

    The generators must hold the epoch's starting state; once the loader has drawn its order
    (at the first batch), they are set to ``current``, the state when the checkpoint was taken.
    """
    for i, item in enumerate(loader):
        if i == 0:
            checkpointer.set_rng_state(current)
        if i >= done:
            yield item


class NoCheckpoint:
    """:class:`Checkpointer`'s loop-side methods for a run without checkpoints: always starts
    afresh, saves nothing."""

    writes = False

    def start(self, resume: bool) -> RunStart:
        return RunStart(History(), 1, None, None)

    def epoch_batches(self, loader: Any, epoch: int) -> Iterable[Any]:
        return loader

    def epoch_done(self, history: History, epoch: int, last: bool) -> None:
        pass

    def interrupted(
        self, history: History, epoch: int, batch: int, partial: dict[str, Any]
    ) -> None:
        pass
