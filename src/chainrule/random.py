"""chainrule's global random generator, used wherever no ``generator=`` is passed.

``manual_seed(n)`` makes everything that draws from it (dropout masks here; initialization and
shuffling once layers and data loaders use it) reproducible.
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
