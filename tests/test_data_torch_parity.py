"""chainrule.data against torch.utils.data: signatures, batches, collate results, errors.

Random orders differ (the streams are NumPy's); everything deterministic must be equal.
"""

from __future__ import annotations

import inspect
from collections import namedtuple

import numpy as np
import pytest

import chainrule.data as cd

torch = pytest.importorskip("torch")
td = torch.utils.data

Pair = namedtuple("Pair", "a b")
NAMES = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "StackDataset", "random_split", "DataLoader", "Sampler", "SequentialSampler",
    "RandomSampler", "WeightedRandomSampler", "SubsetRandomSampler", "BatchSampler",
    "default_collate", "default_convert", "get_worker_info",
]  # fmt: skip


def plain(value):
    """A batch as plain Python data: (type name, dtype, values) at the leaves."""
    if isinstance(value, (torch.Tensor, cd.Tensor if hasattr(cd, "Tensor") else ())):
        return ("tensor", str(value.dtype).replace("torch.", ""), value.numpy().tolist())
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        return ("tensor", str(value.dtype), value.numpy().tolist())
    if isinstance(value, dict):
        return (type(value).__name__, {k: plain(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [plain(v) for v in value])
    return value


@pytest.mark.parametrize("name", NAMES)
def test_signatures_match_pytorch(name):
    ours = inspect.signature(getattr(cd, name)).parameters
    theirs = inspect.signature(getattr(td, name)).parameters
    assert list(ours) == list(theirs)
    for p in theirs:
        assert ours[p].kind == theirs[p].kind, p
        if p != "generator":  # torch's random_split defaults to its global generator object
            assert ours[p].default == theirs[p].default, p


COLLATE_CASES = {
    "floats": [1.0, 2.5],
    "ints": [1, 2],
    "mixed numbers": [1, 2.5],
    "bools": [True, False],
    "strings": ["a", "b"],
    "numpy scalars": [np.float32(1), np.float32(2)],
    "numpy ints": [np.int16(1), np.int16(2)],
    "0-d arrays": [np.array(1.5), np.array(2.5)],
    "arrays": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "uint8 arrays": [np.ones(2, np.uint8), np.zeros(2, np.uint8)],
    "tuples": [(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": 1.0, "y": [1, 2]}, {"x": 2.0, "y": [3, 4]}],
    "namedtuples": [Pair(1, "a"), Pair(2, "b")],
    "nested": [{"p": (Pair(1.0, np.int64(2)), "s")}, {"p": (Pair(3.0, np.int64(4)), "t")}],
}


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_matches_pytorch(case):
    batch = COLLATE_CASES[case]
    assert plain(cd.default_collate(batch)) == plain(td.default_collate(batch))


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_convert_matches_pytorch(case):
    sample = COLLATE_CASES[case][0]
    assert plain(cd.default_convert(sample)) == plain(td.default_convert(sample))


@pytest.mark.parametrize(
    "batch",
    [[np.zeros(2), np.zeros(3)], [[1, 2], [3]], [None, None], [np.array(["a"])], [object()]],
    ids=["shapes", "lengths", "none", "strings array", "object"],
)
def test_default_collate_errors_match_pytorch(batch):
    with pytest.raises(Exception) as theirs:
        td.default_collate(batch)
    with pytest.raises(type(theirs.value)) as ours:
        cd.default_collate(batch)
    if "object at" not in str(theirs.value):
        assert str(ours.value) == str(theirs.value)


def tensor_dataset(lib, n):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    if lib is td:
        return td.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    return cd.TensorDataset(X, y)


class Items:
    """A map-style dataset of dicts, the same for both libraries."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "id": i, "w": float(i) / 2, "name": f"s{i}"}

    def __len__(self):
        return self.n


LOADER_CASES = [
    {"batch_size": 4},
    {"batch_size": 4, "drop_last": True},
    {"batch_size": 5},
    {"batch_size": 64},
    {"batch_size": None},
    {"batch_size": 1},
    {"sampler": [9, 0, 3, 3]},
    {"sampler": [9, 0, 3, 3, 2], "batch_size": 2, "drop_last": True},
    {"batch_sampler": [[1, 2], [5], [0, 9, 8]]},
    {"batch_size": 3, "collate_fn": lambda batch: len(batch)},
]


@pytest.mark.parametrize("kwargs", LOADER_CASES, ids=lambda k: str(sorted(k)))
@pytest.mark.parametrize("kind", ["tensor", "subset", "items"])
def test_sequential_batches_match_pytorch(kind, kwargs):
    def make(lib):
        if kind == "items":
            ds = Items(10)
        elif kind == "tensor":
            ds = tensor_dataset(lib, 10)
        else:
            ds = lib.Subset(tensor_dataset(lib, 13), [12, 0, 5, 7, 1, 2, 3, 11, 10, 4])
        return (td.DataLoader if lib is td else cd.DataLoader)(ds, **kwargs)

    ours, theirs = make(cd), make(td)
    assert len(ours) == len(theirs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


class Stream:
    def __init__(self, lib, n):
        base = td.IterableDataset if lib is td else cd.IterableDataset
        self.dataset = type("Numbers", (base,), {"__iter__": lambda s: iter(range(n))})()


@pytest.mark.parametrize(
    "kwargs", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}]
)
def test_iterable_dataset_batches_match_pytorch(kwargs):
    ours = cd.DataLoader(Stream(cd, 8).dataset, **kwargs)
    theirs = td.DataLoader(Stream(td, 8).dataset, **kwargs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]
    chained = [plain(b) for b in cd.ChainDataset([Stream(cd, 2).dataset, Stream(cd, 3).dataset])]
    assert chained == [
        plain(b) for b in td.ChainDataset([Stream(td, 2).dataset, Stream(td, 3).dataset])
    ]


def test_concat_and_stack_datasets_match_pytorch():
    ours = cd.ConcatDataset([tensor_dataset(cd, 3), tensor_dataset(cd, 4)])
    theirs = td.ConcatDataset([tensor_dataset(td, 3), tensor_dataset(td, 4)])
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    for i in range(-7, 7):
        assert plain(list(ours[i])) == plain(list(theirs[i]))
    assert len(tensor_dataset(cd, 2) + tensor_dataset(cd, 5)) == 7
    stacked = cd.StackDataset(a=tensor_dataset(cd, 3), b=tensor_dataset(cd, 3))
    expected = td.StackDataset(a=tensor_dataset(td, 3), b=tensor_dataset(td, 3))
    assert plain({k: list(v) for k, v in stacked[1].items()}) == plain(
        {k: list(v) for k, v in expected[1].items()}
    )


@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last"), [(10, 3, False), (10, 3, True), (9, 3, True)]
)
def test_shuffled_batch_boundaries_and_lengths_match_pytorch(n, batch_size, drop_last):
    ours = cd.DataLoader(
        tensor_dataset(cd, n), batch_size, shuffle=True, drop_last=drop_last, generator=0
    )
    theirs = td.DataLoader(tensor_dataset(td, n), batch_size, shuffle=True, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [len(b[1]) for b in ours] == [len(b[1]) for b in theirs]


@pytest.mark.parametrize(
    "sampler",
    [
        lambda lib: lib.RandomSampler(range(7), num_samples=12),
        lambda lib: lib.RandomSampler(range(7), replacement=True, num_samples=3),
        lambda lib: lib.SubsetRandomSampler([4, 5, 6]),
        lambda lib: lib.WeightedRandomSampler([1.0, 2.0], 5),
    ],
)
def test_random_sampler_lengths_match_pytorch(sampler):
    ours, theirs = sampler(cd), sampler(td)
    assert len(ours) == len(theirs) == len(list(ours)) == len(list(theirs))


ERROR_CASES = {
    "sampler and shuffle": lambda lib, ds: lib.DataLoader(ds, sampler=[0], shuffle=True),
    "batch_sampler and batch_size": lambda lib, ds: lib.DataLoader(
        ds, batch_sampler=[[0]], batch_size=2
    ),
    "batch_sampler and drop_last": lambda lib, ds: lib.DataLoader(
        ds, batch_sampler=[[0]], drop_last=True
    ),
    "batch_sampler and sampler": lambda lib, ds: lib.DataLoader(
        ds, batch_sampler=[[0]], sampler=[0]
    ),
    "no batching and drop_last": lambda lib, ds: lib.DataLoader(
        ds, batch_size=None, drop_last=True
    ),
    "batch_size 0": lambda lib, ds: lib.DataLoader(ds, batch_size=0),
    "drop_last 1": lambda lib, ds: lib.DataLoader(ds, drop_last=1),
    "negative workers": lambda lib, ds: lib.DataLoader(ds, num_workers=-1),
    "negative timeout": lambda lib, ds: lib.DataLoader(ds, timeout=-1),
    "prefetch without workers": lambda lib, ds: lib.DataLoader(ds, prefetch_factor=2),
    "persistent without workers": lambda lib, ds: lib.DataLoader(ds, persistent_workers=True),
    "context without workers": lambda lib, ds: lib.DataLoader(ds, multiprocessing_context="spawn"),
    "set batch_size": lambda lib, ds: setattr(lib.DataLoader(ds), "batch_size", 3),
    "tensor sizes": lambda lib, ds: lib.TensorDataset(ds.tensors[0], ds.tensors[1][:2]),
    "stack sizes": lambda lib, ds: lib.StackDataset(ds, lib.Subset(ds, [0])),
    "stack args and kwargs": lambda lib, ds: lib.StackDataset(ds, a=ds),
    "stack nothing": lambda lib, ds: lib.StackDataset(),
    "concat nothing": lambda lib, ds: lib.ConcatDataset([]),
    "concat index": lambda lib, ds: lib.ConcatDataset([ds])[-11],
    "split sums": lambda lib, ds: lib.random_split(ds, [3, 3]),
    "random_sampler replacement": lambda lib, ds: lib.RandomSampler(ds, replacement=1),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_say_what_pytorch_says(case):
    with pytest.raises(Exception) as theirs:
        ERROR_CASES[case](td, tensor_dataset(td, 10))
    with pytest.raises(Exception) as ours:
        ERROR_CASES[case](cd, tensor_dataset(cd, 10))
    assert isinstance(ours.value, type(theirs.value))
    assert str(theirs.value) in str(ours.value)


STREAM_ERRORS = {
    "shuffle": {"shuffle": True},
    "sampler": {"sampler": [0]},
    "batch_sampler": {"batch_sampler": [[0]]},
}


@pytest.mark.parametrize("case", list(STREAM_ERRORS))
def test_iterable_dataset_option_errors_match_pytorch(case):
    with pytest.raises(ValueError) as theirs:
        td.DataLoader(Stream(td, 3).dataset, **STREAM_ERRORS[case])
    with pytest.raises(ValueError) as ours:
        cd.DataLoader(Stream(cd, 3).dataset, **STREAM_ERRORS[case])
    assert str(ours.value) == str(theirs.value)


def test_a_stream_without_len_has_no_loader_len_as_in_pytorch():
    for lib in (td, cd):
        with pytest.raises(TypeError, match="has no len"):
            len(lib.DataLoader(Stream(lib, 3).dataset))


def test_get_worker_info_is_none_in_the_main_process():
    assert cd.get_worker_info() is None is td.get_worker_info()


def pytorch_style_program(torch):
    """torch.utils.data code as PyTorch users write it; returns what it saw."""
    from collections import namedtuple

    Sample = namedtuple("Sample", "features label")

    class Squares(torch.utils.data.Dataset):
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return Sample(np.array([i, i * i], np.float32), i % 3)

    data = Squares(7) + Squares(5)
    train, val = torch.utils.data.random_split(data, [0.75, 0.25])
    loader = torch.utils.data.DataLoader(data, batch_size=5, drop_last=False)
    seen = [(b.features.shape[0], str(b.features.dtype), b.label.tolist()) for b in loader]
    by_key = torch.utils.data.DataLoader(
        torch.utils.data.StackDataset(x=Squares(4), y=Squares(4)), batch_size=3
    )
    keys = [sorted(batch) for batch in by_key]
    return len(train), len(val), len(loader), seen, keys


def test_a_pytorch_style_program_sees_the_same_batches():
    import chainrule

    ours = pytorch_style_program(chainrule)
    theirs = pytorch_style_program(torch)
    assert ours[:3] == theirs[:3] and ours[4] == theirs[4]
    assert [(n, dtype.replace("torch.", ""), labels) for n, dtype, labels in theirs[3]] == ours[3]
