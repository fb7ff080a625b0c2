"""Datasets: anything indexable with a length, plus in-memory arrays and views into them.

A dataset maps an index ``0 <= i < len(dataset)`` to one sample. :class:`TensorDataset` holds
whole arrays in memory (sample ``i`` is row ``i`` of each), :class:`Subset` is a view of some
rows of another dataset, and :func:`random_split` cuts a dataset into disjoint random subsets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.random import GeneratorLike, resolve_generator


class Dataset:
    """Base class: a sized collection of samples.

    Subclasses implement ``__getitem__(i)`` for ``0 <= i < len(self)``, returning one sample
    (usually a tuple such as ``(x, y)``), and ``__len__``.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are rows of arrays: ``dataset[i] == (a[i], b[i], ...)`` as Tensors.

    Parameters
    ----------
    *arrays : ndarray or Tensor, each of shape ``(n, ...)``
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

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        converted = []
        for position, a in enumerate(arrays):
            array = a.data if isinstance(a, Tensor) else dtypes.to_array(a)
            if array.ndim == 0:
                raise ValueError(
                    f"TensorDataset array {position} is 0-d (a single value); each array "
                    "needs a first axis that indexes the samples"
                )
            converted.append(array)
        lengths = [len(a) for a in converted]
        if len(set(lengths)) > 1:
            raise ValueError(
                "TensorDataset needs arrays of the same length along the first axis; "
                f"got lengths {', '.join(map(str, lengths))}"
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
    generator : numpy.random.Generator, int seed or None
        Draws the permutation. ``None`` uses chainrule's global generator, so
        :func:`chainrule.manual_seed` makes the split reproducible.

    Returns
    -------
    list of Subset, one per entry of ``lengths``, together holding every sample exactly once.
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
                f"random_split lengths {counts} sum to {sum(counts)}, but the dataset has "
                f"{n} samples (give counts summing to {n}, or fractions summing to 1)"
            )
        return counts
    if not all(isinstance(x, Real) and not isinstance(x, bool) for x in lengths):
        raise TypeError(f"random_split lengths must be integers or fractions; got {lengths}")
    fractions = [float(x) for x in lengths]
    if any(not 0.0 <= f <= 1.0 for f in fractions):
        raise ValueError(f"random_split fractions must lie in [0, 1]; got {fractions}")
    if not math.isclose(sum(fractions), 1.0, rel_tol=0.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split fractions must sum to 1; {fractions} sum to {sum(fractions)}"
        )
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def _check_index(index: Any, n: int) -> int:
    """``index`` as a non-negative int below ``n`` (negative indices count from the end)."""
    if not isinstance(index, Integral) or isinstance(index, bool):
        raise TypeError(f"dataset index must be an integer; got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a dataset of length {n}")
    return i + n if i < 0 else i
