"""chainrule.linalg and the fixed-shape products: the namespace, shape errors, what is missing."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def t(*shape):
    return cr.tensor(np.ones(shape))


def test_linalg_is_a_module_with_pytorchs_norms():
    import types

    assert isinstance(cr.linalg, types.ModuleType)
    assert cr.linalg.norm(cr.tensor([3.0, 4.0])).item() == 5.0
    assert cr.linalg.vecdot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])).item() == 11.0
    assert cr.linalg.multi_dot([t(2, 3), t(3, 4), t(4)]).shape == (2,)


def test_missing_linalg_function_names_the_pytorch_feature():
    with pytest.raises(AttributeError, match=r"torch.linalg.svd is not implemented in chainrule"):
        _ = cr.linalg.svd


def test_nuclear_and_spectral_norms_say_they_need_svd():
    with pytest.raises(NotImplementedError, match="svd"):
        cr.linalg.matrix_norm(t(2, 2), "nuc")
    with pytest.raises(NotImplementedError, match="svd"):
        cr.norm(t(2, 2), "nuc")


def test_mm_of_mismatched_shapes_is_refused():
    with pytest.raises(RuntimeError, match=r"mm\(\): shapes \(2, 3\) and \(4, 5\) cannot be"):
        cr.mm(t(2, 3), t(4, 5))


def test_mm_of_a_vector_is_refused():
    with pytest.raises(RuntimeError, match=r"mm\(\): input must be a 2-D tensor; got shape \(3,\)"):
        cr.mm(t(3), t(3, 2))


def test_bmm_of_different_batch_sizes_is_refused():
    with pytest.raises(RuntimeError, match=r"bmm\(\): batch sizes differ"):
        cr.bmm(t(2, 3, 4), t(3, 4, 5))


def test_dot_of_different_lengths_is_refused():
    with pytest.raises(RuntimeError, match=r"dot\(\): 1-D tensors of different lengths"):
        cr.dot(t(3), t(4))


def test_einsum_with_the_wrong_number_of_operands_is_refused():
    with pytest.raises(ValueError, match=r"einsum\(\): the equation names 2 operands but 1"):
        cr.einsum("ij,jk->ik", t(2, 2))


def test_einsum_subscripts_that_do_not_fit_the_operand_are_refused():
    with pytest.raises(ValueError, match=r"subscripts 'ijk' do not fit an operand of shape"):
        cr.einsum("ijk->i", t(2, 2))


def test_matrix_power_of_a_non_square_matrix_is_refused():
    with pytest.raises(RuntimeError, match="needs square matrices"):
        cr.matrix_power(t(2, 3), 2)


def test_matrix_power_zero_is_the_identity():
    np.testing.assert_array_equal(
        cr.matrix_power(t(2, 3, 3), 0).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3))
    )


def test_addmm_with_beta_zero_ignores_nan_in_input():
    out = cr.addmm(cr.tensor(np.full((2, 2), np.nan)), t(2, 3), t(3, 2), beta=0)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 3.0))


def test_vector_norm_of_an_integer_tensor_is_refused():
    with pytest.raises(TypeError, match="needs a floating-point tensor; got int64"):
        cr.linalg.vector_norm(cr.tensor([1, 2]))


def test_tensor_methods_are_the_functions():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    assert x.norm().item() == pytest.approx(np.sqrt(55.0))
    assert x.mm(x.T).shape == (2, 2) and x.T.mv(cr.tensor([1.0, 1.0])).shape == (3,)
    assert x.prod(1).tolist() == [0.0, 60.0] and x.argmax(1, keepdim=True).shape == (2, 1)
