"""``chainrule.mps``: Apple-GPU queries; there is no MPS here, as ``is_available()`` says."""

from __future__ import annotations


def is_available() -> bool:
    """False: chainrule runs on the CPU only."""
    return False


def device_count() -> int:
    """0: no MPS devices."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored (no MPS generator)."""


def empty_cache() -> None:
    """Nothing to free."""
