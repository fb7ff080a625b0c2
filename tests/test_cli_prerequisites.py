"""``chainrule train`` checks what a run needs before it trains: optional packages (blocked in a
child process through ``sys.modules``, never uninstalled), the MNIST files, output folders."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from chainrule.cli import main


def run_without(module: str, *argv: str) -> subprocess.CompletedProcess:
    """``chainrule *argv`` in a child process where ``import module`` fails as if it were not
    installed (a None entry in ``sys.modules`` makes every import of it raise ImportError)."""
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"
        "from chainrule.cli import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def assert_one_line_before_training(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: "), result.stderr
    for word in words:
        assert word in lines[0]
    assert "Epoch" not in result.stdout and "chainrule train:" not in result.stdout


def test_plots_without_matplotlib_fail_before_training_naming_the_extra(tmp_path):
    out = tmp_path / "run"
    result = run_without(
        "matplotlib", "train", "--data", "moons", "--plots", str(tmp_path / "pics"),
        "--out", str(out),
    )  # fmt: skip
    assert_one_line_before_training(result, "--plots needs matplotlib", 'chainrule[plot]"')
    assert not out.exists()


def test_digits_without_scikit_learn_fail_before_training_naming_the_extra(tmp_path):
    out = tmp_path / "run"
    result = run_without("sklearn", "train", "--data", "digits", "--out", str(out))
    assert_one_line_before_training(result, "--data digits needs scikit-learn", "[datasets]")
    assert not out.exists()


def test_mnist_without_files_says_what_it_looked_for_and_how_to_download(tmp_path, capsys):
    empty, out = tmp_path / "empty", tmp_path / "run"
    empty.mkdir()
    assert main(["train", "--data", "mnist", "--data-dir", str(empty), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: --data mnist: ")
    for word in (
        str(empty),
        "train-images-idx3-ubyte[.gz]",
        "train-labels-idx1-ubyte[.gz]",
        "mnist_5k.csv",
        "--data-dir",
        f"download_mnist('{empty}')",
    ):
        assert word in lines[0]
    assert "Epoch" not in captured.out and not out.exists()


def test_mnist_default_folder_is_the_download_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "cache"))
    assert main(["train", "--data", "mnist", "--out", str(tmp_path / "run")]) == 2
    assert f"no MNIST training set in {tmp_path / 'cache' / 'mnist'}" in capsys.readouterr().err


def test_mnist_with_a_training_subset_but_no_test_files_names_the_test_files(tmp_path, capsys):
    rows = np.zeros((2, 785), dtype=np.int64)
    rows[:, -1] = [3, 7]
    np.savetxt(tmp_path / "mnist_5k.csv", rows, fmt="%d", delimiter=",")
    assert main(["train", "--data", "mnist", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no MNIST test set" in err and "t10k-images-idx3-ubyte[.gz]" in err
    assert "mnist_5k" not in err  # the training subset was found; only the test set is missing


def test_an_output_folder_that_is_a_file_is_a_usage_error_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["train", "--data", "xor", "--out", str(blocker)]) == 2
    assert main(["train", "--data", "xor", "--plots", str(blocker), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("it must be a folder (or not exist)") and "--out" in err[0]
    assert "--plots" in err[1] and not (tmp_path / "config.json").exists()
