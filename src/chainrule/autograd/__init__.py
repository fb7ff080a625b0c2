"""The autograd engine: ``Function`` (one op), the backward pass, and the grad-mode switches.

PyTorch's ``torch.autograd`` names live here: :func:`grad`, :func:`backward`, :class:`Function`
(both chainrule's ``forward(self, ...)`` form and PyTorch's ``@staticmethod forward(ctx, ...)``
form), the grad modes, and ``Variable`` (an old name for a tensor).
"""

from __future__ import annotations

import importlib
from typing import Any

from chainrule.autograd.api import backward, grad
from chainrule.autograd.function import OPS, Function
from chainrule.autograd.grad_mode import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "OPS",
    "AnomalyError",
    "Function",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]


def __getattr__(name: str) -> Any:
    # Variable lives with the other legacy names, which import Tensor: loading it on first use
    # keeps the engine free of a cycle through chainrule.legacy.
    if name == "Variable":
        return importlib.import_module("chainrule.legacy").Variable
    # torch.autograd.gradcheck / gradgradcheck: the checks live beside the ops they check.
    if name == "functional":  # torch.autograd.functional: jacobian, hessian, hvp ...
        return importlib.import_module("chainrule.autograd.functional")
    if name in ("gradcheck", "gradgradcheck"):
        return getattr(importlib.import_module("chainrule.finite_differences"), name)
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
