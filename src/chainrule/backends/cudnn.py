"""``chainrule.backends.cudnn``: no cuDNN. Scripts that set ``benchmark`` or ``deterministic``
may; the flags change nothing here (chainrule's CPU kernels are deterministic)."""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    """None: cuDNN is not there."""
    return None
