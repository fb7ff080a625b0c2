"""chainrule's global random generator, and the one way a ``generator=`` argument becomes a
NumPy Generator (:func:`resolve_generator`: used by init, dropout, datasets and data loaders).

``manual_seed(n)`` makes everything that draws from the global generator (initialization,
dropout masks, shuffling) reproducible.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The global generator (reseeded by :func:`manual_seed`)."""
    return _generator


GeneratorLike = np.random.Generator | int | None


def resolve_generator(generator: GeneratorLike, name: str = "generator") -> np.random.Generator:
    """The Generator to draw from.

    ``None`` means chainrule's global generator, looked up now rather than cached, so that a
    :func:`chainrule.manual_seed` call made after an object was built still governs it. An int
    seeds a fresh ``np.random.default_rng(seed)``.
    """
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    # bool is an int subclass, but generator=True is surely a mistake, not seed 1.
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"{name} seed must be a non-negative integer; got {generator}")
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{name} must be a numpy.random.Generator, an integer seed or None; "
        f"got {type(generator).__name__}"
    )
