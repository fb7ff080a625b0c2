"""Handles that remove a registered hook, as PyTorch's ``RemovableHandle``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """Removes one hook from the dict it was registered in.

    Returned by :meth:`Module.register_forward_hook` and
    :meth:`Module.register_forward_pre_hook`. Also a context manager: the hook is removed when
    the ``with`` block ends.

    Attributes
    ----------
    id : int
        The hook's key in its module's hook dict (unique for the process).
    """

    def __init__(self, hooks: dict[int, Callable[..., Any]]) -> None:
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self) -> None:
        """Unregister the hook; removing it twice is harmless."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
