"""Small built-in datasets that need no download: toy 2-D problems, a 1-D regression, digits.

Every function returns ``(X, y)`` NumPy arrays: ``X`` float32 of shape ``(n, features)``, and
``y`` int64 class labels of shape ``(n,)`` for classification or float32 targets of shape
``(n, 1)`` for regression and for :func:`xor` (shaped for ``binary_cross_entropy``). Wrap them
in a :class:`~chainrule.data.TensorDataset` to batch them.

The ``generator`` argument of each takes a ``numpy.random.Generator``, an int seed, or ``None``
for chainrule's global generator (reseeded by :func:`chainrule.manual_seed`). The same seed
always gives the same data.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from chainrule.random import GeneratorLike, resolve_generator

_XOR_CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
_XOR_LABELS = np.array([[0], [1], [1], [0]], dtype=np.float32)


def xor(
    n_samples: int = 4, noise: float = 0.0, generator: GeneratorLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: ``y = x₁ xor x₂`` on the corners of the unit square.

    Sample ``i`` is corner ``i % 4`` in the order (0,0), (0,1), (1,0), (1,1), so the default
    ``xor()`` is exactly the four-row truth table. ``noise > 0`` adds Gaussian jitter of that
    standard deviation to the inputs (the labels stay those of the corner).

    Returns
    -------
    X : float32 array of shape ``(n_samples, 2)``
    y : float32 array of shape ``(n_samples, 1)``
        0.0 or 1.0: targets for ``binary_cross_entropy`` on one sigmoid output, rather than
        int64 class indices like the other classification sets here.
    """
    n = _check_n_samples(n_samples)
    noise = _check_nonnegative(noise, "noise")
    corner = np.arange(n) % 4
    X = _XOR_CORNERS[corner].copy()
    if noise > 0:
        X += _normal(generator, noise, X.shape)
    return X, _XOR_LABELS[corner].copy()


def moons(
    n_samples: int = 100,
    noise: float = 0.0,
    generator: GeneratorLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    The upper moon (class 0) is the unit half circle; the lower one (class 1) is the same shape
    flipped and shifted by (1, -0.5). Class 0 gets ``n_samples // 2`` points, class 1 the rest.

    Returns
    -------
    X : float32 array of shape ``(n_samples, 2)``
    y : int64 array of shape ``(n_samples,)``, values 0 and 1
    """
    n = _check_n_samples(n_samples)
    noise = _check_nonnegative(noise, "noise")
    n_upper = n // 2
    t_upper = np.linspace(0.0, math.pi, n_upper)
    t_lower = np.linspace(0.0, math.pi, n - n_upper)
    X = np.concatenate(
        [
            np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
            np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
        ]
    )
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n - n_upper])
    return _finish(X, y, noise, generator, shuffle)


def circles(
    n_samples: int = 100,
    noise: float = 0.0,
    factor: float = 0.5,
    generator: GeneratorLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one (scikit-learn's ``make_circles``).

    The outer circle (class 0, radius 1) gets ``n_samples // 2`` evenly spaced points and the
    inner circle (class 1, radius ``factor``) the rest.

    Returns
    -------
    X : float32 array of shape ``(n_samples, 2)``
    y : int64 array of shape ``(n_samples,)``, values 0 and 1
    """
    n = _check_n_samples(n_samples)
    noise = _check_nonnegative(noise, "noise")
    factor = _check_real(factor, "factor")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor (inner radius / outer radius) must lie in (0, 1); got {factor}")
    n_outer = n // 2
    t_outer = np.linspace(0.0, 2 * math.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * math.pi, n - n_outer, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
            factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1),
        ]
    )
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_outer, n - n_outer])
    return _finish(X, y, noise, generator, shuffle)


