"""``chainrule.nn.utils``, as ``torch.nn.utils``: gradient clipping, flattening parameters and
folding batch norms.

``clip_grad`` scales or clamps gradients in place; ``convert_parameters`` turns a list of
parameters into one vector and back; ``fusion`` folds an eval-mode batch norm into the
convolution or linear layer before it.
"""

import chainrule.nn.utils.rnn as rnn
from chainrule.nn.utils import clip_grad, convert_parameters, fusion
from chainrule.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from chainrule.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from chainrule.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from chainrule.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

__all__ = [
    "clip_grad",
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_parameters",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "fusion",
    "get_total_norm",
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "parameters_to_vector",
    "rnn",
    "unpack_sequence",
    "unpad_sequence",
    "vector_to_parameters",
]
