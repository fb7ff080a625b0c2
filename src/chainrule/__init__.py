"""chainrule: backpropagation you can read, on NumPy.

The public surface mirrors PyTorch's names: ``chainrule.tensor``, ``Tensor.backward()``,
``chainrule.no_grad()``, ``chainrule.functional`` for every op.
"""

# Tensor first: its methods import the op library, which needs Tensor defined.
from chainrule.tensor import Tensor, from_numpy, tensor  # isort: split

from chainrule import data, functional, nn, optim
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
from chainrule.explain import explain
from chainrule.gradcheck import GradcheckError, gradcheck
from chainrule.random import manual_seed
from chainrule.serialization import ChainruleFormatError, load, load_into, save
from chainrule.training import History, evaluate, fit, predict

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "AnomalyError",
    "ChainruleFormatError",
    "Function",
    "GradcheckError",
    "History",
    "Tensor",
    "data",
    "detect_anomaly",
    "enable_grad",
    "evaluate",
    "explain",
    "fit",
    "from_numpy",
    "functional",
    "get_default_dtype",
    "gradcheck",
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
    "tensor",
]
