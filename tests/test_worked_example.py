"""A 2-2-1 sigmoid network whose forward and backward pass are worked out by hand.

One sample x = [1, 0.5] with target y = 1, squared-error loss L = (a2 − y)², and the article's
notation: z = a W + b, a = σ(z), δ = ∂L/∂z.

    W1 = [[0.5, −0.5], [0.25, 0.75]]   b1 = [0, 0.25]   W2 = [[1], [−1]]   b2 = [0.5]

Forward:
    z1 = x W1 + b1 = [1·0.5 + 0.5·0.25,  1·(−0.5) + 0.5·0.75 + 0.25] = [0.625, 0.125]
    a1 = σ(z1) = [0.6513548646660542, 0.5312093733737563]
    z2 = a1 W2 + b2 = 0.6513548646660542 − 0.5312093733737563 + 0.5 = 0.6201454912922979
    a2 = σ(z2) = 0.6502516375735666
    L = (a2 − 1)² = 0.12232391701997179

Backward (σ′(z) = a(1 − a)):
    δ2 = 2(a2 − 1) · a2(1 − a2) = −0.15908265471329947
    ∂L/∂W2 = a1ᵀ δ2 = [[−0.1036192610314978], [−0.08450619732488544]]
    ∂L/∂b2 = δ2
    δ1 = (δ2 W2ᵀ) ⊙ a1(1 − a1) = [−0.03612635128553, 0.03961571319773405]
    ∂L/∂W1 = xᵀ δ1 = [[−0.03612635128553, 0.03961571319773405],
                      [−0.018063175642765, 0.019807856598867024]]
    ∂L/∂b1 = δ1
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.functional as F


def param(values):
    return cr.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_two_two_one_sigmoid_network_matches_the_hand_computation():
    x = cr.tensor(np.array([[1.0, 0.5]]))
    y = cr.tensor(np.array([[1.0]]))
    w1, b1 = param([[0.5, -0.5], [0.25, 0.75]]), param([0.0, 0.25])
    w2, b2 = param([[1.0], [-1.0]]), param([0.5])

    z1 = x @ w1 + b1
    a1 = z1.sigmoid()
    z2 = a1 @ w2 + b2
    a2 = z2.sigmoid()
    loss = F.mse_loss(a2, y)
    for t in (z1, z2):
        t.retain_grad()
    loss.backward()

    close = lambda actual, expected: np.testing.assert_allclose(actual, expected, rtol=1e-12)  # noqa: E731
    close(z1.numpy(), [[0.625, 0.125]])
    close(a1.numpy(), [[0.6513548646660542, 0.5312093733737563]])
    close(z2.numpy(), [[0.6201454912922979]])
    close(a2.numpy(), [[0.6502516375735666]])
    close(loss.numpy(), 0.12232391701997179)

    close(z2.grad.numpy(), [[-0.15908265471329947]])  # δ2
    close(w2.grad.numpy(), [[-0.1036192610314978], [-0.08450619732488544]])
    close(b2.grad.numpy(), [-0.15908265471329947])
    close(z1.grad.numpy(), [[-0.03612635128553, 0.03961571319773405]])  # δ1
    close(
        w1.grad.numpy(),
        [[-0.03612635128553, 0.03961571319773405], [-0.018063175642765, 0.019807856598867024]],
    )
    close(b1.grad.numpy(), [-0.03612635128553, 0.03961571319773405])


def test_one_gradient_descent_step_lowers_the_loss_of_the_worked_example():
    x = cr.tensor(np.array([[1.0, 0.5]]))
    w1, b1 = param([[0.5, -0.5], [0.25, 0.75]]), param([0.0, 0.25])
    w2, b2 = param([[1.0], [-1.0]]), param([0.5])

    def loss():
        return F.mse_loss(((x @ w1 + b1).sigmoid() @ w2 + b2).sigmoid(), np.array([[1.0]]))

    before = loss()
    before.backward()
    for p in (w1, b1, w2, b2):
        p.data -= 0.5 * p.grad.numpy()
    assert loss().item() < before.item()
