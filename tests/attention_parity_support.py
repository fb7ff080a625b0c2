"""What the attention and transformer parity tests share: copying a torch module's weights into
its chainrule twin, and running both on the same inputs with every gradient compared.
Importing it skips the importing module without torch."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-10, 1e-12


def twin(torch_cls: Any, cr_cls: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The torch module (float64, seeded) and the chainrule one holding the same weights.

    Every other keyword is passed to both; torch's warning about nested tensors (which
    chainrule does not have) is silenced."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch_cls(*args, **kwargs, dtype=torch.float64)
    ours = cr_cls(*args, **kwargs, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state = {k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return theirs, ours


def as_pair(value: Any, grad: bool) -> tuple[Any, Any]:
    """An ndarray as a (torch, chainrule) pair of tensors (float arrays requiring grad when
    ``grad``); anything else twice."""
    if not isinstance(value, np.ndarray):
        return value, value
    needs = grad and value.dtype.kind == "f"
    return torch.tensor(value, requires_grad=needs), cr.tensor(value, requires_grad=needs)


def outputs_of(result: Any) -> list[Any]:
    """The tensors of a result: itself, or the non-None members of a tuple."""
    items = result if isinstance(result, tuple) else (result,)
    return [r for r in items if r is not None]


def assert_same(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def compare(
    theirs_fn: Callable[..., Any],
    ours_fn: Callable[..., Any],
    inputs: dict[str, Any],
    modules: tuple[Any, Any] | None = None,
    seed: int = 0,
) -> None:
    """Run both functions on the same inputs (keyword arguments); compare every output, then
    the gradients of ``Σ outputᵢ · random weightsᵢ`` with respect to every float input and
    every parameter of ``modules`` (torch's, ours)."""
    pairs = {name: as_pair(value, True) for name, value in inputs.items()}
    t_out = outputs_of(theirs_fn(**{n: p[0] for n, p in pairs.items()}))
    c_out = outputs_of(ours_fn(**{n: p[1] for n, p in pairs.items()}))
    assert len(t_out) == len(c_out), "a different number of outputs"
    rng = np.random.default_rng(seed)
    t_loss, c_loss = 0, 0
    for i, (t, c) in enumerate(zip(t_out, c_out)):
        assert_same(c.numpy(), t.detach().numpy(), f"output {i}")
        w = rng.normal(size=t.shape)
        t_loss = t_loss + (t * torch.tensor(w)).sum()
        c_loss = c_loss + (c * cr.tensor(w)).sum()
    t_loss.backward()
    c_loss.backward()
    for name, (t, c) in pairs.items():
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:  # not used (a mask replaced by the causal pattern)
                assert c.grad is None or not c.grad.numpy().any(), f"gradient of {name}"
                continue
            assert_same(c.grad.numpy(), t.grad.numpy(), f"gradient of {name}")
    if modules is not None:
        t_params = dict(modules[0].named_parameters())
        for name, p in modules[1].named_parameters():
            assert_same(p.grad.numpy(), t_params[name].grad.numpy(), f"gradient of {name}")
