"""The README's PyTorch claim points at the page that lists every known difference, and the
differences that page lists still hold (when one is fixed, the page must move it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import chainrule as cr

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "pytorch-compatibility.md"


def test_readme_names_the_compatibility_page_instead_of_claiming_full_pytorch_semantics():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/pytorch-compatibility.md" in readme
    assert "Semantics follow PyTorch;" not in readme
    assert "](docs/" not in readme, "relative links break on a package index page"


def test_compatibility_page_lists_what_differs():
    text = PAGE.read_text(encoding="utf-8")
    assert "## What differs today" in text and "## What matches" in text


def test_listed_match_size_is_a_method_returning_a_size_holds():
    text = PAGE.read_text(encoding="utf-8")
    assert "`x.size()` and `x.shape` are a `chainrule.Size`" in text
    x = cr.tensor(np.zeros((2, 3)))
    assert x.size() == (2, 3) and x.size(1) == 3 and x.shape.numel() == 6


def test_listed_match_pytorch_advanced_indexing_holds():
    text = PAGE.read_text(encoding="utf-8")
    assert "`x[0, :, [1, 2]]` on shape `(3, 4, 5)` has shape `(4, 2)` as in PyTorch" in text
    x = cr.tensor(np.zeros((3, 4, 5)))
    assert x[0, :, [1, 2]].shape == (4, 2)
