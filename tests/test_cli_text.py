"""``chainrule train --data shakespeare|names`` and ``chainrule sample``: tiny language models
trained for a handful of iterations, their run folders, resuming, sampling and the errors."""

from __future__ import annotations

import json
import shutil
import signal

import numpy as np
import pytest

import chainrule
from chainrule import models
from chainrule.cli import main, text_loop
from chainrule.data import CharTokenizer, load_text

#: Tiny budgets and sizes: each run takes well under a second.
TINY = {
    "lstm": ["--data", "shakespeare", "--model", "lstm", "--iters", "6", "--eval-interval", "3",
             "--eval-iters", "1", "--batch-size", "4", "--block-size", "16", "--n-layer", "1",
             "--n-embd", "8", "--hidden", "16"],
    "gpt": ["--data", "shakespeare", "--model", "gpt", "--iters", "6", "--eval-interval", "3",
            "--eval-iters", "1", "--batch-size", "4", "--block-size", "16", "--n-layer", "1",
            "--n-head", "2", "--n-embd", "16", "--lr", "0.05"],
    "mlp": ["--data", "names", "--iters", "30", "--eval-interval", "10", "--eval-iters", "2",
            "--hidden", "16"],
}  # fmt: skip
needs_gpt = pytest.mark.skipif(not hasattr(models, "GPT"), reason="chainrule.models.GPT not in")
PAIRS = ["lstm", pytest.param("gpt", marks=needs_gpt), "mlp"]


def train(name, out, *extra):
    return main(["train", *TINY[name], "--out", str(out), *extra])


@pytest.mark.parametrize("name", PAIRS)
def test_tiny_training_prints_a_line_per_estimate_and_writes_the_run_folder(name, tmp_path, capsys):
    assert train(name, tmp_path / "run") == 0
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith("iter ")]
    iters, interval = (30, 10) if name == "mlp" else (6, 3)
    assert [int(line.split()[1].split("/")[0]) for line in lines] == list(
        range(0, iters + 1, interval)
    )
    assert all("train loss" in line and "val loss" in line and "lr" in line for line in lines)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert names == {"config.json", "model.json", "tokenizer.json", "checkpoint.npz",
                     "weights.npz", "history.json"}  # fmt: skip
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["iter"] == list(range(0, iters + 1, interval))
    assert history["val_loss"][-1] < history["val_loss"][0]  # it learned something


@pytest.mark.parametrize("name", PAIRS)
def test_sample_is_deterministic_for_a_seed(name, tmp_path, capsys):
    assert train(name, tmp_path / "run", "--quiet") == 0
    capsys.readouterr()
    args = ["sample", str(tmp_path / "run"), "--seed", "3"]
    args += ["--num", "4"] if name == "mlp" else ["--tokens", "40", "--prompt", "ROMEO:"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    if name == "mlp":
        assert len(first.splitlines()) == 4
        assert set(first) <= set("abcdefghijklmnopqrstuvwxyz\n")
    else:
        text = first[:-1]  # print's newline
        assert text.startswith("ROMEO:") and len(text) == 6 + 40


def test_the_checkpoint_holds_weights_optimizer_iteration_rng_beside_vocab_and_config(tmp_path):
    out = tmp_path / "run"
    assert train("lstm", out, "--quiet") == 0
    ckpt = chainrule.load(out / "checkpoint.npz")
    assert ckpt["iteration"] == 6
    assert set(ckpt["rng"]) == {"global", "train"}
    assert set(ckpt["optimizer"]) == {"state", "param_groups"}
    weights = chainrule.load(out / "weights.npz")
    assert set(ckpt["model"]) == set(weights)
    for key in weights:
        np.testing.assert_array_equal(ckpt["model"][key], weights[key])
    assert CharTokenizer.load(out / "tokenizer.json") == CharTokenizer(load_text("shakespeare"))
    spec = json.loads((out / "model.json").read_text())
    assert spec == {"class": "CharLSTM", "kwargs": {"vocab_size": 65, "embedding_dim": 8,
                    "hidden_size": 16, "num_layers": 1, "dropout": 0.0}}  # fmt: skip
    config = json.loads((out / "config.json").read_text())
    assert config["iters"] == 6 and config["hidden"] == 16 and "results" in config


def interrupt_after(monkeypatch, draws: int) -> None:
    """Send this process SIGINT while the ``draws``-th training batch is drawn."""
    real, count = text_loop.random_blocks, [0]

    def drawing(tokens, block_size, batch_size, generator=None):
        count[0] += 1
        if count[0] == draws:
            signal.raise_signal(signal.SIGINT)
        return real(tokens, block_size, batch_size, generator=generator)

    monkeypatch.setattr(text_loop, "random_blocks", drawing)


@pytest.mark.parametrize("draws", [3, 5])  # mid-interval, and right after an estimate
def test_ctrl_c_then_resume_ends_bit_identical_to_an_uninterrupted_run(
    draws, tmp_path, monkeypatch, capsys
):
    lstm = [*TINY["lstm"], "--dropout", "0.0", "--n-layer", "2", "--quiet"]
    assert main(["train", *lstm, "--out", str(tmp_path / "straight")]) == 0
    with monkeypatch.context() as patch:
        # Estimates draw with the same function; they come first (2 draws at iteration 0).
        interrupt_after(patch, draws + 2)
        assert main(["train", *lstm, "--out", str(tmp_path / "cut")]) == 130
    err = capsys.readouterr().err
    assert "checkpoint saved; continue with `chainrule train --resume" in err
    assert not (tmp_path / "cut" / "weights.npz").exists()
    assert chainrule.load(tmp_path / "cut" / "checkpoint.npz")["iteration"] < 6
    assert main(["train", "--resume", str(tmp_path / "cut"), "--quiet"]) == 0
    a = chainrule.load(tmp_path / "straight" / "weights.npz")
    b = chainrule.load(tmp_path / "cut" / "weights.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    ha, hb = (json.loads((tmp_path / d / "history.json").read_text()) for d in ("straight", "cut"))
    assert ha["iter"] == hb["iter"] and ha["val_loss"] == hb["val_loss"]


def test_resume_can_raise_the_iterations_and_refuses_other_options(tmp_path, capsys):
    out = tmp_path / "run"
    assert train("mlp", out, "--quiet") == 0
    assert main(["train", "--resume", str(out), "--iters", "40", "--quiet"]) == 0
    assert json.loads((out / "history.json").read_text())["iter"][-1] == 40
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--lr", "0.5"]) == 2
    assert "--lr cannot be given with it (only --iters)" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--iters", "20"]) == 2
    assert "has done 40 iterations already; give --iters 40 or more" in capsys.readouterr().err


def test_an_interrupted_continuation_leaves_no_stale_final_weights(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert train("lstm", out, "--quiet") == 0
    interrupt_after(monkeypatch, 1)
    assert main(["train", "--resume", str(out), "--iters", "9", "--quiet"]) == 130
    assert not (out / "weights.npz").exists() and not (out / "history.json").exists()
    assert chainrule.load(out / "checkpoint.npz")["iteration"] == 7
    capsys.readouterr()
    assert main(["sample", str(out), "--tokens", "5"]) == 0  # from the checkpoint's weights
    assert len(capsys.readouterr().out) == 1 + 5 + 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "digits", "--model", "gpt"],
         "--data digits --model gpt: no such combination; digits trains with --model mlp or "
         "cnn, and the language models are --data shakespeare with --model gpt or lstm; "
         "--data names with --model mlp"),
        (["--data", "shakespeare", "--model", "cnn"],
         "--data shakespeare --model cnn: no such language model; choose one of: --data "
         "shakespeare with --model gpt or lstm; --data names with --model mlp"),
        (["--data", "names", "--epochs", "3"], "--epochs: not an option of the language models"),
        (["--data", "moons", "--iters", "3"], "--iters: only for the language models"),
        (["--data", "shakespeare", "--model", "lstm", "--n-head", "2"],
         "--n-head: --model lstm does not take it"),
        (["--data", "shakespeare", "--n-embd", "30", "--n-head", "4"],
         "--n-embd 30 must be a multiple of --n-head 4"),
        (["--data", "names", "--iters", "0"], "--iters must be a positive integer; got 0"),
        (["--data", "names", "--hidden", "8,8"], "--hidden must be one integer width"),
    ],
)  # fmt: skip
def test_bad_language_model_options_are_one_line_usage_errors(argv, message, capsys):
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"chainrule: error: {message}") and err.count("\n") == 1


