"""``chainrule.nn.utils``, as ``torch.nn.utils``: gradient clipping and flattening parameters.

``clip_grad`` scales or clamps gradients in place; ``convert_parameters`` turns a list of
parameters into one vector and back.
"""

from chainrule.nn.utils import clip_grad, convert_parameters
from chainrule.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from chainrule.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad",
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_parameters",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
