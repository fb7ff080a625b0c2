"""Second derivatives of random composite graphs equal PyTorch's (float64).

Each example draws a small random program: a few leaves of broadcast-compatible shapes, then a
chain of unary and binary ops (results reused, so gradients meet along several paths), reduced
to a scalar. For random upstream vectors both libraries compute the first derivative with
create_graph=True and differentiate (g · w) again; the results must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

torch = pytest.importorskip("torch")

UNARY = {
    "tanh": lambda lib, a: lib.tanh(a),
    "sigmoid": lambda lib, a: lib.sigmoid(a),
    "exp_small": lambda lib, a: lib.exp(0.3 * a),
    "square": lambda lib, a: a * a,
    "sin": lambda lib, a: lib.sin(a),
    "softplus": lambda lib, a: lib.log(1 + lib.exp(a)),
    "cube": lambda lib, a: a**3,
    "mean_keep": lambda lib, a: a.mean(dim=-1, keepdim=True),
    "transpose": lambda lib, a: a.transpose(-1, -2) if a.dim() >= 2 else a,
}
BINARY = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "sub": lambda lib, a, b: a - b,
    "div": lambda lib, a, b: a / (1.5 + b * b),
}


def run(lib, program, leaves_np, v_np):
    leaves = [lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in leaves_np]
    values = list(leaves)
    for kind, name, i, j in program:
        if kind == "u":
            values.append(UNARY[name](lib, values[i]))
        else:
            try:
                values.append(BINARY[name](lib, values[i], values[j]))
            except RuntimeError:  # shapes that do not broadcast after a transpose
                values.append(values[i] * 1.0)
    out = (values[-1] * values[-1]).sum() + values[-1].sum()
    grads = lib.autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    dot = sum(
        (g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(grads, v_np) if g is not None
    )
    second = lib.autograd.grad(dot, leaves, allow_unused=True)
    return [None if s is None else s.detach().numpy() for s in second]


@st.composite
def programs(draw):
    base = draw(st.lists(st.integers(1, 3), min_size=2, max_size=2))
    shapes = [tuple(base), (base[-1],), (1, base[-1])]
    n_leaves = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 6))):
        available = n_leaves + k
        if draw(st.booleans()):
            steps.append(
                ("u", draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, available - 1)), 0)
            )
        else:
            i, j = draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1))
            steps.append(("b", draw(st.sampled_from(sorted(BINARY))), i, j))
    seed = draw(st.integers(0, 2**32 - 1))
    return shapes[:n_leaves], steps, seed


@settings(max_examples=60, deadline=None)
@given(programs())
def test_second_derivatives_of_random_graphs_match_pytorch(case):
    shapes, program, seed = case
    rng = np.random.default_rng(seed)
    leaves = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    ours = run(cr, program, leaves, vs)
    theirs = run(torch, program, leaves, vs)
    for a, b in zip(ours, theirs):
        if a is None or b is None:
            assert a is None or not np.any(a), (a, b)
            continue
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
