"""Confirmed engine defects (issue 9 §6, issue 15 §6): each test failed before its fix."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F


def leaf(values, dtype=np.float64):
    return cr.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----- backward(grad) must not keep the caller's array as a .grad ------------------------------
@pytest.mark.parametrize(
    "graph",
    [lambda x: x, lambda x: x + 0.0, lambda x: x.reshape(2, 1).reshape(2)],
    ids=["leaf-root", "add-passes-grad-through", "reshape-views"],
)
def test_zeroing_grad_after_backward_with_a_seed_leaves_the_callers_array_alone(graph):
    x = leaf([1.0, 2.0])
    seed = np.array([3.0, 4.0])
    graph(x).backward(seed)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    x.grad.zero_()
    np.testing.assert_array_equal(seed, [3.0, 4.0])


def test_two_backward_calls_with_one_seed_accumulate_into_grad_not_into_the_seed():
    x = leaf([1.0, 2.0])
    seed = np.array([1.0, 1.0])
    x.backward(seed)
    x.backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_seed_given_as_a_tensor_is_not_shared_with_grad():
    y = leaf([1.0, 2.0])
    y.retain_grad()
    seed = cr.tensor([5.0, 6.0], dtype=np.float64)
    (y * 1.0).backward(seed)
    y.grad.numpy()[...] = 0.0
    np.testing.assert_array_equal(seed.numpy(), [5.0, 6.0])


def test_gradient_seen_or_returned_by_a_hook_is_not_shared_with_grad():
    x = leaf([1.0, 2.0])
    kept = cr.tensor([7.0, 7.0], dtype=np.float64)
    x.register_hook(lambda g: kept)
    (x * 2).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(kept.numpy(), [7.0, 7.0])

    w = leaf([1.0])
    seen = []
    w.register_hook(seen.append)
    (w + 0.0).sum().backward()
    (w + 0.0).sum().backward()  # accumulates into w.grad in place
    np.testing.assert_array_equal(seen[0].numpy(), [1.0])


# ----- ops accept ndarrays ---------------------------------------------------------------------
X = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)
P = np.full((2, 3), 0.25, dtype=np.float32)
NDARRAY_CALLS = {
    "clip": lambda: F.clip(X, -0.5, 0.5),
    "clamp-min": lambda: F.clamp(X, min=0.0),
    "neg": lambda: F.neg(X),
    "cast": lambda: F.cast(X, np.float64),
    "dropout": lambda: F.dropout(X, 0.5, generator=0),
    "dropout-eval": lambda: F.dropout(X, 0.5, training=False),
    "getitem": lambda: F.getitem(X, 0),
    "reshape": lambda: F.reshape(X, 3, 2),
    "permute": lambda: F.permute(X, 1, 0),
    "transpose": lambda: F.transpose(X, 0, 1),
    "expand": lambda: F.expand(X[:1], 2, 3),
    "squeeze": lambda: F.squeeze(X[:1]),
    "unsqueeze": lambda: F.unsqueeze(X, 0),
    "flatten": lambda: F.flatten(X),
    "pad": lambda: F.pad(X, (1, 1)),
    "mse_loss": lambda: F.mse_loss(X, X),
    "l1_loss": lambda: F.l1_loss(X, X),
    "huber_loss": lambda: F.huber_loss(X, X),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(P, P),
    "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(X, P),
    "cross_entropy": lambda: F.cross_entropy(X, np.array([0, 2])),
    "nll_loss": lambda: F.nll_loss(X, np.array([0, 2])),
    "relu": lambda: F.relu(X),
    "sum": lambda: F.sum(X),
    "add": lambda: F.add(X, X),
}


@pytest.mark.parametrize("name", sorted(NDARRAY_CALLS))
def test_functional_op_accepts_an_ndarray_like_the_others(name):
    out = NDARRAY_CALLS[name]()
    assert isinstance(out, cr.Tensor)


def test_clip_of_an_ndarray_equals_numpys():
    np.testing.assert_array_equal(F.clip(X, -0.5, 0.5).numpy(), np.clip(X, -0.5, 0.5))


# ----- Function.apply keeps the forward's own ValueError ---------------------------------------
def test_value_error_raised_in_a_forward_keeps_its_own_message():
    class NeedsPositive(cr.Function, register=False):
        def forward(self, x):
            if (x <= 0).any():
                raise ValueError("NeedsPositive wants x > 0 everywhere")
            return x

        def backward(self, grad):
            return (grad,)

    with pytest.raises(ValueError) as err:
        NeedsPositive.apply(leaf([-1.0, 2.0]))
    assert str(err.value) == "NeedsPositive wants x > 0 everywhere"


def test_broadcast_failure_in_a_forward_names_the_op_and_the_input_shapes():
    with pytest.raises(ValueError, match=r"^Add: input shapes \(2, 3\) and \(4,\) .*broadcast"):
        leaf(np.ones((2, 3))) + leaf(np.ones(4))


# ----- a user op named like a built-in ---------------------------------------------------------
def test_user_op_named_like_a_builtin_raises_instead_of_replacing_it():
    builtin = cr.OPS["Mul"]
    with pytest.raises(TypeError) as err:

        class Mul(cr.Function):
            def forward(self, a, b):
                return a * b

    message = str(err.value)
    assert "chainrule.ops.arithmetic.Mul" in message
    assert "test_defects_engine" in message and "Mul" in message
    assert 'op_name = "mypkg.Mul"' in message
    assert cr.OPS["Mul"] is builtin


def test_op_name_in_the_class_body_registers_under_that_name():
    class Mul(cr.Function):
        """d(a·b)/da = b, d(a·b)/db = a."""

        op_name = "mypkg.Mul"

        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, grad):
            return grad * self.b, grad * self.a

    try:
        assert cr.OPS["mypkg.Mul"] is Mul and cr.OPS["Mul"] is not Mul
        assert Mul.op_name == "mypkg.Mul"
        with pytest.raises(ValueError, match=r"^mypkg\.Mul: input shapes"):
            Mul.apply(leaf(np.ones(2)), leaf(np.ones(3)))
    finally:
        del cr.OPS["mypkg.Mul"]


def test_defining_the_same_op_class_again_replaces_it():
    # A re-run notebook cell or importlib.reload defines the same class (same module and
    # qualified name) again: that is not a clash.
    classes = []
    try:
        for _ in range(2):

            class Twice(cr.Function, name="tests.Twice"):
                """d x/dx = 1."""

                def forward(self, x):
                    return x

                def backward(self, grad):
                    return (grad,)

            classes.append(Twice)
        assert cr.OPS["tests.Twice"] is classes[1]
    finally:
        cr.OPS.pop("tests.Twice", None)


# ----- weak references -------------------------------------------------------------------------
def test_tensor_can_be_weakly_referenced():
    t = cr.tensor([1.0, 2.0])
    ref = weakref.ref(t)
    assert ref() is t
    del t
    assert ref() is None
    p = cr.nn.Parameter(np.zeros(2, dtype=np.float32))
    assert weakref.ref(p)() is p
