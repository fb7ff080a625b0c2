"""What every gradcheck case file shares: leaves, random values, axes, and the case registry.

A case file (``tests/gradcheck_cases_<family>.py``, or ``test_gradcheck_ops.py`` itself) decorates
builders with :func:`case`; ``test_gradcheck_ops.py`` imports every such file, runs every case,
and fails when a registered op has none.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import chainrule as cr

SMALL = {"min_dims": 0, "max_dims": 3, "min_side": 1, "max_side": 4}
NONEMPTY = {"min_dims": 1, "max_dims": 3, "min_side": 1, "max_side": 4}


def leaf(values: np.ndarray) -> cr.Tensor:
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def normal(draw, shape, low=None, away_from_zero=False):
    """Standard normal values for ``shape``, from a hypothesis-drawn seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape)
    if away_from_zero:
        x = np.sign(x + 1e-12) * (np.abs(x) + 0.5)
    if low is not None:
        x = np.abs(x) + low
    return x


def axis_for(draw, ndim):
    """None, one axis (possibly negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))


# Each case: registry op names it exercises -> a function drawing (fn, args) from hypothesis.
CASES = {}


def case(*ops):
    def register(builder):
        CASES[builder.__name__] = (ops, builder)
        return builder

    return register


def load_case_files() -> None:
    """Import every ``gradcheck_cases_*.py`` beside this file, so that their cases register."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("gradcheck_cases_*.py")):
        importlib.import_module(path.stem)
