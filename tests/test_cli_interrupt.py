"""Ctrl-C and ``chainrule train``, through the real command in a child process: the first
Ctrl-C keeps a checkpoint and says how to go on, a second one or one before training stops at
once; always one line, no traceback, exit 130, and no final artifacts."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chainrule.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: Run inside the child before ``main``: ``slow_model`` makes each training forward pass take
#: 0.3 s (so a second Ctrl-C lands inside a batch), ``slow_data`` makes loading take 60 s.
PATCHES = {
    "slow_model": """
import time
import chainrule.cli.train as train
from chainrule import nn

class Slow(nn.Module):
    def forward(self, x):
        if self.training:
            time.sleep(0.3)
        return x

build = train.build_mlp
train.build_mlp = lambda *args: nn.Sequential(Slow(), *build(*args))
""",
    "slow_data": """
import dataclasses, time
from chainrule.cli import registry

def slow(seed, data_dir):
    print("loading", flush=True)
    time.sleep(60)

info = registry.DATASETS_INFO["spirals"]
registry.DATASETS_INFO["spirals"] = dataclasses.replace(info, load=slow)
""",
}


class Child:
    """``chainrule ARGV`` running in a child process whose output lines can be waited for."""

    def __init__(self, argv: list[str], patch: str = "") -> None:
        code = f"import sys\n{patch}\nfrom chainrule.cli import main\nsys.exit(main({argv!r}))\n"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code] if patch else [sys.executable, "-m", "chainrule", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"no line starting {prefix!r} within {timeout}s: {self.stdout}")
            if line.startswith(prefix):
                return line

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"still running {timeout}s after Ctrl-C")
        return self.process.returncode, err


def assert_one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: "), err
    return lines[0]


def assert_no_final_artifacts(out: Path) -> None:
    assert not (out / "weights.npz").exists() and not (out / "history.json").exists()
    assert "results" not in json.loads((out / "config.json").read_text())


def test_ctrl_c_during_training_keeps_a_checkpoint_says_how_to_resume_and_exits_130(tmp_path):
    out = tmp_path / "run"
    child = Child(["train", "--data", "spirals", "--epochs", "5000", "--out", str(out)])
    child.wait_for("Epoch")
    start = time.monotonic()
    child.interrupt()
    status, err = child.finish()
    elapsed = time.monotonic() - start
    line = assert_one_line(err)
    match = re.fullmatch(
        r"chainrule: interrupted at epoch (\d+)/5000; checkpoint saved; continue with "
        r"`chainrule train --resume (.+)`",
        line,
    )
    assert match and match[2] == str(out), line
    assert status == 130
    assert elapsed < 5, f"{elapsed:.2f}s from Ctrl-C to exit"
    assert (out / "checkpoint.npz").is_file()
    assert_no_final_artifacts(out)
    assert not any(line.startswith(("done", "train ")) for line in child.stdout)
    # The command it printed goes on from there, and finishes the run.
    epochs = int(match[1]) + 2
    assert main(["train", "--resume", str(out), "--epochs", str(epochs), "--quiet"]) == 0
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == list(range(1, epochs + 1))


def test_a_second_ctrl_c_stops_at_once_in_one_line_keeping_the_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--data", "spirals", "--epochs", "50", "--batch-size", "600"]
    child = Child([*argv, "--out", str(out)], PATCHES["slow_model"])
    child.wait_for("Epoch  1/50")
    time.sleep(0.1)  # into the next batch's 0.3 s forward pass
    child.interrupt()
    time.sleep(0.1)  # still in that batch: training cannot stop cleanly before it ends
    child.interrupt()
    status, err = child.finish()
    line = assert_one_line(err)
    assert line == (
        f"chainrule: interrupted; stopped at once; the last checkpoint in {out} is kept; "
        f"continue with `chainrule train --resume {out}`"
    )
    assert status == 130
    assert (out / "checkpoint.npz").is_file()
    assert_no_final_artifacts(out)


def test_ctrl_c_before_training_starts_prints_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    child = Child(["train", "--data", "spirals", "--out", str(out)], PATCHES["slow_data"])
    child.wait_for("loading")
    child.interrupt()
    status, err = child.finish()
    line = assert_one_line(err)
    assert line == "chainrule: interrupted before training started; nothing was written"
    assert status == 130
    assert not out.exists()
