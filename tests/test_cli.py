"""The ``chainrule`` command: training runs, saved outputs, help, and exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule.cli import main
from chainrule.cli.registry import DATASETS


def test_train_xor_saves_weights_history_and_config(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "xor", "--epochs", "300", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "train" in printed
    weights = chainrule.load(out / "weights.npz")
    assert set(weights) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    history = json.loads((out / "history.json").read_text())
    assert len(history["history"]["loss"]) == 300
    config = json.loads((out / "config.json").read_text())
    assert config["optimizer"] == "sgd" and config["hidden"] == [4]


def test_train_moons_with_chosen_options_reaches_good_accuracy(tmp_path, capsys):
    args = [
        "train",
        "--data",
        "moons",
        "--hidden",
        "16,16",
        "--activation",
        "tanh",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "40",
        "--batch-size",
        "32",
        "--val-split",
        "0.25",
        "--seed",
        "1",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main(args) == 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["results"]["validation"]["accuracy"] > 0.9


def test_train_digits_defaults_give_a_good_model(tmp_path):
    pytest.importorskip("sklearn")
    assert main(["train", "--data", "digits", "--out", str(tmp_path), "--quiet"]) == 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["results"]["validation"]["accuracy"] >= 0.95


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "cifar"], "unknown dataset 'cifar'; choose one of: xor, moons"),
        (
            ["train", "--data", "xor", "--optimizer", "lbfgs"],
            "unknown optimizer 'lbfgs'; choose one of: sgd, adam, adamw, rmsprop, adagrad",
        ),
        (["train", "--data", "xor", "--activation", "swish"], "unknown activation 'swish'"),
        (["train", "--data", "sine", "--loss", "cross_entropy"], "needs a classification"),
        (["train", "--data", "digits", "--loss", "bce"], "needs two classes"),
        (["train", "--data", "xor", "--hidden", "4,x"], "comma-separated integers"),
        (["train", "--data", "xor", "--batch-size", "0"], "--batch-size must be positive"),
        (["train"], "the following arguments are required: --data"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_training_failure_exits_1_with_its_message(tmp_path, capsys):
    args = [
        "train",
        "--data",
        "sine",
        "--lr",
        "1e30",
        "--epochs",
        "5",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "the loss became" in err and "Traceback" not in err


def test_help_lists_every_dataset_and_option():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for word in (
        *DATASETS,
        "--hidden",
        "--activation",
        "--loss",
        "--optimizer",
        "--lr",
        "--epochs",
        "--batch-size",
        "--val-split",
        "--seed",
        "--out",
        "--data-dir",
    ):
        assert word in result.stdout


def test_mnist_from_the_shared_folder_when_present(tmp_path, shared_mnist):
    args = [
        "train",
        "--data",
        "mnist",
        "--data-dir",
        str(shared_mnist),
        "--epochs",
        "1",
        "--hidden",
        "32",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main(args) == 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["results"]["test"]["accuracy"] > 0.8


def test_monitor_prints_a_gradient_health_report(tmp_path, capsys):
    args = [
        "train",
        "--data",
        "moons",
        "--epochs",
        "3",
        "--monitor",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "gradient health per layer" in out and "grad norm" in out


def test_plots_writes_non_blank_pngs(tmp_path, capsys):
    image = pytest.importorskip("matplotlib.image")
    plots = tmp_path / "plots"
    args = [
        "train",
        "--data",
        "moons",
        "--epochs",
        "3",
        "--monitor",
        "--plots",
        str(plots),
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main(args) == 0
    names = sorted(p.name for p in plots.glob("*.png"))
    assert names == ["activations.png", "decision_boundary.png", "gradient_flow.png", "history.png"]
    for path in plots.glob("*.png"):
        assert image.imread(path).std() > 0.01


def test_resume_continues_a_run_to_the_same_weights_as_one_straight_run(tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    common = ["train", "--data", "moons", "--seed", "3", "--quiet"]
    assert main([*common, "--epochs", "6", "--out", str(straight)]) == 0
    assert main([*common, "--epochs", "3", "--out", str(resumed)]) == 0
    assert main(["train", "--resume", str(resumed), "--epochs", "6", "--quiet"]) == 0
    a, b = chainrule.load(straight / "weights.npz"), chainrule.load(resumed / "weights.npz")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    history = json.loads((resumed / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3, 4, 5, 6]


def test_resume_without_a_saved_run_is_a_usage_error(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "missing")]) == 2
    assert "no readable chainrule run" in capsys.readouterr().err
