"""What ``fit(verbose=...)`` shows, as a callback: a live progress bar during each epoch and one
plain line per epoch.

Where the bar goes:

- in a terminal (stderr is a tty): tqdm's text bar on stderr;
- in a Jupyter notebook (an IPython kernel is running, although stdout and stderr are not ttys
  there): tqdm's widget bar (``tqdm.notebook``), or its text bar when ipywidgets is missing:
  the choice ``tqdm.auto`` makes, made here explicitly so that it does not depend on which
  module imported tqdm first and so that tqdm's warning about ipywidgets never reaches the user
  (nor a test run with warnings as errors);
- anywhere else (a log file, a pipe, CI): no bar, since a bar redrawn in a file is noise. The
  epoch lines say enough.

The epoch line goes to stdout in every case: ``Epoch  3/10 - 0.12s - loss: 0.3412 - ...``.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

from chainrule.training.callbacks import Callback


def in_notebook() -> bool:
    """Whether this process is a Jupyter (IPython) kernel, whatever its streams are."""
    if "ipykernel" not in sys.modules:  # cheap test first; a kernel has always imported it
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def is_interactive(stream: Any = None) -> bool:
    """Whether a live bar can be seen: ``stream`` (default stderr) is a tty, or in a notebook."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty()) or in_notebook()


def _widgets_render() -> bool:
    # Qt console and Spyder run a kernel too but show no widgets (tqdm.autonotebook's test).
    return not any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ)


def bar_class() -> type:
    """The tqdm class for this process: the notebook widget bar in a Jupyter kernel with
    ipywidgets, the text bar otherwise."""
    from tqdm.std import TqdmWarning
    from tqdm.std import tqdm as text_bar

    if not (in_notebook() and _widgets_render()):
        return text_bar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)  # tqdm's own notices about the notebook
        from tqdm import notebook
    return text_bar if getattr(notebook, "IProgress", None) is None else notebook.tqdm


def format_epoch_line(epoch: int, epochs: int, logs: dict[str, float]) -> str:
    """``Epoch  e/E - seconds - loss: ... - metrics ... - lr: ...`` for one epoch's logs."""
    width = len(str(epochs))
    parts = [f"Epoch {epoch:>{width}}/{epochs}", f"{logs['seconds']:.2f}s"]
    parts += [f"{k}: {v:.4f}" for k, v in logs.items() if k not in ("seconds", "lr")]
    parts.append(f"lr: {logs['lr']:.3g}")
    return " - ".join(parts)


class ProgressLogger(Callback):
    """``fit``'s display: ``verbose=1`` a bar during each epoch where one can be seen (see the
    module docstring) and a line per epoch; ``verbose=2`` the line only; 0 nothing.

    Reads ``trainer.epochs``, ``trainer.loader`` and ``trainer.metrics`` (the running
    :class:`~chainrule.training.metrics.MetricAccumulator`).
    """

    def __init__(self, verbose: int = 1) -> None:
        self.verbose = verbose
        self._bar_class: type | None = None
        self._bar: Any = None

    def on_train_begin(self, trainer: Any) -> None:
        self._bar_class = bar_class() if self.verbose == 1 and is_interactive() else None

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        if self._bar_class is None:
            return
        width = len(str(trainer.epochs))
        with warnings.catch_warnings():
            from tqdm.std import TqdmWarning

            warnings.simplefilter("ignore", TqdmWarning)
            self._bar = self._bar_class(
                total=samples_per_epoch(trainer.loader),
                desc=f"Epoch {epoch:>{width}}/{trainer.epochs}",
                unit="sample",
                unit_scale=True,
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
            )

    def on_batch_end(self, trainer: Any, batch: int, loss: float) -> None:
        bar = self._bar
        if bar is None:
            return
        metrics = trainer.metrics
        # From the accumulator, so a resumed epoch starts the bar where it was cut.
        bar.update(metrics.seen - bar.n)
        bar.set_postfix(loss=f"{metrics.mean_loss():.4f}", refresh=False)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        self._close()
        if self.verbose:
            print(format_epoch_line(epoch, trainer.epochs, logs), flush=True)

    def on_epoch_interrupted(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        self.on_epoch_end(trainer, epoch, logs)

    def on_train_end(self, trainer: Any) -> None:
        self._close()  # after an error mid-epoch too

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def samples_per_epoch(loader: Any) -> int:
    """Samples a training epoch goes through (fewer than the dataset's with ``drop_last``)."""
    n = len(loader.dataset)
    batch_size = getattr(loader, "batch_size", None)
    if getattr(loader, "drop_last", False) and batch_size:
        return n - n % batch_size
    return n
