"""``get_worker_info``: which loading worker is running, as ``torch.utils.data``.

chainrule's DataLoader reads every sample in the main process (see its docstring), so there is
never a worker to describe: code that shards an IterableDataset by worker id sees the whole
stream, as PyTorch code does with ``num_workers=0``.
"""

from __future__ import annotations

__all__ = ["get_worker_info"]


def get_worker_info() -> None:
    """The current loading worker's description, or ``None`` in the main process.

    Returns
    -------
    None
        Always: chainrule's DataLoader starts no workers.
    """
    return None
