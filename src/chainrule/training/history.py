"""``History``: what ``fit`` records, one entry per epoch."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


class History:
    """Per-epoch records of a training run, in the shape Keras users know.

    Attributes
    ----------
    epoch : list of int
        The epochs that completed (1-based).
    history : dict of str to list of float
        ``'loss'``, each training metric (e.g. ``'accuracy'``), ``'val_loss'`` and ``'val_…'``
        when validation data is given, ``'lr'`` (the first parameter group's learning rate during
        the epoch) and ``'seconds'`` (wall time of the epoch). Each list has one value per epoch.
    stopped_early : str or None
        Why training ended before ``epochs``: ``'early_stopping'``, ``'interrupted'`` (Ctrl-C)
        or None.
    """

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}
        self.stopped_early: str | None = None

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        """Append one epoch's values."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self) -> dict[str, float]:
        """The most recent epoch's values (empty before the first epoch ends)."""
        return {key: values[-1] for key, values in self.history.items() if values}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; non-finite numbers become None (JSON has no NaN)."""
        clean = {
            key: [v if math.isfinite(v) else None for v in values]
            for key, values in self.history.items()
        }
        return {"epoch": list(self.epoch), "history": clean, "stopped_early": self.stopped_early}

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Rebuild a History from :meth:`to_dict` output."""
        history = cls()
        history.epoch = [int(e) for e in data["epoch"]]
        history.history = {
            key: [math.nan if v is None else float(v) for v in values]
            for key, values in data["history"].items()
        }
        history.stopped_early = data.get("stopped_early")
        return history

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={sorted(self.history)})"
