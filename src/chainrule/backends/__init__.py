"""``chainrule.backends``: the backend switches PyTorch scripts read or set (``mps``, ``cudnn``,
``cuda``), answered for a CPU-only library: nothing is available, and setting a flag such as
``torch.backends.cudnn.benchmark = True`` is harmless."""

from chainrule.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
