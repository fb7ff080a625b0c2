"""Built-in datasets: shapes, dtypes, geometry, reproducibility, the digits extra, bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import blobs, circles, digits, moons, sine, spirals, xor

CLASSIFIERS = {
    "moons": (moons, 2),
    "circles": (circles, 2),
    "spirals": (spirals, 2),
    "blobs": (blobs, 3),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
@pytest.mark.parametrize("n", [3, 7, 100])
def test_classification_sets_give_float32_features_and_int64_labels(name, n):
    make, classes = CLASSIFIERS[name]
    X, y = make(n, generator=0)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(y.tolist()) <= set(range(classes))


@pytest.mark.parametrize("make", [moons, circles, sine, xor], ids=lambda f: f.__name__)
def test_a_single_sample_is_allowed(make):
    X, y = make(1, generator=0)
    assert len(X) == len(y) == 1


def test_regression_and_xor_targets_are_float32_columns():
    X, y = sine(50, generator=0)
    assert X.shape == y.shape == (50, 1) and X.dtype == y.dtype == np.float32
    X, y = xor()
    assert X.shape == (4, 2) and y.shape == (4, 1) and X.dtype == y.dtype == np.float32


@pytest.mark.parametrize(
    "make", [moons, circles, spirals, blobs, sine, xor], ids=lambda f: f.__name__
)
def test_the_same_seed_gives_the_same_data(make):
    kwargs = {"noise": 0.1} if make is not blobs else {}
    first = make(40, generator=3, **kwargs)
    again = make(40, generator=np.random.default_rng(3), **kwargs)
    other = make(40, generator=4, **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


def test_manual_seed_governs_the_default_generator():
    cr.manual_seed(1)
    first = moons(30, noise=0.2)
    cr.manual_seed(1)
    again = moons(30, noise=0.2)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])


def test_xor_is_the_truth_table_in_order():
    X, y = xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [[0], [1], [1], [0]])


def test_noisy_xor_repeats_the_corners_with_jitter_and_keeps_their_labels():
    X, y = xor(400, noise=0.05, generator=0)
    corners = np.rint(X).astype(int)
    np.testing.assert_array_equal(y[:, 0], corners[:, 0] ^ corners[:, 1])
    assert 0 < np.abs(X - corners).max() < 0.5
    np.testing.assert_array_equal(y[:8, 0], [0, 1, 1, 0, 0, 1, 1, 0])


def test_moons_lie_on_two_unit_half_circles_when_noiseless():
    X, y = moons(101, generator=0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 50 and len(lower) == 51
    np.testing.assert_allclose(np.hypot(*upper.T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


def test_circles_have_radius_one_and_factor_when_noiseless():
    X, y = circles(60, factor=0.3, generator=0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[y == 0], 1, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)


def test_shuffle_false_keeps_the_classes_in_blocks():
    _, y = moons(10, shuffle=False)
    assert y.tolist() == [0] * 5 + [1] * 5
    _, y = moons(10, generator=0)
    assert y.tolist() != sorted(y.tolist())


@given(n=st.integers(1, 200), arms=st.integers(1, 6))
def test_spirals_split_the_samples_evenly_among_the_arms(n, arms):
    if arms > n:
        with pytest.raises(ValueError, match="one sample per arm"):
            spirals(n, arms=arms, generator=0)
        return
    X, y = spirals(n, arms=arms, generator=0)
    counts = np.bincount(y, minlength=arms)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n
    assert np.hypot(*X.T).max() <= 1 + 1e-6


def test_blobs_centres_can_be_given_and_clusters_sit_around_them():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    X, y = blobs(2000, centers=centers, cluster_std=0.5, generator=0)
    assert X.shape == (2000, 3)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.1)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, atol=0.05)


def test_blobs_random_centres_lie_in_the_centre_box():
    X, y = blobs(300, centers=4, n_features=5, cluster_std=0.0, center_box=(2.0, 3.0), generator=0)
    assert X.shape == (300, 5) and set(y.tolist()) == {0, 1, 2, 3}
    assert X.min() >= 2.0 and X.max() <= 3.0


def test_sine_follows_the_sine_curve_on_its_interval():
    X, y = sine(200, low=0.0, high=1.0, generator=0)
    assert X.min() >= 0.0 and X.max() < 1.0
    np.testing.assert_allclose(y, np.sin(X), atol=1e-6)
    _, noisy = sine(200, noise=0.1, low=0.0, high=1.0, generator=0)
    assert 0.05 < np.std(noisy - np.sin(X)) < 0.2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: moons(0), "n_samples must be a positive integer; got 0"),
        (lambda: moons(-3), "n_samples must be a positive integer"),
        (lambda: circles(2.5), "n_samples must be a positive integer"),
        (lambda: xor(True), "n_samples must be a positive integer"),
        (lambda: moons(10, noise=-0.1), "noise must be non-negative"),
        (lambda: sine(10, noise=float("nan")), "noise must be a finite real number"),
        (lambda: circles(10, factor=1.0), r"factor .* must lie in \(0, 1\)"),
        (lambda: spirals(10, arms=0), "arms must be a positive integer"),
        (lambda: spirals(3, arms=4), "at least one sample per arm"),
        (lambda: spirals(10, turns=0), "turns must be positive"),
        (lambda: blobs(10, cluster_std=-1), "cluster_std must be non-negative"),
        (lambda: blobs(10, centers=0), "centers must be a positive integer"),
        (lambda: blobs(10, centers=[1.0, 2.0]), r"shape \(k, n_features\)"),
        (lambda: blobs(2, centers=3), "at least one sample per cluster"),
        (lambda: blobs(10, center_box=(1, -1)), "low < high"),
        (lambda: sine(10, low=1.0, high=1.0), "low < high"),
        (lambda: moons(10, generator=-1), "non-negative"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_generator_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        moons(10, noise=0.1, generator=1.5)


# ----- digits (the optional scikit-learn extra) ------------------------------------------------
def test_digits_are_scaled_to_the_unit_interval():
    pytest.importorskip("sklearn")
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (1797,) and y.dtype == np.int64 and set(y.tolist()) == set(range(10))
    images, _ = digits(flatten=False)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)


def test_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    # A None entry in sys.modules makes the import fail, as if scikit-learn were absent.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[datasets\]"'):
        digits()
