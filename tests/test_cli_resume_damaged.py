"""``chainrule train --resume DIR`` on damaged run folders, through the real command: a
checkpoint with keys missing or of the wrong type, a ``config.json`` edited to something no
fresh run would accept. Always one ``chainrule: error:`` line naming the file, exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule.cli import main
from chainrule.cli.rundir import CHECKPOINT_KEYS


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """A healthy run folder: two epochs of moons, its config and checkpoint."""
    folder = tmp_path_factory.mktemp("saved") / "run"
    assert main(["train", "--data", "moons", "--epochs", "2", "--out", str(folder), "--quiet"]) == 0
    return folder


@pytest.fixture
def run_dir(saved_run, tmp_path) -> Path:
    """A copy of the healthy run, for one test to damage."""
    return Path(shutil.copytree(saved_run, tmp_path / "run"))


def resume(folder: Path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--resume", str(folder), *more, "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_usage_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: --resume "), result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def edit_checkpoint(folder: Path, change) -> None:
    ckpt = chainrule.load(folder / "checkpoint.npz")
    change(ckpt)
    chainrule.save(ckpt, folder / "checkpoint.npz")


def edit_config(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    config = change(config)
    (folder / "config.json").write_text(json.dumps(config))


def test_the_healthy_run_resumes(run_dir):
    assert resume(run_dir, "--epochs", "3").returncode == 0


@pytest.mark.parametrize("key", sorted(CHECKPOINT_KEYS))
def test_a_checkpoint_missing_a_key_is_one_line_naming_file_and_key(run_dir, key):
    edit_checkpoint(run_dir, lambda ckpt: ckpt.pop(key))
    assert_usage_error(resume(run_dir), str(run_dir / "checkpoint.npz"), f"key {key!r} is missing")


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("epoch", "2", "'epoch' holds str, not int"),
        ("model", [1, 2], "'model' holds list, not dict"),
        ("rng", {"current": None}, "'rng' lacks the generator states"),
        ("history", {"epoch": 3}, "'history' is not a training history"),
        ("chainrule_checkpoint", 99, "not a version-1 fit checkpoint"),
    ],
)
def test_a_checkpoint_value_of_the_wrong_type_is_one_line(run_dir, key, value, words):
    edit_checkpoint(run_dir, lambda ckpt: ckpt.__setitem__(key, value))
    assert_usage_error(resume(run_dir), "damaged checkpoint", words)


def test_checkpoint_weights_of_another_shape_are_one_line(run_dir):
    edit_checkpoint(run_dir, lambda c: c["model"].__setitem__("0.weight", np.zeros((3, 3))))
    assert_usage_error(resume(run_dir), "do not fit the model in config.json", "0.weight")


def test_checkpoint_that_is_not_a_chainrule_file_is_one_line(run_dir):
    (run_dir / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert_usage_error(resume(run_dir), "cannot read the checkpoint")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: {**c, "activation": "swish"}, "unknown activation 'swish'; choose one of: "),
        (lambda c: [c], "holds a JSON list, not the options object"),
        (lambda c: {**c, "lr": "fast"}, "--lr must be a number; got 'fast'"),
        (lambda c: {**c, "epochs": True}, "--epochs must be an integer; got True"),
        (lambda c: {**c, "hidden": [4, "x"]}, "--hidden must be comma-separated integers"),
        (lambda c: {**c, "data": "cifar"}, "unknown dataset 'cifar'"),
        (lambda c: {**c, "seed": -1}, "--seed must be an integer from 0"),
        (lambda c: {k: v for k, v in c.items() if k != "loss"}, "option(s) 'loss' missing"),
        (lambda c: {**c, "colour": "red"}, "unknown option(s) 'colour'"),
        (lambda c: {**c, "model": "cnn"}, "--model cnn needs an image dataset"),
    ],
)
def test_a_config_edited_to_what_a_fresh_run_refuses_is_one_line(run_dir, change, words):
    edit_config(run_dir, change)
    assert_usage_error(resume(run_dir), str(run_dir / "config.json"), words)


def test_a_resumed_config_fails_with_the_same_message_as_the_same_fresh_option(run_dir, capsys):
    assert main(["train", "--data", "moons", "--activation", "swish"]) == 2
    fresh = capsys.readouterr().err.strip().removeprefix("chainrule: error: ")
    edit_config(run_dir, lambda c: {**c, "activation": "swish"})
    assert assert_usage_error(resume(run_dir)).endswith(f"config.json: {fresh}")


def test_a_config_that_is_not_json_is_one_line(run_dir):
    (run_dir / "config.json").write_text("{ not json")
    assert_usage_error(resume(run_dir), "no readable chainrule run there")


def test_training_options_cannot_be_changed_on_resume(run_dir):
    assert_usage_error(resume(run_dir, "--lr", "0.5", "--data", "xor"), "--data, --lr cannot be")


def test_resuming_to_fewer_epochs_than_done_is_one_line(run_dir):
    assert_usage_error(resume(run_dir, "--epochs", "1"), "has done 2 epochs already")
