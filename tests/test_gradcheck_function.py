"""``chainrule.gradcheck`` itself: it must catch wrong gradients and leave its inputs alone."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


class WrongSquare(cr.Function, register=False):
    """d x²/dx claimed as 2x + 0.5 at one element (a planted bug)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        wrong = 2 * self.x
        wrong.reshape(-1)[-1] += 0.5
        return (grad * wrong,)


def leaf(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_gradcheck_passes_a_correct_gradient_and_returns_true():
    assert cr.gradcheck(lambda a, b: (a * b).tanh(), [leaf([0.3, -0.2]), leaf([1.5, 0.5])]) is True


def test_gradcheck_names_input_index_and_both_values_of_a_wrong_gradient():
    with pytest.raises(cr.GradcheckError, match=r"input 1 at index \(1, 1\): analytic .*numeric"):
        cr.gradcheck(lambda a, b: a + WrongSquare.apply(b), [leaf([[1.0]]), leaf(np.ones((2, 2)))])


def test_gradcheck_fast_mode_catches_the_wrong_gradient_too():
    with pytest.raises(cr.GradcheckError, match="random projection"):
        cr.gradcheck(WrongSquare.apply, [leaf(np.ones((3, 2)))], fast_mode=True)
    assert cr.gradcheck(lambda x: x.exp().sum(0), [leaf(np.ones((3, 2)))], fast_mode=True)


def test_gradcheck_can_return_false_instead_of_raising():
    assert cr.gradcheck(WrongSquare.apply, [leaf([1.0])], raise_exception=False) is False


def test_gradcheck_never_changes_the_callers_arrays():
    x = leaf([0.1, 0.2, 0.3])
    before = x.numpy().copy()
    cr.gradcheck(lambda t: t.sigmoid(), [x])
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None


def test_gradcheck_warns_for_float32_inputs_and_checks_a_float64_copy():
    x = cr.tensor([0.1, 0.2], requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        assert cr.gradcheck(lambda t: t * t, [x])
    assert x.dtype == np.float32


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        cr.gradcheck(lambda t: t * 2, [cr.tensor(np.ones(2))])
