"""Random creation functions: PyTorch's shapes, dtypes and ranges; reproducible under
``manual_seed`` and ``Generator().manual_seed``; every ``generator=`` goes through one resolver.
(The numbers are NumPy's streams, so they are not compared with PyTorch's.)"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

#: Each random call written once, for m = chainrule and m = torch: shape and dtype must agree.
CALLS = {
    "rand": lambda m: m.rand(2, 3),
    "rand tuple": lambda m: m.rand((4,)),
    "rand size=": lambda m: m.rand(size=(2, 2)),
    "rand float64": lambda m: m.rand(3, dtype=m.float64),
    "rand half": lambda m: m.rand(3, dtype=m.float16),
    "randn": lambda m: m.randn(5),
    "randn 0-d": lambda m: m.randn(()),
    "randn float64": lambda m: m.randn(2, 2, dtype=m.double),
    "randint high size": lambda m: m.randint(10, (3, 2)),
    "randint low high size": lambda m: m.randint(-5, 5, (4,)),
    "randint keywords": lambda m: m.randint(low=0, high=3, size=(2,)),
    "randint size=": lambda m: m.randint(0, 3, size=(2, 2)),
    "randint dtype": lambda m: m.randint(0, 3, (2,), dtype=m.int32),
    "randint float": lambda m: m.randint(0, 3, (2,), dtype=m.float32),
    "randperm": lambda m: m.randperm(6),
    "randperm dtype": lambda m: m.randperm(3, dtype=m.int32),
    "normal numbers": lambda m: m.normal(2.0, 3.0, size=(4,)),
    "normal tensors": lambda m: m.normal(m.zeros(2, 1), m.ones(3)),
    "normal tensor mean": lambda m: m.normal(m.zeros(3, dtype=m.float64), 1.0),
    "normal tensor std": lambda m: m.normal(0.0, m.ones(2, 2)),
    "bernoulli": lambda m: m.bernoulli(m.full((3, 2), 0.5)),
    "bernoulli float64": lambda m: m.bernoulli(m.zeros(2, dtype=m.float64)),
    "multinomial": lambda m: m.multinomial(m.tensor([0.2, 0.8]), 3, replacement=True),
    "multinomial 2-d": lambda m: m.multinomial(m.ones(4, 5), 3),
    "rand_like": lambda m: m.rand_like(m.zeros(2, 3, dtype=m.float64)),
    "randn_like": lambda m: m.randn_like(m.zeros(4)),
    "randn_like dtype": lambda m: m.randn_like(m.zeros(4, dtype=m.int64), dtype=m.float32),
    "randint_like": lambda m: m.randint_like(m.zeros(3, dtype=m.int32), 5),
    "randint_like low high": lambda m: m.randint_like(m.zeros(2, 2), 3, 9),
}


@pytest.mark.parametrize("name", CALLS)
def test_random_creation_has_pytorchs_shape_and_dtype(name):
    ours, theirs = CALLS[name](cr), CALLS[name](torch).numpy()
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)


@pytest.mark.parametrize("name", CALLS)
def test_random_creation_is_reproducible_under_manual_seed(name):
    cr.manual_seed(7)
    first = CALLS[name](cr).numpy().copy()
    cr.manual_seed(7)
    np.testing.assert_array_equal(CALLS[name](cr).numpy(), first)


def test_ranges():
    cr.manual_seed(0)
    u = cr.rand(10_000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    z = cr.randn(10_000).numpy()
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    k = cr.randint(-2, 3, (10_000,)).numpy()
    assert set(np.unique(k)) == {-2, -1, 0, 1, 2}
    assert sorted(cr.randperm(50).tolist()) == list(range(50))
    n = cr.normal(5.0, 2.0, size=(10_000,)).numpy()
    assert abs(n.mean() - 5) < 0.1 and abs(n.std() - 2) < 0.1
    b = cr.bernoulli(cr.full((10_000,), 0.25)).numpy()
    assert set(np.unique(b)) == {0.0, 1.0} and abs(b.mean() - 0.25) < 0.02


def test_bernoulli_with_probability_zero_and_one_is_exact():
    assert cr.bernoulli(cr.tensor([0.0, 1.0, 0.0])).tolist() == [0.0, 1.0, 0.0]


def test_multinomial_follows_the_weights():
    cr.manual_seed(0)
    draws = cr.multinomial(cr.tensor([0.0, 1.0, 3.0]), 4000, replacement=True).numpy()
    counts = np.bincount(draws, minlength=3) / 4000
    assert counts[0] == 0 and abs(counts[2] - 0.75) < 0.03


def test_multinomial_without_replacement_gives_distinct_categories_zero_weights_last():
    for _ in range(20):
        picks = cr.multinomial(cr.tensor([0.0, 1.0, 2.0, 0.0, 5.0]), 3).tolist()
        assert sorted(picks) == [1, 2, 4]


def test_generator_objects_give_their_own_reproducible_streams():
    a = cr.randn(5, generator=cr.Generator().manual_seed(3)).numpy()
    cr.manual_seed(99)  # the global generator does not affect a private one
    b = cr.randn(5, generator=cr.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)
    g = cr.Generator().manual_seed(3)
    assert g.initial_seed() == 3 and g.device == cr.device("cpu")
    assert not np.array_equal(cr.rand(3, generator=g).numpy(), cr.rand(3, generator=g).numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda g: cr.rand(2, generator=g),
        lambda g: cr.randn(2, generator=g),
        lambda g: cr.randint(0, 9, (2,), generator=g),
        lambda g: cr.randperm(5, generator=g),
        lambda g: cr.normal(0.0, 1.0, size=(2,), generator=g),
        lambda g: cr.bernoulli(cr.full((4,), 0.5), generator=g),
        lambda g: cr.multinomial(cr.ones(5), 2, generator=g),
        lambda g: cr.rand_like(cr.zeros(2), generator=g),
        lambda g: cr.randn_like(cr.zeros(2), generator=g),
        lambda g: cr.randint_like(cr.zeros(2), 9, generator=g),
    ],
)
def test_every_generator_argument_takes_a_generator_a_numpy_generator_or_a_seed(call):
    by_generator = call(cr.Generator().manual_seed(5)).numpy()
    np.testing.assert_array_equal(call(np.random.default_rng(5)).numpy(), by_generator)
    np.testing.assert_array_equal(call(5).numpy(), by_generator)


def test_generators_work_where_generator_was_taken_before():
    layer_a = cr.nn.Linear(3, 2, generator=cr.Generator().manual_seed(1))
    layer_b = cr.nn.Linear(3, 2, generator=1)
    np.testing.assert_array_equal(layer_a.weight.numpy(), layer_b.weight.numpy())


def test_manual_seed_returns_the_global_generator_and_seed_reseeds_it():
    g = cr.manual_seed(11)
    assert isinstance(g, cr.Generator) and cr.initial_seed() == 11
    s = cr.seed()
    assert cr.initial_seed() == s
    state = g.get_state()
    first = cr.rand(3).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(cr.rand(3).numpy(), first)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\)"):
        cr.manual_seed(-1)


def test_a_generator_of_the_wrong_kind_is_refused():
    with pytest.raises(TypeError, match="must be a chainrule.Generator"):
        cr.rand(2, generator="seed")


def test_rand_of_an_integer_dtype_is_refused():
    with pytest.raises(TypeError, match=r"rand\(\) needs a floating-point dtype; got int64"):
        cr.rand(2, dtype=cr.int64)


def test_rand_like_of_an_integer_tensor_is_refused():
    with pytest.raises(TypeError, match="rand_like.. needs a floating-point dtype"):
        cr.rand_like(cr.zeros(2, dtype=cr.int64))


def test_randint_with_an_empty_range_is_refused():
    with pytest.raises(RuntimeError, match="'from' to be less than 'to'"):
        cr.randint(3, 3, (2,))


def test_randint_with_the_wrong_arguments_is_refused():
    with pytest.raises(TypeError, match=r"randint\(\) takes \(high, size\) or \(low, high, size\)"):
        cr.randint(3)


def test_normal_with_a_negative_std_is_refused():
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        cr.normal(0.0, -1.0, size=(2,))


def test_normal_of_numbers_without_a_size_is_refused():
    with pytest.raises(TypeError, match="needs size="):
        cr.normal(0.0, 1.0)


def test_bernoulli_with_a_probability_outside_zero_one_is_refused():
    with pytest.raises(RuntimeError, match=r"probabilities must be in \[0, 1\]"):
        cr.bernoulli(cr.tensor([1.5]))


def test_multinomial_refusals():
    with pytest.raises(RuntimeError, match="without replacement"):
        cr.multinomial(cr.ones(2), 3)
    with pytest.raises(RuntimeError, match="inf, nan or < 0"):
        cr.multinomial(cr.tensor([1.0, -1.0]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        cr.multinomial(cr.zeros(3), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        cr.multinomial(cr.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="n_sample <= 0"):
        cr.multinomial(cr.ones(2), 0)
