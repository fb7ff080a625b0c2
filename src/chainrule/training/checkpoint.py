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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.io.serialization import ChainruleFormatError, load, nonfinite_entries, save
from chainrule.random import default_generator
from chainrule.training.history import History

CHECKPOINT_FILE = "checkpoint.npz"
CHECKPOINT_VERSION = 1


def checkpoint_path(directory: str | Path) -> Path:
    """Where ``fit(checkpoint=directory)`` keeps its checkpoint."""
    return Path(directory) / CHECKPOINT_FILE


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
    """

    def __init__(
        self, directory: str | Path, model: Any, optimizer: Any, scheduler: Any, loader: Any
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
