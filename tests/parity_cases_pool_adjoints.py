"""PyTorch parity for the pooling adjoints (values and gradients in float64): the input gradient
of max and average pooling as a function of the upstream gradient ``v``, recorded with
``create_graph=True`` in both libraries, so the case's backward runs the adjoint's own backward
(max: a gather at the window maxima; average: window sums)."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from parity_support import TF, F, case, inputs, randn, register, torch


def _distinct(*shape: int):
    """Values without ties (max pooling's gradient is unique), scaled to about ±1."""
    return lambda rng: (rng.permutation(int(np.prod(shape))).reshape(shape) - 20.0) / 17.0


def _cr_input_gradient(pool, t):
    x = cr.tensor(t.x.numpy(), requires_grad=True)
    return cr.autograd.grad(pool(x), [x], t.v, create_graph=True)[0]


def _torch_input_gradient(pool, t):
    x = t.x.detach().clone().requires_grad_()
    return torch.autograd.grad(pool(x), [x], t.v, create_graph=True)[0]


CASES = [
    case(
        "max-pool2d-adjoint-overlapping-padded",
        "MaxPool2dAdjoint",
        inputs(x=_distinct(2, 2, 7, 6), v=randn(2, 2, 4, 3)),
        lambda t: _cr_input_gradient(lambda x: F.max_pool2d(x, 3, 2, 1), t),
        lambda t: _torch_input_gradient(lambda x: TF.max_pool2d(x, 3, 2, 1), t),
        const="x",
    ),
    case(
        "max-pool2d-adjoint-dilated-ceil",
        "MaxPool2dAdjoint",
        inputs(x=_distinct(1, 3, 8, 7), v=randn(1, 3, 5, 4)),
        lambda t: _cr_input_gradient(
            lambda x: F.max_pool2d(x, 2, 2, 1, dilation=2, ceil_mode=True), t
        ),
        lambda t: _torch_input_gradient(
            lambda x: TF.max_pool2d(x, 2, 2, 1, dilation=2, ceil_mode=True), t
        ),
        const="x",
    ),
    case(
        "avg-pool2d-adjoint-ceil-exclude-pad",
        "AvgPool2dAdjoint",
        inputs(x=randn(2, 2, 6, 7), v=randn(2, 2, 4, 4)),
        lambda t: _cr_input_gradient(
            lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), t
        ),
        lambda t: _torch_input_gradient(
            lambda x: TF.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), t
        ),
        const="x",
    ),
]

register(*CASES)
