"""Every op as a function: ``import chainrule.functional as F``.

The ops themselves live in :mod:`chainrule.ops` (arithmetic, reduction, shape, pointwise,
activation, loss, conv); this module gathers their public functions in one namespace, as
``torch.nn.functional`` does.
"""

from chainrule.ops.activation import (
    dropout,
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from chainrule.ops.arithmetic import add, cast, div, linear, matmul, mul, neg, pow, sub
from chainrule.ops.conv import adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool2d
from chainrule.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from chainrule.ops.pointwise import abs, clip, exp, log, maximum, minimum, sqrt, where
from chainrule.ops.reduction import logsumexp, max, mean, min, sum, var
from chainrule.ops.shape import (
    concatenate,
    expand,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

clamp = clip
cat = concatenate

__all__ = [
    "abs",
    "adaptive_avg_pool2d",
    "add",
    "avg_pool2d",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cast",
    "cat",
    "clamp",
    "clip",
    "concatenate",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "div",
    "dropout",
    "elu",
    "exp",
    "expand",
    "flatten",
    "gelu",
    "getitem",
    "huber_loss",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "max_pool2d",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mse_loss",
    "mul",
    "neg",
    "nll_loss",
    "pad",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
]
