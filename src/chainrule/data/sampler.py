"""Samplers: the order in which a DataLoader visits a map-style dataset, as ``torch.utils.data``.

A sampler is an iterable of dataset indices (Python ints); a batch sampler is an iterable of
lists of them. :class:`SequentialSampler` walks ``0, 1, …, n - 1``, :class:`RandomSampler`
draws a permutation (or indices with replacement), :class:`SubsetRandomSampler` permutes given
indices, :class:`WeightedRandomSampler` draws indices in proportion to weights, and
:class:`BatchSampler` groups any of them into batches.

Random samplers draw from chainrule's generators (:func:`chainrule.random.resolve_generator`):
``generator=None`` is the global generator as it is when each epoch starts, so
``chainrule.manual_seed(s)`` makes the orders reproducible. The streams are NumPy's, so a seed
gives other orders than PyTorch's; the distributions are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from numbers import Integral
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.random import Generator, GeneratorLike, resolve_generator

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _is_count(value: Any) -> bool:
    """A positive int (NumPy ints too), not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool) and value > 0


def _own_generator(generator: GeneratorLike) -> GeneratorLike:
    # An int seed becomes one generator now, so that successive epochs get different orders. A
    # chainrule.Generator is kept and looked up each epoch: manual_seed on it replaces its
    # stream, and PyTorch code reseeds its generator to repeat an order.
    if generator is None or isinstance(generator, Generator):
        return generator
    return resolve_generator(generator)


class Sampler:
    """Base class: subclasses implement ``__iter__`` (indices) and, if they can, ``__len__``."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """The indices ``0, 1, …, len(data_source) - 1``, in order.

    Parameters
    ----------
    data_source : Sized
        Only its length is used.
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices into ``data_source``: a fresh permutation each epoch, or draws with
    replacement.

    Parameters
    ----------
    data_source : Sized
        Of length ``n`` (only the length is used).
    replacement : bool
        Draw ``num_samples`` indices independently and uniformly from ``[0, n)``.
    num_samples : int, optional
        Indices per epoch; ``n`` by default. Without replacement, more than ``n`` gives
        whole permutations one after another, the last one cut short.
    generator : chainrule.Generator, numpy.random.Generator, int seed or None
        Where the draws come from (see the module docstring).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: GeneratorLike = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _own_generator(generator)
        if not _is_count(self.num_samples):
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        """Indices per epoch: the dataset's length unless given (looked up as it is now)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        return iter(self._draw().tolist())

    def _draw(self) -> np.ndarray:
        """One epoch's indices, shape ``(num_samples,)``, drawn now (what ``__iter__`` gives)."""
        n, k = len(self.data_source), int(self.num_samples)
        rng = resolve_generator(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=k)
        # As PyTorch: whole permutations, then the start of one more (drawn only if needed).
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(rng.permutation(n)[: k % n])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def __len__(self) -> int:
        return int(self.num_samples)


def epoch_indices(sampler: Any) -> np.ndarray | None:
    """The indices one pass over ``sampler`` gives, as an int64 array of shape ``(k,)``.

    Draws exactly what iterating would (so a seeded order is the same either way), without a
    Python loop over the indices; ``None`` for samplers other than :class:`SequentialSampler`
    and :class:`RandomSampler`, whose indices can only be had by iterating.
    """
    if type(sampler) is SequentialSampler:
        return np.arange(len(sampler), dtype=np.int64)
    if type(sampler) is RandomSampler:
        return sampler._draw().astype(np.int64, copy=False)
    return None


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order each epoch, without replacement.

    Parameters
    ----------
    indices : sequence of int, shape ``(k,)``
    generator : chainrule.Generator, numpy.random.Generator, int seed or None
    """

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None) -> None:
        self.indices = indices
        self.generator = _own_generator(generator)

    def __iter__(self) -> Iterator[Any]:
        for i in resolve_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, index ``i`` drawn with probability
    ``weights[i] / sum(weights)``.

    Parameters
    ----------
    weights : sequence of float, shape ``(n,)``
        Non-negative; need not sum to 1.
    num_samples : int
        Indices per epoch.
    replacement : bool
        Draw independently (the default). Without replacement each index appears at most once,
        so ``num_samples`` may not exceed the number of positive weights.
    generator : chainrule.Generator, numpy.random.Generator, int seed or None
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: GeneratorLike = None,
    ) -> None:
        if not _is_count(num_samples):
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}"
            )
        self.weights = Tensor._wrap(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = _own_generator(generator)

    def __iter__(self) -> Iterator[int]:
        w = self.weights._data
        # PyTorch's multinomial checks, with its wording, when the draw happens.
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeError(
                "invalid multinomial distribution (encountering probability entry < 0)"
            )
        if w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise RuntimeError(
                "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
            )
        rng = resolve_generator(self.generator)
        draws = rng.choice(len(w), size=self.num_samples, replace=self.replacement, p=w / w.sum())
        yield from draws.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    Parameters
    ----------
    sampler : Sampler or iterable of int
    batch_size : int
        Indices per batch; the last batch may be smaller unless ``drop_last``.
    drop_last : bool
        Leave out a last batch smaller than ``batch_size``.

    Examples
    --------
    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_count(batch_size):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
