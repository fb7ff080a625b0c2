"""``x[index]`` follows PyTorch where it differs from NumPy: integers select first, so they never
join the advanced indices (``x[0, :, [1, 2]]`` on shape (3, 4, 5) has shape (4, 2), not (2, 4))."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

SHAPE = (3, 4, 5, 6)
MASK = np.array([True, False, True, True, False])
INDEXES = {
    "int-slice-list": (0, slice(None), [1, 2]),
    "slice-int-slice-list": (slice(None), 0, slice(None), [1, 2]),
    "none-int-slice-list": (None, 0, slice(None), [1, 2]),
    "int-none-list": (0, None, [1, 2]),
    "int-ellipsis-list": (0, Ellipsis, [1, 2]),
    "negative-int-and-list": (-1, slice(None), [-1, 2]),
    "int-slice-mask": (0, slice(None), MASK),
    "int-bool-scalar": (0, -1, slice(None), True),
    "lists-around-slice": ([0, 1], slice(None), [1, 2]),
    "list-int-list": ([0, 1], 0, [1, 2]),
}
EXPECTED = {
    "int-slice-list": (4, 2, 6),
    "slice-int-slice-list": (3, 5, 2),
    "none-int-slice-list": (1, 4, 2, 6),
    "int-none-list": (1, 2, 5, 6),
    "int-ellipsis-list": (4, 5, 2),
    "negative-int-and-list": (4, 2, 6),
    "int-slice-mask": (4, 3, 6),
    "int-bool-scalar": (5, 1, 6),
    "lists-around-slice": (2, 4, 6),
    "list-int-list": (2, 6),
}


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_integers_select_before_advanced_indices_as_in_pytorch(name):
    x = cr.tensor(np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE))
    assert x[INDEXES[name]].shape == EXPECTED[name]


def test_integer_and_list_index_gradient_lands_on_the_selected_entries():
    x = cr.tensor(np.zeros((3, 4, 5)), requires_grad=True)
    x[0, :, [1, 1]].sum().backward()
    want = np.zeros((3, 4, 5))
    want[0, :, 1] = 2.0
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_zero_dim_integer_tensor_indexes_like_an_int():
    x = cr.tensor(np.zeros((3, 4, 5)))
    assert x[cr.tensor(np.array(1)), :, [0, 1]].shape == (4, 2)


def test_empty_list_index_selects_nothing():
    assert cr.tensor(np.zeros((3, 4)))[[]].shape == (0, 4)


def test_float_index_tensor_is_refused_naming_the_dtypes():
    x = cr.tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="must be integer .* or bool; got float64"):
        x[cr.tensor(np.array([0.0, 1.0]))]


def test_index_out_of_range_names_axis_and_size():
    x = cr.tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 1 with size 4"):
        x[:, 7]
