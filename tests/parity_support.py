"""What every PyTorch parity case file shares: the ``Case`` record, input makers, and the
comparison of values and gradients. Importing it skips the importing module without torch.

A case file (``tests/parity_cases_<family>.py``) defines cases with :func:`case` and passes them
to :func:`register`; ``test_torch_parity.py`` imports every such file, runs every case, and fails
when a registered op has none.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
TF = torch.nn.functional
F = cr.functional

RTOL, ATOL = 1e-10, 1e-12


# ----- cases ------------------------------------------------------------------------------------

Maker = Callable[[np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Case:
    """One computation run in both libraries.

    ``make`` draws the named input arrays. Float arrays require grad unless listed in ``const``;
    integer and bool arrays (labels, masks) are always constants. ``cr_fn`` and ``torch_fn``
    receive the inputs as attributes of a namespace, already converted to that library's tensors.
    """

    name: str
    ops: frozenset[str]
    make: Callable[[np.random.Generator], dict[str, np.ndarray]]
    cr_fn: Callable[[Any], Any]
    torch_fn: Callable[[Any], Any]
    const: frozenset[str]


def case(
    name: str,
    ops: str,
    make: Callable[[np.random.Generator], dict[str, np.ndarray]],
    cr_fn: Callable[[Any], Any],
    torch_fn: Callable[[Any], Any] | None = None,
    const: str = "",
) -> Case:
    """A case; ``ops`` and ``const`` are space-separated names, ``torch_fn`` defaults to
    ``cr_fn`` (for operators and indexing, which are spelled alike)."""
    return Case(
        name, frozenset(ops.split()), make, cr_fn, torch_fn or cr_fn, frozenset(const.split())
    )


def inputs(**makers: Maker) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
    return lambda rng: {k: np.asarray(m(rng)) for k, m in makers.items()}


def randn(*shape: int, scale: float = 1.0) -> Maker:
    return lambda rng: scale * rng.standard_normal(shape)


def uniform(lo: float, hi: float, *shape: int) -> Maker:
    return lambda rng: rng.uniform(lo, hi, shape)


def labels(classes: int, *shape: int, ignore: int | None = None) -> Maker:
    """Class indices (int64); with ``ignore``, every third one is that value."""

    def make(rng: np.random.Generator) -> np.ndarray:
        out = np.asarray(rng.integers(0, classes, shape), dtype=np.int64)
        if ignore is not None:
            out.reshape(-1)[::3] = ignore
        return out

    return make


def probs(*shape: int, axis: int = 1) -> Maker:
    """Class probabilities: positive, summing to 1 along ``axis``."""

    def make(rng: np.random.Generator) -> np.ndarray:
        e = np.exp(rng.standard_normal(shape))
        return e / e.sum(axis=axis, keepdims=True)

    return make


def mask(*shape: int) -> Maker:
    return lambda rng: rng.random(shape) < 0.5


def fixed(values: Any, dtype: Any = np.float64) -> Maker:
    return lambda rng: np.array(values, dtype=dtype)


def dims(axis: Any, ndim: int) -> Any:
    """torch's ``dim`` for chainrule's ``axis`` (None means every axis)."""
    return tuple(range(ndim)) if axis is None else axis


def axis_id(axis: Any, keepdims: bool) -> str:
    text = "all" if axis is None else str(axis).replace(" ", "")
    return f"axis={text}" + ("-keepdims" if keepdims else "")


#: Cases registered by the case files, and their registered ops no case exercises (with why).
REGISTERED: list[Case] = []
REGISTERED_NOT_COVERED: dict[str, str] = {}


def register(*cases: Case, not_covered: dict[str, str] | None = None) -> None:
    """Add a case file's cases (and ops it cannot cover, with the reason) to the suite."""
    REGISTERED.extend(cases)
    REGISTERED_NOT_COVERED.update(not_covered or {})


def load_case_files() -> None:
    """Import every ``parity_cases_*.py`` beside this file, so that their cases register."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("parity_cases_*.py")):
        importlib.import_module(path.stem)


# ----- the comparison ----------------------------------------------------------------------


def recorded_ops(out: cr.Tensor) -> set[str]:
    """Names of every op node in the graph that produced ``out``."""
    names: set[str] = set()
    seen: set[int] = set()
    stack = [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.add(fn.op_name)
        stack.extend(t.grad_fn for t in fn.inputs)
    return names


def assert_matches_torch(c: Case) -> None:
    rng = np.random.default_rng(zlib.crc32(c.name.encode()))
    arrays = c.make(rng)
    differentiable = [k for k, a in arrays.items() if a.dtype.kind == "f" and k not in c.const]
    assert differentiable, "a parity case needs at least one differentiable input"
    ours = {k: cr.tensor(a, requires_grad=k in differentiable) for k, a in arrays.items()}
    theirs = {k: torch.tensor(a, requires_grad=k in differentiable) for k, a in arrays.items()}

    out = c.cr_fn(SimpleNamespace(**ours))
    expected = c.torch_fn(SimpleNamespace(**theirs))

    missing = c.ops - recorded_ops(out)
    assert not missing, f"the case claims ops its graph does not record: {sorted(missing)}"
    assert out.shape == tuple(expected.shape)
    assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
    np.testing.assert_allclose(
        out.numpy(), expected.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="forward values"
    )

    if out.ndim == 0:
        out.backward()
        expected.backward()
    else:
        upstream = rng.standard_normal(out.shape).astype(out.dtype)
        out.backward(upstream)
        expected.backward(torch.from_numpy(upstream))

    for k in differentiable:
        want = theirs[k].grad
        got = ours[k].grad
        if want is None:
            assert got is None or not got.numpy().any(), f"torch gives {k} no gradient"
            continue
        assert got is not None, f"chainrule gives {k} no gradient"
        assert got.dtype == ours[k].dtype, f"gradient of {k} has dtype {got.dtype}"
        np.testing.assert_allclose(
            got.numpy(), want.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"gradient of {k}"
        )
