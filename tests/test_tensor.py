"""Tensor creation, dtypes, operators, indexing and the errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F


def test_python_floats_become_float32_and_numpy_arrays_keep_their_dtype():
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor(np.zeros(2)).dtype == np.float64
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor([True]).dtype == np.bool_
    assert cr.tensor([1, 2], dtype="float64").dtype == np.float64


def test_set_default_dtype_changes_what_python_floats_become():
    try:
        cr.set_default_dtype("float64")
        assert cr.tensor([1.0]).dtype == np.float64
    finally:
        cr.set_default_dtype("float32")
    with pytest.raises(TypeError, match="float32 or float64"):
        cr.set_default_dtype("int32")


def test_tensor_copies_its_input_and_from_numpy_shares_it():
    a = np.zeros(3)
    cr.tensor(a).numpy()[0] = 1
    assert a[0] == 0
    cr.from_numpy(a).numpy()[0] = 1
    assert a[0] == 1


@pytest.mark.parametrize(
    "scalar", [2, 2.0, np.float64(2.0), np.float32(2.0), np.array(2.0)], ids=repr
)
def test_float32_tensor_stays_float32_with_any_scalar_operand(scalar):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (
        x + scalar,
        scalar + x,
        x * scalar,
        scalar * x,
        x - scalar,
        scalar - x,
        x / scalar,
        scalar / x,
        x**scalar,
        F.maximum(x, scalar),
        F.where(x.numpy() > 1, x, scalar),
    ):
        assert y.dtype == np.float32
    (x * scalar).sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_tensor_dtypes_promote_like_pytorch():
    f32, f64 = cr.tensor([1.0]), cr.tensor(np.array([1.0]))
    i64 = cr.tensor([1])
    assert (f32 + f64).dtype == np.float64
    assert (i64 + f32).dtype == np.float32
    assert (i64 * 2.5).dtype == np.float32
    assert (i64 / 2).dtype == np.float32
    assert (i64 + 1).dtype == np.int64


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="bool"):
        cr.tensor([True]).requires_grad_()


def test_non_numeric_data_is_rejected():
    with pytest.raises(TypeError, match="expected real numbers"):
        cr.tensor(["a", "b"])
    with pytest.raises(TypeError, match="complex"):
        cr.tensor(np.array([1j]))


def test_array_facts_and_conversions():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), name="x")
    assert (x.shape, x.ndim, x.numel(), x.T.shape, len(x)) == ((2, 3), 2, 6, (3, 2), 2)
    assert x.sum().item() == 15.0 and isinstance(x.sum().item(), float)
    assert x.numpy() is x.numpy() and x.name == "x"
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(ValueError, match="one element"):
        x.item()
    assert "grad_fn=<MulBackward0>" in repr(cr.tensor([1.0], requires_grad=True) * 2)


def test_comparisons_give_bool_tensors_without_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal((x == 1.0).numpy(), [True, False])


def test_reflected_operators_with_numpy_arrays_return_tensors():
    x = cr.tensor(np.ones(2), requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, cr.Tensor) and y.requires_grad
    assert isinstance(np.ones((3, 2)) @ x, cr.Tensor)


def test_advanced_indexing_scatters_gradient_and_sums_repeated_indices():
    x = cr.tensor(np.zeros((3, 2)), requires_grad=True)
    x[[0, 0, 2], 1].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 2], [0, 0], [0, 1]])
    y = cr.tensor(np.zeros(4), requires_grad=True)
    y[cr.tensor([3, 3, 3])].sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 0, 0, 3])


def test_index_out_of_range_raises_index_error_with_the_shape():
    with pytest.raises(IndexError, match=r"shape \(2,\)"):
        cr.tensor([1.0, 2.0])[5]


@pytest.mark.parametrize(
    ("fn", "a", "b"),
    [
        (lambda a, b: a + b, (2, 3), (4,)),
        (lambda a, b: a * b, (2, 3), (3, 2)),
        (lambda a, b: a @ b, (2, 3), (4, 5)),
        (F.maximum, (5,), (4,)),
    ],
    ids=["add", "mul", "matmul", "maximum"],
)
def test_shape_mismatch_raises_value_error_naming_the_op_and_both_shapes(fn, a, b):
    with pytest.raises(ValueError) as err:
        fn(cr.tensor(np.ones(a)), cr.tensor(np.ones(b)))
    assert str(a) in str(err.value) and str(b) in str(err.value)
    assert err.value.args[0].split(":")[0] in {"Add", "Mul", "MatMul", "Maximum"}


def test_bad_reshape_and_axes_raise_with_the_shapes():
    x = cr.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4,\)"):
        x.reshape(4)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="widths must be ≥ 0 in mode 'reflect'"):
        F.pad(x, (-1, 0), mode="reflect")
    with pytest.raises(ValueError, match="input size 3, plus negative padding -2 and -2"):
        F.pad(x, (-2, -2))


def test_linear_rejects_weight_that_does_not_fit_the_input():
    with pytest.raises(ValueError, match=r"Linear: input of shape \(4, 3\).*\(2, 5\)"):
        F.linear(cr.tensor(np.ones((4, 3))), cr.tensor(np.ones((2, 5))))


@pytest.mark.parametrize("label", [3, -1])
def test_cross_entropy_rejects_labels_outside_the_classes(label):
    logits = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=f"target {label} is out of range for 3 classes"):
        F.cross_entropy(logits, np.array([0, label]))
    with pytest.raises(ValueError, match=f"target {label} is out of range"):
        F.nll_loss(logits, np.array([label, 0]))


def test_cross_entropy_rejects_float_labels_and_wrong_target_shapes():
    logits = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="must be integers"):
        F.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"targets of shape \(2,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))


def test_losses_reject_mismatched_shapes_instead_of_broadcasting():
    with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape \(4,\)"):
        F.mse_loss(cr.tensor(np.zeros((4, 1))), np.zeros(4))


def test_losses_reject_unknown_reduction_and_bce_rejects_non_probabilities():
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(cr.tensor([1.0]), [1.0], reduction="avg")
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(cr.tensor([1.5]), [1.0])


def test_functional_ops_accept_plain_arrays():
    x = np.array([[-1.0, 2.0]])
    np.testing.assert_array_equal(F.relu(x).numpy(), [[0.0, 2.0]])
    assert F.abs(x).sum().item() == 3.0 and F.mean(x).item() == 0.5
    assert F.linear(x, np.ones((3, 2))).shape == (1, 3)


def test_linear_casts_input_to_the_weights_dtype():
    w = cr.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    out = F.linear(np.ones((4, 2)), w)
    assert out.dtype == np.float32


def test_negative_constant_padding_crops_as_in_pytorch():
    x = cr.tensor(np.arange(10.0).reshape(2, 5), requires_grad=True)
    y = F.pad(x, (-1, 1), value=9.0)
    np.testing.assert_array_equal(y.numpy(), [[1, 2, 3, 4, 9], [6, 7, 8, 9, 9]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1, 1, 1], [0, 1, 1, 1, 1]])


def test_legacy_tensor_constructor_takes_sizes_or_python_data_as_pytorch():
    assert cr.Tensor(2, 3).shape == (2, 3) and cr.Tensor(2, 3).dtype == np.float32
    assert cr.Tensor(cr.Size([4])).shape == (4,)
    assert cr.Tensor().shape == (0,)
    ints = cr.Tensor([1, 2])
    assert ints.dtype == np.float32 and ints.tolist() == [1.0, 2.0]
    assert cr.Tensor(np.arange(3)).dtype == np.int64  # an ndarray keeps its dtype
    with pytest.raises(TypeError, match="one sequence of data or sizes"):
        cr.Tensor(2, [3])
    with pytest.raises(RuntimeError, match="sizes must be non-negative"):
        cr.Tensor(2, -1)


def test_data_is_a_detached_tensor_sharing_memory_as_in_pytorch():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.data
    assert isinstance(d, cr.Tensor) and not d.requires_grad and d.is_leaf
    assert d is not x.data  # a new view each time, as torch's
    d.mul_(2.0)
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 4.0, 6.0])


def test_a_write_through_data_is_invisible_to_the_saved_tensor_check():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data.zero_()  # the old tutorials' way around autograd's version check
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])  # 2x, read after the write


def test_assigning_data_replaces_the_values_and_old_tutorial_updates_work():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.5 * w.grad.data
    w.grad.data.zero_()
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    w.data = cr.tensor([5.0, 6.0, 7.0])
    assert w.shape == (3,) and w.requires_grad
