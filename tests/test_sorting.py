"""Sorting, order statistics, scans and integer reductions: indices, tie rules and errors as in
PyTorch (values and gradients are in the parity and gradcheck suites)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
X = RNG.permutation(60).reshape(3, 4, 5) * 0.25 - 7.0  # no ties


def both(fn, x=X):
    return fn(cr, cr.tensor(x)), fn(torch, torch.tensor(x))


@pytest.mark.parametrize(
    "name, fn",
    [
        ("sort", lambda m, x: m.sort(x, 1)),
        ("sort-descending", lambda m, x: x.sort(dim=0, descending=True)),
        ("topk", lambda m, x: m.topk(x, 3, dim=-1)),
        ("topk-smallest", lambda m, x: x.topk(2, 1, largest=False)),
        ("kthvalue", lambda m, x: m.kthvalue(x, 2, 0, keepdim=True)),
        ("median-dim", lambda m, x: x.median(1)),
        ("mode", lambda m, x: m.mode(x, -1)),
        ("cummax", lambda m, x: m.cummax(x, 1)),
        ("cummin", lambda m, x: x.cummin(dim=2)),
    ],
)
def test_values_and_indices_match_torch(name, fn):
    ours, theirs = both(fn)
    assert type(ours).__name__ == type(theirs).__name__
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == np.int64


@pytest.mark.parametrize(
    "name, fn",
    [
        ("argsort", lambda m, x: m.argsort(x, 1, descending=True)),
        ("argmax-all", lambda m, x: m.argmax(x)),
        ("argmax-keepdim-all", lambda m, x: x.argmax(keepdim=True)),
        ("argmin-dim-keepdim", lambda m, x: x.argmin(1, keepdim=True)),
        ("any-dim", lambda m, x: m.any(x > 0, 1)),
        ("all-keepdim", lambda m, x: (x > -6).all(dim=-1, keepdim=True)),
        ("count_nonzero", lambda m, x: m.count_nonzero(m.cumsum(x > 0, 1), (0, 2))),
        ("cumsum-int", lambda m, x: m.cumsum(m.argsort(x, 2), 2)),
        ("prod-bool", lambda m, x: m.prod(x > -7, 0)),
        ("amax-all", lambda m, x: m.amax(x)),
        ("aminmax-min", lambda m, x: m.aminmax(x, dim=1).min),
        ("msort", lambda m, x: m.msort(x)),
    ],
)
def test_integer_and_plain_results_match_torch(name, fn):
    ours, theirs = both(fn)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))


def test_sort_is_stable_and_puts_nan_last_like_torch():
    x = np.array([1.0, np.nan, 0.0, 1.0, 0.0, 2.0])
    for descending in (False, True):
        ours, theirs = both(lambda m, t, d=descending: m.sort(t, descending=d, stable=True), x)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_cummax_ties_report_the_last_index_and_get_its_gradient():
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    ours, theirs = both(lambda m, t: m.cummax(t, 0), x)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_mode_ties_give_the_smallest_value_at_its_last_index():
    x = np.array([[3.0, 1.0, 3.0, 1.0, 2.0], [5.0, 5.0, 4.0, 4.0, 6.0]])
    ours, theirs = both(lambda m, t: m.mode(t, 1), x)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_median_without_dim_is_the_lower_median_and_nan_when_empty():
    assert cr.median(cr.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0
    assert np.isnan(cr.median(cr.tensor(np.zeros(0))).item())


def test_zero_dim_tensors_sort_and_scan_as_one_element():
    x = cr.tensor(3.0)
    assert cr.sort(x).values.shape == () and cr.sort(x, 0).indices.item() == 0
    assert cr.topk(x, 1).values.item() == 3.0
    assert cr.cumsum(x, -1).shape == () and cr.cummax(x, 0).indices.shape == ()


def test_topk_with_k_larger_than_the_dimension_is_refused():
    with pytest.raises(
        IndexError, match=r"topk\(\): k=6 is out of range for dimension 1 of size 5"
    ):
        cr.topk(cr.tensor(np.zeros((2, 5))), 6)


def test_kthvalue_with_k_zero_is_refused():
    with pytest.raises(IndexError, match=r"kthvalue\(\): k=0 is out of range"):
        cr.kthvalue(cr.tensor([1.0, 2.0]), 0)


def test_sort_with_a_dim_out_of_range_is_refused():
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor with 2 dimensions"):
        cr.sort(cr.tensor(np.zeros((2, 3))), 2)


def test_cumsum_without_dim_is_refused():
    with pytest.raises(TypeError, match=r"cumsum\(\) missing required argument 'dim'"):
        cr.cumsum(cr.tensor([1.0]))


def test_dim_and_axis_together_are_refused():
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        cr.std(cr.tensor([1.0, 2.0]), 0, axis=0)


def test_out_is_refused():
    with pytest.raises(TypeError, match="out= is not supported"):
        cr.sort(cr.tensor([1.0]), out=cr.tensor([0.0]))


def test_std_of_an_integer_tensor_is_refused():
    with pytest.raises(TypeError, match=r"std\(\) needs a floating-point tensor; got int64"):
        cr.std(cr.tensor([1, 2]))


def test_amax_over_an_empty_dim_is_refused():
    with pytest.raises(IndexError, match=r"amax\(\): expected reduction dim \[1\]"):
        cr.amax(cr.tensor(np.zeros((2, 0))), 1)


def test_argmax_of_an_empty_tensor_is_refused():
    with pytest.raises(IndexError, match="argmax"):
        cr.argmax(cr.tensor(np.zeros(0)))


def test_numpy_aliases_axis_and_keepdims_are_accepted():
    x = cr.tensor(X)
    np.testing.assert_allclose(
        cr.std(x, axis=1, keepdims=True).numpy(), X.std(1, ddof=1, keepdims=True)
    )
    np.testing.assert_array_equal(cr.argmax(x, axis=2).numpy(), X.argmax(2))
    np.testing.assert_array_equal(cr.sort(x, axis=0).values.numpy(), np.sort(X, 0))


def test_no_runtime_warning_at_kinks():
    zero = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    for f in (lambda t: cr.std(t, 1), lambda t: cr.prod(t, 1), lambda t: cr.cumprod(t, 1)):
        f(zero).backward(np.ones(f(zero).shape))
    x = cr.tensor([-np.inf, -np.inf, 1.0, -np.inf], requires_grad=True)
    cr.logcumsumexp(x, 0).backward(np.array([1.0, -2.0, 3.0, 1.0]))
    t = torch.tensor([-np.inf, -np.inf, 1.0, -np.inf], requires_grad=True)
    torch.logcumsumexp(t, 0).backward(torch.tensor([1.0, -2.0, 3.0, 1.0], dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # NaN where torch has NaN
