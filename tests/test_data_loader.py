"""DataLoader: each sample once per epoch, dtypes kept, reproducible shuffles, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.functional as F
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, blobs


class Rows(Dataset):
    """A plain (non-TensorDataset) dataset: sample i is (float32 row, int64 id)."""

    def __init__(self, n: int) -> None:
        self.X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
        self.calls = 0

    def __getitem__(self, i: int):
        self.calls += 1
        return cr.from_numpy(self.X[i]), np.int64(i)

    def __len__(self) -> int:
        return len(self.X)


def make_dataset(kind: str, n: int):
    """A dataset of n samples whose second field is the sample's id 0..n-1."""
    if kind == "tensor":
        return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))
    if kind == "subset":
        base = TensorDataset(np.zeros((n + 3, 2), np.float32), np.arange(-3, n)[::-1].copy())
        # base ids run n-1 .. -3; pick rows so the subset's ids are 0..n-1 in order.
        return Subset(base, np.arange(n + 2, 2, -1) - 3)
    return Rows(n)


def epoch_ids(loader: DataLoader) -> list[list[int]]:
    return [batch[1].numpy().tolist() for batch in loader]


# ----- coverage -------------------------------------------------------------------------------
@given(
    n=st.integers(1, 60),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    kind=st.sampled_from(["tensor", "subset", "rows"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_sample_appears_exactly_once_per_epoch(n, batch_size, shuffle, drop_last, kind, seed):
    ds = make_dataset(kind, n)
    if drop_last and batch_size > n:
        with pytest.raises(ValueError, match="would yield no batch"):
            DataLoader(ds, batch_size, shuffle=shuffle, drop_last=drop_last, generator=seed)
        return
    loader = DataLoader(ds, batch_size, shuffle=shuffle, drop_last=drop_last, generator=seed)
    batches = epoch_ids(loader)
    assert len(batches) == len(loader)
    sizes = [len(b) for b in batches]
    assert all(s == batch_size for s in sizes[:-1])
    ids = [i for b in batches for i in b]
    assert len(set(ids)) == len(ids)
    if drop_last:
        assert len(ids) == (n // batch_size) * batch_size and sizes[-1] == batch_size
    else:
        assert sorted(ids) == list(range(n))
    if not shuffle:
        assert ids == list(range(len(ids)))


@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last", "expected"),
    [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (1, 5, False, 1)],
)
def test_len_is_the_number_of_batches(n, batch_size, drop_last, expected):
    assert len(DataLoader(make_dataset("tensor", n), batch_size, drop_last=drop_last)) == expected


def test_batches_stack_samples_along_a_new_first_axis():
    X = np.arange(24, dtype=np.float32).reshape(6, 2, 2)
    loader = DataLoader(TensorDataset(X, np.arange(6)), batch_size=4)
    (xb, yb), (xl, yl) = list(loader)
    assert xb.shape == (4, 2, 2) and yb.shape == (4,)
    assert xl.shape == (2, 2, 2) and yl.shape == (2,)
    np.testing.assert_array_equal(xb.numpy(), X[:4])


def test_a_single_array_dataset_gives_one_element_lists_as_pytorch():
    # default_collate turns a batch of tuples into a list of fields (PyTorch's choice).
    (batch,) = DataLoader(TensorDataset(np.arange(3.0)), batch_size=3)
    assert isinstance(batch, list) and len(batch) == 1 and batch[0].shape == (3,)


# ----- the fast path --------------------------------------------------------------------------
@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_datasets_and_their_subsets_are_batched_without_per_sample_getitem(
    monkeypatch, shuffle
):
    def refuse(self, index):
        raise AssertionError("the fast path must not index samples one by one")

    monkeypatch.setattr(TensorDataset, "__getitem__", refuse)
    monkeypatch.setattr(Subset, "__getitem__", refuse)
    for kind in ("tensor", "subset"):
        ds = make_dataset(kind, 25)
        ids = epoch_ids(DataLoader(ds, batch_size=7, shuffle=shuffle, generator=0))
        assert sorted(i for b in ids for i in b) == list(range(25))


def test_nested_subsets_select_the_right_rows():
    base = TensorDataset(np.arange(10) * 10)
    nested = Subset(Subset(base, [9, 7, 5, 3, 1]), [4, 0, 2])
    ((batch,),) = DataLoader(nested, batch_size=3)
    assert batch.numpy().tolist() == [10, 90, 50]


def test_a_tensor_dataset_subclass_with_its_own_getitem_is_honoured():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            (x,) = super().__getitem__(i)
            return (cr.tensor(x.numpy() * 2),)

    ((batch,),) = DataLoader(Doubled(np.arange(4)), batch_size=4)
    assert batch.numpy().tolist() == [0, 2, 4, 6]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("kind", ["tensor", "subset", "rows"])
def test_changing_a_batch_in_place_leaves_the_dataset_alone(kind, shuffle):
    ds = make_dataset(kind, 6)
    before = [np.array(ds[i][0].numpy()) for i in range(6)]
    for xb, _ in DataLoader(ds, batch_size=4, shuffle=shuffle, generator=0):
        xb.numpy()[...] = -1
    assert all(np.array_equal(ds[i][0].numpy(), before[i]) for i in range(6))


# ----- dtypes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_keep_the_arrays_dtypes(dtype, shuffle):
    ds = TensorDataset(np.ones((5, 2), dtype=dtype), np.arange(5, dtype=np.int64))
    for xb, yb in DataLoader(ds, batch_size=2, shuffle=shuffle, generator=0):
        assert xb.dtype == dtype and yb.dtype == np.int64


def test_generic_datasets_keep_dtypes_and_python_numbers_follow_pytorchs_rules():
    class Mixed(Dataset):
        def __getitem__(self, i):
            return np.full(2, i, np.float64), float(i), i, np.float32(i)

        def __len__(self):
            return 3

    a, b, c, d = next(iter(DataLoader(Mixed(), batch_size=3)))
    # A Python float collates to float64, as torch's default_collate gives it.
    assert (a.dtype, b.dtype, c.dtype, d.dtype) == (np.float64, np.float64, np.int64, np.float32)
    assert a.shape == (3, 2) and b.shape == (3,)


def test_samples_that_are_single_values_give_single_tensor_batches():
    class Plain(Dataset):
        def __getitem__(self, i):
            return np.array([i, i], np.float32)

        def __len__(self):
            return 5

    batches = list(DataLoader(Plain(), batch_size=2))
    assert all(isinstance(b, cr.Tensor) for b in batches)
    assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]


def test_generic_datasets_are_read_once_per_sample_per_epoch():
    ds = Rows(10)
    list(DataLoader(ds, batch_size=3, shuffle=True, generator=0))
    assert ds.calls == 10


def test_samples_of_different_structure_cannot_be_batched():
    class Ragged(Dataset):
        def __getitem__(self, i):
            return (1.0, 2.0) if i == 0 else (1.0,)

        def __len__(self):
            return 2

    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        list(DataLoader(Ragged(), batch_size=2))


def test_samples_of_different_shapes_cannot_be_batched():
    class Shapes(Dataset):
        def __getitem__(self, i):
            return (np.zeros(i + 1),)

        def __len__(self):
            return 2

    with pytest.raises(RuntimeError, match=r"equal size, but got \[1\] at entry 0 and \[2\]"):
        list(DataLoader(Shapes(), batch_size=2))


# ----- shuffling and reproducibility -----------------------------------------------------------
def test_manual_seed_makes_shuffling_reproducible():
    ds = make_dataset("tensor", 30)
    cr.manual_seed(7)
    first = epoch_ids(DataLoader(ds, batch_size=8, shuffle=True))
    cr.manual_seed(7)
    assert epoch_ids(DataLoader(ds, batch_size=8, shuffle=True)) == first
    assert sum(first, []) != list(range(30))


def test_the_global_generator_is_looked_up_when_each_epoch_starts():
    loader = DataLoader(make_dataset("tensor", 30), batch_size=8, shuffle=True)
    cr.manual_seed(11)
    first = epoch_ids(loader)
    cr.manual_seed(11)
    assert epoch_ids(loader) == first


@pytest.mark.parametrize("kind", ["tensor", "subset", "rows"])
def test_a_given_generator_makes_shuffling_reproducible_across_dataset_kinds(kind):
    ds = make_dataset(kind, 30)

    def run(generator):
        loader = DataLoader(ds, batch_size=8, shuffle=True, generator=generator)
        return epoch_ids(loader), epoch_ids(loader)

    assert run(np.random.default_rng(1)) == run(np.random.default_rng(1))
    assert run(1) == run(1)
    epoch1, epoch2 = run(1)
    assert epoch1 != epoch2  # a new order every epoch


def test_same_seed_gives_the_same_order_for_every_dataset_kind():
    orders = {
        kind: epoch_ids(DataLoader(make_dataset(kind, 20), 6, shuffle=True, generator=4))
        for kind in ("tensor", "subset", "rows")
    }
    assert orders["tensor"] == orders["subset"] == orders["rows"]


# ----- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [0, -1, 2.5, 2.0, "4", True])
def test_batch_size_must_be_a_positive_integer_or_none(batch_size):
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        DataLoader(make_dataset("tensor", 4), batch_size=batch_size)


def test_numpy_integer_batch_sizes_are_accepted():
    assert len(DataLoader(make_dataset("tensor", 4), batch_size=np.int64(2))) == 2


@pytest.mark.parametrize("empty", [TensorDataset(np.zeros((0, 3))), Rows(0)])
def test_an_empty_dataset_is_refused_when_the_loader_is_built(empty):
    with pytest.raises(ValueError, match="empty dataset .* length 0"):
        DataLoader(empty, batch_size=2)


def test_a_loader_that_would_yield_nothing_is_refused():
    with pytest.raises(ValueError, match="batch_size=5 larger than the dataset \\(4 samples\\)"):
        DataLoader(make_dataset("tensor", 4), batch_size=5, drop_last=True)


def test_a_generator_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(make_dataset("tensor", 4), shuffle=True, generator="seed")


# ----- in a training loop ---------------------------------------------------------------------
def test_minibatch_training_on_blobs_learns_a_linear_classifier():
    X, y = blobs(300, centers=[[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]], cluster_std=0.7, generator=0)
    w = cr.tensor(np.zeros((3, 2), np.float32), requires_grad=True)
    b = cr.tensor(np.zeros(3, np.float32), requires_grad=True)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=0)
    for _ in range(5):
        for xb, yb in loader:
            loss = F.cross_entropy(F.linear(xb, w, b), yb)
            w.grad = b.grad = None
            loss.backward()
            w.data -= 0.1 * w.grad.numpy()
            b.data -= 0.1 * b.grad.numpy()
    accuracy = (F.linear(cr.tensor(X), w, b).argmax(axis=1).numpy() == y).mean()
    assert accuracy > 0.95


# ----- PyTorch's options ----------------------------------------------------------------------
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_the_fast_path_gives_the_batches_sample_by_sample_reading_gives(shuffle, drop_last):
    ds = make_dataset("subset", 23)

    class Plain(Dataset):  # the same samples, through the generic path
        def __getitem__(self, i):
            return ds[i]

        def __len__(self):
            return len(ds)

    def epoch(dataset):
        loader = DataLoader(dataset, 5, shuffle=shuffle, drop_last=drop_last, generator=3)
        return [[t.numpy().tolist() for t in batch] for batch in loader]

    fast, slow = epoch(ds), epoch(Plain())
    assert fast == slow
    batch = next(iter(DataLoader(ds, 5)))
    assert isinstance(batch, list) and [t.dtype for t in batch] == [np.float32, np.int64]


def test_num_workers_warns_and_gives_the_same_batches_in_the_same_order():
    ds = make_dataset("rows", 11)
    expected = epoch_ids(DataLoader(ds, 3, shuffle=True, generator=cr.Generator().manual_seed(1)))
    with pytest.warns(UserWarning, match=r"num_workers=2\).*main process.*batches and their order"):
        loader = DataLoader(
            ds,
            3,
            shuffle=True,
            num_workers=2,
            generator=cr.Generator().manual_seed(1),
            prefetch_factor=2,
            persistent_workers=True,
            worker_init_fn=lambda worker_id: None,
            multiprocessing_context="spawn",
            timeout=5,
        )
    assert epoch_ids(loader) == expected


def test_pin_memory_is_accepted_as_a_no_op_on_the_cpu():
    plain = epoch_ids(DataLoader(make_dataset("tensor", 5), 2))
    assert epoch_ids(DataLoader(make_dataset("tensor", 5), 2, pin_memory=True)) == plain


def test_batch_size_none_yields_each_sample_converted():
    class Pairs(Dataset):
        def __getitem__(self, i):
            return np.full(2, i, np.float32), i

        def __len__(self):
            return 3

    samples = list(DataLoader(Pairs(), batch_size=None))
    assert len(samples) == len(DataLoader(Pairs(), batch_size=None)) == 3
    x, i = samples[2]
    assert isinstance(x, cr.Tensor) and x.shape == (2,) and i == 2


def test_a_sampler_or_batch_sampler_chooses_the_indices():
    ds = make_dataset("tensor", 10)
    assert epoch_ids(DataLoader(ds, 2, sampler=[9, 8, 1])) == [[9, 8], [1]]
    loader = DataLoader(ds, batch_sampler=[[3], [0, 1, 2]])
    assert epoch_ids(loader) == [[3], [0, 1, 2]]
    assert loader.batch_size is None and loader.drop_last is False and len(loader) == 2


def test_a_custom_collate_fn_gets_the_list_of_samples():
    loader = DataLoader(make_dataset("rows", 5), 2, collate_fn=lambda batch: [s[1] for s in batch])
    assert [[int(i) for i in b] for b in loader] == [[0, 1], [2, 3], [4]]


def test_getitems_reads_a_whole_batch_at_once_when_a_dataset_has_it():
    class Batched(Rows):
        def __getitems__(self, indices):
            self.calls += 100
            return [(cr.from_numpy(self.X[i]), np.int64(i)) for i in indices]

    ds = Batched(6)
    assert epoch_ids(DataLoader(ds, 4)) == [[0, 1, 2, 3], [4, 5]]
    assert ds.calls == 200


def test_iterable_datasets_are_batched_in_stream_order():
    class Numbers(cr.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    batches = [b.numpy().tolist() for b in DataLoader(Numbers(), batch_size=3)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.numpy().tolist() for b in DataLoader(Numbers(), 3, drop_last=True)] == batches[:2]


def test_loader_settings_cannot_change_after_it_is_built():
    loader = DataLoader(make_dataset("tensor", 4), 2)
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after"):
            setattr(loader, name, None)
    loader.num_workers = 0  # other attributes may change, as in PyTorch


def test_the_loaders_samplers_are_pytorchs_types():
    loader = DataLoader(make_dataset("tensor", 4), 2, shuffle=True, generator=0)
    assert isinstance(loader.sampler, cr.data.RandomSampler)
    assert isinstance(loader.batch_sampler, cr.data.BatchSampler)
    assert isinstance(DataLoader(make_dataset("tensor", 4)).sampler, cr.data.SequentialSampler)


def test_reseeding_the_loaders_chainrule_generator_repeats_the_epoch():
    g = cr.Generator()
    loader = DataLoader(make_dataset("tensor", 20), 6, shuffle=True, generator=g)
    g.manual_seed(0)
    first = epoch_ids(loader)
    g.manual_seed(0)
    assert epoch_ids(loader) == first
    assert loader.generator is g.rng
