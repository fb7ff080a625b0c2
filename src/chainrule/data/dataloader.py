"""DataLoader: walk a dataset in mini-batches, with PyTorch's ``torch.utils.data`` signature."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from numbers import Integral
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataset import IterableDataset, Subset, TensorDataset
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    epoch_indices,
)
from chainrule.random import Generator, GeneratorLike, resolve_generator

# Set once a DataLoader is built: changing them would leave the samplers describing the old ones.
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        Map-style (``__getitem__`` and ``__len__``, of length ``n``) or a stream.
    batch_size : int or None
        Samples per batch; the last batch may be smaller unless ``drop_last``. ``None`` turns
        batching off: each sample is yielded alone, through ``collate_fn`` (``default_convert``
        unless given).
    shuffle : bool, optional
        A new random order every epoch (every ``iter(loader)``), drawn by a
        :class:`RandomSampler`. Map-style datasets only.
    sampler : Sampler or iterable of int, optional
        The order of the indices; excludes ``shuffle``.
    batch_sampler : Sampler or iterable of lists of int, optional
        Whole batches of indices; excludes ``batch_size``, ``shuffle``, ``sampler`` and
        ``drop_last``.
    num_workers : int
        See Notes: batches are always read in the main process.
    collate_fn : callable, optional
        Turns a list of samples into a batch; :func:`default_collate` by default.
    pin_memory, pin_memory_device
        No effect on the CPU (as in PyTorch without an accelerator).
    drop_last : bool
        Skip the last batch when it has fewer than ``batch_size`` samples.
    timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers, in_order
        Worker options, checked as PyTorch checks them; see Notes.
    generator : chainrule.Generator, numpy.random.Generator, int seed or None
        Draws the shuffling orders. ``None`` uses chainrule's global generator as it is when
        each epoch starts, so ``chainrule.manual_seed(s)`` before the loop makes the order
        reproducible. An int seeds a generator owned by this loader (each epoch still differs).

    Yields
    ------
    batch
        What ``collate_fn`` makes of a list of samples. With :func:`default_collate`, a
        ``TensorDataset(X, y)`` of ``X`` of shape ``(n, d)`` and ``y`` of shape ``(n,)`` gives
        lists ``[xb, yb]`` of shapes ``(b, d)`` and ``(b,)``, dtypes kept (float32 stays
        float32, int64 labels stay int64).

    Notes
    -----
    ``num_workers > 0`` warns (a ``UserWarning``) and then reads in the main process: the
    batches, and their order, are those of ``num_workers=0``. Worker processes would have to
    pickle the dataset and every batch, which chainrule never does, and NumPy batches are
    cheap to build in-process; ``worker_init_fn`` is never called and
    :func:`get_worker_info` is always ``None``.

    For a :class:`TensorDataset`, or a (nested) :class:`Subset` of one, batched by the
    loader's own samplers and ``default_collate``, each batch is one slice or one
    fancy-indexing of the underlying arrays, with no Python loop over samples; the batches are
    the same as reading sample by sample. Every batch owns its memory: an in-place change to a
    batch never reaches the dataset.

    Unlike PyTorch, a map-style loader that would yield no batch at all (an empty dataset, or
    ``drop_last=True`` with ``batch_size > len(dataset)``) is refused when built: either would
    make a training loop silently do nothing.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[int] | None = None,
        batch_sampler: Sampler | Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: GeneratorLike = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        _check_worker_options(
            num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context
        )
        # As the samplers keep it: a chainrule.Generator stays itself (reseeding it works), an
        # int seed becomes one NumPy generator now.
        if generator is not None and not isinstance(generator, Generator):
            generator = resolve_generator(generator)
        self._generator = generator
        self._stream = isinstance(dataset, IterableDataset)
        user_batches = batch_sampler is not None
        if self._stream:
            _check_stream_options(shuffle, sampler, batch_sampler)
            if batch_size is not None:
                BatchSampler([], batch_size, drop_last)  # PyTorch's checks of both
        else:
            sampler, batch_sampler = self._samplers(
                dataset, batch_size, shuffle, sampler, batch_sampler, drop_last
            )
            if user_batches:  # the batch sampler decides both
                batch_size, drop_last = None, False
        if collate_fn is None:
            collate_fn = (
                default_convert
                if batch_size is None and batch_sampler is None
                else (default_collate)
            )
        self.__dict__.update(
            dataset=dataset,
            batch_size=batch_size,
            sampler=sampler,
            batch_sampler=batch_sampler,
            drop_last=drop_last,
            persistent_workers=persistent_workers,
        )
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.multiprocessing_context, self.prefetch_factor = (
            multiprocessing_context,
            prefetch_factor,
        )
        self.in_order = in_order

    def _samplers(
        self,
        dataset: Any,
        batch_size: int | None,
        shuffle: bool | None,
        sampler: Any,
        batch_sampler: Any,
        drop_last: bool,
    ) -> tuple[Any, Any]:
        """The sampler and batch sampler of a map-style dataset, with PyTorch's exclusions."""
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            return SequentialSampler(dataset), batch_sampler
        if batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            _check_not_empty(dataset, batch_size, drop_last)
            sampler = (
                RandomSampler(dataset, generator=self._generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is None:
            return sampler, None
        return sampler, BatchSampler(sampler, batch_size, drop_last)

    @property
    def generator(self) -> np.random.Generator | None:
        """The NumPy stream the shuffling draws from now (``None``: the global generator)."""
        return None if self._generator is None else resolve_generator(self._generator)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FROZEN and name in self.__dict__:
            raise ValueError(
                f"{name} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(name, value)

    def __len__(self) -> int:
        """Batches per epoch (samples, when ``batch_size=None``).

        For an IterableDataset, from ``len(dataset)`` (a ``TypeError`` if it has none).
        """
        if self._stream:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self._stream:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        fast = _fast_batches(self.dataset, self.batch_sampler, self.collate_fn)
        return fast if fast is not None else self._iter_map()

    def _iter_map(self) -> Iterator[Any]:
        fetch_many = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = fetch_many(indices) if fetch_many else [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iter_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            yield from (self.collate_fn(sample) for sample in self.dataset)
            return
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __repr__(self) -> str:
        try:
            size: Any = len(self.dataset)
        except TypeError:  # a stream without a length
            size = "?"
        return (
            f"DataLoader({type(self.dataset).__name__} of {size}, "
            f"batch_size={self.batch_size}, drop_last={self.drop_last})"
        )


def _check_worker_options(
    num_workers: Any, timeout: Any, prefetch_factor: Any, persistent: Any, context: Any
) -> None:
    """PyTorch's checks of the worker options, then the one warning that there are no workers."""
    if not isinstance(num_workers, Integral) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            "multiprocessing."
        )
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing.let num_workers "
            "> 0 to enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if context is not None and num_workers == 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            "(num_workers > 0), but got num_workers=0"
        )
    if num_workers > 0:
        warnings.warn(
            f"DataLoader(num_workers={num_workers}): chainrule reads every batch in the main "
            "process (no worker processes, worker_init_fn is not called); the batches and "
            "their order are those of num_workers=0",
            UserWarning,
            stacklevel=3,
        )


def _check_stream_options(shuffle: Any, sampler: Any, batch_sampler: Any) -> None:
    """An IterableDataset fixes its own order: PyTorch's errors for what would reorder it."""
    if shuffle not in (False, None):
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
            f"shuffle={shuffle}"
        )
    if sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified sampler option, but got "
            f"sampler={sampler}"
        )
    if batch_sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
            f"got batch_sampler={batch_sampler}"
        )


