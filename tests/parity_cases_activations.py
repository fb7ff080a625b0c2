"""PyTorch parity for P3's activations (values and gradients in float64), their defaults, their
gradients at kinks (hardtanh, relu6, hardswish, hardsigmoid at the corners), saturation
(logsigmoid, mish at ±800), softmax's dim/dtype, glu's and normalize's dims."""

from __future__ import annotations

import math

import numpy as np

from parity_support import TF, F, case, fixed, inputs, randn, register, torch


def _act(name, op, scale=3.0, *args, **kw):
    ours, theirs = getattr(F, name), getattr(TF, name)
    label = name + "".join(f"-{v}" for v in args) + "".join(f"-{k}={v}" for k, v in kw.items())
    return case(
        label,
        op,
        inputs(x=randn(3, 5, scale=scale)),
        lambda t: ours(t.x, *args, **kw),
        lambda t: theirs(t.x, *args, **kw),
    )


CORNERS = fixed([-800.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0, 800.0])

ACTIVATIONS = [
    _act("silu", "SiLU"),
    _act("mish", "Mish"),
    _act("hardtanh", "Hardtanh"),
    _act("hardtanh", "Hardtanh", 3.0, -0.5, 2.0),
    _act("hardtanh", "Hardtanh", 3.0, min_val=-2.0, max_val=0.5),
    _act("relu6", "Hardtanh", 5.0),
    _act("hardswish", "Hardswish", 4.0),
    _act("selu", "SELU"),
    _act("celu", "CELU"),
    _act("celu", "CELU", 3.0, alpha=0.5),
    _act("softsign", "Softsign"),
    _act("logsigmoid", "LogSigmoid"),
    case(
        "hardsigmoid",
        "Hardsigmoid",
        inputs(x=randn(3, 5, scale=4.0)),
        lambda t: F.hardsigmoid(t.x),
        # torch's float64 hardsigmoid backward uses a float32 1/6; relu6(x + 3)/6 is the same
        # function with the exact slope.
        lambda t: TF.relu6(t.x + 3) / 6,
    ),
    case(
        "hardsigmoid-values",
        "",
        inputs(x=randn(3, 5, scale=4.0)),
        lambda t: F.hardsigmoid(t.x).detach() + t.x,
        lambda t: TF.hardsigmoid(t.x).detach() + t.x,
    ),
    case(
        "softmin-dim=0",
        "Softmax",
        inputs(x=randn(3, 5)),
        lambda t: F.softmin(t.x, dim=0),
        lambda t: TF.softmin(t.x, dim=0),
    ),
    case(
        "softmin-axis-alias",
        "Softmax",
        inputs(x=randn(2, 3, 4)),
        lambda t: F.softmin(t.x, axis=-2),
        lambda t: TF.softmin(t.x, dim=-2),
    ),
    case(
        "softmax-dim-keyword",
        "Softmax",
        inputs(x=randn(2, 3, 4)),
        lambda t: F.softmax(t.x, dim=1),
        lambda t: TF.softmax(t.x, dim=1),
    ),
    case(
        "log-softmax-dim-negative-method",
        "LogSoftmax",
        inputs(x=randn(2, 3, 4)),
        lambda t: t.x.log_softmax(-2),
    ),
    case(
        "softmax-dtype-float64",
        "Softmax Cast",
        inputs(x=randn(2, 3)),
        lambda t: F.softmax(t.x.float(), dim=-1, dtype=np.float64),
        lambda t: TF.softmax(t.x.float(), dim=-1, dtype=torch.float64),
    ),
    case(
        "softmax-0d",
        "Softmax",
        inputs(x=fixed(1.5)),
        lambda t: F.softmax(t.x, dim=0) * t.x,
        lambda t: TF.softmax(t.x, dim=0) * t.x,
    ),
    case(
        "glu-default-last-dim",
        "GLU",
        inputs(x=randn(3, 6)),
        lambda t: F.glu(t.x),
        lambda t: TF.glu(t.x),
    ),
    case(
        "glu-dim=1",
        "GLU",
        inputs(x=randn(2, 4, 3)),
        lambda t: F.glu(t.x, dim=1),
        lambda t: TF.glu(t.x, dim=1),
    ),
    case(
        "normalize-defaults",
        "Normalize",
        inputs(x=randn(4, 5)),
        lambda t: F.normalize(t.x),
        lambda t: TF.normalize(t.x),
    ),
    case(
        "normalize-p=1-dim=-1",
        "Normalize",
        inputs(x=randn(2, 3, 4)),
        lambda t: F.normalize(t.x, p=1.0, dim=-1),
        lambda t: TF.normalize(t.x, p=1.0, dim=-1),
    ),
    case(
        "normalize-p=3-dim=0",
        "Normalize",
        inputs(x=randn(3, 4)),
        lambda t: F.normalize(t.x, p=3, dim=0),
        lambda t: TF.normalize(t.x, p=3, dim=0),
    ),
    case(
        "normalize-p=inf",
        "Normalize",
        inputs(x=randn(3, 4)),
        lambda t: F.normalize(t.x, p=math.inf, dim=1),
        lambda t: TF.normalize(t.x, p=math.inf, dim=1),
    ),
]


def _corner(name, op, ours=None, theirs=None):
    ours, theirs = ours or getattr(F, name), theirs or getattr(TF, name)
    return case(
        f"{name}-at-kinks-and-saturation",
        op,
        inputs(x=CORNERS),
        lambda t: ours(t.x),
        lambda t: theirs(t.x),
    )


EDGES = [
    _corner("hardtanh", "Hardtanh"),
    _corner("relu6", "Hardtanh"),
    _corner("hardswish", "Hardswish"),
    _corner("hardsigmoid", "Hardsigmoid", theirs=lambda x: TF.relu6(x + 3) / 6),
    _corner("logsigmoid", "LogSigmoid"),
    _corner("mish", "Mish"),
    _corner("silu", "SiLU"),
    _corner("softsign", "Softsign"),
    _corner("selu", "SELU"),
    _corner("celu", "CELU"),
    case(
        "normalize-zero-row-uses-eps",
        "Normalize",
        inputs(x=fixed([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])),
        lambda t: F.normalize(t.x, dim=1),
        lambda t: TF.normalize(t.x, dim=1),
    ),
]

register(*ACTIVATIONS, *EDGES)
