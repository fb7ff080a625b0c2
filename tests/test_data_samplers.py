"""Samplers: which indices each gives, reproducibility under a seed, distributions, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


# ----- SequentialSampler and BatchSampler -----------------------------------------------------
def test_sequential_sampler_walks_the_indices_in_order():
    sampler = SequentialSampler(range(5))
    assert list(sampler) == [0, 1, 2, 3, 4] and len(sampler) == 5


@given(n=st.integers(0, 40), batch_size=st.integers(1, 45), drop_last=st.booleans())
def test_batch_sampler_cuts_consecutive_batches_and_its_len_counts_them(n, batch_size, drop_last):
    batches = list(BatchSampler(range(n), batch_size, drop_last))
    assert len(BatchSampler(range(n), batch_size, drop_last)) == len(batches)
    flat = [i for b in batches for i in b]
    assert flat == list(range(len(flat)))
    assert all(len(b) == batch_size for b in batches[:-1])
    if drop_last:
        assert len(flat) == n // batch_size * batch_size
    else:
        assert len(flat) == n


@pytest.mark.parametrize("batch_size", [0, -2, 2.0, True, "3", None])
def test_batch_sampler_refuses_a_batch_size_that_is_not_a_positive_int(batch_size):
    with pytest.raises(
        ValueError, match=f"positive integer value, but got batch_size={batch_size}"
    ):
        BatchSampler(range(3), batch_size, False)


@pytest.mark.parametrize("drop_last", [1, 0, None, "yes"])
def test_batch_sampler_refuses_a_drop_last_that_is_not_a_bool(drop_last):
    with pytest.raises(ValueError, match=f"boolean value, but got drop_last={drop_last}"):
        BatchSampler(range(3), 2, drop_last)


def test_a_custom_sampler_needs_only_iter():
    class Evens(Sampler):
        def __iter__(self):
            return iter([0, 2, 4])

    assert list(BatchSampler(Evens(), 2, False)) == [[0, 2], [4]]
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(Sampler())


# ----- RandomSampler ----------------------------------------------------------------------------
def test_random_sampler_gives_a_permutation_of_python_ints():
    order = list(RandomSampler(range(20), generator=0))
    assert sorted(order) == list(range(20)) and order != list(range(20))
    assert all(type(i) is int for i in order)


def test_random_sampler_is_reproducible_and_each_epoch_differs():
    def two_epochs(generator):
        sampler = RandomSampler(range(30), generator=generator)
        return list(sampler), list(sampler)

    assert two_epochs(3) == two_epochs(3)
    assert two_epochs(cr.Generator().manual_seed(3)) == two_epochs(cr.Generator().manual_seed(3))
    first, second = two_epochs(3)
    assert first != second
    cr.manual_seed(9)
    global_order = list(RandomSampler(range(30)))
    cr.manual_seed(9)
    assert list(RandomSampler(range(30))) == global_order


def test_random_sampler_without_replacement_repeats_whole_permutations():
    order = list(RandomSampler(range(4), num_samples=10, generator=0))
    assert len(order) == 10
    assert sorted(order[:4]) == sorted(order[4:8]) == [0, 1, 2, 3]
    assert len(set(order[8:])) == 2


def test_random_sampler_with_replacement_is_uniform():
    order = np.array(
        list(RandomSampler(range(5), replacement=True, num_samples=50_000, generator=1))
    )
    assert order.min() == 0 and order.max() == 4
    counts = np.bincount(order, minlength=5)
    assert np.all(np.abs(counts / 50_000 - 0.2) < 0.01)  # 5 sigma is about 0.009


def test_random_sampler_length_follows_the_dataset_unless_num_samples_is_given():
    data = list(range(6))
    sampler = RandomSampler(data)
    assert len(sampler) == 6
    data.append(6)
    assert len(sampler) == 7 and len(RandomSampler(data, num_samples=3)) == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"replacement": 1},
            TypeError,
            "replacement should be a boolean value, but got replacement=1",
        ),
        ({"num_samples": 0}, ValueError, "positive integer value, but got num_samples=0"),
        ({"num_samples": 2.0}, ValueError, "but got num_samples=2.0"),
        ({"generator": "seed"}, TypeError, "chainrule.Generator"),
    ],
)
def test_random_sampler_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        RandomSampler(range(3), **kwargs)


def test_random_sampler_over_an_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler([])


# ----- SubsetRandomSampler ------------------------------------------------------------------------
def test_subset_random_sampler_permutes_the_given_indices():
    indices = [10, 20, 30, 40, 50]
    sampler = SubsetRandomSampler(indices, generator=2)
    order = list(sampler)
    assert sorted(order) == indices and len(sampler) == 5
    assert list(SubsetRandomSampler(indices, generator=2)) == order


# ----- WeightedRandomSampler ------------------------------------------------------------------
def test_weighted_sampler_draws_in_proportion_to_the_weights():
    sampler = WeightedRandomSampler([1.0, 0.0, 3.0], num_samples=40_000, generator=0)
    counts = np.bincount(list(sampler), minlength=3) / 40_000
    np.testing.assert_allclose(counts, [0.25, 0.0, 0.75], atol=0.011)
    assert len(sampler) == 40_000
    assert sampler.weights.dtype == np.float64


def test_weighted_sampler_without_replacement_draws_each_index_at_most_once():
    order = list(WeightedRandomSampler([1, 2, 3, 4], 4, replacement=False, generator=0))
    assert sorted(order) == [0, 1, 2, 3]


def test_weighted_sampler_is_reproducible_under_a_seed():
    def draw():
        return list(
            WeightedRandomSampler([0.1, 0.2, 0.7], 20, generator=cr.Generator().manual_seed(4))
        )

    assert draw() == draw()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            ([1.0, 2.0], 0),
            {},
            "num_samples should be a positive integer value, but got num_samples=0",
        ),
        (([1.0, 2.0], 2), {"replacement": 1}, "replacement should be a boolean value"),
        (([[1.0, 2.0]], 2), {}, r"1d sequence but given weights have shape \(1, 2\)"),
    ],
)
def test_weighted_sampler_refuses_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize(
    ("weights", "kwargs", "message"),
    [
        ([1.0, -2.0], {}, "probability entry < 0"),
        ([0.0, 0.0], {}, "sum of probabilities <= 0"),
        ([1.0, 0.0], {"replacement": False}, "cannot sample n_sample > prob_dist.size"),
    ],
)
def test_weighted_sampler_refuses_impossible_draws_when_drawing(weights, kwargs, message):
    sampler = WeightedRandomSampler(weights, 2, **kwargs)
    with pytest.raises(RuntimeError, match=message):
        list(sampler)


def test_reseeding_a_chainrule_generator_repeats_the_order():
    g = cr.Generator().manual_seed(5)
    sampler = RandomSampler(range(20), generator=g)
    first = list(sampler)
    assert list(sampler) != first
    g.manual_seed(5)
    assert list(sampler) == first
