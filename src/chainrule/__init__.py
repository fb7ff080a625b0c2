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

from chainrule import dtypes as _dtypes  # isort: split

# Tensor first: its methods import the op library, which needs Tensor defined.
from chainrule._tensor import Tensor, from_numpy, tensor  # isort: split

from chainrule import autograd, data, functional, io, linalg, nn, optim, return_types, training
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
from chainrule.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from chainrule.devices import device
from chainrule.dtypes import (
    double,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    long,
    set_default_dtype,
    short,
    uint8,
)
from chainrule.finite_differences import GradcheckError, gradcheck, gradgradcheck
from chainrule.functional import *  # noqa: F403  every op at the top level, as torch.* has them
from chainrule.io import ChainruleFormatError, load, load_into, save
from chainrule.legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Variable,
)
from chainrule.nn import summary
from chainrule.random import Generator, initial_seed, manual_seed, seed
from chainrule.sampling import (
    bernoulli,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
from chainrule.sizes import Size
from chainrule.training import (
    CallbackList,
    EarlyStopping,
    History,
    TrainingError,
    evaluate,
    fit,
    predict,
    train_step,
    tune_allocator,
)

__version__ = "0.1.0"

# torch.bool, torch.int and torch.float: bound here rather than imported by name because they
# shadow the builtins in this module (nothing below uses the builtins bool, int or float).
globals().update({name: _dtypes.TORCH_NAMES[name] for name in ("bool", "int", "float")})

# torch.autograd.Variable for old tutorials. chainrule.autograd cannot import chainrule.legacy
# itself (it loads while Tensor is still being defined), so the name is set on it here, after
# both exist; importing chainrule.autograd always runs this file first.
autograd.Variable = Variable  # type: ignore[attr-defined]

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
    # PyTorch's module paths for device queries and torch.utils.data (issue 10)
    "cuda": ("chainrule.cuda", None),
    "backends": ("chainrule.backends", None),
    "accelerator": ("chainrule.accelerator", None),
    "mps": ("chainrule.mps", None),
    "utils": ("chainrule.utils", None),
    # torch.func's transforms (higher-order derivatives, issue 12)
    "func": ("chainrule.func", None),
}


def _missing(name: str) -> AttributeError:
    """The error for a name chainrule lacks, naming the PyTorch feature when it is one."""
    plain = f"module 'chainrule' has no attribute {name!r}"
    if name.startswith("_"):
        return AttributeError(plain)
    if name in _dtypes.UNSUPPORTED:
        why = _dtypes.UNSUPPORTED[name]
        return AttributeError(f"{plain}: the dtype torch.{name} is not supported ({why})")
    return AttributeError(
        f"{plain}: torch.{name} is not implemented in chainrule "
        "(see docs/pytorch-compatibility.md)"
    )


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise _missing(name)
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    # creation, dtypes, random, devices, legacy names (issue 10)
    "arange", "as_tensor", "empty", "empty_like", "eye", "full", "full_like", "linspace",
    "logspace", "ones", "ones_like", "zeros", "zeros_like", "device", "finfo", "iinfo",
    "is_floating_point", "bool", "int", "float", "double", "float16", "float32", "float64", "half",
    "int8", "int16", "int32", "int64", "long", "short", "uint8", "BoolTensor", "ByteTensor",
    "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor",
    "ShortTensor", "Variable", "Generator", "initial_seed", "seed", "bernoulli", "multinomial",
    "normal", "rand", "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm",
    "Size", "return_types",  # P1 (issue 10)
    "autograd",
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
    "gradgradcheck",
    "io",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "linalg",
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
    "tune_allocator",
    "training",
    "TrainingError",
]
