"""float() and int() of a tensor that requires grad, inside and outside a create_graph backward.

Inside a create_graph=True backward pass a Python number made from a tensor has no history, so
a gradient built from it would silently stop depending on that tensor: refused there, and only
there (ordinary code keeps PyTorch's behaviour).
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


class ScaledBySum(cr.Function, register=False):
    """y = x·c with c = Σx treated as a constant (its backward turns c into a Python float)."""

    op_name = "tests.ScaledBySum"

    def forward(self, x):
        self.x = x
        return x * x.sum()

    def backward(self, grad):
        return (grad * float(self.x.sum()),)


class ScaledByCount(cr.Function, register=False):
    """y = x·n with n = int(Σx) (its backward turns n into a Python int)."""

    op_name = "tests.ScaledByCount"

    def forward(self, x):
        self.x = x
        return x * int(x.sum())

    def backward(self, grad):
        return (grad * int(self.x.sum()),)


def leaf(values):
    return cr.tensor(np.array(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize(("op", "kind"), [(ScaledBySum, "float"), (ScaledByCount, "int")])
def test_a_number_from_a_tensor_inside_a_create_graph_backward_raises(op, kind):
    x = leaf([1.0, 2.0])
    y = (op.apply(x) * x).sum()
    with pytest.raises(RuntimeError, match=rf"^{kind}\(\) of a tensor that requires grad inside"):
        autograd.grad(y, x, create_graph=True)


@pytest.mark.parametrize("op", [ScaledBySum, ScaledByCount])
def test_a_number_from_a_tensor_in_a_first_order_backward_is_allowed(op):
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad(op.apply(x).sum(), x)  # arrays in the first-order pass
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])


def test_float_and_int_of_a_tensor_that_requires_grad_work_in_ordinary_code():
    x = leaf([2.5])
    assert float(x) == 2.5
    assert int(x) == 2
    assert float((x * 2).sum()) == 5.0
