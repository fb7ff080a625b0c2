"""Embedding and EmbeddingBag against PyTorch (float64, tables moved through state_dict both
ways, outputs and table gradients, max_norm's in-place renormalization, padding rows, frequency
scaling, bags by offsets or rows, per-sample weights), and without PyTorch: worked examples,
initialization, from_pretrained, and the errors for bad indices and unsupported options."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(name="torch")
def _torch():
    return pytest.importorskip("torch")


def close(ours, theirs, what: str) -> None:
    want = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(ours), want, rtol=RTOL, atol=ATOL, err_msg=what)


def pair(torch, make):
    ours, theirs = make(nn).to(dtype=np.float64), make(torch.nn).double()
    theirs.load_state_dict(
        {k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()}, strict=True
    )
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    assert repr(ours).splitlines()[0] == repr(theirs)
    return ours, theirs


def run_both(torch, ours, theirs, rng, *args) -> None:
    yo = ours(*[cr.tensor(a) if a is not None else None for a in args])
    yt = theirs(*[torch.tensor(a) if a is not None else None for a in args])
    close(yo.numpy(), yt, "output")
    g = rng.standard_normal(yt.shape)
    (yo * cr.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    close(ours.weight.grad.numpy(), theirs.weight.grad, "table gradient")
    close(ours.weight.numpy(), theirs.weight, "table after the look-up")
    ours.weight.grad, theirs.weight.grad = None, None


IDX = np.array([[0, 2, 1, 2], [6, 6, 0, 3]])

EMBEDDINGS = {
    "plain": lambda lib: lib.Embedding(7, 3),
    "padding": lambda lib: lib.Embedding(7, 3, padding_idx=2),
    "negative-padding": lambda lib: lib.Embedding(7, 3, padding_idx=-1),
    "frequency": lambda lib: lib.Embedding(7, 3, scale_grad_by_freq=True),
    "max-norm": lambda lib: lib.Embedding(7, 3, max_norm=1.0),
    "max-norm-l1": lambda lib: lib.Embedding(7, 3, max_norm=0.5, norm_type=1.0),
}


@pytest.mark.parametrize("name", sorted(EMBEDDINGS))
def test_embedding_matches_torch_over_two_steps(torch, name: str) -> None:
    rng = np.random.default_rng(len(name))
    ours, theirs = pair(torch, EMBEDDINGS[name])
    for _ in range(2):
        run_both(torch, ours, theirs, rng, IDX)
    run_both(torch, ours, theirs, rng, np.array(5))


BAGS = {
    "mean-rows": (lambda lib: lib.EmbeddingBag(7, 3), (IDX,)),
    "sum-offsets": (
        lambda lib: lib.EmbeddingBag(7, 3, mode="sum"),
        (np.array([1, 2, 2, 5, 0, 6, 2]), np.array([0, 3, 3, 5])),
    ),
    "max-offsets-padding": (
        lambda lib: lib.EmbeddingBag(7, 3, mode="max", padding_idx=2),
        (np.array([1, 2, 2, 5, 0, 6, 2]), np.array([0, 3, 3, 5])),
    ),
    "mean-padding-last-offset": (
        lambda lib: lib.EmbeddingBag(7, 3, include_last_offset=True, padding_idx=2),
        (np.array([1, 2, 2, 5, 0, 6, 2]), np.array([0, 3, 3, 7])),
    ),
    "sum-per-sample-weights": (
        lambda lib: lib.EmbeddingBag(7, 3, mode="sum", max_norm=1.0),
        (IDX, None, np.linspace(-1.0, 2.0, 8).reshape(2, 4)),
    ),
}


@pytest.mark.parametrize("name", sorted(BAGS))
def test_embedding_bag_matches_torch(torch, name: str) -> None:
    make, args = BAGS[name]
    ours, theirs = pair(torch, make)
    run_both(torch, ours, theirs, np.random.default_rng(len(name)), *args)


def test_from_pretrained_matches_torch(torch) -> None:
    table = np.arange(12.0).reshape(4, 3)
    ours = nn.Embedding.from_pretrained(cr.tensor(table), padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), padding_idx=1)
    assert ours.weight.requires_grad is theirs.weight.requires_grad is False
    close(ours.weight.numpy(), theirs.weight, "the table is kept, padding row included")
    assert repr(ours).splitlines()[0] == repr(theirs)


def test_signatures_follow_torch(torch) -> None:
    for name in ("Embedding", "EmbeddingBag"):
        ours = [(k, p.default) for k, p in inspect.signature(getattr(nn, name)).parameters.items()]
        theirs = inspect.signature(getattr(torch.nn, name)).parameters.items()
        assert ours[: len(theirs)] == [(k, p.default) for k, p in theirs], name
    ours = list(inspect.signature(F.embedding).parameters)
    assert ours == list(inspect.signature(torch.nn.functional.embedding).parameters)
    ours = list(inspect.signature(F.embedding_bag).parameters)
    assert ours == list(inspect.signature(torch.nn.functional.embedding_bag).parameters)


# ----- without PyTorch --------------------------------------------------------------------------


def test_repeated_indices_accumulate_in_the_table_gradient() -> None:
    w = cr.tensor(np.zeros((3, 2)), requires_grad=True)
    F.embedding(cr.tensor(np.array([2, 0, 2, 2])), w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]])


def test_large_batches_take_the_sorted_path_and_agree_with_add_at() -> None:
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 65, (12, 64))
    w = cr.tensor(rng.standard_normal((65, 8)), requires_grad=True)
    g = rng.standard_normal((12, 64, 8))
    (F.embedding(cr.tensor(idx), w) * cr.tensor(g)).sum().backward()
    want = np.zeros((65, 8))
    np.add.at(want, idx.reshape(-1), g.reshape(-1, 8))
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-12, atol=1e-12)


def test_padding_row_starts_at_zero_and_gets_no_gradient() -> None:
    layer = nn.Embedding(4, 2, padding_idx=-1, generator=0)
    assert layer.padding_idx == 3
    np.testing.assert_array_equal(layer.weight.numpy()[3], 0.0)
    layer(cr.tensor(np.array([3, 3, 1]))).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[3], 0.0)
    np.testing.assert_array_equal(layer.weight.grad.numpy()[1], 1.0)


def test_initialization_is_standard_normal() -> None:
    w = nn.Embedding(400, 50, generator=1).weight.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02


def test_scale_grad_by_freq_divides_by_the_count() -> None:
    w = cr.tensor(np.zeros((2, 1)), requires_grad=True)
    F.embedding(cr.tensor(np.array([1, 1, 1, 0])), w, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1.0], [1.0]])


def test_max_norm_rescales_looked_up_rows_in_place() -> None:
    w = cr.tensor(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]))
    F.embedding(cr.tensor(np.array([0, 1])), w, max_norm=1.0)
    np.testing.assert_allclose(w.numpy()[0], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(w.numpy()[1:], [[0.3, 0.4], [6.0, 8.0]])  # not looked up


def test_float_indices_are_refused_with_the_types_expected() -> None:
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        nn.Embedding(3, 2)(cr.tensor(np.array([0.0, 1.0])))


def test_out_of_range_index_names_the_index_and_the_table() -> None:
    with pytest.raises(IndexError, match="index 5 is out of range for a table of 3 rows"):
        nn.Embedding(3, 2)(cr.tensor(np.array([0, 5])))
    with pytest.raises(IndexError, match="index -1"):
        nn.Embedding(3, 2)(cr.tensor(np.array([-1])))


def test_unsupported_and_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        nn.Embedding(3, 2, sparse=True)
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        nn.EmbeddingBag(3, 2, sparse=True)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(3, 2, _weight=cr.tensor(np.zeros((2, 2))))
    with pytest.raises(AssertionError, match="expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(cr.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        nn.EmbeddingBag(3, 2, mode="median")
    with pytest.raises(RuntimeError, match="cuda"):
        nn.Embedding(3, 2, device="cuda")


def test_embedding_bag_worked_example_and_offset_errors() -> None:
    w = cr.tensor(np.array([[1.0], [2.0], [4.0]]))
    idx, off = cr.tensor(np.array([0, 1, 2, 2])), cr.tensor(np.array([0, 1, 1]))
    # Bags [0], [], [1, 2, 2]: an empty bag gives zero.
    np.testing.assert_array_equal(
        F.embedding_bag(idx, w, off, mode="sum").numpy(), [[1], [0], [10]]
    )
    np.testing.assert_allclose(F.embedding_bag(idx, w, off).numpy(), [[1], [0], [10 / 3]])
    np.testing.assert_array_equal(F.embedding_bag(idx, w, off, mode="max").numpy(), [[1], [0], [4]])
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(idx, w)
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(idx, w, cr.tensor(np.array([1, 2])))
    with pytest.raises(ValueError, match="offsets must be None when input is 2-D"):
        F.embedding_bag(cr.tensor(np.array([[0, 1]])), w, off)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(idx, w, off, per_sample_weights=cr.tensor(np.ones(4)))
