"""Packed sequences (``chainrule.nn.utils.rnn``): packing, padding, their gradients, the
named-tuple behaviour, the errors, and parity with torch.nn.utils.rnn where torch is present."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


def test_packing_a_batch_first_batch_interleaves_the_steps_longest_first():
    seq = cr.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    packed = pack_padded_sequence(seq, [2, 1, 3], batch_first=True, enforce_sorted=False)
    assert packed.data.tolist() == [4, 1, 3, 5, 2, 6]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [2, 0, 1]
    assert packed.unsorted_indices.tolist() == [1, 2, 0]
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    assert padded.tolist() == seq.tolist()
    assert lengths.tolist() == [2, 1, 3]
    assert lengths.dtype == np.int64 and packed.batch_sizes.dtype == np.int64


def test_pack_sequence_of_sorted_sequences_needs_no_permutation():
    packed = pack_sequence([cr.tensor([1, 2, 3]), cr.tensor([4, 5]), cr.tensor([6])])
    assert packed.data.tolist() == [1, 4, 6, 2, 5, 3]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    assert [s.tolist() for s in unpack_sequence(packed)] == [[1, 2, 3], [4, 5], [6]]


def test_packed_sequence_is_a_named_tuple_of_four_fields():
    packed = pack_sequence([cr.ones(2, 3), cr.ones(1, 3)])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data is packed.data and batch_sizes is packed.batch_sizes
    assert sorted_indices is None and unsorted_indices is None
    assert PackedSequence._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    as_double = packed.double()
    assert isinstance(as_double, PackedSequence) and as_double.data.dtype == np.float64
    assert as_double.float().data.dtype == np.float32
    assert not packed.is_cuda and packed.cpu() is packed
    rebuilt = PackedSequence(data, batch_sizes, cr.tensor([1, 0]))
    assert rebuilt.unsorted_indices.tolist() == [1, 0]  # inverted when not given


def test_invert_permutation_inverts():
    p = cr.tensor([2, 0, 3, 1])
    inverse = invert_permutation(p)
    assert inverse.tolist() == [1, 3, 0, 2]
    assert invert_permutation(inverse).tolist() == p.tolist()
    assert invert_permutation(None) is None


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_pads_on_either_side_with_the_padding_value(side):
    a, b = cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0])
    out = pad_sequence([a, b], batch_first=True, padding_value=-1.0, padding_side=side)
    want = [[1, 2, 3], [4, -1, -1]] if side == "right" else [[1, 2, 3], [-1, -1, 4]]
    assert out.tolist() == want
    assert pad_sequence([a, b]).shape == (3, 2)


def test_gradients_flow_through_pad_sequence_pack_and_unpack():
    rng = np.random.default_rng(0)
    seqs = [cr.tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in (2, 4, 3)]
    packed = pack_sequence(seqs, enforce_sorted=False)
    padded, _ = pad_packed_sequence(packed, batch_first=True, padding_value=5.0)
    weights = rng.standard_normal(padded.shape)
    (padded * cr.tensor(weights)).sum().backward()
    for b, s in enumerate(seqs):  # each real position gets its own weight; padding nothing
        np.testing.assert_allclose(s.grad.numpy(), weights[b, : s.shape[0]])
    assert padded.numpy()[0, 2:].tolist() == [[5.0, 5.0], [5.0, 5.0]]


def test_pad_packed_sequence_to_a_total_length():
    packed = pack_sequence([cr.ones(3, 1), cr.ones(2, 1)])
    padded, _ = pad_packed_sequence(packed, total_length=5)
    assert padded.shape == (5, 2, 1)
    assert padded.numpy()[3:].sum() == 0
    with pytest.raises(
        ValueError,
        match="Expected total_length to be at least the length of the "
        "longest sequence in input, but got total_length=2 and max sequence length "
        "being 3",
    ):
        pad_packed_sequence(packed, total_length=2)


def test_unpad_sequence_inverts_pad_sequence():
    seqs = [cr.arange(6.0).reshape(3, 2), cr.arange(2.0).reshape(1, 2)]
    for batch_first in (False, True):
        padded = pad_sequence(seqs, batch_first=batch_first)
        back = unpad_sequence(padded, [3, 1], batch_first=batch_first)
        assert [t.tolist() for t in back] == [s.tolist() for s in seqs]


def test_packing_errors_are_torchs():
    x = cr.zeros(4, 3, 2)
    with pytest.raises(
        RuntimeError, match="must be sorted in decreasing order when `enforce_sorted` is True"
    ):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(
        RuntimeError,
        match=r"Expected `len\(lengths\)` to be equal to "
        r"batch_size, but got 2 \(batch_size=3\)",
    ):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(RuntimeError, match="exceeds the padded input's 4 time steps"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="Expected padding_side to be one of left or right"):
        pad_sequence([cr.ones(2)], padding_side="middle")
    with pytest.raises(RuntimeError, match="Expected iterable for input sequences"):
        pad_sequence(3)
    with pytest.raises(RuntimeError, match="the same trailing shape"):
        pad_sequence([cr.ones(2, 3), cr.ones(2, 4)])


def test_rnn_refuses_packed_data_of_the_wrong_width():
    packed = pack_sequence([cr.ones(3, 5), cr.ones(2, 5)])
    with pytest.raises(RuntimeError, match="Expected 4, got 5"):
        nn.LSTM(4, 3)(packed)


def test_nn_utils_exports_the_packing_functions():
    assert nn.utils.rnn.pack_padded_sequence is pack_padded_sequence
    assert nn.utils.pad_sequence is pad_sequence


# ----- parity with torch -----------------------------------------------------------------

LENGTHS = [[4, 3, 3, 1], [1, 4, 2, 4], [3]]


@pytest.mark.parametrize(
    "lengths,batch_first,enforce_sorted",
    [
        (n, b, e)
        for n, b, e in itertools.product(LENGTHS, [False, True], [True, False])
        if not e or n == sorted(n, reverse=True)
    ],
)
def test_pack_and_pad_match_torch(lengths, batch_first, enforce_sorted):
    torch = pytest.importorskip("torch")
    rnn_utils = torch.nn.utils.rnn
    rng = np.random.default_rng(len(lengths))
    shape = (len(lengths), 4, 2, 3) if batch_first else (4, len(lengths), 2, 3)
    x = rng.standard_normal(shape)
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    po = pack_padded_sequence(xo, lengths, batch_first, enforce_sorted)
    pt = rnn_utils.pack_padded_sequence(xt, torch.tensor(lengths), batch_first, enforce_sorted)
    np.testing.assert_array_equal(po.data.numpy(), pt.data.detach().numpy())
    assert po.batch_sizes.tolist() == pt.batch_sizes.tolist()
    for ours, theirs in (
        (po.sorted_indices, pt.sorted_indices),
        (po.unsorted_indices, pt.unsorted_indices),
    ):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.tolist() == theirs.tolist()
    pad_o, len_o = pad_packed_sequence(po, not batch_first, 0.5, 6)
    pad_t, len_t = rnn_utils.pad_packed_sequence(pt, not batch_first, 0.5, 6)
    np.testing.assert_array_equal(pad_o.numpy(), pad_t.detach().numpy())
    assert len_o.tolist() == len_t.tolist()
    weights = rng.standard_normal(tuple(pad_t.shape))
    (pad_o * cr.tensor(weights)).sum().backward()
    (pad_t * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(side, batch_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2)) for n in (3, 5, 1)]
    ours = pad_sequence([cr.tensor(a) for a in arrays], batch_first, -2.0, side)
    theirs = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(a) for a in arrays], batch_first, -2.0, side
    )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
