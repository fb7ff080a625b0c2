"""chainrule's random generators, and the one way a ``generator=`` argument becomes a NumPy
Generator (:func:`resolve_generator`: used by creation, init, dropout, datasets, data loaders).

``manual_seed(n)`` makes everything that draws from the global generator (random tensors,
initialization, dropout masks, shuffling) reproducible. :class:`Generator` is PyTorch's
spelling of a private stream: ``chainrule.Generator().manual_seed(0)`` can be passed as
``generator=`` wherever a NumPy Generator or an int seed can. The streams are NumPy's (PCG64),
so the same seed gives different numbers than PyTorch's Mersenne Twister.
"""

from __future__ import annotations

import secrets

import numpy as np

from chainrule.devices import CPU, check_cpu, device

_MAX_SEED = 2**64  # PyTorch's seeds are 64-bit; NumPy takes any non-negative int


def _check_seed(seed: object, name: str = "seed") -> int:
    if (
        not isinstance(seed, (int, np.integer))
        or isinstance(seed, bool)
        or not 0 <= seed < _MAX_SEED
    ):
        raise ValueError(f"{name} must be an integer in [0, 2**64); got {seed!r}")
    return int(seed)


class Generator:
    """A random stream, as ``torch.Generator``: ``Generator().manual_seed(0)``.

    Parameters
    ----------
    device : str or device
        Only ``"cpu"`` (the default) exists.
    """

    def __init__(self, device: object = "cpu") -> None:
        check_cpu(device, "Generator")
        self._initial_seed = secrets.randbits(63)
        self.rng = np.random.default_rng(self._initial_seed)

    @property
    def device(self) -> device:
        return CPU

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns this generator (so calls chain)."""
        self._initial_seed = _check_seed(seed)
        self.rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Restart the stream from a fresh non-deterministic seed, and return that seed."""
        self.manual_seed(secrets.randbits(63))
        return self._initial_seed

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._initial_seed

    def get_state(self) -> dict:
        """The stream's position (NumPy's bit-generator state, not PyTorch's byte tensor)."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        """Return the stream to a position :meth:`get_state` gave."""
        self.rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"<chainrule.Generator seeded {self._initial_seed}>"


_default = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed the global generator and return it."""
    return _default.manual_seed(seed)


def seed() -> int:
    """Reseed the global generator non-deterministically; returns the seed used."""
    return _default.seed()


def initial_seed() -> int:
    """The seed the global generator last started from."""
    return _default.initial_seed()


def default_generator() -> np.random.Generator:
    """The global generator's NumPy stream (reseeded by :func:`manual_seed`)."""
    return _default.rng


GeneratorLike = Generator | np.random.Generator | int | None


def resolve_generator(generator: GeneratorLike, name: str = "generator") -> np.random.Generator:
    """The NumPy Generator to draw from.

    ``None`` means chainrule's global generator, looked up now rather than cached, so that a
    :func:`chainrule.manual_seed` call made after an object was built still governs it. A
    :class:`Generator` gives its stream; an int seeds a fresh ``np.random.default_rng(seed)``.
    """
    if generator is None:
        return _default.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    # bool is an int subclass, but generator=True is surely a mistake, not seed 1.
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"{name} seed must be a non-negative integer; got {generator}")
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{name} must be a chainrule.Generator, a numpy.random.Generator, an integer seed or "
        f"None; got {type(generator).__name__}"
    )
