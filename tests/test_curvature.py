"""The second-order lesson: the Hessian of the article's XOR loss for one layer's weights."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.learn.curvature import explain_curvature
from chainrule.learn.explanation import article_problem


@pytest.mark.parametrize("layer", [1, 2])
def test_hessian_by_double_backward_agrees_with_central_differences(layer):
    c = explain_curvature(layer=layer)
    n = 8 if layer == 1 else 4
    assert c.hessian.shape == c.numeric.shape == (n, n)
    assert c.worst_difference < 1e-8
    np.testing.assert_allclose(c.hessian, c.hessian.T, atol=1e-14)
    np.testing.assert_allclose(c.eigenvalues, np.linalg.eigvalsh(c.numeric), atol=1e-8)


def test_the_printed_lesson_gives_the_check_the_eigenvalues_and_the_learning_rate_bound():
    text = str(explain_curvature(layer=2, seed=1))
    assert "W⁽2⁾ (shape (1, 4), 4 weights" in text
    assert "worst difference" in text and "eigenvalues of H" in text
    assert "η < 2/λ" in text


def test_a_layer_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="layer must be between 1 and 2; got 3"):
        explain_curvature(layer=3)


def test_hessian_equals_pytorchs_for_the_same_weights():
    torch = pytest.importorskip("torch")
    model, x, y = article_problem(0)
    ours = explain_curvature(model, x, y, layer=1)
    twin = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1), torch.nn.Sigmoid()
    ).double()
    twin.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})

    def loss(w1):
        h = torch.sigmoid(torch.tensor(x) @ w1.T + twin[0].bias)
        return ((twin[3](twin[2](h)) - torch.tensor(y)) ** 2).mean()

    h = torch.autograd.functional.hessian(loss, twin[0].weight.detach().clone())
    np.testing.assert_allclose(
        ours.hessian, h.reshape(8, 8).detach().numpy(), rtol=1e-9, atol=1e-15
    )


def test_the_lesson_agrees_with_finite_differences_and_says_so():
    c = explain_curvature(layer=1)
    assert c.agree
    assert "(agree)" in str(c)
    c.numeric = c.numeric + 1e-3
    assert not c.agree and "(DISAGREE)" in str(c)


def test_cli_order_2_prints_the_hessian_of_the_chosen_layer(capsys):
    from chainrule.cli import main

    assert main(["explain", "--order", "2", "--layer", "1", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == str(explain_curvature(layer=1, seed=1)).strip()
    assert main(["explain", "--order", "2"]) == 0
    assert "W⁽2⁾ (shape (1, 4)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--order", "2", "--hidden", "8"], "takes only --layer and --seed; drop --hidden"),
        (["--order", "2", "--model", "rnn"], "drop --model"),
        (["--order", "2", "--layer", "3"], "layer must be between 1 and 2; got 3"),
        (["--layer", "1"], "--layer chooses the Hessian's layer and needs --order 2"),
        (["--model", "rnn", "--layer", "1"], "needs --order 2"),
    ],
)
def test_cli_order_2_refuses_options_it_does_not_use(capsys, argv, message):
    from chainrule.cli import main

    assert main(["explain", *argv]) == 2
    assert message in capsys.readouterr().err
