"""PyTorch parity for P3's pointwise math: values and gradients in float64, with broadcasting,
and the conventions at domain edges (asin′(±1) = inf, atanh(±1) = ±inf, atan2′ at the origin,
sign(NaN) = 0, round half to even)."""

from __future__ import annotations

import numpy as np

from parity_support import F, case, fixed, inputs, randn, register, torch, uniform


def _unary(name, op, make, ours=None, theirs=None):
    ours = ours or getattr(F, name)
    theirs = theirs or getattr(torch, name)
    return case(name, op, inputs(x=make), lambda t: ours(t.x), lambda t: theirs(t.x))


INSIDE = uniform(-0.95, 0.95, 3, 4)

UNARY = [
    _unary("sin", "Sin", randn(3, 4, scale=3.0)),
    _unary("cos", "Cos", randn(3, 4, scale=3.0)),
    _unary("tan", "Tan", uniform(-1.4, 1.4, 3, 4)),
    _unary("asin", "Asin", INSIDE),
    _unary("acos", "Acos", INSIDE),
    _unary("atan", "Atan", randn(3, 4, scale=3.0)),
    _unary("sinh", "Sinh", randn(3, 4, scale=3.0)),
    _unary("cosh", "Cosh", randn(3, 4, scale=3.0)),
    _unary("asinh", "Asinh", randn(3, 4, scale=3.0)),
    _unary("acosh", "Acosh", uniform(1.05, 5.0, 3, 4)),
    _unary("atanh", "Atanh", INSIDE),
    _unary("erf", "Erf", randn(4, 50, scale=2.5)),
    _unary("erfc", "Erfc", uniform(-3.0, 9.0, 4, 50)),
    _unary("erfinv", "Erfinv", uniform(-0.999999, 0.999999, 4, 50)),
    _unary("rsqrt", "Rsqrt", uniform(0.1, 4.0, 3, 4)),
    _unary("reciprocal", "Reciprocal", uniform(0.2, 3.0, 3, 4)),
    _unary("square", "Square", randn(3, 4)),
    _unary("log1p", "Log1p", uniform(-0.9, 3.0, 3, 4)),
    _unary("expm1", "Expm1", randn(3, 4, scale=2.0)),
    _unary("log2", "Log2", uniform(0.1, 5.0, 3, 4)),
    _unary("log10", "Log10", uniform(0.1, 5.0, 3, 4)),
    _unary("exp2", "Exp2", randn(3, 4, scale=2.0)),
    _unary("floor", "Floor", randn(3, 4, scale=3.0)),
    _unary("ceil", "Ceil", randn(3, 4, scale=3.0)),
    _unary("trunc", "Trunc", randn(3, 4, scale=3.0)),
    _unary("frac", "Frac", randn(3, 4, scale=3.0)),
    _unary("sign", "Sign", randn(3, 4)),
    _unary("round", "Round", randn(3, 4, scale=3.0)),
    case(
        "round-decimals=2",
        "Round",
        inputs(x=randn(3, 4, scale=3.0)),
        lambda t: F.round(t.x, decimals=2),
        lambda t: torch.round(t.x, decimals=2),
    ),
    case(
        "round-decimals=-1-method",
        "Round",
        inputs(x=randn(3, 4, scale=300.0)),
        lambda t: t.x.round(decimals=-1),
    ),
    case("sin-method", "Sin", inputs(x=randn(2, 3)), lambda t: t.x.sin()),
    case("erfinv-method", "Erfinv", inputs(x=uniform(-0.9, 0.9, 5)), lambda t: t.x.erfinv()),
]


def _binary(name, op, ma, mb, fn=None, tfn=None):
    fn = fn or getattr(F, name)
    tfn = tfn or getattr(torch, name)
    return case(
        f"{name}-broadcast",
        op,
        inputs(a=ma, b=mb),
        lambda t: fn(t.a, t.b),
        lambda t: tfn(t.a, t.b),
    )


AWAY = uniform(0.5, 2.0, 4)

