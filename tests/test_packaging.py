"""The wheel users install holds what they need: py.typed (mypy checks their code against our
hints), the playground's page, and the license."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed: cannot build the wheel without the network")
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    done = subprocess.run([*cmd, "-w", str(out), str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("chainrule-*.whl")
    return zipfile.ZipFile(wheel).namelist()


def test_the_wheel_holds_py_typed(wheel_names):
    assert "chainrule/py.typed" in wheel_names


def test_the_wheel_holds_the_playground_page(wheel_names):
    assert {
        f"chainrule/playground/static/{f}" for f in ("index.html", "app.js", "style.css")
    } <= set(wheel_names)


def test_the_wheel_holds_the_license(wheel_names):
    assert any(name.endswith("/LICENSE") for name in wheel_names)
