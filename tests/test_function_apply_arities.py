"""Function.apply hands forward the same arguments on each of its paths (one, two, three or
more inputs; with and without keyword settings), and backward()'s default seed is a fresh
array of ones in the root's dtype."""

import numpy as np
import pytest

import chainrule as cr


class Record(cr.Function, register=False):
    """d(Σ inputs)/d input_i = 1 (forward also records what it was given)."""

    op_name = "tests.Record"

    def forward(self, *arrays, **params):
        self.seen = (arrays, params)
        return sum(arrays[1:], arrays[0].copy())

    def backward(self, grad):
        return (grad,) * len(self.seen[0])


def inputs(n):
    return [cr.tensor(np.full(2, float(i)), requires_grad=i % 2 == 0) for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("params", [{}, {"scale": 2}])
def test_apply_passes_every_input_array_and_setting_to_forward(n, params):
    ts = inputs(n)
    out = Record.apply(*ts, **params)
    arrays, got = out.grad_fn.seen
    assert len(arrays) == n
    assert all(a is t.numpy() for a, t in zip(arrays, ts))
    assert got == params
    assert out.grad_fn.params == params
    assert out.grad_fn.needs_input_grad == tuple(i % 2 == 0 for i in range(n))
    out.sum().backward()
    for i, t in enumerate(ts):
        assert (t.grad is None) == (i % 2 == 1)


def test_apply_without_any_input_that_requires_grad_records_nothing():
    out = Record.apply(cr.tensor([1.0]), cr.tensor([2.0]), cr.tensor([3.0]))
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [6.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_of_a_scalar_leaf_stores_a_fresh_grad_of_ones_in_its_dtype(dtype):
    x = cr.tensor(np.array(3.0, dtype=dtype), requires_grad=True)
    x.backward()
    first = x.grad
    assert first.dtype == dtype and first.item() == 1.0
    x.backward()  # accumulates in place into the first .grad, which owns its memory
    assert x.grad is first and first.item() == 2.0
