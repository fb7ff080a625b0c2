"""L-BFGS: quasi-Newton steps from a short history of gradient changes, with an optional
strong-Wolfe line search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import enable_grad
from chainrule.optim.optimizer import Optimizer, ParamsT, check_number

_LINE_SEARCHES = (None, "strong_wolfe")


class LBFGS(Optimizer):
    r"""Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, algorithm 7.4), with
    PyTorch's algorithm, options and state.

    Each of up to ``max_iter`` inner iterations per :meth:`step` takes the direction
    ``d = −H∇f`` where H, the inverse-Hessian estimate, is applied by the two-loop recursion
    over the last ``history_size`` pairs ``(s, y)`` (step, change of gradient; a pair is kept
    only if ``yᵀs > 1e-10``) and the initial scaling ``γ = yᵀs / yᵀy``:

        q ← −∇f;  αᵢ = ρᵢsᵢᵀq, q ← q − αᵢyᵢ  (newest first);  r = γq;
        βᵢ = ρᵢyᵢᵀr, r ← r + (αᵢ − βᵢ)sᵢ  (oldest first);  d = r,  ρᵢ = 1/yᵢᵀsᵢ

    then ``θ ← θ + t·d`` with ``t = lr`` (the very first iteration: ``lr·min(1, 1/‖∇f‖₁)``), or
    with t from a line search satisfying the strong Wolfe conditions (c₁ = 1e-4, c₂ = 0.9,
    cubic interpolation, at most 25 evaluations). Iterations stop early when ``max|∇f| ≤
    tolerance_grad``, when the step or the change of loss falls below ``tolerance_change``, or
    after ``max_eval`` evaluations of the closure.

    All parameters form one vector: parameter groups are not supported. Unlike the other
    optimizers it allocates flat vectors on every iteration (its history must be kept anyway).
    State (on the first parameter, as in PyTorch): ``'func_evals'``, ``'n_iter'`` (ints),
    ``'d'``, ``'t'``, ``'old_dirs'`` and ``'old_stps'`` (lists of flat arrays), ``'ro'``,
    ``'H_diag'``, ``'prev_flat_grad'``, ``'prev_loss'`` and ``'al'``.

    Parameters
    ----------
    params : iterable of Tensor
        The parameters, a single group.
    lr : float
        Step length scale.
    max_iter : int
        Inner iterations per :meth:`step`.
    max_eval : int or None
        Closure evaluations per :meth:`step`; None means ``max_iter * 5 // 4``.
    tolerance_grad : float
        Stop when every gradient coordinate is at most this in magnitude.
    tolerance_change : float
        Stop when the step or the change of loss is smaller than this.
    history_size : int
        Number of ``(s, y)`` pairs kept.
    line_search_fn : {None, 'strong_wolfe'}
        None takes fixed steps of length ``lr``.
    """

    _free_state = ("d", "old_dirs", "old_stps", "ro", "al", "prev_flat_grad", "H_diag")
    _scalar_state = ("func_evals", "n_iter", "t", "prev_loss")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            value = options[name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        check_number("tolerance_grad", options["tolerance_grad"])
        check_number("tolerance_change", options["tolerance_change"])
        if options["line_search_fn"] not in _LINE_SEARCHES:
            raise ValueError(
                f"only 'strong_wolfe' is supported as line_search_fn, got "
                f"{options['line_search_fn']!r}"
            )

    # ----- the flat view of all parameters ------------------------------------------------------
    def _flat_grad(self) -> np.ndarray:
        parts = [
            np.zeros(p._data.size, p._data.dtype) if p.grad is None else p.grad._data.reshape(-1)
            for p in self._params
        ]
        return np.concatenate(parts)

    def _add_step(self, t: float, d: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset : offset + n].reshape(p._data.shape)
            offset += n
            self._note_write(p)

    def _set_params(self, values: list[np.ndarray]) -> None:
        for p, v in zip(self._params, values):
            np.copyto(p._data, v)
            self._note_write(p)

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        with enable_grad():
            return float(closure())

    def _directional(
        self, closure: Callable[[], Any], start: list[np.ndarray], t: float, d: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Loss and flat gradient at ``start + t·d``; the parameters are put back afterwards."""
        self._add_step(t, d)
        loss = self._evaluate(closure)
        grad = self._flat_grad()
        self._set_params(start)
        return loss, grad

    # ----- the step -----------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations; ``closure`` (required) clears the gradients,
        re-evaluates the model, calls ``backward()`` and returns the loss.

        Returns the loss the first evaluation gave.
        """
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that re-evaluates the loss")
        group = self.param_groups[0]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        self._step_count += 1
        if np.abs(flat_grad).max() <= group["tolerance_grad"]:
            return orig_loss
        self._iterate(closure, group, state, loss, flat_grad)
        return orig_loss

    def _iterate(
        self,
        closure: Callable[[], Any],
        group: dict[str, Any],
        state: dict[str, Any],
        loss: float,
        flat_grad: np.ndarray,
    ) -> None:
        lr, max_iter, tol_change = float(group["lr"]), group["max_iter"], group["tolerance_change"]
        evals, n_iter = 1, 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            d = self._direction(state, flat_grad, group["history_size"])
            state["prev_flat_grad"] = flat_grad.copy()
            state["prev_loss"] = loss
            prev_loss = loss
            # A first step is scaled down by the gradient's size: there is no curvature yet.
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)
            if gtd > -tol_change:
                state["d"], state["t"] = d, t  # not a descent direction (any more)
                break
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]
                loss, flat_grad, t, ls_evals = _strong_wolfe(
                    lambda x, step, dd: self._directional(closure, x, step, dd),
                    start,
                    t,
                    d,
                    loss,
                    flat_grad,
                    gtd,
                )
                self._add_step(t, d)
            else:
                self._add_step(t, d)
                ls_evals = 0
                if n_iter != max_iter:
                    loss, flat_grad, ls_evals = self._evaluate(closure), self._flat_grad(), 1
            state["d"], state["t"] = d, t
            evals += ls_evals
            state["func_evals"] += ls_evals
            if (
                n_iter == max_iter
                or evals >= group["max_eval"]
                or np.abs(flat_grad).max() <= group["tolerance_grad"]
                or np.abs(d * t).max() <= tol_change
                or abs(loss - prev_loss) < tol_change
            ):
                break

    def _direction(self, state: dict[str, Any], g: np.ndarray, history_size: int) -> np.ndarray:
        """The quasi-Newton direction, after adding the last step's ``(s, y)`` to the history."""
        if state["n_iter"] == 1:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            return -g
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y = g - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = float(y @ s)
        if ys > 1e-10:  # keep only pairs with positive curvature, so H stays positive definite
            if len(old_dirs) == history_size:
                del old_dirs[0], old_stps[0], ro[0]
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / float(y @ y)
        al = state["al"] = [None] * history_size
        q = -g
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = float(old_stps[i] @ q) * ro[i]
            q -= al[i] * old_dirs[i]
        r = q * float(state["H_diag"])
        for i in range(len(old_dirs)):
            be_i = float(old_dirs[i] @ r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r


# ----- the strong-Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6) -------------------
def _cubic_minimum(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """Minimizer, clipped to ``bounds`` (default: between the points), of the cubic through two
    points with given values and slopes; the bounds' midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = d2_square**0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


@dataclass
class _Point:
    """A trial step length with the loss, flat gradient and slope along d there."""

    t: float
    f: float
    g: np.ndarray
    gtd: float


_C1, _C2, _MAX_LS, _TOL = 1e-4, 0.9, 25, 1e-9


def _strong_wolfe(
    evaluate: Callable[[Any, float, np.ndarray], tuple[float, np.ndarray]],
    x: list[np.ndarray],
    t: float,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: float,
) -> tuple[float, np.ndarray, float, int]:
    """Find t with sufficient decrease (c₁) and a flat enough slope (c₂): bracket, then zoom.

    Returns the loss, flat gradient and t at the accepted point, and the evaluations used.
    """
    origin = _Point(0.0, f, g.copy(), gtd)

    def at(step: float) -> _Point:
        f_new, g_new = evaluate(x, step, d)
        return _Point(step, f_new, g_new, float(g_new @ d))

    new, prev, evals, done = at(t), origin, 1, False
    bracket: list[_Point] | None = None
    while evals - 1 < _MAX_LS:
        armijo_fails = new.f > f + _C1 * new.t * gtd
        if armijo_fails or (evals - 1 > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if abs(new.gtd) <= -_C2 * gtd:
            bracket, done = [new], True
            break
        if new.gtd >= 0:  # past a minimum along d (checked after the curvature condition)
            bracket = [prev, new]
            break
        # Extrapolate: at least 1% beyond the current step, at most ten times it.
        bounds = (new.t + 0.01 * (new.t - prev.t), new.t * 10)
        step = _cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd, bounds)
        prev, new = new, at(step)
        evals += 1
    if bracket is None:
        bracket = [origin, new]
    if not done:
        evals = _zoom(at, bracket, f, gtd, float(np.abs(d).max()), evals)
    low = bracket[0] if len(bracket) == 1 or bracket[0].f <= bracket[-1].f else bracket[1]
    return low.f, low.g, low.t, evals


def _zoom(
    at: Callable[[float], _Point],
    bracket: list[_Point],
    f: float,
    gtd: float,
    d_norm: float,
    evals: int,
) -> int:
    """Shrink ``bracket`` (in place) around a strong-Wolfe point; returns the evaluations
    used so far. The low end is the point with the smaller loss."""
    insufficient_progress = False
    low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    while evals - 1 < _MAX_LS:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < _TOL:
            break
        t = _cubic_minimum(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        t, insufficient_progress = _keep_away_from_ends(t, a.t, b.t, insufficient_progress)
        new = at(t)
        evals += 1
        if new.f > f + _C1 * t * gtd or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        if abs(new.gtd) <= -_C2 * gtd:
            bracket[low] = new
            break
        if new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
    if bracket[0].f > bracket[1].f:
        bracket.reverse()
    return evals


def _keep_away_from_ends(t: float, a: float, b: float, stuck: bool) -> tuple[float, bool]:
    """Move a trial step that lies within 10% of the bracket's ends inward, if the previous
    trial already did or it left the bracket: the interval must shrink."""
    lo, hi = min(a, b), max(a, b)
    eps = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= eps:
        return t, False
    if stuck or t >= hi or t <= lo:
        return (hi - eps if abs(t - hi) < abs(t - lo) else lo + eps), False
    return t, True
