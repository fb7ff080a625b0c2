"""``chainrule explain --model rnn``: backpropagation through time, one timestep at a time.

A tanh RNN with 2 inputs, 3 hidden units and 1 output reads a sequence x₁ … x_T (column
vectors) and predicts a number at every step::

    a_t = W_xh x_t + W_hh h_{t−1} + b_h,   h_t = tanh(a_t),   h₀ = 0
    ŷ_t = W_hy h_t + b_y
    L = ½ Σ_t (ŷ_t − y_t)²                 (squared loss on every step, not only the last)

Unrolled over the steps it is a T-layer network whose layers share their weights, so the
article's δ-rule applies layer by layer, backwards in time from t = T, and each weight's
gradient is a sum of one term per step::

    δʸ_t = ∂L/∂ŷ_t = ŷ_t − y_t
    δ_t  = ∂L/∂a_t = (W_hhᵀ δ_{t+1} + W_hyᵀ δʸ_t) ⊙ (1 − h_t²),   δ_{T+1} = 0
    ∇W_xh = Σ_t δ_t x_tᵀ,   ∇W_hh = Σ_t δ_t h_{t−1}ᵀ,   ∇b_h = Σ_t δ_t
    ∇W_hy = Σ_t δʸ_t h_tᵀ,  ∇b_y = Σ_t δʸ_t

:func:`explain_bptt` computes the gradients three ways in float64 — these formulas in NumPy,
the engine's backward through an ``nn.RNNCell`` unrolled with the same weights, and central
differences — and returns a :class:`BPTT` whose ``str()`` is the printed lesson.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

import numpy as np

from chainrule import float64, nn, tensor, zeros
from chainrule.learn.explanation import describe

#: The parameters, in the order they are printed and checked.
PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
N_IN, N_HIDDEN, N_OUT = 2, 3, 1
EPS = 1e-6
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(t: int) -> str:
    """A timestep as a subscript: sub(3) == '₃'."""
    return str(t).translate(_SUB)


@dataclass
class BPTT:
    """Every number of one backward pass through time (float64). ``str()`` prints the lesson.

    Timesteps run 1 … T; row ``t − 1`` of a per-step array belongs to step t.

    Attributes
    ----------
    x : ndarray of shape (T, 2)
        The inputs x_t.
    y : ndarray of shape (T, 1)
        The targets y_t: the first input of the step before (y₁ = 0), a task that needs memory.
    weights : dict of str to ndarray
        ``W_xh`` (3, 2), ``W_hh`` (3, 3), ``b_h`` (3,), ``W_hy`` (1, 3), ``b_y`` (1,).
    a : ndarray of shape (T, 3)
        Pre-activations a_t.
    h : ndarray of shape (T + 1, 3)
        Hidden states; ``h[0]`` is h₀ = 0, ``h[t]`` is h_t.
    y_hat : ndarray of shape (T, 1)
        Outputs ŷ_t.
    loss : float
        L = ½ Σ_t (ŷ_t − y_t)².
    delta_y : ndarray of shape (T, 1)
        δʸ_t = ∂L/∂ŷ_t.
    delta : ndarray of shape (T, 3)
        δ_t = ∂L/∂a_t, by the recursion.
    grads, engine, numeric : dict of str to ndarray
        The gradients, shaped as ``weights``: by the hand-written recursion, by the engine's
        backward, and by central differences.
    engine_delta : ndarray of shape (T, 3)
        The engine's ∂L/∂h_t (``retain_grad``) times tanh′ = 1 − h_t²: its δ_t.
    max_diff : dict of str to float
        Largest |difference| of each pair of gradient sets, and of δ_t against the engine's.
    tolerance : float
        What :attr:`agree` allows.
    """

    x: np.ndarray
    y: np.ndarray
    weights: dict[str, np.ndarray]
    a: np.ndarray
    h: np.ndarray
    y_hat: np.ndarray
    loss: float
    delta_y: np.ndarray
    delta: np.ndarray
    grads: dict[str, np.ndarray]
    engine: dict[str, np.ndarray]
    numeric: dict[str, np.ndarray]
    engine_delta: np.ndarray
    max_diff: dict[str, float]
    tolerance: float = 1e-6

    @property
    def steps(self) -> int:
        """T, the length of the sequence."""
        return len(self.x)

    @property
    def agree(self) -> bool:
        """True when every pair in :attr:`max_diff` agrees to :attr:`tolerance`."""
        return all(v <= self.tolerance for v in self.max_diff.values())

    def __str__(self) -> str:
        return format_bptt(self)


# ----- the three ways ---------------------------------------------------------------------------
def forward(w: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The RNN in NumPy: pre-activations a (T, 3), states h (T + 1, 3) and outputs ŷ (T, 1)."""
    steps = len(x)
    a = np.zeros((steps, N_HIDDEN))
    h = np.zeros((steps + 1, N_HIDDEN))
    for t in range(1, steps + 1):
        a[t - 1] = w["W_xh"] @ x[t - 1] + w["W_hh"] @ h[t - 1] + w["b_h"]
        h[t] = np.tanh(a[t - 1])
    y_hat = h[1:] @ w["W_hy"].T + w["b_y"]
    return a, h, y_hat


