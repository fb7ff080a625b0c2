"""The training examples run as a learner would run them and keep their docstrings' promises.

Each example runs as a script (``runpy`` with ``sys.argv`` set) and the test reads what it
prints: the final test accuracy and the confusion matrix, which must account for every test
image and agree with the accuracy.
"""

from __future__ import annotations

import contextlib
import re
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ACCURACY_LINE = re.compile(r"^test accuracy: (\d\.\d{4}) \((\d+)/(\d+)\)$", re.MULTILINE)


@pytest.fixture
def one_blas_thread() -> Iterator[None]:
    """Limit NumPy's BLAS to one thread while the test runs, when threadpoolctl is installed.

    On a machine whose other cores are busy (for example, another test run), OpenBLAS's two
    threads wait on each other: an MNIST epoch measured 0.3 s with one thread and 3 to 10 s
    with two. One thread keeps the test's time predictable; the results do not depend on it.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits: contextlib.AbstractContextManager = contextlib.nullcontext()
    else:
        limits = threadpool_limits(limits=1, user_api="blas")
    with limits:
        yield


def run_example(name: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """Run ``examples/<name>`` as ``python examples/<name> *args`` would."""
    monkeypatch.setattr(sys, "argv", [name, *args])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def read_results(out: str) -> tuple[float, int, int, np.ndarray]:
    """Accuracy, correct, total and the 10×10 confusion matrix from an example's output."""
    match = ACCURACY_LINE.search(out)
    assert match, f"no 'test accuracy' line in the output:\n{out}"
    accuracy, correct, total = float(match[1]), int(match[2]), int(match[3])
    lines = out[match.end() :].splitlines()
    header = lines.index("confusion matrix (rows: true digit, columns: predicted digit)")
    rows = lines[header + 2 : header + 12]
    counts = np.array([[0 if v == "." else int(v) for v in row.split()[1:]] for row in rows])
    assert counts.shape == (10, 10)
    assert [int(row.split()[0]) for row in rows] == list(range(10))
    return accuracy, correct, total, counts


def check_consistent(accuracy: float, correct: int, total: int, counts: np.ndarray) -> None:
    assert counts.sum() == total
    assert np.trace(counts) == correct
    assert accuracy == pytest.approx(correct / total, abs=5e-5)


def test_digits_example_reaches_97_percent(monkeypatch, capsys, one_blas_thread):
    pytest.importorskip("sklearn")
    run_example("digits_mlp.py", monkeypatch)
    out = capsys.readouterr().out
    assert out.count("\nEpoch ") == 40  # fit's line per epoch
    accuracy, correct, total, counts = read_results(out)
    check_consistent(accuracy, correct, total, counts)
    assert total == 359  # a fifth of the 1,797 digits is held out
    assert accuracy >= 0.97


def test_digits_example_with_early_stopping(monkeypatch, capsys, one_blas_thread):
    pytest.importorskip("sklearn")
    run_example("digits_mlp.py", monkeypatch, "--epochs", "200", "--patience", "3", "--seed", "1")
    out = capsys.readouterr().out
    assert "1295 training, 359 test, 143 validation images" in out
    assert "val_loss" in out
    assert re.search(r"\nEarly stopping after epoch \d+: val_loss has not improved for 3", out)
    assert re.search(r"\nRestored the weights of epoch \d+, the best val_loss", out)
    assert "\nEpoch 200/200" not in out
    accuracy, correct, total, counts = read_results(out)
    check_consistent(accuracy, correct, total, counts)
    assert accuracy >= 0.95


def test_mnist_example_on_the_5k_subset(monkeypatch, capsys, shared_mnist, one_blas_thread):
    run_example("mnist_mlp.py", monkeypatch, "--data-dir", str(shared_mnist), "--epochs", "3")
    out = capsys.readouterr().out
    assert "5000 training images (5,000-digit training subset), 10000 test images" in out
    assert out.count("\nEpoch ") == 3
    accuracy, correct, total, counts = read_results(out)
    check_consistent(accuracy, correct, total, counts)
    assert total == 10_000
    assert accuracy > 0.9
    assert "most frequent mistakes:" in out


def test_mnist_example_looks_beside_the_repository_first(shared_mnist):
    example = runpy.run_path(str(EXAMPLES / "mnist_mlp.py"), run_name="mnist_mlp")
    assert example["default_data_dir"]() == shared_mnist


def test_mnist_example_without_data_says_how_to_get_it(monkeypatch, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run_example("mnist_mlp.py", monkeypatch, "--data-dir", str(tmp_path))
    message = str(exit_info.value)
    assert f"No MNIST data found in {tmp_path}" in message
    assert "chainrule.data" in message and "download_mnist()" in message
    assert "--data-dir" in message
    assert capsys.readouterr().out == ""  # nothing trained, nothing printed
