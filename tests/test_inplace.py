"""In-place ops: values, version counters, the saved-tensor check, leaves, rebased history."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

MODIFIED = "modified by an inplace operation"


def leaf(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda t: t.add_(2), [3.0, 0.0, 5.0]),
        (lambda t: t.add_(cr.tensor([1.0, 1.0, 1.0]), alpha=2), [3.0, 0.0, 5.0]),
        (lambda t: t.sub_(1), [0.0, -3.0, 2.0]),
        (lambda t: t.mul_(2), [2.0, -4.0, 6.0]),
        (lambda t: t.div_(2), [0.5, -1.0, 1.5]),
        (lambda t: t.clamp_(-1, 2), [1.0, -1.0, 2.0]),
        (lambda t: t.neg_(), [-1.0, 2.0, -3.0]),
        (lambda t: t.exp_(), list(np.exp([1.0, -2.0, 3.0]))),
        (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
        (lambda t: t.fill_(7), [7.0, 7.0, 7.0]),
        (lambda t: t.copy_(cr.tensor([4.0, 5.0, 6.0])), [4.0, 5.0, 6.0]),
        (lambda t: t.masked_fill_(cr.tensor([True, False, True]), 0.0), [0.0, -2.0, 0.0]),
        (lambda t: t.index_add_(0, cr.tensor([0, 0]), cr.tensor([1.0, 2.0])), [4.0, -2.0, 3.0]),
        (lambda t: t.scatter_(0, cr.tensor([2]), cr.tensor([9.0])), [1.0, -2.0, 9.0]),
    ],
)
def test_in_place_ops_write_the_tensor_itself_and_count_the_write(call, expected):
    t = cr.tensor([1.0, -2.0, 3.0], dtype="float64")
    array = t.numpy()
    assert call(t) is t
    assert t.numpy() is array
    np.testing.assert_allclose(t.numpy(), expected)
    assert t._version == 1


def test_augmented_operators_are_in_place():
    t = cr.tensor([1.0, 2.0])
    alias = t
    t += 1
    t -= 0.5
    t *= 4
    t /= 2
    assert t is alias and t._version == 4
    np.testing.assert_allclose(t.numpy(), [3.0, 5.0])


def test_random_fills_draw_from_the_seeded_generator():
    cr.manual_seed(0)
    a = cr.empty(5).uniform_(-1, 1).numpy().copy()
    cr.manual_seed(0)
    b = cr.empty(5).uniform_(-1, 1).numpy()
    np.testing.assert_array_equal(a, b)
    assert ((a >= -1) & (a < 1)).all()
    assert cr.zeros(1000).normal_(3.0, 0.1).numpy().mean() == pytest.approx(3.0, abs=0.02)


def test_a_tensor_saved_for_backward_and_written_under_no_grad_raises_instead_of_a_wrong_gradient():
    x = leaf([1.0, 2.0])
    y = x.exp()  # exp keeps its output for backward
    with cr.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED) as err:
        y.sum().backward()
    assert "output 0 of ExpBackward0, is at version 1; expected version 0" in str(err.value)


def test_a_saved_input_written_in_place_raises_naming_the_node_and_versions():
    x = leaf([1.0, 2.0])
    h = x * 1.0
    y = h * h  # mul keeps both operands
    with cr.no_grad():
        h.add_(1)
        h[0] = 5.0
    with pytest.raises(RuntimeError, match="input 0 of MulBackward0, is at version 2; expected"):
        y.sum().backward()


def test_a_write_to_a_tensor_no_node_kept_is_harmless():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = h + 1.0  # add keeps nothing
    with cr.no_grad():
        h.zero_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_in_place_on_a_leaf_that_requires_grad_raises_as_pytorch():
    w = leaf([1.0])
    for write in (lambda: w.add_(1), lambda: w.__setitem__(0, 2.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
            write()
    with cr.no_grad():
        w.add_(1)  # allowed: a parameter update
    assert w.numpy()[0] == 2.0 and w.is_leaf and w.requires_grad


def test_in_place_on_a_non_leaf_is_recorded_and_its_gradient_flows():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    y.mul_(x)  # y = 2x², recorded on y's new history
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())
    assert y.grad_fn.name() == "AddBackward0" and y._version == 2


def test_assignment_of_a_value_that_requires_grad_records_copy_slices():
    w = leaf([2.0, 3.0])
    buf = cr.zeros(3, dtype=cr.float64)
    buf[1:] = w * w
    buf[0] = w[0]
    assert buf.grad_fn.name() == "CopySlices" and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2 * 2.0 + 1.0, 2 * 3.0])


def test_masked_fill_in_place_on_a_non_leaf_stops_the_gradient_where_filled():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    y.masked_fill_(cr.tensor([False, True, False]), 0.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 1.0])


def test_a_consumer_recorded_before_a_recorded_in_place_op_refuses_rather_than_misroute():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    z = y + 1.0
    y.mul_(3.0)
    with pytest.raises(RuntimeError, match="cannot send a gradient to the value a tensor had"):
        (z + y).sum().backward()


def test_in_place_result_that_does_not_fit_raises_pytorchs_shape_error():
    t = cr.zeros(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast"):
        t.add_(cr.zeros((2, 3)))


def test_in_place_float_result_into_an_integer_tensor_raises():
    t = cr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        t.mul_(1.5)


def test_copy_from_a_source_that_does_not_broadcast_raises():
    with pytest.raises(RuntimeError, match=r"copy_\(\): the source of shape \[2\]"):
        cr.zeros(3).copy_(cr.zeros(2))


def test_data_array_writes_are_not_counted_as_in_pytorch():
    t = cr.zeros(2)
    t.numpy()[...] = 1.0
    assert t._version == 0


def test_in_place_on_a_view_while_recording_refuses_instead_of_missing_the_base():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1.0
    with pytest.raises(RuntimeError, match="in-place op on a view"):
        y[0].fill_(3.0)
