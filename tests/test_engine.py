"""The backward pass: accumulation, graph rules, grad modes, hooks, anomaly checks, custom ops."""

from __future__ import annotations

import time

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F


def leaf(values, dtype=np.float64):
    return cr.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_leaf_gradients_accumulate_across_backward_calls_until_cleared():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_tensor_used_twice_gets_the_sum_of_both_paths():
    x = leaf([2.0])
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0])


def test_diamond_graph_sums_paths_through_shared_intermediate():
    x = leaf([3.0])
    h = x.exp()
    y = (h * 2 + h.log()).sum()  # d/dx = 2eˣ + 1
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(3.0) + 1)


def test_non_leaf_grad_is_kept_only_after_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    kept = x * 3
    kept.retain_grad()
    (h + kept).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(kept.grad.numpy(), [1.0, 1.0])
    assert not h.is_leaf and x.is_leaf


def test_backward_on_non_scalar_without_grad_raises_and_names_the_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        y.backward()


def test_backward_on_non_scalar_with_explicit_grad_is_a_vector_jacobian_product():
    x = leaf([1.0, 2.0])
    (x * x).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 40.0])


def test_backward_with_grad_of_wrong_shape_raises():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match="expected"):
        y.backward(np.ones(3))


def test_second_backward_through_freed_graph_raises_unless_graph_retained():
    x = leaf([1.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).sum().backward()


def test_no_grad_records_nothing_and_restores_state():
    x = leaf([1.0])
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_works_as_a_decorator_and_enable_grad_reenables():
    @cr.no_grad()
    def doubled(t):
        with cr.enable_grad():
            inner = t * 2
        return t * 2, inner

    outer, inner = doubled(leaf([1.0]))
    assert not outer.requires_grad and inner.requires_grad


def test_long_chain_backpropagates_without_recursion_error_in_linear_time():
    def chain(n):
        x = leaf([1.0])
        y = x
        for _ in range(n):
            y = y * 1.0
        start = time.perf_counter()
        y.sum().backward()
        return x, time.perf_counter() - start

    x, _ = chain(100_000)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0])
    # Linear, not quadratic: ten times the graph costs far less than a hundred times the time.
    _, small = chain(10_000)
    _, large = chain(100_000)
    assert large < 40 * small


def test_gradient_of_broadcast_operand_is_summed_to_its_shape():
    a = leaf(np.ones((2, 3)))
    b = leaf(np.ones((3,)))
    c = leaf(np.ones((2, 1)))
    (a * b * c).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_array_equal(b.grad.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(c.grad.numpy(), [[3], [3]])


def test_engine_rejects_a_custom_op_gradient_of_the_wrong_shape():
    class BadShape(cr.Function, register=False):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return (np.ones(7),)

    message = r"BadShape.backward returned a gradient of shape \(7,\)"
    with pytest.raises(RuntimeError, match=message):
        BadShape.apply(leaf([1.0, 2.0])).sum().backward()


def test_user_defined_function_is_registered_and_differentiated():
    class Cube(cr.Function, name="TestCube"):
        """d x³/dx = 3x²."""

        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, grad):
            return (grad * 3 * self.x**2,)

    try:
        assert cr.OPS["TestCube"] is Cube
        assert Cube.derivative() == "d x³/dx = 3x²."
        x = leaf([2.0, -1.0])
        assert cr.gradcheck(Cube.apply, [x])
        Cube.apply(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [12.0, 3.0])
    finally:
        del cr.OPS["TestCube"]


def test_every_registered_op_documents_its_derivative():
    for name, op in cr.OPS.items():
        assert "/d" in op.derivative(), f"{name} has no derivative line"


def test_hook_sees_and_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 3
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_array_equal(seen[0], [30.0, 30.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])


def test_removed_hook_is_not_called():
    x = leaf([1.0])
    calls = []
    remove = x.register_hook(lambda g: calls.append(1))
    remove()
    (x * 2).sum().backward()
    assert calls == []


def test_leaf_gradients_never_share_memory():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.data *= 5  # as an optimizer or gradient clipping might
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_detect_anomaly_names_the_first_op_producing_nan_in_forward():
    x = leaf([-1.0, 1.0])
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError, match="Log produced NaN or inf"):
        x.log()


def test_detect_anomaly_names_the_op_producing_inf_in_backward():
    x = leaf([0.0, 1.0])
    with cr.detect_anomaly():
        y = x.sqrt().sum()  # sqrt(0) is fine, its gradient is inf
        with pytest.raises(cr.AnomalyError, match="Sqrt produced NaN or inf in its backward"):
            y.backward()


def test_without_detect_anomaly_non_finite_values_pass_silently():
    assert np.isnan(leaf([-1.0]).log().item())


def test_cast_passes_gradient_back_in_the_input_dtype():
    x = leaf([1.5, 2.5])
    y = x.float()
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])


def test_detach_leaves_the_graph_but_shares_data():
    x = leaf([1.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x * 2
    assert np.shares_memory(y.detach().numpy(), y.numpy())


def test_requires_grad_cannot_be_removed_from_a_computed_tensor():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False


def test_in_place_assignment_to_a_parameter_needs_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 5.0
    with cr.no_grad():
        w[0] = 5.0
    np.testing.assert_array_equal(w.numpy(), [5.0, 2.0])


def test_dropout_mask_is_reproducible_with_a_generator_and_identity_in_eval():
    x = cr.tensor(np.ones((4, 5)))
    a = F.dropout(x, 0.5, generator=np.random.default_rng(1))
    b = F.dropout(x, 0.5, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert set(np.unique(a.numpy())) <= {0.0, 2.0}
    assert F.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0.0)


def test_manual_seed_makes_default_dropout_reproducible():
    x = cr.tensor(np.ones(50))
    cr.manual_seed(3)
    a = F.dropout(x, 0.5).numpy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(a, F.dropout(x, 0.5).numpy())


def test_gradient_accumulates_in_place_so_references_to_grad_stay_valid():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    kept = x.grad
    (x * 2).sum().backward()
    assert x.grad is kept
    np.testing.assert_array_equal(kept.numpy(), [4.0, 4.0])
