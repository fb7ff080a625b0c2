"""``chainrule.accelerator``: PyTorch's device-generic queries, answered for a CPU-only library.

``is_available()`` is False and ``current_accelerator()`` None, so
``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"`` picks
the CPU; queries about the accelerator device itself raise, as PyTorch's do without one.
"""

from __future__ import annotations

from typing import NoReturn


def is_available() -> bool:
    """False: chainrule has no accelerator."""
    return False


def device_count() -> int:
    """0: no accelerator devices."""
    return 0


def current_accelerator(check_available: bool = False) -> None:
    """None: there is no accelerator."""
    return None


def _none(what: str) -> NoReturn:
    raise RuntimeError(
        f"torch.accelerator.{what}(): cannot access an accelerator device when none is "
        "available; chainrule runs on the CPU only"
    )


def current_device_index() -> int:
    _none("current_device_index")


def set_device_index(device: object) -> None:
    _none("set_device_index")


def synchronize(device: object = None) -> None:
    _none("synchronize")


def memory_allocated(device: object = None) -> int:
    _none("memory_allocated")
