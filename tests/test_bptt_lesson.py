"""chainrule.learn.bptt and `chainrule explain --model rnn`: backpropagation through time in a
2-3-1 tanh RNN, its per-timestep δ checked against the engine, PyTorch and central differences."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.learn.bptt import PARAMS, explain_bptt, sub
from chainrule.learn.explanation import explain

DOC = Path(__file__).resolve().parents[1] / "docs" / "learn-backprop.md"


@pytest.fixture(scope="module")
def lesson():
    return explain_bptt()


def test_the_three_ways_agree(lesson):
    assert lesson.steps == 3 and lesson.agree
    assert lesson.max_diff["hand-written BPTT vs engine"] < 1e-12
    assert lesson.max_diff["hand-written BPTT vs numeric"] < 1e-8
    assert lesson.max_diff["engine vs numeric"] < 1e-8
    for name in PARAMS:
        assert lesson.grads[name].shape == lesson.weights[name].shape == lesson.engine[name].shape
        np.testing.assert_allclose(lesson.grads[name], lesson.numeric[name], atol=1e-8)


def test_delta_follows_the_recursion_and_equals_the_engines(lesson):
    w, h = lesson.weights, lesson.h
    np.testing.assert_allclose(lesson.delta_y, lesson.y_hat - lesson.y)
    after = np.zeros(3)
    for t in range(3, 0, -1):
        after = (w["W_hh"].T @ after + w["W_hy"].T @ lesson.delta_y[t - 1]) * (1 - h[t] ** 2)
        np.testing.assert_allclose(lesson.delta[t - 1], after, atol=1e-15)
    np.testing.assert_allclose(lesson.delta, lesson.engine_delta, atol=1e-14)
    # the weight gradients are sums over the steps of outer products with δ_t
    expected = sum(np.outer(lesson.delta[t], h[t]) for t in range(3))
    np.testing.assert_allclose(lesson.engine["W_hh"], expected, atol=1e-14)


def printed(text: str, label: str) -> np.ndarray:
    """The vector printed on the line ``… label … = [ … ]``."""
    line = next(line for line in text.splitlines() if re.search(rf"(^|\s){label}\s.*= \[", line))
    return np.array([float(v) for v in line.rsplit("= [", 1)[1].rstrip("]").split()])


def test_the_printed_deltas_are_the_engines_gradients(lesson):
    text = str(lesson)
    for t in range(1, 4):
        np.testing.assert_allclose(
            printed(text, f"δ{sub(t)}"), lesson.engine_delta[t - 1], atol=5.1e-5
        )
        np.testing.assert_allclose(printed(text, f"δʸ{sub(t)}"), lesson.delta_y[t - 1], atol=5.1e-5)
    for formula in ("δ_t = (W_hhᵀ δ_{t+1} + W_hyᵀ δʸ_t) ⊙ (1 − h_t²)", "Σ_t δ_t h_{t−1}ᵀ"):
        assert formula in text
    assert "δ₁h₀ᵀ + δ₂h₁ᵀ + δ₃h₂ᵀ" in text and "the gradients agree" in text


def test_gradients_equal_pytorchs_nn_rnn_with_the_same_weights(lesson):
    torch = pytest.importorskip("torch")
    w = {k: torch.tensor(v, requires_grad=True) for k, v in lesson.weights.items()}
    rnn = torch.nn.RNN(2, 3, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(w["W_xh"])
        rnn.weight_hh_l0.copy_(w["W_hh"])
        rnn.bias_ih_l0.copy_(w["b_h"])
        rnn.bias_hh_l0.zero_()
    states, _ = rnn(torch.tensor(lesson.x).unsqueeze(1))  # (T, batch 1, 3)
    y_hat = states[:, 0] @ w["W_hy"].T + w["b_y"]
    (0.5 * ((y_hat - torch.tensor(lesson.y)) ** 2).sum()).backward()
    theirs = {
        "W_xh": rnn.weight_ih_l0.grad,
        "W_hh": rnn.weight_hh_l0.grad,
        "b_h": rnn.bias_ih_l0.grad,
        "W_hy": w["W_hy"].grad,
        "b_y": w["b_y"].grad,
    }
    for name in PARAMS:
        np.testing.assert_allclose(lesson.grads[name], theirs[name].numpy(), atol=1e-13)


def test_other_lengths_and_seeds_and_the_file_argument():
    out = io.StringIO()
    long = explain_bptt(steps=5, seed=2, file=out)
    assert long.delta.shape == (5, 3) and long.h.shape == (6, 3) and long.agree
    assert out.getvalue() == str(long) + "\n"
    assert "δ₆ = 0" in out.getvalue() and "t = 5:" in out.getvalue()
    with pytest.raises(ValueError, match="steps must be ≥ 1; got 0"):
        explain_bptt(steps=0)


def test_the_lesson_loads_on_first_use_from_chainrule_learn():
    import chainrule.learn as learn

    assert learn.explain_bptt is explain_bptt and "explain_bptt" in dir(learn)


def test_cli_model_rnn_prints_the_per_timestep_deltas(capsys):
    assert main(["explain", "--model", "rnn", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out == str(explain_bptt(seed=1)) + "\n"
    for t in (3, 2, 1):
        assert f"  t = {t}:  δʸ{sub(t)} = ŷ{sub(t)} − y{sub(t)}" in out
        assert f"δ{sub(t)} = (sum of the two) ⊙ (1 − h{sub(t)}²)" in out
    assert "hand-written BPTT vs engine:" in out and "the gradients agree" in out


def test_cli_model_rnn_refuses_the_mlps_options(capsys):
    assert main(["explain", "--model", "rnn", "--hidden", "5", "--graph"]) == 2
    err = capsys.readouterr().err
    assert "takes only --seed; drop --hidden, --graph" in err


def test_default_cli_output_is_unchanged(capsys):
    assert main(["explain"]) == 0
    default = capsys.readouterr().out
    assert main(["explain", "--model", "mlp"]) == 0
    assert capsys.readouterr().out == default == str(explain()) + "\n"
    # the expectations of tests/test_explain.py, and nothing of the RNN lesson
    for text in ("z⁽¹⁾ =", "a⁽²⁾ = σ(z⁽²⁾)", "δ⁽¹⁾ = (δ⁽²⁾ W⁽²⁾) ⊙ f′(z⁽¹⁾)", "∇W⁽²⁾", "W⁽¹⁾ ←"):
        assert text in default
    assert "rnn" not in default and "δ_t" not in default
    # byte for byte the walk-through docs/learn-backprop.md shows, but for the rounding-level
    # differences of the check, which depend on the BLAS
    shown = DOC.read_text(encoding="utf-8").split("```\n", 2)[2].split("```", 1)[0]

    def masked(text: str) -> str:
        return re.sub(r"(largest \|difference\| = )\S+", r"\1…", text)

    assert masked(default) == masked(shown)
