"""tune_allocator: glibc keeps freed memory for the next step (no fresh page faults), fit calls
it when it starts, CHAINRULE_TUNE_ALLOCATOR=0 opts out, other C libraries are left alone, and
importing chainrule changes nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.training import allocator, loop

GLIBC = allocator.glibc_version() is not None

# Allocates, touches and frees a 40 MB array 20 times and prints the minor faults of the last
# 10 rounds: hundreds per round when glibc unmaps the block on free (blocks above 32 MB always
# come from mmap by default, whatever glibc's sliding threshold learned; fewer than its 10,240
# pages where NumPy asks for huge pages), none when it keeps the block.
FAULTS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from chainrule.training.allocator import tune_allocator
    tuned = tune_allocator() if sys.argv[1] == "tune" else False
    for i in range(20):
        if i == 10:
            start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = np.ones(5 << 20)  # 40 MB
        del a
    print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
    """
)


def faults_of_ten_rounds(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True, env=env
    )
    tuned, faults = done.stdout.split()
    return tuned, int(faults)


@pytest.mark.skipif(not GLIBC, reason="mallopt thresholds are glibc's")
def test_tuned_glibc_reuses_freed_blocks_instead_of_faulting_them_in_again():
    # Plain glibc unmaps each 40 MB block and faults it in again: ~10,000 faults over ten rounds
    # with 4 KiB pages, ~200 where transparent huge pages map 2 MiB at a time.
    plain = faults_of_ten_rounds("plain")[1]
    tuned, faults = faults_of_ten_rounds("tune")
    assert tuned == "True" and faults < 100
    assert plain > 4 * max(faults, 10)


@pytest.mark.skipif(not GLIBC, reason="mallopt thresholds are glibc's")
def test_the_environment_variable_opts_out_in_a_fresh_process():
    import os

    env = {**os.environ, allocator.ENV_VAR: "0"}
    tuned, faults = faults_of_ten_rounds("tune", env)
    assert tuned == "False" and faults > 1000


def test_opting_out_or_another_c_library_leaves_the_allocator_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda *a: calls.append(a))
    monkeypatch.setenv(allocator.ENV_VAR, "off")
    assert allocator.tune_allocator() is False
    monkeypatch.delenv(allocator.ENV_VAR)
    monkeypatch.setattr(allocator, "glibc_version", lambda: None)
    assert allocator.tune_allocator() is False
    assert calls == []


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1G"])
def test_a_threshold_that_is_not_a_positive_int_is_refused(bad):
    with pytest.raises(ValueError, match="threshold must be a positive number of bytes"):
        allocator.tune_allocator(bad)


def test_fit_tunes_the_allocator_before_training(monkeypatch):
    calls = []
    monkeypatch.setattr(loop, "tune_allocator", lambda: calls.append("tuned"))
    model = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    y = np.arange(8) % 2
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    cr.fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, verbose=0)
    assert calls == ["tuned"]


def test_importing_chainrule_does_not_tune_the_allocator():
    code = "import chainrule, chainrule.training.allocator as a; print(a._applied)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None"
