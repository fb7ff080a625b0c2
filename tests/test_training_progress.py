"""``fit(verbose=...)``'s display: a live bar in a terminal and in a Jupyter kernel (a widget, or
text without ipywidgets, never a leaked TqdmWarning), none in a log, and one line per epoch."""

from __future__ import annotations

import io
import os
import signal
import sys
import types

import pytest
import tqdm as tqdm_package

from chainrule import data, nn, optim
from chainrule.training import EarlyStopping, LambdaCallback, fit, progress


def train(verbose=1, epochs=2, **kwargs):
    x, y = data.blobs(120, centers=3, cluster_std=0.5, generator=0)
    model = nn.Sequential(nn.Linear(2, 3))
    return fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y),
               epochs=epochs, batch_size=8, verbose=verbose, **kwargs)  # fmt: skip


class Shell:
    """What ``IPython.get_ipython()`` returns in a Jupyter kernel: a shell with a kernel."""

    kernel = object()


def fake_kernel(monkeypatch):
    """This process made to look like a Jupyter kernel (its streams are not ttys, as there)."""
    ipython = pytest.importorskip("IPython")
    monkeypatch.setattr(ipython, "get_ipython", lambda: Shell())
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    for key in [k for k in os.environ if k == "QT_API" or k.startswith("SPYDER")]:
        monkeypatch.delenv(key)


@pytest.fixture
def jupyter_kernel(monkeypatch):
    fake_kernel(monkeypatch)


@pytest.fixture
def without_ipywidgets(monkeypatch):
    """ipywidgets not installed, and tqdm.notebook imported afresh to find that out."""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets -> ImportError
    monkeypatch.delitem(sys.modules, "tqdm.notebook", raising=False)
    monkeypatch.delattr(tqdm_package, "notebook", raising=False)


def test_fit_shows_no_bar_when_output_is_not_interactive(capsys):
    train(verbose=1)
    captured = capsys.readouterr()
    assert captured.err == ""  # a bar redrawn in a log file is noise
    lines = captured.out.splitlines()
    assert [line[:9] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_fit_shows_a_text_bar_on_a_terminal(monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    train(verbose=1)
    assert "Epoch 1/2:" in terminal.getvalue() and "sample" in terminal.getvalue()
    assert capsys.readouterr().out.count("\nEpoch ") == 1  # the lines, on stdout, as always


def test_verbose_2_prints_the_lines_but_never_a_bar(monkeypatch, capsys):
    monkeypatch.setattr(progress, "is_interactive", lambda stream=None: True)
    train(verbose=2)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.count("Epoch ") == 2


def test_a_jupyter_kernel_is_detected_though_its_streams_are_not_ttys(jupyter_kernel):
    assert not sys.stderr.isatty()
    assert progress.in_notebook() and progress.is_interactive()


def test_a_plain_python_or_ipython_terminal_is_not_a_notebook(monkeypatch):
    ipython = pytest.importorskip("IPython")
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(ipython, "get_ipython", lambda: None)  # not inside IPython
    assert not progress.in_notebook()
    monkeypatch.setattr(ipython, "get_ipython", lambda: object())  # a shell without a kernel
    assert not progress.in_notebook()
    monkeypatch.delitem(sys.modules, "ipykernel")
    assert not progress.in_notebook()


def test_fit_in_a_jupyter_kernel_uses_tqdms_notebook_widget_bar(monkeypatch):
    # Imported first, outside the fake kernel: ipywidgets talks to a real kernel on import.
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as notebook_bar

    fake_kernel(monkeypatch)
    assert progress.bar_class() is notebook_bar


def test_fit_in_a_qt_console_kernel_uses_the_text_bar(jupyter_kernel, monkeypatch):
    monkeypatch.setenv("QT_API", "pyqt5")
    assert progress.bar_class() is tqdm_package.std.tqdm


def test_fit_in_a_kernel_without_ipywidgets_falls_back_to_text_and_leaks_no_tqdm_warning(
    jupyter_kernel, without_ipywidgets, capsys
):
    # Warnings are errors in this test suite: a TqdmWarning about IProgress would fail it.
    assert progress.bar_class() is tqdm_package.std.tqdm
    train(verbose=1)
    captured = capsys.readouterr()
    assert "Epoch 1/2:" in captured.err  # the text bar, live in the notebook's stderr
    assert captured.out.count("Epoch ") == 2


def test_the_epoch_line_shows_the_loss_the_metrics_and_the_lr(capsys):
    train(verbose=2, epochs=1, metrics=["accuracy", "f1_macro"])
    line = capsys.readouterr().out.strip()
    assert line.startswith("Epoch 1/1 - ") and line.endswith(" - lr: 0.1")
    assert " - loss: " in line and " - accuracy: " in line and " - f1_macro: " in line


def test_an_interrupted_epoch_still_prints_its_line(capsys):
    def interrupt(trainer, batch, loss):
        if batch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    history = train(verbose=2, epochs=3, callbacks=[LambdaCallback(on_batch_end=interrupt)])
    assert history.stopped_early == "interrupted"
    assert capsys.readouterr().out.splitlines()[0].startswith("Epoch 1/3 - ")


def test_early_stopping_says_in_the_log_which_epoch_it_restored(capsys):
    x, y = data.blobs(200, centers=3, cluster_std=0.5, generator=1)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    # min_delta this large means only the first epoch counts as an improvement.
    stopper = EarlyStopping(patience=2, min_delta=1e9, restore_best_weights=True)
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5), (x, y),
        validation_split=0.25, epochs=20, callbacks=[stopper], verbose=2)  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].startswith("Early stopping after epoch 3: val_loss has not improved for 2")
    assert lines[4].startswith("Restored the weights of epoch 1, the best val_loss (")
    assert stopper.restored_epoch == 1


def test_early_stopping_is_silent_when_fit_is(capsys):
    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=1e9, restore_best_weights=True)
    train(verbose=0, epochs=5, callbacks=[stopper])
    assert capsys.readouterr().out == "" and stopper.restored_epoch == 1
