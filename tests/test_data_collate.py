"""default_collate and default_convert: structure, dtypes and errors (torch-free)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import default_collate, default_convert

Point = namedtuple("Point", "x y")


def test_python_numbers_collate_to_pytorchs_dtypes():
    assert default_collate([1.0, 2.0]).dtype == np.float64
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([1, 2.5]).dtype == np.float32  # torch.tensor([1, 2.5])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int32, np.uint8, np.bool_])
def test_numpy_scalars_and_arrays_keep_their_dtype(dtype):
    scalars = default_collate([dtype(1), dtype(0)])
    assert scalars.dtype == dtype and scalars.shape == (2,)
    arrays = default_collate([np.ones((2, 3), dtype), np.zeros((2, 3), dtype)])
    assert arrays.dtype == dtype and arrays.shape == (2, 2, 3)


def test_tensors_are_stacked_along_a_new_first_axis():
    batch = default_collate([cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])])
    assert isinstance(batch, cr.Tensor)
    np.testing.assert_array_equal(batch.numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_the_batch_owns_its_memory():
    a = np.zeros(3, np.float32)
    batch = default_collate([a, a])
    batch.numpy()[...] = 1
    assert not a.any()


def test_structures_are_collated_field_by_field():
    batch = default_collate([
        {"x": np.zeros(2), "meta": (1, "a"), "p": Point(1.0, [1, 2])},
        {"x": np.ones(2), "meta": (2, "b"), "p": Point(2.0, [3, 4])},
    ])  # fmt: skip
    assert set(batch) == {"x", "meta", "p"}
    assert batch["x"].shape == (2, 2)
    ids, names = batch["meta"]
    assert isinstance(batch["meta"], list) and ids.numpy().tolist() == [1, 2]
    assert names == ("a", "b")  # the field as zip gives it, as in PyTorch
    assert isinstance(batch["p"], Point) and batch["p"].x.dtype == np.float64
    assert [t.numpy().tolist() for t in batch["p"].y] == [[1, 3], [2, 4]]


def test_mapping_types_are_kept_when_they_can_be_rebuilt():
    batch = default_collate([OrderedDict(b=1, a=2), OrderedDict(b=3, a=4)])
    assert type(batch) is OrderedDict and list(batch) == ["b", "a"]


def test_strings_stay_a_list():
    assert default_collate(["cat", "dog"]) == ["cat", "dog"]


def test_arrays_of_different_shapes_are_refused_with_pytorchs_message():
    with pytest.raises(RuntimeError, match=r"but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_sequences_of_different_lengths_are_refused():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])


@pytest.mark.parametrize(
    ("batch", "found"),
    [
        ([None, None], "NoneType"),
        ([object()], "object"),
        ([np.array(["a"])], "<U1"),
        ([1j], "complex"),
    ],
)
def test_what_cannot_become_a_tensor_is_refused_naming_it(batch, found):
    with pytest.raises(TypeError, match=f"batch must contain tensors, numpy arrays.*{found}"):
        default_collate(batch)


def test_default_convert_turns_numpy_into_tensors_and_leaves_the_rest():
    out = default_convert([1.0, np.zeros(2), (np.float32(3),), "s", {"a": np.arange(2)}])
    assert out[0] == 1.0 and isinstance(out[1], cr.Tensor) and out[1].dtype == np.float64
    assert isinstance(out[2], list) and out[2][0].shape == () and out[2][0].dtype == np.float32
    assert out[3] == "s" and out[4]["a"].dtype == np.int64
    point = default_convert(Point(np.zeros(1), 2))
    assert isinstance(point, Point) and isinstance(point.x, cr.Tensor) and point.y == 2
    strings = np.array(["a"])
    assert default_convert(strings) is strings


def test_default_convert_shares_memory_with_the_array():
    a = np.zeros(3)
    default_convert(a).numpy()[0] = 5
    assert a[0] == 5
