"""Dataset, TensorDataset, Subset and random_split: what samples they give, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)


def make_dataset(n: int = 10) -> TensorDataset:
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


# ----- TensorDataset --------------------------------------------------------------------------
def test_tensor_dataset_items_are_tuples_of_tensors_with_the_arrays_dtypes():
    ds = make_dataset(5)
    x, y = ds[2]
    assert isinstance(x, cr.Tensor) and isinstance(y, cr.Tensor)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.shape == (3,) and y.shape == ()
    np.testing.assert_array_equal(x.numpy(), [6, 7, 8])
    assert y.item() == 2
    assert len(ds) == 5


def test_tensor_dataset_negative_index_counts_from_the_end():
    ds = make_dataset(5)
    assert ds[-1][1].item() == 4


def test_tensor_dataset_holds_numpy_arrays_and_tensors_without_copying():
    X = np.zeros((4, 2), dtype=np.float32)
    y = cr.tensor(np.zeros(4, dtype=np.int64))
    ds = TensorDataset(X, y)
    assert ds.arrays[0] is X
    assert ds.arrays[1] is y.numpy()
    assert ds.tensors[0].numpy() is X


def test_tensor_dataset_converts_lists_following_chainrules_dtype_rules():
    ds = TensorDataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    assert ds.arrays[0].dtype == np.float32
    assert ds.arrays[1].dtype == np.int64


def test_tensor_dataset_refuses_arrays_of_different_lengths_naming_the_lengths():
    with pytest.raises(ValueError, match="Size mismatch between tensors.*same length.*4, 3"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))


def test_tensor_dataset_refuses_no_arrays_and_0d_arrays():
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.zeros(3), np.float32(1.0))


def test_tensor_dataset_refuses_non_numeric_data():
    with pytest.raises(TypeError, match="real numbers"):
        TensorDataset(np.array(["a", "b"]))


def test_tensor_dataset_index_errors():
    ds = make_dataset(3)
    with pytest.raises(IndexError, match="index 3 is out of range for a dataset of length 3"):
        ds[3]
    with pytest.raises(IndexError, match="-4"):
        ds[-4]
    with pytest.raises(TypeError, match="integer"):
        ds[1.0]
    with pytest.raises(TypeError, match="integer"):
        ds[True]


def test_base_dataset_requires_getitem_and_len():
    class Nothing(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="__getitem__"):
        Nothing()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Nothing())


def test_a_custom_dataset_only_needs_getitem_and_len():
    class Squares(Dataset):
        def __getitem__(self, i):
            return i, i * i

        def __len__(self):
            return 4

    assert [Squares()[i] for i in range(4)] == [(0, 0), (1, 1), (2, 4), (3, 9)]


# ----- Subset ---------------------------------------------------------------------------------
def test_subset_gives_the_samples_at_its_indices_in_order():
    ds = make_dataset(10)
    sub = Subset(ds, [7, 2, 2])
    assert len(sub) == 3
    assert [sub[i][1].item() for i in range(3)] == [7, 2, 2]
    assert sub[-1][1].item() == 2


def test_subsets_nest():
    inner = Subset(make_dataset(10), [9, 8, 7, 6])
    outer = Subset(inner, [3, 0])
    assert [outer[i][1].item() for i in range(2)] == [6, 9]


def test_subset_refuses_indices_outside_the_dataset():
    with pytest.raises(IndexError, match="Subset index 10 is out of range .* length 10"):
        Subset(make_dataset(10), [0, 10])
    with pytest.raises(IndexError, match="-1"):
        Subset(make_dataset(10), [-1])


def test_subset_refuses_indices_that_are_not_a_1d_integer_sequence():
    with pytest.raises(ValueError, match="1-D sequence of integers"):
        Subset(make_dataset(10), [[0, 1]])
    with pytest.raises(ValueError, match="1-D sequence of integers.*float"):
        Subset(make_dataset(10), [0.0, 1.0])


def test_an_empty_subset_is_allowed():
    assert len(Subset(make_dataset(3), [])) == 0


# ----- random_split ---------------------------------------------------------------------------
def _ids(subset: Subset) -> list[int]:
    return [subset[i][1].item() for i in range(len(subset))]


def test_random_split_with_counts_partitions_the_dataset():
    a, b, c = random_split(make_dataset(10), [5, 3, 2], generator=0)
    assert (len(a), len(b), len(c)) == (5, 3, 2)
    assert sorted(_ids(a) + _ids(b) + _ids(c)) == list(range(10))


@pytest.mark.parametrize(
    ("n", "fractions", "expected"),
    [
        (10, [0.8, 0.2], [8, 2]),
        (10, [0.33, 0.33, 0.34], [4, 3, 3]),  # floors 3+3+3, the one left over goes first
        (7, [0.5, 0.5], [4, 3]),
    ],
)
def test_random_split_with_fractions_floors_then_deals_out_the_remainder(n, fractions, expected):
    parts = random_split(make_dataset(n), fractions, generator=0)
    assert [len(p) for p in parts] == expected


def test_a_fraction_giving_an_empty_split_warns_as_pytorch():
    with pytest.warns(UserWarning, match="Length of split at index 3 is 0"):
        parts = random_split(make_dataset(3), [0.25, 0.25, 0.25, 0.25], generator=0)
    assert [len(p) for p in parts] == [1, 1, 1, 0]


@pytest.mark.parametrize(
    ("n", "fractions"),
    [(10, [0.8, 0.2]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (101, [0.7, 0.1, 0.2])],
)
def test_random_split_fraction_sizes_match_pytorch(n, fractions):
    torch = pytest.importorskip("torch")
    expected = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert [len(p) for p in random_split(make_dataset(n), fractions, generator=0)] == expected


@given(
    n=st.integers(1, 50),
    cuts=st.lists(st.integers(0, 50), min_size=0, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_split_covers_every_sample_exactly_once(n, cuts, seed):
    bounds = sorted(min(c, n) for c in cuts)
    counts = np.diff([0, *bounds, n]).tolist()
    parts = random_split(make_dataset(n), counts, generator=seed)
    assert [len(p) for p in parts] == counts
    assert sorted(i for p in parts for i in _ids(p)) == list(range(n))


def test_random_split_is_reproducible_with_a_seed_or_manual_seed():
    ds = make_dataset(20)
    first = [_ids(p) for p in random_split(ds, [10, 10], generator=np.random.default_rng(3))]
    again = [_ids(p) for p in random_split(ds, [10, 10], generator=np.random.default_rng(3))]
    assert first == again
    cr.manual_seed(5)
    global_first = [_ids(p) for p in random_split(ds, [0.5, 0.5])]
    cr.manual_seed(5)
    assert [_ids(p) for p in random_split(ds, [0.5, 0.5])] == global_first
    assert first[0] != list(range(10))  # it did shuffle


@pytest.mark.parametrize(
    ("lengths", "error", "message"),
    [
        ([5, 4], ValueError, r"sum to 9, but the dataset has 10 samples"),
        ([11, -1], ValueError, "non-negative"),
        ([0.5, 0.4], ValueError, "must sum to 1"),
        ([1.5, -0.5], ValueError, r"lie in \[0, 1\]"),
        ([], ValueError, "at least one length"),
        (["5", "5"], TypeError, "integers or fractions"),
        ([True, 9], TypeError, "integers or fractions"),
    ],
)
def test_random_split_refuses_bad_lengths(lengths, error, message):
    with pytest.raises(error, match=message):
        random_split(make_dataset(10), lengths, generator=0)


def test_random_split_refuses_a_generator_of_the_wrong_type():
    with pytest.raises(TypeError, match="numpy.random.Generator, an integer seed or None"):
        random_split(make_dataset(4), [2, 2], generator=np.random.RandomState(0))
    with pytest.raises(ValueError, match="non-negative"):
        random_split(make_dataset(4), [2, 2], generator=-1)


# ----- ConcatDataset, ChainDataset, StackDataset, IterableDataset ------------------------------
def test_concat_dataset_puts_datasets_end_to_end_with_cumulative_sizes():
    cat = ConcatDataset([make_dataset(3), make_dataset(0), make_dataset(4)])
    assert len(cat) == 7 and cat.cumulative_sizes == [3, 3, 7]
    assert [cat[i][1].item() for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert cat[-1][1].item() == 3 and cat[-7][1].item() == 0


def test_adding_datasets_concatenates_them():
    both = make_dataset(2) + make_dataset(3)
    assert isinstance(both, ConcatDataset) and len(both) == 5


def test_concat_dataset_index_errors():
    cat = ConcatDataset([make_dataset(3)])
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        cat[-4]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        cat[3]
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(ValueError, match="does not support IterableDataset"):
        ConcatDataset([Count(2)])


class Count(IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_chain_dataset_iterates_its_streams_in_turn():
    chain = Count(2) + Count(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2]
    with pytest.raises(TypeError, match="has no len"):
        len(chain)
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ChainDataset([make_dataset(2)]))


def test_stack_dataset_zips_datasets_as_tuples_or_dicts():
    a, b = make_dataset(3), Subset(make_dataset(5), [4, 3, 2])
    assert [s[1][1].item() for s in (StackDataset(a, b)[i] for i in range(3))] == [4, 3, 2]
    named = StackDataset(x=a, y=b)
    assert set(named[0]) == {"x", "y"} and len(named) == 3
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a, make_dataset(2))
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(a, y=b)
    with pytest.raises(ValueError, match="At least one dataset"):
        StackDataset()


def test_tensor_dataset_size_mismatch_is_also_pytorchs_assertion_error():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(np.zeros(2), np.zeros(3))


def test_random_split_takes_a_chainrule_generator():
    def split():
        return [
            _ids(p) for p in random_split(make_dataset(9), [4, 5], cr.Generator().manual_seed(2))
        ]

    assert split() == split()