def test_show_defaults_gives_nanogpts_cpu_configuration(capsys):
    assert main(["train", "--data", "shakespeare", "--model", "gpt", "--show-defaults"]) == 0
    opts = json.loads(capsys.readouterr().out)
    assert (opts["n_layer"], opts["n_head"], opts["n_embd"], opts["block_size"]) == (4, 4, 128, 64)
    assert (opts["batch_size"], opts["iters"], opts["lr"]) == (12, 2000, 1e-3)


def test_sample_errors_name_the_folder_and_what_is_wrong(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "missing")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    out = tmp_path / "run"
    assert train("lstm", out, "--quiet") == 0
    capsys.readouterr()
    assert main(["sample", str(out), "--prompt", "naïve"]) == 2
    err = capsys.readouterr().err
    assert "--prompt 'naïve' has characters outside the run's vocabulary" in err and "'ï'" in err
    (out / "tokenizer.json").write_text("[1, 2]")
    assert main(["sample", str(out)]) == 2
    assert "cannot read the vocabulary" in capsys.readouterr().err


def test_weights_of_another_model_are_refused_by_sample_and_resume(tmp_path, capsys):
    small, other = tmp_path / "small", tmp_path / "other"
    assert train("lstm", small, "--quiet") == 0
    assert train("lstm", other, "--quiet", "--hidden", "12") == 0
    shutil.copy(other / "weights.npz", small / "weights.npz")
    shutil.copy(other / "checkpoint.npz", small / "checkpoint.npz")
    capsys.readouterr()
    assert main(["sample", str(small)]) == 2
    assert "do not fit the model in model.json" in capsys.readouterr().err
    assert main(["train", "--resume", str(small), "--quiet"]) == 2
    assert "do not fit the model in model.json" in capsys.readouterr().err
    (small / "checkpoint.npz").write_bytes(b"not a checkpoint")
    assert main(["train", "--resume", str(small)]) == 2
    assert "cannot read the checkpoint" in capsys.readouterr().err


def test_train_help_documents_the_language_models(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "--data shakespeare with --model gpt or lstm; --data names with --model mlp" in " ".join(
        text.split()
    )
    for option in ("--iters", "--eval-interval", "--block-size", "--n-layer", "--n-embd"):
        assert option in text
    assert "language-model defaults" in text


def test_a_damaged_config_of_a_language_model_run_is_named_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert train("mlp", out, "--quiet") == 0
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "lr": -1}))
    capsys.readouterr()
    assert main(["train", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"chainrule: error: --resume {out}: {out / 'config.json'}: --lr must be a positive "
        "number; got -1\n"
    )


def test_sample_help_lists_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    text = capsys.readouterr().out
    for option in (
        "RUN_DIR",
        "--tokens",
        "--num",
        "--temperature",
        "--top-k",
        "--prompt",
        "--seed",
    ):
        assert option in text
