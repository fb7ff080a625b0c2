"""Bad input to the indexing and layout ops gets a message naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

X = cr.tensor(np.zeros((3, 4)))


def test_gather_index_out_of_range_names_dim_and_size():
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        F.gather(X, 0, np.array([[5, 0]]))


def test_gather_float_index_is_refused():
    with pytest.raises(TypeError, match="index must be an integer tensor"):
        F.gather(X, 0, np.array([[0.0]]))


def test_gather_index_with_other_rank_is_refused():
    with pytest.raises(ValueError, match="as many as the input"):
        F.gather(X, 0, np.array([0, 1]))


def test_index_select_out_of_range_names_dim_and_size():
    with pytest.raises(IndexError, match="index 4 is out of range for dimension 1 with size 4"):
        F.index_select(X, 1, np.array([4]))


def test_masked_fill_needs_a_bool_mask():
    with pytest.raises(TypeError, match="mask must be a bool tensor; got int64"):
        F.masked_fill(X, np.array([1, 0, 1, 0]), 1.0)


def test_scatter_reduce_unknown_reduction_is_refused():
    with pytest.raises(ValueError, match="reduce must be one of"):
        F.scatter_reduce(X, 0, np.array([[0]]), X, "max")


def test_out_is_refused():
    with pytest.raises(TypeError, match="out= is not supported"):
        F.gather(X, 0, np.array([[0]]), out=X)


def test_one_hot_needs_int64_and_enough_classes():
    with pytest.raises(TypeError, match="int64"):
        F.one_hot(np.array([1.0]))
    with pytest.raises(ValueError, match="not smaller than num_classes=2"):
        F.one_hot(np.array([1, 3]), 2)


def test_one_hot_and_nonzero_and_where_give_int64():
    assert F.one_hot(cr.tensor(np.array([0, 2]))).numpy().tolist() == [[1, 0, 0], [0, 0, 1]]
    m = cr.tensor(np.array([[True, False], [False, True]]))
    assert F.nonzero(m).numpy().tolist() == [[0, 0], [1, 1]]
    rows, cols = F.where(m)
    assert rows.dtype == np.int64 and cols.numpy().tolist() == [0, 1]


def test_split_sections_must_add_up():
    with pytest.raises(ValueError, match=r"add up to 3, not dimension 1's size 4"):
        F.split(X, [1, 2], dim=1)


def test_narrow_out_of_range_names_dim_and_size():
    with pytest.raises(IndexError, match="do not fit dimension 1 of size 4"):
        F.narrow(X, 1, 3, 2)


def test_reflect_pad_wider_than_the_axis_is_refused():
    with pytest.raises(ValueError, match="must be smaller than the size 4"):
        F.pad(X, (4, 0), mode="reflect")


def test_unknown_pad_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(X, (1, 0), mode="wrap")


def test_tensor_methods_follow_pytorch_signatures():
    x = cr.tensor(np.arange(12.0).reshape(3, 4))
    assert x.gather(1, np.array([[0], [1], [2]])).shape == (3, 1)
    assert x.flip(0, 1).numpy()[0, 0] == 11.0
    assert x.repeat(2, 1, 1).shape == (2, 3, 4)
    assert x.unfold(1, 2, 2).shape == (3, 2, 2)
    assert [p.shape for p in x.chunk(2, dim=1)] == [(3, 2), (3, 2)]
    assert x.narrow(0, 1, 2).shape == (2, 4) and x.diagonal().shape == (3,)
