"""``chainrule train --help`` states each real default once; every name the command offers
comes from the one registry; subcommands register in one place; cli/ functions stay small."""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

import chainrule.cli
from chainrule.cli import command, registry
from chainrule.cli.train_parser import defaults_table

CLI_DIR = Path(chainrule.cli.__file__).parent


@pytest.fixture(scope="module")
def train_help(tmp_path_factory) -> str:
    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "COLUMNS": "100", "CHAINRULE_CACHE": str(cache)}
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return result.stdout.replace(str(cache), "CACHE")


def option_entries(help_text: str) -> dict[str, str]:
    """Each option's help text, joined across its wrapped lines."""
    entries: dict[str, str] = {}
    current = None
    for line in help_text.split("per-dataset defaults:")[0].splitlines():
        match = re.match(r"  (--[\w-]+|-h, --help)", line)
        if match:
            current = match[1]
            entries[current] = line[len(match[0]) :].strip()
        elif current and line.startswith("    "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def test_train_help_shows_each_real_default_once_and_never_none(train_help):
    entries = option_entries(train_help)
    assert "None" not in train_help
    for option, text in entries.items():
        assert text.count("default:") <= 1, (option, text)
    assert "(default: 0)" in entries["--seed"]
    assert f"(default: {registry.DEFAULT_MODEL})" in entries["--model"]
    assert "(default: runs/DATA)" in entries["--out"]
    assert "default: CACHE/mnist" in entries["--data-dir"]  # download_mnist's folder
    for option in ("--hidden", "--activation", "--loss", "--optimizer", "--lr", "--epochs"):
        assert "(default: per dataset, table below)" in entries[option], option
    for option in ("--quiet", "--monitor", "--show-defaults", "--resume", "--plots"):
        assert "default" not in entries[option], option  # off unless given: nothing to say


def test_train_help_tables_every_datasets_defaults_from_the_registry(train_help):
    table = train_help.split("per-dataset defaults:")[1].strip().splitlines()
    assert table[0].split() == [
        "data",
        *(k.replace("_", "-") for k in asdict(registry.DEFAULTS["xor"])),
    ]
    rows = {row.split()[0]: row.split()[1:] for row in table[1:]}
    assert list(rows) == list(registry.DATASETS)
    for name, defaults in registry.DEFAULTS.items():
        values = asdict(defaults)
        assert rows[name] == [f"{v:g}" if isinstance(v, float) else str(v) for v in values.values()]


def test_train_help_lists_every_registered_name(train_help):
    entries = option_entries(train_help)
    for option, names in (
        ("--data", registry.DATASETS),
        ("--activation", registry.ACTIVATIONS),
        ("--loss", registry.LOSSES),
        ("--optimizer", registry.OPTIMIZERS),
        ("--model", registry.MODELS),
    ):
        for name in names:
            assert re.search(rf"\b{name}\b", entries[option]), (option, name)


def test_a_dataset_added_to_the_registry_is_offered_and_tabled(monkeypatch, capsys):
    info = registry.DATASETS_INFO["moons"]
    monkeypatch.setitem(registry.DATASETS_INFO, "moons2", info)
    monkeypatch.setattr(registry, "DATASETS", (*registry.DATASETS, "moons2"))
    monkeypatch.setitem(registry.DEFAULTS, "moons2", info.defaults)
    monkeypatch.setitem(registry.CLASSES, "moons2", info.classes)
    assert "moons2 " in defaults_table()
    assert chainrule.cli.main(["train", "--data", "moons2", "--show-defaults"]) == 0
    assert '"data": "moons2"' in capsys.readouterr().out


def registered_names() -> set[str]:
    return {
        *registry.DATASETS,
        *registry.ACTIVATIONS,
        *registry.LOSSES,
        *registry.OPTIMIZERS,
        *registry.MODELS,
    }


def test_no_cli_module_but_the_registry_spells_out_a_registered_name():
    names = registered_names()
    for path in sorted(CLI_DIR.glob("*.py")):
        if path.name == "registry.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        spelled = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not spelled & names, f"{path.name} spells out {sorted(spelled & names)}"


def test_subcommands_are_registered_in_one_place(monkeypatch):
    def add_hello_parser(subparsers) -> argparse.ArgumentParser:
        p = subparsers.add_parser("hello", help="say hello")
        p.set_defaults(run=lambda args: 0)
        return p

    monkeypatch.setattr(command, "SUBCOMMANDS", (*command.SUBCOMMANDS, add_hello_parser))
    parser = command.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(subparsers.choices)[:2] == ["train", "explain"]
    assert list(subparsers.choices)[-1] == "hello"
    assert len(subparsers.choices) == len(command.SUBCOMMANDS)  # one parser per entry
    assert command.main(["hello"]) == 0


def functions(tree: ast.AST):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_cli_functions_are_at_most_60_lines():
    for path in sorted(CLI_DIR.glob("*.py")):
        for fn in functions(ast.parse(path.read_text(encoding="utf-8"))):
            length = fn.end_lineno - fn.lineno + 1
            assert length <= 60, f"{path.name}:{fn.lineno} {fn.name} has {length} lines"


def test_cli_functions_have_mccabe_complexity_at_most_12():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed beside this Python")
    result = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "C90", "--config",
         "lint.mccabe.max-complexity=12", str(CLI_DIR)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
