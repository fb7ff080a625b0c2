"""Datasets: anything indexable with a length, plus in-memory arrays and views into them.

A map-style dataset maps an index ``0 <= i < len(dataset)`` to one sample; an
:class:`IterableDataset` is a stream of samples. :class:`TensorDataset` holds whole arrays in
memory (sample ``i`` is row ``i`` of each), :class:`Subset` is a view of some rows of another
dataset, :class:`ConcatDataset` (``a + b``) and :class:`ChainDataset` put datasets end to end,
:class:`StackDataset` zips datasets of one length, and :func:`random_split` cuts a dataset into
disjoint random subsets.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.random import GeneratorLike, resolve_generator


class DatasetError(ValueError, AssertionError):
    """Datasets that cannot be built from these arguments (lengths that differ, no datasets).

    Both a ``ValueError`` (chainrule's type for bad arguments) and an ``AssertionError`` (what
    PyTorch raises here), so either ``except`` catches it.
    """


class Dataset:
    """Base class: a sized collection of samples.

    Subclasses implement ``__getitem__(i)`` for ``0 <= i < len(self)``, returning one sample
    (usually a tuple such as ``(x, y)``), and ``__len__``. ``a + b`` is
    ``ConcatDataset([a, b])``.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class: a stream of samples, read by iterating (``__iter__``), not by index.

    A DataLoader over one takes no ``sampler``, ``batch_sampler`` or ``shuffle`` (the stream
    fixes the order) and batches consecutive samples. ``a + b`` is ``ChainDataset([a, b])``.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __len__(self) -> int:
        # What len() says of an object without __len__: a stream's length is unknown unless
        # a subclass says it.
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of arrays: ``dataset[i] == (a[i], b[i], ...)`` as Tensors.

    Parameters
    ----------
    *tensors : ndarray or Tensor, each of shape ``(n, ...)``
        All with the same first dimension ``n``. NumPy arrays and tensors are held without a
        copy (lists are converted, Python floats to the default float dtype), and every array
        keeps its dtype: float32 features stay float32, int64 labels stay int64.

    Examples
    --------
    >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
    >>> x, y = ds[2]
    >>> x.shape, y.shape, len(ds)
    ((3,), (), 5)
    """

    def __init__(self, *tensors: Any) -> None:
        arrays = tensors
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        converted = []
        for position, a in enumerate(arrays):
            array = a._data if isinstance(a, Tensor) else dtypes.to_array(a)
            if array.ndim == 0:
                raise ValueError(
                    f"TensorDataset array {position} is 0-d (a single value); each array "
                    "needs a first axis that indexes the samples"
                )
            converted.append(array)
        lengths = [len(a) for a in converted]
        if len(set(lengths)) > 1:
            raise DatasetError(
                "Size mismatch between tensors: TensorDataset needs arrays of the same length "
                f"along the first axis; got lengths {', '.join(map(str, lengths))}"
            )
        self.arrays: tuple[np.ndarray, ...] = tuple(converted)

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors sharing their memory (PyTorch's attribute name)."""
        return tuple(Tensor._wrap(a) for a in self.arrays)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        index = _check_index(index, len(self))
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __repr__(self) -> str:
        parts = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({parts})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in order: ``subset[i] == dataset[indices[i]]``.

    Parameters
    ----------
    dataset : Dataset
    indices : sequence of int, shape ``(k,)``
        Positions in ``dataset``, each in ``[0, len(dataset))``; repeats are allowed.
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(
                f"Subset indices must be a 1-D sequence of integers; got dtype {idx.dtype} "
                f"and shape {idx.shape}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = idx[(idx < 0) | (idx >= n)][0]
            raise IndexError(f"Subset index {bad} is out of range for a dataset of length {n}")
        self.dataset = dataset
        self.indices: np.ndarray = idx.astype(np.int64, copy=False)

    def __getitem__(self, index: int) -> Any:
        index = _check_index(index, len(self))
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({self.dataset!r}, {len(self)} of {len(self.dataset)} samples)"


class ConcatDataset(Dataset):
    """Map-style datasets end to end: indices ``0..len(a) - 1`` are ``a``'s, then ``b``'s, ….

    Parameters
    ----------
    datasets : iterable of Dataset
        At least one; no IterableDataset (use :class:`ChainDataset`).

    Attributes
    ----------
    cumulative_sizes : list of int
        ``cumulative_sizes[k]`` is the total length of the first ``k + 1`` datasets.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise DatasetError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise DatasetError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes: list[int] = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, Integral) or isinstance(index, bool):
            raise TypeError(f"dataset index must be an integer; got {type(index).__name__}")
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a dataset of length {n}")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]

    def __repr__(self) -> str:
        return f"ConcatDataset({len(self.datasets)} datasets, {len(self)} samples)"


class ChainDataset(IterableDataset):
    """Iterable datasets one after another: all of the first's samples, then the second's, ….

    Parameters
    ----------
    datasets : iterable of IterableDataset
        Each must be an IterableDataset (checked when iterated, as PyTorch).
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise DatasetError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # type: ignore[arg-type]


class StackDataset(Dataset):
    """Datasets of one length side by side: sample ``i`` gathers every dataset's sample ``i``.

    Parameters
    ----------
    *args : Dataset
        Samples are tuples ``(a[i], b[i], …)``.
    **kwargs : Dataset
        Samples are dicts ``{"name": d[i], …}``. Give positional or keyword datasets, not both.
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                "input/output, but both types are given."
            )
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("At least one dataset should be passed")
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise DatasetError("Size mismatch between datasets")
        self.datasets: tuple[Dataset, ...] | dict[str, Dataset] = args or dict(kwargs)

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {name: d[index] for name, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(
    dataset: Any,
    lengths: Sequence[int] | Sequence[float],
    generator: GeneratorLike = None,
) -> list[Subset]:
    """Split ``dataset`` into disjoint random subsets of the given lengths.

    Parameters
    ----------
    dataset : Dataset of length ``n``
    lengths : sequence of int or sequence of float
        Either sample counts summing to ``n``, or fractions in ``[0, 1]`` summing to 1. As in
        PyTorch, fractions become ``floor(n * f)`` samples each and the ``n - sum`` samples left
        over are dealt out one at a time to the subsets in order.
    generator : chainrule.Generator, numpy.random.Generator, int seed or None
        Draws the permutation. ``None`` uses chainrule's global generator, so
        :func:`chainrule.manual_seed` makes the split reproducible.

    Returns
    -------
    list of Subset, one per entry of ``lengths``, together holding every sample exactly once.

    Warns
    -----
    UserWarning
        A fraction that gives a split of length 0 (PyTorch's warning).
    """
    n = len(dataset)
    counts = _split_counts(list(lengths), n)
    permutation = resolve_generator(generator).permutation(n)
    bounds = np.cumsum(counts)
    return [
        Subset(dataset, permutation[stop - count : stop])
        for count, stop in zip(counts, bounds.tolist())
    ]


def _split_counts(lengths: list[Any], n: int) -> list[int]:
    """Sample counts for :func:`random_split`, from counts or from fractions."""
    if not lengths:
        raise ValueError("random_split needs at least one length")
    if all(isinstance(x, Integral) and not isinstance(x, bool) for x in lengths):
        counts = [int(x) for x in lengths]
        if any(c < 0 for c in counts):
            raise ValueError(f"random_split lengths must be non-negative; got {counts}")
        if sum(counts) != n:
            raise ValueError(
                "Sum of input lengths does not equal the length of the input dataset! "
                f"random_split lengths {counts} sum to {sum(counts)}, but the dataset has "
                f"{n} samples (give counts summing to {n}, or fractions summing to 1)"
            )
        return counts
    if not all(isinstance(x, Real) and not isinstance(x, bool) for x in lengths):
        raise TypeError(f"random_split lengths must be integers or fractions; got {lengths}")
    fractions = [float(x) for x in lengths]
    if any(not 0.0 <= f <= 1.0 for f in fractions):
        bad = next(i for i, f in enumerate(fractions) if not 0.0 <= f <= 1.0)
        raise ValueError(
            f"Fraction at index {bad} is not between 0 and 1: random_split fractions must lie "
            f"in [0, 1]; got {fractions}"
        )
    if not math.isclose(sum(fractions), 1.0, rel_tol=0.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split fractions must sum to 1; {fractions} sum to {sum(fractions)}"
        )
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    for i, count in enumerate(counts):
        if count == 0:  # as PyTorch: only fractions warn; a count of 0 is asked for explicitly
            warnings.warn(
                f"Length of split at index {i} is 0. This might result in an empty dataset.",
                UserWarning,
                stacklevel=3,
            )
    return counts


def _check_index(index: Any, n: int) -> int:
    """``index`` as a non-negative int below ``n`` (negative indices count from the end)."""
    if not isinstance(index, Integral) or isinstance(index, bool):
        raise TypeError(f"dataset index must be an integer; got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a dataset of length {n}")
    return i + n if i < 0 else i
