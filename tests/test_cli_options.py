"""``chainrule train``'s options are validated together, before anything runs: every bad value
is a one-line usage error with exit 2, and values typed as 0 are kept, not taken as absent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chainrule.cli import main


def test_negative_seed_is_a_usage_error_with_exit_2_like_the_other_options():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--data", "xor", "--seed", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr == "chainrule: error: --seed must be an integer from 0 to 2**63 - 1; got -1\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--lr", "nan", "--lr must be a positive number; got nan"),
        ("--lr", "inf", "--lr must be a positive number; got inf"),
        ("--lr", "0", "--lr must be a positive number; got 0.0"),
        ("--epochs", "0", "--epochs must be positive; got 0"),
        ("--val-split", "1", "--val-split must be in [0, 1); got 1.0"),
        ("--hidden", "8,-2", "--hidden widths must be positive; got '8,-2'"),
        ("--model", "rnn", "unknown model 'rnn'; choose one of: mlp, cnn"),
        ("--loss", "hinge", "unknown loss 'hinge'; choose one of: cross_entropy, bce"),
    ],
)
def test_each_bad_value_is_one_line_with_exit_2(option, value, message, capsys):
    assert main(["train", "--data", "moons", option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"chainrule: error: {message}") and err.count("\n") == 1


def test_values_typed_as_zero_are_kept_rather_than_replaced_by_the_defaults(capsys):
    assert (
        main(["train", "--data", "moons", "--val-split", "0", "--seed", "0", "--hidden", ""]) == 0
    )
    capsys.readouterr()
    args = ["train", "--data", "moons", "--val-split", "0", "--hidden", "", "--show-defaults"]
    assert main(args) == 0
    opts = json.loads(capsys.readouterr().out)
    assert opts["val_split"] == 0 and opts["hidden"] == [] and opts["seed"] == 0


def test_show_defaults_prints_the_validated_options_without_training(tmp_path, capsys):
    args = ["train", "--data", "sine", "--lr", "0.5", "--out", str(tmp_path / "run")]
    assert main([*args, "--show-defaults"]) == 0
    opts = json.loads(capsys.readouterr().out)
    assert opts["lr"] == 0.5 and opts["loss"] == "mse" and opts["hidden"] == [64, 64]
    assert not (tmp_path / "run").exists()
