"""``chainrule.backends.cuda``: no CUDA backend. ``matmul.allow_tf32`` can be set (it changes
nothing: matrix products here are NumPy's, in the tensors' own precision)."""

from __future__ import annotations

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False
