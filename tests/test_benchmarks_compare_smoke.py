"""benchmarks/compare_trees.py runs both trees and prints one row per case and implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def compare_trees(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import compare_trees

    return compare_trees


def test_compare_trees_reports_new_over_base_for_every_case(compare_trees):
    table = compare_trees.compare(compare_trees.NEW_TREE, rounds=1, quick=True, repeat=1)
    rows = table.splitlines()[1:]
    cases = {row.split()[0] for row in rows}
    assert {"xor", "mlp-32"} <= cases
    assert all(float(row.split()[-1]) > 0 for row in rows)


def test_compare_trees_refuses_a_folder_without_chainrule(compare_trees, tmp_path):
    with pytest.raises(SystemExit, match="no src/chainrule"):
        compare_trees.check_tree(tmp_path)
