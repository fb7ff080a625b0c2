"""Turn a ``generator=`` argument into a NumPy Generator, the same way everywhere in the package."""

from __future__ import annotations

import numpy as np

from chainrule.random import default_generator

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
