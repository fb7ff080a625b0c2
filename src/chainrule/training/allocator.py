"""Keep freed memory in the process: glibc's malloc thresholds, raised once for a training run.

Why: a training step allocates the same large temporaries (im2col columns, activations,
gradients) every time. With glibc's defaults, freed blocks of a few hundred KB or more go back
to the operating system (``munmap``, or trimming the top of the heap), so the next step's
arrays fault their pages in again: about 2,500 minor faults per step of the LeNet-style CNN in
``benchmarks/``, at ~2.4 µs each on the development VM, around half of the step. Raising the
mmap threshold (big blocks come from the heap) and the trim threshold (the heap is not given
back) lets the next step reuse the same pages.

The cost: memory freed during training stays in the process (it is reused, not leaked), so the
resident size stays near the run's peak instead of shrinking between steps.

:func:`fit` calls :func:`tune_allocator` when it starts; a hand-written training loop can call
it too, once, before its first step. It does nothing on other C libraries (macOS, Windows,
musl), nothing when ``CHAINRULE_TUNE_ALLOCATOR=0`` is set in the environment, and never at
import time. Setting glibc's own variables instead has the same effect for a whole process::

    MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 python train.py
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``mallopt`` parameter numbers, from glibc's ``<malloc.h>``.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap, and this much free heap is kept (1 GiB).
DEFAULT_THRESHOLD = 1 << 30
#: Set to ``0`` (or ``false``, ``no``, ``off``) to leave the allocator as it is.
ENV_VAR = "CHAINRULE_TUNE_ALLOCATOR"

_applied: int | None = None  # the threshold already set in this process, if any


def glibc_version() -> str | None:
    """``'2.36'`` under glibc, None under any other C library."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")
    except (ValueError, OSError, AttributeError):  # no such name: not glibc
        return None
    return version if name == "glibc" else None


def opted_out() -> bool:
    """Whether ``CHAINRULE_TUNE_ALLOCATOR`` asks to leave the allocator alone."""
    return os.environ.get(ENV_VAR, "").strip().lower() in {"0", "false", "no", "off"}


def tune_allocator(threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the system.

    Sets ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` to ``threshold`` bytes (default 1 GiB)
    with ``mallopt``, for the whole process and for the rest of its life. Safe to call more
    than once (later calls with the same threshold do nothing).

    Returns True if the thresholds are set (now or by an earlier call), False where nothing was
    done: not glibc, or ``CHAINRULE_TUNE_ALLOCATOR=0`` in the environment.
    """
    global _applied
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a positive number of bytes; got {threshold!r}")
    if _applied == threshold:
        return True
    if opted_out() or glibc_version() is None:
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    value = min(threshold, 2**31 - 1)  # mallopt takes a C int
    # mallopt returns 1 on success, 0 when glibc refuses the value.
    done = mallopt(M_MMAP_THRESHOLD, value) == 1 and mallopt(M_TRIM_THRESHOLD, value) == 1
    _applied = threshold if done else None
    return done
