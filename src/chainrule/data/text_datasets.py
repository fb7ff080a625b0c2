"""Datasets of token ids for character-level language models, and nanoGPT-style batches.

>>> from chainrule.data.text_datasets import names, random_blocks, shakespeare
>>> train = shakespeare("train", block_size=8)       # x, y = train[i]: int64 (8,), (8,)
>>> x, y = random_blocks(train.tokens, 8, 32, generator=0)   # int64 (32, 8) each
>>> tr = names("train")                              # tr.X int64 (182625, 3), tr.Y (182625,)

:class:`NextTokenDataset` cuts a stream of ids into windows whose targets are the same window
shifted by one (every position predicts the next id). :class:`NamesContextDataset` is the
makemore MLP set: for each character of each name, and for the end of the name, the
``block_size`` previous characters (padded with the boundary ``"."``) and that character.

The splits are the lectures': :func:`shakespeare` takes the first 90% of the encoded text for
``"train"`` and the last 10% for ``"val"``; :func:`names` shuffles the names with Python's
``random.Random(seed).shuffle`` (so ``seed=42`` gives exactly the split of ``random.seed(42);
random.shuffle(words)``) and cuts them 80% / 10% / 10% into ``"train"`` / ``"val"`` /
``"test"`` at ``int(0.8 * n)`` and ``int(0.9 * n)`` words.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, from_numpy
from chainrule.data.dataset import Dataset
from chainrule.data.text import CharTokenizer, load_text
from chainrule.random import GeneratorLike, resolve_generator

TokensLike = Sequence[int] | np.ndarray | Tensor


def _token_array(tokens: TokensLike, name: str = "tokens") -> np.ndarray:
    """``tokens`` (a list, integer ndarray or Tensor of ids) as a 1-D int64 array.

    Raises ``ValueError`` for a sequence that is not 1-D, not integers, or has negative ids.
    """
    array = tokens.numpy() if isinstance(tokens, Tensor) else np.asarray(tokens)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of ids; got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integer ids; got dtype {array.dtype}")
    if array.min() < 0:
        raise ValueError(f"{name} must be non-negative ids; the smallest is {array.min()}")
    return array.astype(np.int64, copy=False)


def _check_block_size(block_size: Any) -> int:
    if not isinstance(block_size, Integral) or isinstance(block_size, bool) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer; got {block_size!r}")
    return int(block_size)


def _check_index(index: Any, n: int) -> int:
    if not isinstance(index, Integral) or isinstance(index, bool):
        raise TypeError(f"dataset index must be an integer; got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a dataset of length {n}")
    return i + n if i < 0 else i


class NextTokenDataset(Dataset):
    """Every window of ``block_size`` ids, with the window one step later as its target.

    Sample ``i`` is ``(x, y)`` with ``x = tokens[i : i + block_size]`` and
    ``y = tokens[i + 1 : i + block_size + 1]``, so ``y[t]`` is the id that follows ``x[t]``;
    there are ``len(tokens) - block_size`` samples.

    Parameters
    ----------
    tokens : list, ndarray or Tensor of int, shape ``(n,)``
        The id stream, ``n > block_size``.
    block_size : int
        The context length ``T``.
    tokenizer : CharTokenizer, optional
        Kept as the ``tokenizer`` attribute, to decode what a model trained on this set writes.

    Attributes
    ----------
    tokens : Tensor, int64, shape ``(n,)``
        The whole stream (for :func:`random_blocks`).

    Returns
    -------
    x, y : Tensors, int64, shape ``(block_size,)`` each (from ``dataset[i]``)
    """

    def __init__(
        self, tokens: TokensLike, block_size: int, tokenizer: CharTokenizer | None = None
    ) -> None:
        self._tokens = _token_array(tokens)
        self.block_size = _check_block_size(block_size)
        if len(self._tokens) <= self.block_size:
            raise ValueError(
                f"NextTokenDataset needs more than block_size={self.block_size} ids for one "
                f"window and its target; got {len(self._tokens)}"
            )
        self.tokenizer = tokenizer

    @property
    def tokens(self) -> Tensor:
        """The id stream as an int64 Tensor of shape ``(n,)``, sharing memory."""
        return from_numpy(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens) - self.block_size

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        i = _check_index(index, len(self))
        window = self._tokens[i : i + self.block_size + 1]
        return from_numpy(window[:-1]), from_numpy(window[1:])

    def __repr__(self) -> str:
        return f"NextTokenDataset(tokens={len(self._tokens)}, block_size={self.block_size})"


class NamesContextDataset(Dataset):
    """makemore's MLP dataset: each character of each word, after its ``block_size`` context.

    For a word ``w`` the targets are its characters and then the boundary (the end of the
    word); the context of each target is the ``block_size`` characters before it, padded on
    the left with the boundary. ``"emma"`` with ``block_size=3`` gives ``... -> e``,
    ``..e -> m``, ``.em -> m``, ``emm -> a``, ``mma -> .`` (5 samples).

    Parameters
    ----------
    words : iterable of str
        The words (names), none containing the boundary character.
    tokenizer : CharTokenizer
        One with a ``boundary`` (such as :meth:`CharTokenizer.for_names`).
    block_size : int
        How many previous characters make the context.

    Attributes
    ----------
    X : Tensor, int64, shape ``(N, block_size)``
        Every context, so a training loop can index a mini-batch directly: ``X[ix]``.
    Y : Tensor, int64, shape ``(N,)``
        The id that follows each context. ``N`` is the total length of the words plus one
        per word.

    Returns
    -------
    x, y : Tensors, int64, shapes ``(block_size,)`` and ``()`` (from ``dataset[i]``)
    """

    def __init__(self, words: Iterable[str], tokenizer: CharTokenizer, block_size: int = 3) -> None:
        if not isinstance(tokenizer, CharTokenizer) or tokenizer.boundary is None:
            raise ValueError(
                "NamesContextDataset needs a CharTokenizer with a boundary character, such as "
                "CharTokenizer.for_names()"
            )
        if isinstance(words, str):
            raise TypeError(
                "words must be an iterable of str, not one str: split the text into words first"
            )
        words = list(words)
        self.block_size = _check_block_size(block_size)
        self.tokenizer = tokenizer
        self.words = words
        x, y = _contexts(words, tokenizer, self.block_size)
        self.X = from_numpy(x)
        self.Y = from_numpy(y)

    def __len__(self) -> int:
        return len(self.Y)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        i = _check_index(index, len(self))
        return from_numpy(self.X.numpy()[i]), from_numpy(self.Y.numpy()[i, ...])

    def __repr__(self) -> str:
        return (
            f"NamesContextDataset(words={len(self.words)}, samples={len(self)}, "
            f"block_size={self.block_size})"
        )


def _contexts(
    words: list[str], tokenizer: CharTokenizer, block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """All (context, target) pairs, shapes ``(N, block_size)`` and ``(N,)``, built at once.

    Each word becomes a segment: ``block_size`` boundaries, the word, one boundary. The windows
    of ``block_size + 1`` ids starting at the first ``len(word) + 1`` positions of a segment
    are exactly its samples (context, then target); no window crosses into the next word.
    """
    b = tokenizer.boundary
    for position, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(f"words[{position}] is a {type(word).__name__}, not a str")
        if b in word:
            raise ValueError(f"words[{position}] = {word!r} contains the boundary {b!r}")
    if not words:
        return np.zeros((0, block_size), np.int64), np.zeros(0, np.int64)
    stream = np.array(tokenizer.encode("".join(b * block_size + w + b for w in words)))
    counts = np.array([len(w) + 1 for w in words], dtype=np.int64)
    segment_starts = np.cumsum(counts + block_size) - (counts + block_size)
    # Position of each sample inside its segment: 0, 1, .., len(word), for every word in turn.
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    first = np.repeat(segment_starts, counts) + within
    grid = stream[first[:, None] + np.arange(block_size + 1)].astype(np.int64, copy=False)
    return np.ascontiguousarray(grid[:, :block_size]), np.ascontiguousarray(grid[:, block_size])


def random_blocks(
    tokens: TokensLike, block_size: int, batch_size: int, generator: GeneratorLike = None
) -> tuple[Tensor, Tensor]:
    """A random mini-batch of windows and their next-id targets (nanoGPT's ``get_batch``).

    Draws ``batch_size`` start positions uniformly from ``[0, len(tokens) - block_size)``
    (with replacement), so that ``y``, the window shifted by one, stays inside the stream.

    Parameters
    ----------
    tokens : list, ndarray or Tensor of int, shape ``(n,)``
        The id stream, ``n > block_size``.
    block_size, batch_size : int
        ``T`` and ``B``.
    generator : chainrule.Generator, numpy.random.Generator, int or None
        The random stream; ``None`` is chainrule's global one (see ``chainrule.manual_seed``).

    Returns
    -------
    x, y : Tensors, int64, shape ``(batch_size, block_size)`` each
        ``x[b] = tokens[i_b : i_b + T]`` and ``y[b] = tokens[i_b + 1 : i_b + T + 1]``.
    """
    array = _token_array(tokens)
    block_size = _check_block_size(block_size)
    if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if len(array) <= block_size:
        raise ValueError(
            f"random_blocks needs more than block_size={block_size} ids; got {len(array)}"
        )
    starts = resolve_generator(generator).integers(0, len(array) - block_size, size=batch_size)
    positions = starts[:, None] + np.arange(block_size)
    return from_numpy(array[positions]), from_numpy(array[positions + 1])


_SHAKESPEARE_SPLITS = ("train", "val")
_NAMES_SPLITS = ("train", "val", "test")


def shakespeare(split: str = "train", block_size: int = 8) -> NextTokenDataset:
    """Tiny Shakespeare as a :class:`NextTokenDataset` of characters (the nanoGPT lecture's).

    The vocabulary is the 65 characters of the whole text (the dataset's ``tokenizer``);
    ``"train"`` is the first 90% of the encoded text and ``"val"`` the last 10% (the cut at
    ``int(0.9 * len(text))``).

    Parameters
    ----------
    split : {"train", "val"}
    block_size : int
        The context length ``T`` of each sample.

    Returns
    -------
    NextTokenDataset
        Samples ``(x, y)``, int64 of shape ``(block_size,)`` each; ``.tokens`` is the split's
        whole id stream (1,003,854 ids for ``"train"``, 111,540 for ``"val"``).
    """
    _check_split(split, _SHAKESPEARE_SPLITS)
    text = load_text("shakespeare")
    tokenizer = CharTokenizer(text)
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    cut = int(0.9 * len(ids))
    part = ids[:cut] if split == "train" else ids[cut:]
    return NextTokenDataset(part, block_size, tokenizer=tokenizer)


def names(split: str = "train", block_size: int = 3, seed: int = 42) -> NamesContextDataset:
    """The names corpus as makemore's MLP dataset, split as in makemore part 2.

    The 32,033 names are shuffled with ``random.Random(seed).shuffle`` (Python's own RNG, so
    that ``seed=42`` reproduces the lecture's ``random.seed(42); random.shuffle(words)``), then
    the first 80% (``int(0.8 * n)`` names) are ``"train"``, the next 10% ``"val"`` and the rest
    ``"test"``. The vocabulary is :meth:`CharTokenizer.for_names` of all names (27 ids).

    Parameters
    ----------
    split : {"train", "val", "test"}
    block_size : int
        How many previous characters each context holds.
    seed : int
        The shuffle's seed.

    Returns
    -------
    NamesContextDataset
        ``.X`` int64 ``(N, block_size)``, ``.Y`` int64 ``(N,)``, ``.words`` the split's names.
    """
    _check_split(split, _NAMES_SPLITS)
    if not isinstance(seed, Integral) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer; got {type(seed).__name__}")
    words = load_text("names").split("\n")
    tokenizer = CharTokenizer.for_names(words)
    random.Random(int(seed)).shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    part = {"train": words[:n1], "val": words[n1:n2], "test": words[n2:]}[split]
    return NamesContextDataset(part, tokenizer, block_size)


def _check_split(split: Any, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {', '.join(map(repr, allowed))}; got {split!r}")
