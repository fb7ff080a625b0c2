"""``chainrule train --model cnn``: a small CNN on image datasets, a usage error on the others."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.cli import main


def test_cnn_on_shared_mnist_trains_one_epoch_and_saves_conv_weights(
    tmp_path, shared_mnist, capsys
):
    args = ["train", "--data", "mnist", "--model", "cnn", "--data-dir", str(shared_mnist)]
    args += ["--epochs", "1", "--batch-size", "32", "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "CNN 1x28x28" in out
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model"] == "cnn"
    assert config["results"]["test"]["accuracy"] > 0.6  # one epoch: learning, not converged
    weights = np.load(tmp_path / "weights.npz")
    assert weights["0.weight"].shape == (16, 1, 3, 3)
    assert weights["0.weight"].dtype == np.float32


@pytest.mark.parametrize("dataset", ["moons", "sine", "xor"])
def test_cnn_on_a_non_image_dataset_is_a_one_line_usage_error(dataset, tmp_path, capsys):
    assert main(["train", "--data", dataset, "--model", "cnn", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--model cnn needs an image dataset" in err


def test_unknown_model_is_a_usage_error(capsys):
    assert main(["train", "--data", "mnist", "--model", "rnn"]) == 2
    assert "unknown model 'rnn'" in capsys.readouterr().err


def test_mlp_stays_the_default(capsys):
    assert main(["train", "--data", "digits", "--show-defaults"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "mlp"
