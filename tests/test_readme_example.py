"""The README's first example is PyTorch code: it prints the same line in chainrule and torch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def first_python_block() -> str:
    return re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_readme_first_example_runs_on_chainrule_and_prints_what_the_readme_says():
    out = run(first_python_block()).strip()
    assert f"prints `{out}` in both libraries" in README.read_text(encoding="utf-8")


def test_readme_first_example_prints_the_same_with_torch():
    pytest.importorskip("torch")
    code = first_python_block()
    torch_code = re.sub(r"^import chainrule as torch.*$", "import torch", code, flags=re.M)
    torch_code = re.sub(
        r"^import chainrule.nn.functional as F.*$",
        "import torch.nn.functional as F",
        torch_code,
        flags=re.M,
    )
    assert torch_code != code
    assert run(torch_code) == run(code)