def spirals(
    n_samples: int = 100,
    noise: float = 0.0,
    arms: int = 2,
    turns: float = 1.0,
    generator: GeneratorLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``arms`` interleaved spirals, one class per arm (the CS231n spiral problem).

    Arm ``k`` starts at the origin and winds ``turns`` times out to radius 1, rotated by
    ``2πk / arms``. The points are split as evenly as possible (the first ``n_samples % arms``
    arms get one more).

    Returns
    -------
    X : float32 array of shape ``(n_samples, 2)``
    y : int64 array of shape ``(n_samples,)``, values ``0 .. arms - 1``
    """
    n = _check_n_samples(n_samples)
    noise = _check_nonnegative(noise, "noise")
    arms = _check_positive_int(arms, "arms")
    if arms > n:
        raise ValueError(f"spirals needs at least one sample per arm; got {n} for {arms} arms")
    turns = _check_real(turns, "turns")
    if turns <= 0:
        raise ValueError(f"turns must be positive; got {turns}")
    sizes = [n // arms + (k < n % arms) for k in range(arms)]
    y = np.repeat(np.arange(arms, dtype=np.int64), sizes)
    # Position along each arm, 0 at the centre and 1 at the tip.
    r = np.concatenate([np.linspace(0.0, 1.0, m) for m in sizes])
    theta = 2 * math.pi * (turns * r + y / arms)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return _finish(X, y, noise, generator, shuffle)


def blobs(
    n_samples: int = 100,
    centers: int | ArrayLike = 3,
    cluster_std: float = 1.0,
    n_features: int = 2,
    center_box: tuple[float, float] = (-10.0, 10.0),
    generator: GeneratorLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian clusters (scikit-learn's ``make_blobs``).

    Parameters
    ----------
    centers : int or array_like of shape ``(k, n_features)``
        How many clusters (their centres drawn uniformly in ``center_box``), or the centres.
    cluster_std : float
        Standard deviation of each cluster: this set's noise level.

    Returns
    -------
    X : float32 array of shape ``(n_samples, n_features)``
    y : int64 array of shape ``(n_samples,)``, the cluster of each point, ``0 .. k - 1``
    """
    n = _check_n_samples(n_samples)
    cluster_std = _check_nonnegative(cluster_std, "cluster_std")
    rng = resolve_generator(generator)
    if isinstance(centers, Integral) and not isinstance(centers, bool):
        k = _check_positive_int(centers, "centers")
        d = _check_positive_int(n_features, "n_features")
        low, high = (float(b) for b in center_box)
        if not low < high:
            raise ValueError(f"center_box must be (low, high) with low < high; got {center_box}")
        means = rng.uniform(low, high, size=(k, d))
    else:
        means = np.asarray(centers, dtype=np.float64)
        if means.ndim != 2 or means.shape[0] == 0 or means.shape[1] == 0:
            raise ValueError(
                f"centers must be an int or an array of shape (k, n_features); got shape "
                f"{means.shape}"
            )
        k = means.shape[0]
    if k > n:
        raise ValueError(f"blobs needs at least one sample per cluster; got {n} for {k} clusters")
    sizes = [n // k + (c < n % k) for c in range(k)]
    y = np.repeat(np.arange(k, dtype=np.int64), sizes)
    X = means[y] + rng.normal(0.0, 1.0, size=(n, means.shape[1])) * cluster_std
    return _finish(X, y, 0.0, rng, shuffle)


def sine(
    n_samples: int = 100,
    noise: float = 0.0,
    low: float = -math.pi,
    high: float = math.pi,
    generator: GeneratorLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """1-D regression: ``y = sin(x) + noise·ε`` with ``x`` uniform in ``[low, high)``.

    Returns
    -------
    X : float32 array of shape ``(n_samples, 1)``
    y : float32 array of shape ``(n_samples, 1)``
    """
    n = _check_n_samples(n_samples)
    noise = _check_nonnegative(noise, "noise")
    low, high = _check_real(low, "low"), _check_real(high, "high")
    if not low < high:
        raise ValueError(f"sine needs low < high; got low={low}, high={high}")
    rng = resolve_generator(generator)
    x = rng.uniform(low, high, size=(n, 1))
    y = np.sin(x)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=y.shape)
    return x.astype(np.float32), y.astype(np.float32)


def digits(flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 handwritten digits (1797 images, no download).

    Needs scikit-learn: ``pip install "chainrule[datasets]"``. Pixel values, 0..16 in the
    original, are scaled to ``[0, 1]``.

    Returns
    -------
    X : float32 array of shape ``(1797, 64)``, or ``(1797, 1, 8, 8)`` when ``flatten=False``
    y : int64 array of shape ``(1797,)``, the digit 0..9
    """
    try:
        # Imported here: scikit-learn is an optional extra, not a dependency of chainrule.
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            'digits() needs scikit-learn; install with `pip install "chainrule[datasets]"`'
        ) from error
    bunch = load_digits()
    X = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    return (X if flatten else X.reshape(-1, 1, 8, 8)), y


# ----- helpers ---------------------------------------------------------------------------------
def _finish(
    X: np.ndarray, y: np.ndarray, noise: float, generator: GeneratorLike, shuffle: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Add Gaussian noise, shuffle the rows (so the classes are not in blocks), cast."""
    if noise > 0 or shuffle:
        rng = resolve_generator(generator)
        if noise > 0:
            X = X + rng.normal(0.0, noise, size=X.shape)
        if shuffle:
            order = rng.permutation(len(X))
            X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def _normal(generator: GeneratorLike, std: float, shape: tuple[int, ...]) -> np.ndarray:
    return resolve_generator(generator).normal(0.0, std, size=shape).astype(np.float32)


def _check_n_samples(n_samples: Any) -> int:
    return _check_positive_int(n_samples, "n_samples")


def _check_positive_int(value: Any, name: str) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_real(value: Any, name: str) -> float:
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return float(value)


def _check_nonnegative(value: Any, name: str) -> float:
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be non-negative; got {value}")
    return value