def _check_not_empty(dataset: Any, batch_size: int | None, drop_last: bool) -> None:
    """chainrule's refusal of a loader that would yield nothing (see the DataLoader Notes)."""
    n = len(dataset)
    if n == 0:
        raise ValueError(
            f"DataLoader got an empty dataset ({type(dataset).__name__} of length 0); "
            "there is nothing to iterate over"
        )
    if drop_last and isinstance(batch_size, Integral) and batch_size > n:
        raise ValueError(
            f"drop_last=True with batch_size={batch_size} larger than the dataset "
            f"({n} samples) would yield no batch; lower batch_size or set drop_last=False"
        )


def _fast_batches(dataset: Any, batch_sampler: Any, collate_fn: Any) -> Iterator[Any] | None:
    """Batches cut straight from a TensorDataset's arrays, or ``None`` when that cannot be done.

    Only for the loader's own samplers and ``default_collate``, whose result it reproduces: the
    same indices (the sampler is iterated once per epoch, as the slow path does), and a list of
    one Tensor per array, each owning its memory.
    """
    if collate_fn is not default_collate or type(batch_sampler) is not BatchSampler:
        return None
    sampler = batch_sampler.sampler
    if type(sampler) not in (SequentialSampler, RandomSampler):
        return None
    arrays, rows = _underlying_arrays(dataset)
    if arrays is None or len(sampler.data_source) != len(dataset):
        return None
    return _cut_batches(arrays, rows, sampler, batch_sampler.batch_size, len(batch_sampler))


def _cut_batches(
    arrays: tuple[np.ndarray, ...],
    rows: np.ndarray | None,
    sampler: Any,
    batch_size: int,
    n_batches: int,
) -> Iterator[list[Tensor]]:
    order = None if type(sampler) is SequentialSampler else epoch_indices(sampler)
    total = len(sampler)
    for start in range(0, n_batches * batch_size, batch_size):
        stop = min(start + batch_size, total)
        if rows is None and order is None:
            # Copy the slice so the batch owns its memory, like the fancy-indexed ones.
            yield [Tensor._wrap(a[start:stop].copy()) for a in arrays]
            continue
        take = slice(start, stop) if order is None else order[start:stop]
        if rows is not None:
            take = rows[take]
        yield [Tensor._wrap(a[take]) for a in arrays]


def _underlying_arrays(dataset: Any) -> tuple[tuple[np.ndarray, ...] | None, np.ndarray | None]:
    """The arrays behind a TensorDataset or Subset chain, and the rows the chain selects.

    Returns ``(None, None)`` for other datasets (read sample by sample) and ``(arrays, None)``
    for a TensorDataset itself, where batches can be plain slices.
    """
    rows: np.ndarray | None = None
    while type(dataset) is Subset:
        # Compose outer-to-inner: subset[i] is dataset[indices[i]].
        rows = dataset.indices if rows is None else dataset.indices[rows]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:
        return dataset.arrays, rows
    # A TensorDataset subclass may override __getitem__; honour it by taking the slow path.
    return None, None
