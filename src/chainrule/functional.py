"""Every op as a function: ``import chainrule.functional as F``.

The ops themselves live in :mod:`chainrule.ops` (arithmetic, reduction, shape, pointwise,
activation, loss, conv); this module gathers their public functions in one namespace, as
``torch.nn.functional`` does. Add a new family as one import block; ``__all__`` follows.
"""

from chainrule.ops.activation import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    elu,
    feature_alpha_dropout,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from chainrule.ops.activation_extra import (
    celu,
    celu_,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu_,
    logsigmoid,
    mish,
    normalize,
    prelu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from chainrule.ops.arithmetic import add, cast, clone, div, linear, matmul, mul, neg, pow, sub
from chainrule.ops.attention import multi_head_attention_forward, scaled_dot_product_attention
from chainrule.ops.conv import adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool2d
from chainrule.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from chainrule.ops.distance import cdist, cosine_similarity, pairwise_distance, pdist
from chainrule.ops.embedding import embedding, embedding_bag
from chainrule.ops.erf import erf, erfc, erfinv
from chainrule.ops.fold import fold, unfold
from chainrule.ops.indexing import gather, scatter, scatter_add, scatter_reduce
from chainrule.ops.layout import (
    chunk,
    diag,
    diag_embed,
    diagonal,
    flip,
    fliplr,
    flipud,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    split,
    swapaxes,
    swapdims,
    tile,
    tril,
    triu,
    unbind,
    unflatten,
)
from chainrule.ops.linalg import (
    addbmm,
    addmm,
    addmv,
    baddbmm,
    bmm,
    dot,
    einsum,
    ger,
    matrix_power,
    mm,
    mv,
    outer,
    tensordot,
)
from chainrule.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from chainrule.ops.loss_margin import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from chainrule.ops.loss_regression import (
    gaussian_nll_loss,
    kl_div,
    poisson_nll_loss,
    smooth_l1_loss,
)
from chainrule.ops.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
)
from chainrule.ops.norms import norm
from chainrule.ops.pointwise import abs, clip, exp, log, maximum, minimum, sqrt, where
from chainrule.ops.pooling import (
    avg_pool1d,
    max_pool1d,
    max_pool2d_with_indices,
)
from chainrule.ops.pooling_adaptive import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from chainrule.ops.predicates import (
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
)
from chainrule.ops.reduction import logsumexp, max, mean, min, sum, var
from chainrule.ops.rounding import (
    ceil,
    fix,
    floor,
    floor_divide,
    fmod,
    frac,
    remainder,
    round,
    sgn,
    sign,
    trunc,
)
from chainrule.ops.scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from chainrule.ops.selection import (
    argwhere,
    index_add,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    one_hot,
    take_along_dim,
)
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
from chainrule.ops.sorting import argsort, kthvalue, median, mode, msort, sort, topk
from chainrule.ops.special import (
    exp2,
    expm1,
    hypot,
    lerp,
    log1p,
    log2,
    log10,
    logaddexp,
    nan_to_num,
    reciprocal,
    rsqrt,
    square,
)
from chainrule.ops.statistics import (
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    prod,
    std,
    std_mean,
    var_mean,
)
from chainrule.ops.trig import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cos,
    cosh,
    sin,
    sinh,
    tan,
)
from chainrule.ops.upsample import (
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)

clamp = clip
cat = concatenate
divide = true_divide = div

# Every public name above, so that a family's new ops need only their import line here.
__all__ = sorted(name for name in dir() if not name.startswith("_") and name != "annotations")
