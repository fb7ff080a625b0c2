"""Every op as a function: ``import chainrule.functional as F``.

The ops themselves live in :mod:`chainrule.ops` (arithmetic, reduction, shape, pointwise,
activation, loss, conv); this module gathers their public functions in one namespace, as
``torch.nn.functional`` does. Add a new family as one import block; ``__all__`` follows.
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

# Every public name above, so that a family's new ops need only their import line here.
__all__ = sorted(name for name in dir() if not name.startswith("_") and name != "annotations")
