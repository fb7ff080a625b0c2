"""``fit(checkpoint=DIR, resume=...)``: stopping anywhere (cleanly, Ctrl-C, SIGTERM, SIGKILL) and
resuming gives the same weights, bit for bit, as one uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import LambdaCallback, checkpoint_path, fit

EPOCHS = 6
TESTS = Path(__file__).resolve().parent


def build(generator: str = "global", hidden: int = 16):
    """A fresh run: seeded model (with dropout, so the global generator moves mid-epoch), Adam,
    a StepLR schedule and shuffled data (by the global generator or the loader's own)."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rng = np.random.default_rng(42)
    x = rng.normal(size=(90, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=90)
    train = data.DataLoader(
        data.TensorDataset(x, y),
        batch_size=16,
        shuffle=True,
        generator=None if generator == "global" else 7,
    )
    return model, opt, sched, train, (x[:30], y[:30])


def run(directory=None, epochs=EPOCHS, resume=False, generator="global", callbacks=(), every=1,
        hidden=16):  # fmt: skip
    model, opt, sched, train, val = build(generator, hidden)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        train,
        epochs=epochs,
        validation=val,
        scheduler=sched,
        checkpoint=directory,
        resume=resume,
        callbacks=callbacks,
        checkpoint_every=every,
        verbose=0,
    )
    return model, history


def stop_at(epoch: int, batch: int, how):
    def on_batch_end(trainer, b, loss):
        if trainer.epoch == epoch and b == batch:
            how()

    return LambdaCallback(on_batch_end=on_batch_end)


def max_abs_diff(a: nn.Module, b: nn.Module) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return max(float(np.max(np.abs(sa[k] - sb[k]))) for k in sa)


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted runs, one per generator setup."""
    return {g: run(generator=g) for g in ("global", "loader")}


def assert_same_run(resumed, history, reference_run) -> None:
    model, ref_history = reference_run
    assert max_abs_diff(resumed, model) == 0.0
    assert history.epoch == list(range(1, EPOCHS + 1))
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert history[key] == ref_history[key], key
    assert history.stopped_early is None


# ----- bit-identical resume ----------------------------------------------------------------------
@pytest.mark.parametrize("generator", ["global", "loader"])
def test_training_k_epochs_then_resuming_matches_one_run_bit_for_bit(
    tmp_path, reference, generator
):
    run(tmp_path, epochs=2, generator=generator)
    cr.manual_seed(123)  # whatever happened in between: the checkpoint's generator state wins
    resumed, history = run(tmp_path, resume=True, generator=generator)
    assert_same_run(resumed, history, reference[generator])


@pytest.mark.parametrize("generator", ["global", "loader"])
def test_ctrl_c_mid_epoch_checkpoints_and_resumes_bit_for_bit(tmp_path, reference, generator):
    interrupt = stop_at(3, 2, lambda: os.kill(os.getpid(), signal.SIGINT))
    _, history = run(tmp_path, generator=generator, callbacks=[interrupt])
    assert history.stopped_early == "interrupted"
    saved = cr.load(checkpoint_path(tmp_path))
    assert (saved["epoch"], saved["batch"]) == (2, 2)
    assert saved["history"]["epoch"] == [1, 2]  # the cut epoch is not in it
    resumed, history = run(tmp_path, resume=True, generator=generator)
    assert_same_run(resumed, history, reference[generator])


def test_a_checkpoint_holds_every_piece_of_the_run(tmp_path):
    model, _ = run(tmp_path, epochs=2)
    saved = cr.load(checkpoint_path(tmp_path))
    assert set(saved) >= {"model", "optimizer", "scheduler", "rng", "epoch", "batch", "history"}
    assert saved["rng"]["current"]["global"] == cr.random.default_generator().bit_generator.state
    assert saved["scheduler"]["last_epoch"] == 2 and saved["epoch"] == 2
    assert all(isinstance(k, int) for k in saved["optimizer"]["state"])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(saved["model"][name], value)
    fresh, *_ = build()
    cr.load_into(fresh, checkpoint_path(tmp_path))
    assert max_abs_diff(fresh, model) == 0.0


def test_resume_without_a_checkpoint_starts_afresh(tmp_path, reference):
    resumed, history = run(tmp_path / "new", resume=True)
    assert_same_run(resumed, history, reference["global"])


def test_resuming_a_finished_run_trains_no_more(tmp_path, reference):
    run(tmp_path)
    resumed, history = run(tmp_path, resume=True)
    assert_same_run(resumed, history, reference["global"])


def test_checkpoint_every_n_epochs_and_always_at_the_end(tmp_path):
    seen = []

    def on_epoch_begin(trainer, epoch):
        path = checkpoint_path(tmp_path)
        seen.append(cr.load(path)["epoch"] if path.exists() else None)

    run(tmp_path, epochs=5, every=3, callbacks=[LambdaCallback(on_epoch_begin=on_epoch_begin)])
    assert seen == [None, None, None, 3, 3]
    assert cr.load(checkpoint_path(tmp_path))["epoch"] == 5


# ----- processes that die ------------------------------------------------------------------------
CHILD = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import test_checkpoint as t
how = {{"kill": signal.SIGKILL, "term": signal.SIGTERM}}[sys.argv[2]]
t.run(sys.argv[1], callbacks=[t.stop_at(4, 3, lambda: os.kill(os.getpid(), how))])
print("not reached")
"""


def run_child(directory: Path, how: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHILD.format(tests=str(TESTS)), str(directory), how],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sigkill_between_checkpoints_then_resume_matches_bit_for_bit(tmp_path, reference):
    done = run_child(tmp_path, "kill")
    assert done.returncode == -signal.SIGKILL, done.stderr
    saved = cr.load(checkpoint_path(tmp_path))
    assert (saved["epoch"], saved["batch"]) == (3, 0)  # the last epoch-end checkpoint
    resumed, history = run(tmp_path, resume=True)
    assert_same_run(resumed, history, reference["global"])


def test_sigterm_writes_a_checkpoint_then_ends_the_process_and_resume_matches(tmp_path, reference):
    done = run_child(tmp_path, "term")
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "not reached" not in done.stdout
    saved = cr.load(checkpoint_path(tmp_path))
    assert (saved["epoch"], saved["batch"]) == (3, 3)
    resumed, history = run(tmp_path, resume=True)
    assert_same_run(resumed, history, reference["global"])


# ----- checkpoints that do not fit ---------------------------------------------------------------
def test_resuming_with_a_model_of_other_shapes_lists_the_mismatches_and_changes_nothing(
    tmp_path,
):
    run(tmp_path, epochs=1, hidden=16)
    model, opt, sched, train, _ = build(hidden=8)
    before = model.state_dict()
    with pytest.raises(RuntimeError, match=r"(?s)does not fit this model.*0\.weight: got shape"):
        fit(model, nn.CrossEntropyLoss(), opt, train, epochs=2, scheduler=sched,
            checkpoint=tmp_path, resume=True, verbose=0)  # fmt: skip
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


def test_resuming_from_a_checkpoint_with_nan_weights_is_refused(tmp_path):
    run(tmp_path, epochs=1)
    path = checkpoint_path(tmp_path)
    saved = cr.load(path)
    saved["model"]["0.weight"][0, 0] = np.nan
    cr.save(saved, path)
    with pytest.raises(ValueError, match=r"non-finite weights.*'0\.weight' \(1 NaN"):
        run(tmp_path, resume=True)


def test_resuming_without_the_scheduler_it_was_saved_with_is_refused(tmp_path):
    run(tmp_path, epochs=1)
    model, opt, _, train, _ = build()
    with pytest.raises(ValueError, match="saved with an lr scheduler but this run has none"):
        fit(model, nn.CrossEntropyLoss(), opt, train, epochs=2, checkpoint=tmp_path,
            resume=True, verbose=0)  # fmt: skip


def test_a_corrupted_checkpoint_is_a_format_error_not_a_traceback(tmp_path):
    run(tmp_path, epochs=1)
    path = checkpoint_path(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(cr.ChainruleFormatError, match="truncated or corrupted"):
        run(tmp_path, resume=True)


def test_bad_checkpoint_arguments_are_refused():
    model, opt, _, train, _ = build()
    with pytest.raises(ValueError, match="resume=True needs checkpoint=DIR"):
        fit(model, nn.CrossEntropyLoss(), opt, train, epochs=1, resume=True, verbose=0)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive integer"):
        fit(model, nn.CrossEntropyLoss(), opt, train, epochs=1, checkpoint_every=0, verbose=0)