BINARY = [
    _binary("atan2", "Atan2", randn(3, 4), randn(4)),
    _binary("hypot", "Hypot", randn(3, 1), randn(1, 4)),
    _binary("logaddexp", "LogAddExp", randn(3, 4, scale=10.0), randn(4, scale=10.0)),
    _binary("fmod", "Fmod", randn(3, 4, scale=5.0), AWAY),
    _binary("remainder", "Remainder", randn(3, 4, scale=5.0), AWAY),
    case("mod-operator", "Remainder", inputs(a=randn(3, 4, scale=5.0)), lambda t: t.a % -1.5),
    case(
        "div-rounding-trunc",
        "RoundedDiv",
        inputs(a=randn(3, 4, scale=5.0), b=AWAY),
        lambda t: F.div(t.a, t.b, rounding_mode="trunc"),
        lambda t: torch.div(t.a, t.b, rounding_mode="trunc"),
    ),
    case(
        "div-rounding-floor-method",
        "RoundedDiv",
        inputs(a=randn(3, 4, scale=5.0), b=AWAY),
        lambda t: t.a.div(t.b, rounding_mode="floor"),
    ),
    case(
        "lerp-scalar-weight",
        "Lerp",
        inputs(a=randn(3, 4), b=randn(4)),
        lambda t: F.lerp(t.a, t.b, 0.3),
        lambda t: torch.lerp(t.a, t.b, 0.3),
    ),
    case(
        "lerp-tensor-weight",
        "Lerp",
        inputs(a=randn(3, 4), b=randn(4), w=uniform(-0.5, 1.5, 3, 1)),
        lambda t: F.lerp(t.a, t.b, t.w),
        lambda t: torch.lerp(t.a, t.b, t.w),
    ),
    case(
        "nan-to-num",
        "NanToNum",
        inputs(x=fixed([[np.nan, 1.5, np.inf], [-np.inf, -2.0, 0.25]])),
        lambda t: F.nan_to_num(t.x, nan=0.5, neginf=-7.0),
        lambda t: torch.nan_to_num(t.x, nan=0.5, neginf=-7.0),
    ),
    case(
        "nan-to-num-defaults",
        "NanToNum",
        inputs(x=fixed([np.nan, 1.5, np.inf, -np.inf])),
        lambda t: t.x.nan_to_num(),
    ),
]

EDGES = [
    _unary("asin-at-plus-minus-one", "Asin", fixed([1.0, -1.0, 0.5]), F.asin, torch.asin),
    _unary("acos-at-plus-minus-one", "Acos", fixed([1.0, -1.0, 0.5]), F.acos, torch.acos),
    _unary("atanh-at-plus-minus-one", "Atanh", fixed([1.0, -1.0, 0.5]), F.atanh, torch.atanh),
    _unary("erfinv-at-plus-minus-one", "Erfinv", fixed([1.0, -1.0, 0.0]), F.erfinv, torch.erfinv),
    _unary("acosh-at-one", "Acosh", fixed([1.0, 2.0]), F.acosh, torch.acosh),
    _unary("rsqrt-at-zero", "Rsqrt", fixed([0.0, 2.0]), F.rsqrt, torch.rsqrt),
    _unary("erfc-far-tail", "Erfc", fixed([10.0, 20.0, 26.0, -6.0]), F.erfc, torch.erfc),
    _unary("erf-tiny", "Erf", fixed([1e-300, -1e-20, 0.4999, 0.5]), F.erf, torch.erf),
    _unary(
        "erfinv-near-one", "Erfinv", fixed([1 - 1e-15, -1 + 1e-12, 1e-200]), F.erfinv, torch.erfinv
    ),
    _unary("sign-of-nan-zero", "Sign", fixed([np.nan, 0.0, -0.0, -3.0]), F.sign, torch.sign),
    _unary(
        "round-half-to-even",
        "Round",
        fixed([0.5, 1.5, 2.5, -0.5, -2.5, 3.5]),
        F.round,
        torch.round,
    ),
    case(
        "atan2-at-origin",
        "Atan2",
        inputs(a=fixed([0.0, 0.0, 1.0]), b=fixed([0.0, -0.0, 0.0])),
        lambda t: F.atan2(t.a, t.b),
        lambda t: torch.atan2(t.a, t.b),
    ),
    case(
        "fmod-remainder-negative-divisor",
        "Fmod Remainder",
        inputs(a=fixed([-7.5, 7.5, 3.0]), b=fixed([-2.0, -2.0, 1.5])),
        lambda t: F.fmod(t.a, t.b) + F.remainder(t.a, t.b),
        lambda t: torch.fmod(t.a, t.b) + torch.remainder(t.a, t.b),
    ),
]

register(*UNARY, *BINARY, *EDGES)
