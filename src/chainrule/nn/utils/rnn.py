"""Variable-length batches for the recurrent layers, as ``torch.nn.utils.rnn``.

A :class:`PackedSequence` stores a batch of sequences sorted by decreasing length, time step by
time step: first every sequence's step 0, then step 1 of the sequences that have one, and so
on. ``batch_sizes[t]`` is how many sequences are still running at step ``t``. The recurrent
layers read it without ever touching padding, and their final states are each sequence's
state at its own last step.

Packing and padding are gathers (advanced indexing) and concatenations, so gradients flow
through them to the padded input or to the list of sequences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class PackedSequenceFields(NamedTuple):
    """The four fields of a :class:`PackedSequence`, in PyTorch's order."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequenceFields):
    """A batch of variable-length sequences, packed time step by time step.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence` rather than by hand. It is
    a named tuple: ``data, batch_sizes, sorted_indices, unsorted_indices = packed`` works.

    Parameters
    ----------
    data : Tensor of shape (N, *)
        Every sequence's steps; ``N`` is the sum of the lengths.
    batch_sizes : Tensor of int64, shape (T,)
        How many sequences run at each step; ``T`` is the longest length, non-increasing.
    sorted_indices : Tensor of int64, shape (B,), optional
        Position in the original batch of each packed (length-sorted) sequence; None when the
        batch was already sorted.
    unsorted_indices : Tensor of int64, shape (B,), optional
        The inverse permutation; computed from ``sorted_indices`` when omitted.
    """

    def __new__(
        cls,
        data: Any,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError(
                    "PackedSequence(data) expects data to be a (data, batch_sizes) pair when "
                    "batch_sizes is not given"
                )
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data`` converted as ``Tensor.to`` does; the index tensors are kept."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def double(self) -> PackedSequence:
        """``data`` in float64."""
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        """``data`` in float32."""
        return self.to(np.float32)

    def cpu(self) -> PackedSequence:
        """Itself: every tensor is on the CPU."""
        return self

    @property
    def is_cuda(self) -> bool:
        """False: chainrule runs on the CPU."""
        return False

    def is_pinned(self) -> bool:
        """False: there is no pinned memory on the CPU-only backend."""
        return False


def _int_array(values: Any) -> np.ndarray:
    """Lengths or indices (a list, an ndarray or an integer Tensor) as an int64 vector."""
    if isinstance(values, Tensor):
        values = values.numpy()
    return np.asarray(values).astype(np.int64).reshape(-1)


def _index_tensor(values: np.ndarray) -> Tensor:
    return as_tensor(np.ascontiguousarray(values, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of ``permutation`` (a 1-D int64 Tensor), or None for None.

    ``invert_permutation(p)[p[i]] == i``: it turns ``sorted_indices`` into
    ``unsorted_indices`` and back.
    """
    if permutation is None:
        return None
    p = _int_array(permutation)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size, dtype=np.int64)
    return _index_tensor(inverse)


def _check_lengths(lengths: np.ndarray, batch: int, steps: int, enforce_sorted: bool) -> None:
    if lengths.size != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
            f"(batch_size={batch})"
        )
    if batch and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    if batch and lengths.max() > steps:
        raise RuntimeError(
            f"a length of {lengths.max()} exceeds the padded input's {steps} time steps"
        )
    if enforce_sorted and np.any(np.diff(lengths) > 0):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability."
        )


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch of variable-length sequences.

    Parameters
    ----------
    input : Tensor of shape (T, B, *), or (B, T, *) when ``batch_first``
        Padded sequences; the padding values are never read.
    lengths : list of int or 1-D Tensor, length B
        Each sequence's length, between 1 and T.
    batch_first : bool
        Whether ``input`` is batch-major. False by default.
    enforce_sorted : bool
        True (the default) requires ``lengths`` in decreasing order; False sorts the batch
        (stably) and records the permutation in ``sorted_indices``.

    Returns
    -------
    PackedSequence
        ``data`` of shape ``(sum(lengths), *)``, differentiable with respect to ``input``.
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"pack_padded_sequence expects an input of at least 2-D; got {x.ndim}-D")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if batch == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    lengths = _int_array(lengths)
    sorted_indices = None
    order = np.arange(lengths.size)
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _index_tensor(order)
    _check_lengths(lengths[order], batch, steps, enforce_sorted)
    running = lengths[order][None, :] > np.arange(steps)[:, None]  # (T, B), row-major = packed
    t_idx, b_idx = np.nonzero(running)
    b_idx = order[b_idx]  # the sort happens inside the same gather
    data = x[(b_idx, t_idx) if batch_first else (t_idx, b_idx)]
    batch_sizes = running.sum(axis=1)
    batch_sizes = batch_sizes[batch_sizes > 0]
    return PackedSequence(data, _index_tensor(batch_sizes), sorted_indices, None)


def _packed_positions(batch_sizes: np.ndarray, steps: int) -> np.ndarray:
    """(steps, B) array: the row of ``data`` holding each (step, sequence), −1 for padding."""
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    positions = np.full((steps, batch), -1, dtype=np.int64)
    running = np.arange(batch)[None, :] < batch_sizes[:, None]
    positions[: batch_sizes.size][running] = np.arange(int(batch_sizes.sum()))
    return positions


def _gather_padded(rows: Tensor, positions: np.ndarray, padding_value: float) -> Tensor:
    """``rows[positions]`` with ``padding_value`` wherever a position is −1."""
    pad = np.full((1, *rows.shape[1:]), padding_value, dtype=rows.dtype)
    source = F.cat([rows, as_tensor(pad)])
    return source[np.where(positions < 0, rows.shape[0], positions)]


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Unpack a :class:`PackedSequence` into a padded tensor; the inverse of packing.

    Parameters
    ----------
    sequence : PackedSequence
        ``data`` of shape ``(N, *)``.
    batch_first : bool
        Return ``(B, T, *)`` instead of ``(T, B, *)``.
    padding_value : float
        Value of the padded positions.
    total_length : int, optional
        Pad to this many steps instead of the longest length (which it must not be under).

    Returns
    -------
    padded : Tensor of shape (T, B, *), or (B, T, *) when ``batch_first``
        In the batch's original order; differentiable with respect to ``sequence.data``.
    lengths : Tensor of int64, shape (B,)
        Each sequence's length, in the original order.
    """
    batch_sizes = _int_array(sequence.batch_sizes)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = int(total_length)
    positions = _packed_positions(batch_sizes, steps)
    lengths = (positions >= 0).sum(axis=0)
    if sequence.unsorted_indices is not None:
        unsorted = _int_array(sequence.unsorted_indices)
        positions, lengths = positions[:, unsorted], lengths[unsorted]
    padded = _gather_padded(
        as_tensor(sequence.data), positions.T if batch_first else positions, padding_value
    )
    return padded, _index_tensor(lengths)


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of different lengths into one padded tensor.

    Parameters
    ----------
    sequences : iterable of Tensor, each of shape (L_i, *)
        The same trailing shape ``*`` and dtype for all.
    batch_first : bool
        Return ``(B, T, *)`` instead of ``(T, B, *)``; ``T`` is the longest ``L_i``.
    padding_value : float
        Value of the padded positions.
    padding_side : {'right', 'left'}
        Pad after each sequence (default) or before it.

    Returns
    -------
    Tensor of shape (T, B, *), or (B, T, *) when ``batch_first``
        Differentiable with respect to every sequence.
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}"
        )
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    trailing = {tuple(s.shape[1:]) for s in seqs if s.ndim}
    if any(s.ndim == 0 for s in seqs) or len(trailing) != 1:
        raise RuntimeError(
            "pad_sequence: every sequence must be at least 1-D with the same trailing shape; "
            f"got shapes {[tuple(s.shape) for s in seqs]}"
        )
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    steps = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    offset = np.arange(steps)[:, None] - (steps - lengths if padding_side == "left" else 0)
    inside = (offset >= 0) & (offset < lengths)
    positions = np.where(inside, starts + offset, -1)
    return _gather_padded(F.cat(seqs), positions.T if batch_first else positions, padding_value)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes ``(L_i, *)``: ``pad_sequence`` then
    ``pack_padded_sequence``.

    ``enforce_sorted=True`` (the default) requires the lengths in decreasing order; False
    sorts them and records the permutation.
    """
    seqs = [as_tensor(s) for s in sequences]
    lengths = [s.shape[0] if s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """Split a padded ``(T, B, *)`` (or ``(B, T, *)``) tensor into B tensors ``(L_i, *)``."""
    x = as_tensor(padded_sequences)
    lengths = _int_array(lengths)
    if batch_first:
        return [x[b, : int(n)] for b, n in enumerate(lengths)]
    return [x[: int(n), b] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences ``(L_i, *)`` in a :class:`PackedSequence`, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
