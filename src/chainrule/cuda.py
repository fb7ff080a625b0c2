"""``chainrule.cuda``: the queries device-agnostic scripts make, answered for a CPU-only library.

``is_available()`` is False and ``device_count()`` 0, so ``"cuda" if torch.cuda.is_available()
else "cpu"`` picks the CPU. Seeding calls are accepted and do nothing, as PyTorch's do without a
GPU; anything that needs a GPU to answer raises, naming it.
"""

from __future__ import annotations

from typing import NoReturn


def is_available() -> bool:
    """False: chainrule has no CUDA."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored (no CUDA generators), as in PyTorch without a GPU."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored (no CUDA generators)."""


def seed() -> None:
    """Accepted and ignored (no CUDA generators)."""


def seed_all() -> None:
    """Accepted and ignored (no CUDA generators)."""


def empty_cache() -> None:
    """Nothing to free: no CUDA memory."""


def is_bf16_supported() -> bool:
    return False


def _no_cuda(what: str) -> NoReturn:
    raise RuntimeError(
        f"torch.cuda.{what}() needs a CUDA device, and chainrule runs on the CPU only "
        "(chainrule.cuda.is_available() is False)"
    )


def current_device() -> int:
    _no_cuda("current_device")


def set_device(device: object) -> None:
    _no_cuda("set_device")


def get_device_name(device: object = None) -> str:
    _no_cuda("get_device_name")


def get_device_properties(device: object = None) -> object:
    _no_cuda("get_device_properties")


def synchronize(device: object = None) -> None:
    _no_cuda("synchronize")


def memory_allocated(device: object = None) -> int:
    """0: no CUDA memory is in use (PyTorch answers the same without a GPU)."""
    return 0


def max_memory_allocated(device: object = None) -> int:
    """0: no CUDA memory was ever in use."""
    return 0