def sequence_loss(w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """L = ½ Σ_t (ŷ_t − y_t)² for weights ``w``, inputs (T, 2) and targets (T, 1)."""
    return 0.5 * float(np.sum((forward(w, x)[2] - y) ** 2))


def backward_through_time(w, x, y, h, y_hat) -> tuple[np.ndarray, np.ndarray, dict]:
    """The recursion by hand: δʸ (T, 1), δ (T, 3) and the gradients (shaped as ``w``)."""
    steps = len(x)
    delta_y = y_hat - y
    delta = np.zeros((steps, N_HIDDEN))
    after = np.zeros(N_HIDDEN)  # δ_{T+1} = 0: nothing follows the last step
    for t in range(steps, 0, -1):
        after = (w["W_hh"].T @ after + w["W_hy"].T @ delta_y[t - 1]) * (1 - h[t] ** 2)
        delta[t - 1] = after
    grads = {
        "W_xh": sum(np.outer(delta[t], x[t]) for t in range(steps)),
        "W_hh": sum(np.outer(delta[t], h[t]) for t in range(steps)),  # h[t] is h_{t−1} here
        "b_h": delta.sum(axis=0),
        "W_hy": sum(np.outer(delta_y[t], h[t + 1]) for t in range(steps)),
        "b_y": delta_y.sum(axis=0),
    }
    return delta_y, delta, grads


def numeric_gradients(w, x, y, eps: float = EPS) -> dict[str, np.ndarray]:
    """(L(w + εe_k) − L(w − εe_k)) / 2ε for every entry of every weight."""
    w = {name: value.copy() for name, value in w.items()}  # nudged in place, then restored
    out = {}
    for name in PARAMS:
        flat = w[name].reshape(-1)
        g = np.zeros_like(flat)
        for k in range(flat.size):
            flat[k] += eps
            up = sequence_loss(w, x, y)
            flat[k] -= 2 * eps
            down = sequence_loss(w, x, y)
            flat[k] += eps
            g[k] = (up - down) / (2 * eps)
        out[name] = g.reshape(w[name].shape)
    return out


def engine_gradients(cell: nn.RNNCell, readout: nn.Linear, x, y) -> tuple[dict, np.ndarray]:
    """The engine's backward through ``cell`` unrolled over the steps: the gradients (named as
    :data:`PARAMS`) and its δ_t = ∂L/∂h_t ⊙ (1 − h_t²), shape (T, 3)."""
    cell.zero_grad()
    readout.zero_grad()
    h = zeros(N_HIDDEN, dtype=float64)
    states, total = [], None
    for t in range(len(x)):
        h = cell(tensor(x[t]), h)
        h.retain_grad()  # a state the loss reaches through later steps too: keep its ∂L/∂h_t
        states.append(h)
        term = 0.5 * ((readout(h) - tensor(y[t])) ** 2).sum()
        total = term if total is None else total + term
    total.backward()
    hs = np.array([s.numpy() for s in states])
    delta = np.array([s.grad.numpy() for s in states]) * (1 - hs**2)
    grads = {
        "W_xh": cell.weight_ih.grad.numpy().copy(),
        "W_hh": cell.weight_hh.grad.numpy().copy(),
        # b_ih and b_hh enter only as their sum b_h, so both get ∇b_h; b_ih's stands for both.
        "b_h": cell.bias_ih.grad.numpy().copy(),
        "W_hy": readout.weight.grad.numpy().copy(),
        "b_y": readout.bias.grad.numpy().copy(),
    }
    return grads, delta


def rnn_problem(steps: int = 3, seed: int = 0):
    """The lesson's float64 ``nn.RNNCell(2, 3)`` and ``nn.Linear(3, 1)`` (weights drawn from
    ``seed``, PyTorch's initialization), inputs x (steps, 2) and targets y (steps, 1)."""
    rng = np.random.default_rng(seed)
    cell = nn.RNNCell(N_IN, N_HIDDEN, dtype=float64, generator=rng)
    readout = nn.Linear(N_HIDDEN, N_OUT, dtype=float64, generator=rng)
    x = np.round(rng.uniform(-1.0, 1.0, size=(steps, N_IN)), 1)  # one decimal: easy to read
    y = np.zeros((steps, N_OUT))
    y[1:, 0] = x[:-1, 0]  # echo the previous step's first input: the answer needs memory
    return cell, readout, x, y


def explain_bptt(steps: int = 3, seed: int = 0, file: TextIO | None = None) -> BPTT:
    """Backpropagation through time on a tiny tanh RNN, checked three ways.

    Parameters
    ----------
    steps : int
        T, the sequence length (3 by default; each step prints a few lines).
    seed : int
        Seeds the weights and the inputs (a fresh NumPy generator: the global seed is untouched).
    file : text stream, optional
        When given, the lesson is also printed to it.

    Returns
    -------
    BPTT
        Inputs x (T, 2), targets y (T, 1), states h (T + 1, 3), the per-step δʸ (T, 1) and
        δ (T, 3), the gradients by hand, by the engine and by central differences, and the
        largest disagreement of each pair; ``str()`` is the lesson.
    """
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1; got {steps}")
    cell, readout, x, y = rnn_problem(steps, seed)
    w = {
        "W_xh": cell.weight_ih.numpy().copy(),
        "W_hh": cell.weight_hh.numpy().copy(),
        "b_h": cell.bias_ih.numpy() + cell.bias_hh.numpy(),
        "W_hy": readout.weight.numpy().copy(),
        "b_y": readout.bias.numpy().copy(),
    }
    a, h, y_hat = forward(w, x)
    delta_y, delta, grads = backward_through_time(w, x, y, h, y_hat)
    engine, engine_delta = engine_gradients(cell, readout, x, y)
    numeric = numeric_gradients(w, x, y)

    def diff(p: dict, q: dict) -> float:
        return max(float(np.max(np.abs(p[n] - q[n]))) for n in PARAMS)

    max_diff = {
        "hand-written BPTT vs engine": diff(grads, engine),
        "hand-written BPTT vs numeric": diff(grads, numeric),
        "engine vs numeric": diff(engine, numeric),
        "δ_t vs engine's ∂L/∂h_t ⊙ (1 − h_t²)": float(np.max(np.abs(delta - engine_delta))),
    }
    loss = 0.5 * float(np.sum((y_hat - y) ** 2))
    result = BPTT(
        x, y, w, a, h, y_hat, loss, delta_y, delta, grads, engine, numeric, engine_delta, max_diff
    )
    if file is not None:
        print(result, file=file)
    return result


# ----- printing ---------------------------------------------------------------------------------
def _row(label: str, array: np.ndarray, margin: str = "  ") -> str:
    """``margin label = array``, a matrix's rows aligned under its first."""
    head = f"{margin}{label} = "
    return head + describe(array, len(head))


def format_bptt(r: BPTT) -> str:
    """The lesson printed by ``chainrule explain --model rnn``."""
    lines = [
        f"chainrule explain --model rnn: backpropagation through time in a tanh RNN "
        f"({N_IN} inputs, {N_HIDDEN} hidden units, {N_OUT} output) over T = {r.steps} steps",
        "loss L = ½ Σ_t (ŷ_t − y_t)²: squared error on every step; target y_t = first input of "
        "step t − 1 (y₁ = 0)",
        "",
        "Weights, the same at every step (vectors are printed as rows)",
        *(_row(name, r.weights[name]) for name in PARAMS[:2]),
        _row("b_h = b_ih + b_hh", r.weights["b_h"]),
        *(_row(name, r.weights[name]) for name in PARAMS[3:]),
        "",
        *_forward_lines(r),
        "",
        *_backward_lines(r),
        "",
        *_gradient_lines(r),
        "",
        *_check_lines(r),
    ]
    return "\n".join(lines)


def _forward_lines(r: BPTT) -> list[str]:
    lines = ["Forward pass   a_t = W_xh x_t + W_hh h_{t−1} + b_h,  h_t = tanh(a_t),  h₀ = 0,  "
             "ŷ_t = W_hy h_t + b_y"]  # fmt: skip
    for t in range(1, r.steps + 1):
        s = sub(t)
        pad = " " * (len(str(t)) + 9)
        lines += [
            _row(f"x{s}", r.x[t - 1], f"  t = {t}:  "),
            _row(f"a{s}", r.a[t - 1], pad),
            _row(f"h{s} = tanh(a{s})", r.h[t], pad),
            _row(f"ŷ{s}", r.y_hat[t - 1], pad) + f",  y{s} = {describe(r.y[t - 1])}",
        ]
    lines.append(f"  L = ½ Σ_t (ŷ_t − y_t)² = {r.loss:.6f}")
    return lines


def _backward_lines(r: BPTT) -> list[str]:
    T = r.steps
    lines = [
        f"Backward pass through time, t = {T} … 1   δʸ_t = ∂L/∂ŷ_t,  δ_t = ∂L/∂a_t",
        "  δ_t = (W_hhᵀ δ_{t+1} + W_hyᵀ δʸ_t) ⊙ (1 − h_t²)",
        f"  δ{sub(T + 1)} = 0 (no step after the last)",
    ]
    w = r.weights
    for t in range(T, 0, -1):
        s, n = sub(t), sub(t + 1)
        after = r.delta[t] if t < T else np.zeros(N_HIDDEN)
        rows = [
            (f"δʸ{s} = ŷ{s} − y{s}", r.delta_y[t - 1]),
            (f"W_hhᵀ δ{n}  (from step {t + 1})", w["W_hh"].T @ after),
            (f"W_hyᵀ δʸ{s} (from ŷ{s})", w["W_hy"].T @ r.delta_y[t - 1]),
            (f"1 − h{s}²   (tanh′ at a{s})", 1 - r.h[t] ** 2),
            (f"δ{s} = (sum of the two) ⊙ (1 − h{s}²)", r.delta[t - 1]),
        ]
        width = max(len(label) for label, _ in rows)
        for i, (label, value) in enumerate(rows):
            margin = f"  t = {t}:  " if i == 0 else " " * (len(str(t)) + 9)
            lines.append(_row(label.ljust(width), value, margin))
    lines += [
        "  each step back multiplies δ by W_hhᵀ and by 1 − h_t² ≤ 1: over long sequences the",
        "  gradient reaching early steps shrinks (or, with large W_hh, grows) geometrically",
    ]
    return lines


def _gradient_lines(r: BPTT) -> list[str]:
    T = range(1, r.steps + 1)

    def terms(pattern: str) -> str:
        return " + ".join(pattern.format(t=sub(t), p=sub(t - 1)) for t in T)

    sums = {
        "W_xh": ("Σ_t δ_t x_tᵀ", terms("δ{t}x{t}ᵀ")),
        "W_hh": ("Σ_t δ_t h_{t−1}ᵀ", terms("δ{t}h{p}ᵀ") + "   (δ₁h₀ᵀ = 0: h₀ = 0)"),
        "b_h": ("Σ_t δ_t", terms("δ{t}")),
        "W_hy": ("Σ_t δʸ_t h_tᵀ", terms("δʸ{t}h{t}ᵀ")),
        "b_y": ("Σ_t δʸ_t", terms("δʸ{t}")),
    }
    lines = ["Gradients: every step uses the same weights, so each gradient sums one term per step"]
    for name in PARAMS:
        formula, written = sums[name]
        head = f"  ∇{name} = {formula} = {written}"
        lines += [head, " " * (len(name) + 4) + "= " + describe(r.grads[name], len(name) + 6)]
    return lines


def _check_lines(r: BPTT) -> list[str]:
    lines = [
        f"Check (float64; engine = autograd through nn.RNNCell unrolled {r.steps} times and "
        f"nn.Linear; numeric = central differences, ε = 1e-6)"
    ]
    for pair, value in r.max_diff.items():
        lines.append(f"  {pair + ':':38} largest |difference| = {value:.2e}")
    verdict = "agree" if r.agree else "DISAGREE"
    lines.append(f"  the gradients {verdict} (tolerance {r.tolerance:g})")
    return lines
