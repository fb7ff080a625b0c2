"""chainrule: backpropagation you can read, on NumPy.

The public surface mirrors PyTorch's names: ``chainrule.tensor``, ``Tensor.backward()``,
``chainrule.no_grad()``, ``chainrule.functional`` for every op.

``import chainrule`` loads the engine (tensor, autograd, ops), ``nn``, ``optim``, ``data``,
``training`` and ``io``; the learner tools (``learn``, ``explain``, ``draw_graph``, ``plots``),
``interop`` (``onnx``, ``sklearn``) and the command line load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

# Tensor first: its methods import the op library, which needs Tensor defined.
from chainrule._tensor import Tensor, from_numpy, tensor  # isort: split

from chainrule import data, functional, io, nn, optim, training
from chainrule.autograd.function import OPS, Function
from chainrule.autograd.grad_mode import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.dtypes import get_default_dtype, set_default_dtype
from chainrule.finite_differences import GradcheckError, gradcheck
from chainrule.functional import *  # noqa: F403  every op at the top level, as torch.* has them
from chainrule.io import ChainruleFormatError, load, load_into, save
from chainrule.nn import summary
from chainrule.random import manual_seed
from chainrule.training import (
    CallbackList,
    EarlyStopping,
    History,
    TrainingError,
    evaluate,
    fit,
    predict,
    train_step,
)

__version__ = "0.1.0"

#: Names loaded on first use: attribute → (module, attribute in it, or None for the module).
_LAZY = {
    "learn": ("chainrule.learn", None),
    "interop": ("chainrule.interop", None),
    "cli": ("chainrule.cli", None),
    "explain": ("chainrule.learn.explanation", "explain"),
    "draw_graph": ("chainrule.learn.graphs", "draw_graph"),
    "plots": ("chainrule.learn.plots", None),
    "onnx": ("chainrule.interop.onnx", None),
    "sklearn": ("chainrule.interop.sklearn", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "OPS",
    "AnomalyError",
    "CallbackList",
    "ChainruleFormatError",
    "Function",
    "GradcheckError",
    "History",
    "Tensor",
    "data",
    "detect_anomaly",
    "EarlyStopping",
    "draw_graph",
    "enable_grad",
    "evaluate",
    "explain",
    "fit",
    "from_numpy",
    "functional",
    "get_default_dtype",
    "gradcheck",
    "io",
    "is_grad_enabled",
    "load",
    "load_into",
    "manual_seed",
    "nn",
    "no_grad",
    "optim",
    "predict",
    "save",
    "set_default_dtype",
    "set_grad_enabled",
    "summary",
    "tensor",
    "train_step",
    "training",
    "TrainingError",
]
