"""``gradcheck``: compare backpropagated gradients with central differences.

For a function f and an input x, the numeric derivative along a direction u is
(f(x + εu) − f(x − εu)) / 2ε, with error O(ε²). The full check builds, column by column, the
Jacobian J = ∂f/∂x numerically and row by row from ``backward()``, and compares them element by
element. The fast check compares a single random projection vᵀJu per input.

Inputs are copied to float64 before anything is evaluated, so the caller's arrays never change.

``gradgradcheck`` checks second derivatives the same way: it differentiates, by central
differences, the first derivative that ``create_graph=True`` builds, vᵀ∂f/∂x for random upstream
gradients v, with respect to x and v, and compares it with a second backward pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor
from chainrule.autograd import api as autograd_api


class GradcheckError(AssertionError):
    """A gradient from ``backward()`` disagrees with its numeric estimate."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` against central differences in float64.

    Parameters
    ----------
    fn : callable
        Takes the inputs (tensors and any other arguments, in order) and returns a tensor.
    inputs : Tensor or sequence
        Arguments for ``fn``. Every tensor with ``requires_grad=True`` is checked.
    eps : float
        Step of the central difference.
    atol, rtol : float
        An element passes when ``|analytic − numeric| ≤ atol + rtol·|numeric|``.
    fast_mode : bool
        Compare one random projection vᵀJu per input instead of the whole Jacobian.
    raise_exception : bool
        Raise :class:`GradcheckError` on a mismatch (default); otherwise return False.
    seed : int
        Seed for the random directions of ``fast_mode``.

    Returns
    -------
    bool
        True when every checked gradient agrees.

    Warns for checked inputs that are not float64 (they are converted: the check is only
    meaningful in double precision).
    """
    args = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    copies: list[Any] = []
    for i, arg in enumerate(args):
        if isinstance(arg, Tensor):
            if arg.requires_grad and arg.dtype != np.float64:
                warnings.warn(
                    f"gradcheck: input {i} is {arg.dtype}; it is checked as a float64 copy, "
                    "because central differences are only accurate in double precision",
                    UserWarning,
                    stacklevel=2,
                )
            data = arg._data.astype(np.float64) if arg._data.dtype.kind == "f" else arg._data.copy()
            copies.append(Tensor(data, requires_grad=arg.requires_grad))
        else:
            copies.append(arg)
    checked = [i for i, a in enumerate(copies) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")

    def evaluate() -> np.ndarray:
        out = fn(*copies)
        return np.array(out._data, dtype=np.float64)

    check = _check_fast if fast_mode else _check_full
    try:
        for i in checked:
            check(fn, copies, i, evaluate, eps, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
    **torch_options: Any,
) -> bool:
    """Check the second derivatives of ``fn(*inputs)`` against central differences, in float64.

    The function checked is the first derivative ``g(x, v) = vᵀ ∂f/∂x`` computed by
    ``autograd.grad(f(x), x, v, create_graph=True)``: :func:`gradcheck` compares its backward
    (the backward of the backward) with central differences of ``g``, element by element, and
    reports the first element outside tolerance.

    Parameters
    ----------
    fn, inputs, eps, atol, rtol, fast_mode, raise_exception, seed
        As for :func:`gradcheck`.
    grad_outputs : Tensor of ``fn``'s output shape, optional
        The upstream gradient v. By default a random normal one (drawn from ``seed``) that
        requires grad, so derivatives with respect to v are checked too, as PyTorch does.
    **torch_options
        PyTorch's other keywords (``check_undefined_grad``, ``nondet_tol``, …) are accepted and
        ignored: chainrule's backward is deterministic.

    Returns
    -------
    bool
        True when every checked second derivative agrees.
    """
    args = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    floats = [
        Tensor(a._data.astype(np.float64), requires_grad=True)
        if isinstance(a, Tensor) and a.requires_grad
        else a
        for a in args
    ]
    checked = [i for i, a in enumerate(floats) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input has requires_grad=True")
    if grad_outputs is None:
        shape = fn(*floats).shape
        v = np.random.default_rng(seed).standard_normal(shape)
        grad_outputs = Tensor(v, requires_grad=True)
    n = len(floats)

    def first_derivative(*xs_and_v: Any) -> Tensor:
        xs, v = list(xs_and_v[:n]), xs_and_v[n]
        wrt = [xs[i] for i in checked]
        grads = autograd_api.grad(fn(*xs), wrt, v, create_graph=True, allow_unused=True)
        parts = [
            F.reshape(g if g is not None else Tensor._wrap(np.zeros(x.shape)), (-1,))
            for g, x in zip(grads, wrt)
        ]
        return F.cat(parts)

    return gradcheck(
        first_derivative,
        [*floats, grad_outputs],
        eps=eps,
        atol=atol,
        rtol=rtol,
        fast_mode=fast_mode,
        raise_exception=raise_exception,
        seed=seed,
    )


def _analytic_vjp(
    fn: Callable[..., Tensor], copies: list[Any], i: int, v: np.ndarray
) -> np.ndarray:
    """vᵀJ for input i, by one backward pass."""
    for a in copies:
        if isinstance(a, Tensor):
            a.grad = None
    out = fn(*copies)
    if not out.requires_grad:
        return np.zeros_like(copies[i]._data)
    out.backward(v.reshape(out.shape))
    g = copies[i].grad
    return np.zeros_like(copies[i]._data) if g is None else g._data.astype(np.float64)


def _numeric_column(x: Tensor, flat_index: int, evaluate: Callable[[], np.ndarray], eps: float):
    flat = x._data.reshape(-1)
    original = flat[flat_index]
    flat[flat_index] = original + eps
    plus = evaluate()
    flat[flat_index] = original - eps
    minus = evaluate()
    flat[flat_index] = original
    return (plus - minus).reshape(-1) / (2 * eps)


def _check_full(fn, copies, i, evaluate, eps, atol, rtol, seed) -> None:
    x = copies[i]
    out_size = evaluate().size
    analytic = np.empty((out_size, x._data.size))
    for row in range(out_size):
        onehot = np.zeros(out_size)
        onehot[row] = 1.0
        analytic[row] = _analytic_vjp(fn, copies, i, onehot).reshape(-1)
    for col in range(x._data.size):
        numeric = _numeric_column(x, col, evaluate, eps)
        bad = ~np.isclose(analytic[:, col], numeric, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            row = int(np.argmax(bad))
            raise GradcheckError(
                f"gradient of output element {_where(row, evaluate().shape)} with respect to "
                f"input {i} at index {_where(col, x.shape)}: analytic {analytic[row, col]!r}, "
                f"numeric {numeric[row]!r} (atol={atol}, rtol={rtol})"
            )


def _check_fast(fn, copies, i, evaluate, eps, atol, rtol, seed) -> None:
    rng = np.random.default_rng(seed + i)
    x = copies[i]
    v = rng.standard_normal(evaluate().shape)
    u = rng.standard_normal(x.shape)
    analytic = float(np.sum(_analytic_vjp(fn, copies, i, v) * u))
    original = x._data.copy()
    x._data[...] = original + eps * u
    plus = evaluate()
    x._data[...] = original - eps * u
    minus = evaluate()
    x._data[...] = original
    numeric = float(np.sum((plus - minus) * v) / (2 * eps))
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol, equal_nan=True):
        raise GradcheckError(
            f"random projection vᵀJu for input {i} of shape {x.shape}: analytic {analytic!r}, "
            f"numeric {numeric!r} (atol={atol}, rtol={rtol}); rerun without fast_mode to find "
            "the element"
        )


def _where(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(k) for k in np.unravel_index(flat_index, shape)) if shape else ()
