"""``chainrule.nn``: modules, layers, losses, initialization and gradient clipping.

PyTorch's names and semantics: a :class:`Module` registers the :class:`Parameter` objects and
submodules assigned to it, ``state_dict()`` uses PyTorch's dotted names, and layers keep
PyTorch's parameter layouts and default initializations. ``chainrule.nn.functional`` is
:mod:`chainrule.functional`; ``chainrule.nn.init`` fills tensors in place;
``chainrule.nn.utils`` clips gradients; :func:`summary` (also ``Module.summary()``) tabulates
a model's layers, output shapes and parameter counts.

>>> import chainrule.nn as nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> sum(p.numel() for p in model.parameters())
67
"""

from types import ModuleType as _ModuleType

from chainrule.nn import functional, init, utils
from chainrule.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Tanh,
)
from chainrule.nn.activation_extra import (
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    RReLU,
    SiLU,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from chainrule.nn.attention import MultiheadAttention
from chainrule.nn.containers import ModuleDict, ModuleList, Sequential
from chainrule.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from chainrule.nn.distance import CosineSimilarity, PairwiseDistance
from chainrule.nn.dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from chainrule.nn.flatten import Flatten, Unflatten
from chainrule.nn.fold import Fold, Unfold
from chainrule.nn.hooks import RemovableHandle
from chainrule.nn.instancenorm import InstanceNorm1d, InstanceNorm2d
from chainrule.nn.linear import Bilinear, Identity, Linear
from chainrule.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.loss_margin import (
    CosineEmbeddingLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from chainrule.nn.model_summary import LayerSummary, ModelSummary, summary
from chainrule.nn.module import IncompatibleKeys, Module
from chainrule.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    LocalResponseNorm,
    RMSNorm,
)
from chainrule.nn.parameter import Buffer, Parameter
from chainrule.nn.parameter_containers import ParameterDict, ParameterList
from chainrule.nn.pixelshuffle import PixelShuffle, PixelUnshuffle
from chainrule.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
)
from chainrule.nn.rnn import GRU, LSTM, RNN, RNNBase
from chainrule.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from chainrule.nn.sparse import Embedding, EmbeddingBag
from chainrule.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from chainrule.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

# Every public name imported above (not the submodules that imports bind, except the public
# ones), so that a new family needs only its import line.
__all__ = sorted(
    name
    for name, value in dict(globals()).items()
    if not name.startswith("_")
    and (not isinstance(value, _ModuleType) or name in ("functional", "init", "utils"))
)
