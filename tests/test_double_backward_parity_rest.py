"""Second derivatives of the functional ops the other double-backward files leave out (float64).

For each op ``f``: ``g = grad(f, inputs, v, create_graph=True)`` and ``h = grad(Σ g·w, inputs)``
in chainrule and in PyTorch, on random inputs (see ``double_backward_support``). Covered here:
distances, the margin/embedding losses and the Poisson/Gaussian NLL options with every
reduction, the remaining activations (and their in-place forms on non-leaf tensors), LRN,
RMS norm, the matrix products, the layout ops and ``Tensor.unfold``. Piecewise-linear ops get
inputs away from their kinks and are squared or cubed, so that ``h`` is not trivially zero;
linear ops are cubed for the same reason.
"""

from __future__ import annotations

import numpy as np
import pytest

from double_backward_cases_rest import (
    DISTANCES,
    LAYOUT,
    OTHERS,
    REDUCTIONS,
    cdist,
    hardsigmoid,
    loss_cases,
    multi_margin,
    multilabel_margin,
    pdist,
)
from double_backward_support import compare_with_torch

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def _compare(f, arrays, seed):
    compare_with_torch(f, arrays, seed, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_distance_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng([seed, len(name)])
    f, specs = DISTANCES[name]
    _compare(f, [make(rng, shape) for make, shape in specs], seed)


LOSS_NAMES = sorted(loss_cases(np.random.default_rng(0), "mean"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_second_derivative_matches_torch(name, reduction):
    rng = np.random.default_rng([LOSS_NAMES.index(name), REDUCTIONS.index(reduction)])
    f, arrays = loss_cases(rng, reduction)[name]
    _compare(f, arrays, 5)


def test_explicit_margin_references_equal_torch_forward():
    """The explicit PyTorch-side references above compute PyTorch's own losses."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((4, 5)))
    y, w = rng.integers(0, 5, 4), rng.random(5) + 0.5
    target = np.array([[3, 0, -1, 1, 2], [1, 4, 2, -1, 0], [0, -1, 3, 3, 3], [4, 2, 1, 0, 3]])
    for r in REDUCTIONS:
        ours = multi_margin(torch, x, y, r, 2, 0.7, w)
        theirs = tF.multi_margin_loss(x, torch.tensor(y), 2, 0.7, torch.tensor(w), reduction=r)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
        ours = multilabel_margin(torch, x, target, r)
        theirs = tF.multilabel_margin_loss(x, torch.tensor(target), reduction=r)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    a, b = torch.tensor(rng.standard_normal((2, 3, 4))), torch.tensor(rng.standard_normal((5, 4)))
    for p in (1.0, 2.0, 3.0, float("inf")):
        np.testing.assert_allclose(cdist(torch, a, b, p), torch.cdist(a, b, p), rtol=1e-12)
        np.testing.assert_allclose(pdist(torch, b, p), tF.pdist(b, p), rtol=1e-12)
    np.testing.assert_allclose(hardsigmoid(torch, a * 4), tF.hardsigmoid(a * 4), rtol=1e-12)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_second_derivative_matches_torch(name, seed):
    rng = np.random.default_rng([seed, len(name)])
    f, specs = OTHERS[name]
    _compare(f, [make(rng, shape) for make, shape in specs], seed)


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_layout_second_derivative_matches_torch(name):
    rng = np.random.default_rng(len(name))
    f, specs = LAYOUT[name]
    _compare(f, [make(rng, shape) for make, shape in specs], 3)
