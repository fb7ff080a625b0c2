"""DataLoader: walk a dataset in mini-batches, optionally in a fresh random order each epoch."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.data.dataset import Subset, TensorDataset
from chainrule.random import GeneratorLike, resolve_generator


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Parameters
    ----------
    dataset : Dataset of length ``n`` (anything with ``__len__`` and ``__getitem__``)
    batch_size : int
        Samples per batch; the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        Visit the samples in a new random order every epoch (every ``iter(loader)``).
    drop_last : bool
        Skip the final batch when it has fewer than ``batch_size`` samples.
    generator : numpy.random.Generator, int seed or None
        Draws the shuffling orders. ``None`` uses chainrule's global generator as it is when
        each epoch starts, so ``chainrule.manual_seed(s)`` before the loop makes the order
        reproducible. An int seeds a generator owned by this loader (each epoch still differs).

    Yields
    ------
    tuple of Tensor
        One Tensor per field of a sample, the samples stacked along a new first axis: for a
        ``TensorDataset(X, y)`` with ``X`` of shape ``(n, d)`` and ``y`` of shape ``(n,)``,
        batches ``(xb, yb)`` of shapes ``(b, d)`` and ``(b,)``. Dtypes are kept (float32 stays
        float32, int64 labels stay int64). A dataset whose samples are single values rather than
        tuples gives single Tensors, as in PyTorch.

    Notes
    -----
    For a :class:`TensorDataset`, or a (nested) :class:`Subset` of one, each batch is one slice
    or one fancy-indexing of the underlying arrays, with no Python loop over samples. Other
    datasets are read sample by sample and stacked. Either way every batch owns its memory: an
    in-place change to a batch never reaches the dataset.

    Unlike PyTorch, a loader that would yield no batch at all (``drop_last=True`` with
    ``batch_size > len(dataset)``) is refused when built, as is an empty dataset: either would
    make a training loop silently do nothing.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: GeneratorLike = None,
    ) -> None:
        if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        n = len(dataset)
        if n == 0:
            raise ValueError(
                f"DataLoader got an empty dataset ({type(dataset).__name__} of length 0); "
                "there is nothing to iterate over"
            )
        if drop_last and batch_size > n:
            raise ValueError(
                f"drop_last=True with batch_size={batch_size} larger than the dataset "
                f"({n} samples) would yield no batch; lower batch_size or set drop_last=False"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # An int seed becomes one generator now, so successive epochs get different orders.
        self.generator = generator if generator is None else resolve_generator(generator)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = resolve_generator(self.generator).permutation(n) if self.shuffle else None
        arrays, rows = _underlying_arrays(self.dataset)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = min(start + self.batch_size, n)
            if arrays is None:
                picked = range(start, stop) if order is None else order[start:stop].tolist()
                yield _collate([self.dataset[i] for i in picked])
            elif rows is None and order is None:
                # Copy the slice so the batch owns its memory, like the fancy-indexed ones.
                yield tuple(Tensor._wrap(a[start:stop].copy()) for a in arrays)
            else:
                take = slice(start, stop) if order is None else order[start:stop]
                if rows is not None:
                    take = rows[take]
                yield tuple(Tensor._wrap(a[take]) for a in arrays)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def _underlying_arrays(dataset: Any) -> tuple[tuple[np.ndarray, ...] | None, np.ndarray | None]:
    """The arrays behind a TensorDataset or Subset chain, and the rows the chain selects.

    Returns ``(None, None)`` for other datasets (read sample by sample) and ``(arrays, None)``
    for a TensorDataset itself, where batches can be plain slices.
    """
    rows: np.ndarray | None = None
    while isinstance(dataset, Subset):
        # Compose outer-to-inner: subset[i] is dataset[indices[i]].
        rows = dataset.indices if rows is None else dataset.indices[rows]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:
        return dataset.arrays, rows
    # A TensorDataset subclass may override __getitem__; honour it by taking the slow path.
    return None, None


def _collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch: tuples field by field, single values as one Tensor."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        for i, sample in enumerate(samples):
            if not isinstance(sample, (tuple, list)) or len(sample) != width:
                raise ValueError(
                    f"cannot batch samples of different structure: sample 0 has {width} fields, "
                    f"sample {i} in the same batch is {_describe(sample)}"
                )
        return tuple(_stack([s[f] for s in samples]) for f in range(width))
    return _stack(samples)


def _stack(values: list[Any]) -> Tensor:
    """One field of a batch: the values stacked along a new first axis."""
    arrays = [v.data if isinstance(v, Tensor) else dtypes.to_array(v) for v in values]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"cannot stack samples of different shapes into one batch: {sorted(shapes)}"
        )
    return Tensor._wrap(np.stack(arrays))


def _describe(sample: Any) -> str:
    if isinstance(sample, (tuple, list)):
        return f"a {type(sample).__name__} of {len(sample)} fields"
    return f"a single {type(sample).__name__}"
