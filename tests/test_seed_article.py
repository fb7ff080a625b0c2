"""The backpropagation article's algorithm, and each bug in its code, pinned by a test.

See docs/seed-article.md: every test here is named after the line of the article it checks.
The network is the article's 2-4-1 sigmoid network on XOR with cross-entropy (log loss).
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.functional as F

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def article_network(seed=0):
    rng = np.random.default_rng(seed)
    return [
        cr.tensor(rng.uniform(-1, 1, (2, 4)), requires_grad=True),
        cr.tensor(rng.uniform(-1, 1, (4,)), requires_grad=True),
        cr.tensor(rng.uniform(-1, 1, (4, 1)), requires_grad=True),
        cr.tensor(rng.uniform(-1, 1, (1,)), requires_grad=True),
    ]


def forward(params, x):
    w1, b1, w2, b2 = params
    z1 = x @ w1 + b1
    a1 = z1.sigmoid()
    z2 = a1 @ w2 + b2
    a2 = z2.sigmoid()
    return z1, a1, z2, a2


def test_sigmoid_derivative_is_taken_at_the_activation_not_at_z():
    # σ′(z) = σ(z)(1 − σ(z)) = a(1 − a). The article's code computed a1(1 − a1) with z1 in place
    # of a1, i.e. z1(1 − z1), which is not the derivative of anything in the network.
    params = article_network()
    z1, a1, _, a2 = forward(params, cr.tensor(X))
    a1.retain_grad()
    z1.retain_grad()
    F.binary_cross_entropy(a2, Y).backward()
    right = a1.grad.numpy() * a1.numpy() * (1 - a1.numpy())
    wrong = a1.grad.numpy() * z1.numpy() * (1 - z1.numpy())
    np.testing.assert_allclose(z1.grad.numpy(), right, rtol=1e-12)
    assert not np.allclose(z1.grad.numpy(), wrong)


def test_output_delta_of_sigmoid_with_cross_entropy_has_no_extra_sigmoid_derivative():
    # With a sigmoid output and cross-entropy, δ² = ∂L/∂z² = (a² − y)/m: the σ′ of the output
    # cancels against the loss's derivative. The article multiplied σ′(z²) in once more.
    params = article_network()
    _, _, z2, a2 = forward(params, cr.tensor(X))
    z2.retain_grad()
    F.binary_cross_entropy(a2, Y).backward()
    m = len(X)
    np.testing.assert_allclose(z2.grad.numpy(), (a2.numpy() - Y) / m, rtol=1e-9)
    assert not np.allclose(z2.grad.numpy(), (a2.numpy() - Y) / m * a2.numpy() * (1 - a2.numpy()))


def test_batch_size_divides_the_gradient_exactly_once():
    # The mean over m samples divides by m once. Dividing again (as the article did) would make
    # the gradient of the same data repeated twice half as large; it must be unchanged.
    def gradient(x, y):
        params = article_network()
        F.binary_cross_entropy(forward(params, cr.tensor(x))[-1], y).backward()
        return params[0].grad.numpy()

    once = gradient(X, Y)
    twice = gradient(np.concatenate([X, X]), np.concatenate([Y, Y]))
    np.testing.assert_allclose(twice, once, rtol=1e-12)


def test_update_moves_every_parameter_by_minus_learning_rate_times_its_own_gradient():
    # The article's update loop indexed the gradients' names instead of the parameters, so the
    # parameters never changed. w := w − η ∂L/∂w, for each parameter with its own gradient.
    params = article_network()
    before = [p.numpy().copy() for p in params]
    F.binary_cross_entropy(forward(params, cr.tensor(X))[-1], Y).backward()
    lr = 0.5
    for p in params:
        p.data -= lr * p.grad.numpy()
    for p, old in zip(params, before):
        np.testing.assert_allclose(p.numpy(), old - lr * p.grad.numpy(), rtol=1e-15)
        assert not np.array_equal(p.numpy(), old)


def test_repeated_gradient_descent_drives_the_xor_cost_down_to_convergence():
    params = article_network(seed=3)
    costs = []
    for _ in range(1000):
        cost = F.binary_cross_entropy(forward(params, cr.tensor(X))[-1], Y)
        cost.backward()
        for p in params:
            p.data -= 3.0 * p.grad.numpy()
            p.grad = None
        costs.append(cost.item())
    assert costs[-1] < 0.05 < costs[0]
    predictions = forward(params, cr.tensor(X))[-1].numpy()
    np.testing.assert_array_equal(predictions > 0.5, Y > 0.5)
