"""PyTorch's signatures for reductions and shape ops, Size, max/min(dim), Tensor basics (P1)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

torch = pytest.importorskip("torch")


def pair(shape=(3, 4), seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def same(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert tuple(ours.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "var"])
def test_reductions_take_dim_keepdim_and_numpy_aliases(name):
    x, tx = pair((3, 4, 5))
    want = getattr(tx, name)(dim=1, keepdim=True)
    same(getattr(x, name)(dim=1, keepdim=True), want)
    same(getattr(x, name)(axis=1, keepdims=True), want)
    same(getattr(F, name)(input=x, dim=-2, keepdim=True), want)
    same(getattr(x, name)(1, True) if name != "var" else x.var(1, True, True), want)


def test_sum_dtype_and_positional_calls_match_torch():
    x, tx = pair()
    same(x.sum(1, True), tx.sum(1, True))
    got, want = x.sum(dtype=np.float32), tx.sum(dtype=torch.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-5)
    assert cr.tensor([1, 2, 3], dtype="int32").sum().dtype == np.int64


def test_var_takes_unbiased_positionally_and_by_keyword():
    x, tx = pair()
    same(x.var(False), tx.var(False))
    same(x.var(1, False), tx.var(1, False))
    same(x.var(dim=0, unbiased=False, keepdim=True), tx.var(dim=0, unbiased=False, keepdim=True))
    same(x.var(0, correction=0), tx.var(0, correction=0))


def test_both_dim_and_axis_is_a_type_error_naming_both():
    x, _ = pair()
    with pytest.raises(TypeError, match=r"chainrule.sum: got both dim= and axis="):
        x.sum(dim=0, axis=0)
    with pytest.raises(TypeError, match=r"chainrule.mean: got both keepdim= and keepdims="):
        x.mean(0, keepdim=True, keepdims=True)
    with pytest.raises(TypeError, match=r"chainrule.squeeze: got both dim= and axis="):
        cr.squeeze(x, 0, axis=0)
    with pytest.raises(TypeError, match=r"chainrule.var: got both unbiased= and correction="):
        x.var(0, unbiased=True, correction=0)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(out=x), lambda x: F.mean(x, out=x), lambda x: x.max(0, out=x),
    lambda x: cr.cat([x, x], out=x), lambda x: cr.stack([x], out=x), lambda x: x.var(out=x),
])  # fmt: skip
def test_out_is_refused_with_one_clear_error(call):
    x, _ = pair()
    with pytest.raises(TypeError, match=r"chainrule\.\w+: out= is not supported; assign"):
        call(x)


def test_shape_ops_take_pytorch_names():
    x, tx = pair((2, 1, 3))
    same(cr.cat([x, x], dim=1), torch.cat([tx, tx], dim=1))
    same(cr.concatenate([x, x], axis=2), torch.concatenate([tx, tx], axis=2))
    same(cr.stack([x, x], dim=-1), torch.stack([tx, tx], dim=-1))
    same(x.squeeze(1), tx.squeeze(1))
    same(x.squeeze(0), tx.squeeze(0))  # not size 1: left alone, as in PyTorch
    same(x.squeeze(dim=1), tx.squeeze(dim=1))
    same(x.unsqueeze(dim=0), tx.unsqueeze(dim=0))
    same(x.transpose(0, 2), tx.transpose(0, 2))
    same(x.permute(2, 0, 1), tx.permute(2, 0, 1))
    same(cr.permute(x, (2, 0, 1)), torch.permute(tx, (2, 0, 1)))
    same(x.flatten(start_dim=1), tx.flatten(start_dim=1))
    same(x.reshape(3, 2), tx.reshape(3, 2))
    same(x.expand(4, 2, 5, 3), tx.expand(4, 2, 5, 3))


def test_unsqueeze_without_a_dim_names_it():
    with pytest.raises(TypeError, match="missing the dimension dim="):
        cr.unsqueeze(cr.tensor([1.0]))


def test_size_is_a_tuple_with_numel_and_size_dim_is_an_int():
    x = cr.tensor(np.zeros((2, 3, 4)))
    s = x.size()
    assert isinstance(s, cr.Size) and isinstance(x.shape, cr.Size) and isinstance(s, tuple)
    assert s == (2, 3, 4) == x.shape and s.numel() == 24 == x.numel() == x.nelement()
    assert x.size(0) == 2 and x.size(-1) == 4 and isinstance(x.size(1), int)
    assert isinstance(s[1:], cr.Size) and s[1:] == (3, 4) and isinstance(s + (5,), cr.Size)
    assert repr(s) == "chainrule.Size([2, 3, 4])" and str(s) == "(2, 3, 4)"
    assert x.dim() == x.ndimension() == 3
    assert cr.zeros(x.shape).shape == (2, 3, 4) if hasattr(cr, "zeros") else True


def test_size_of_a_dim_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match=r"dimension 3 is out of range .* \[-3, 2\]"):
        cr.tensor(np.zeros((2, 3, 4))).size(3)
    with pytest.raises(IndexError, match="0-d"):
        cr.tensor(1.0).size(0)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_return_values_and_indices_like_torch(name, keepdim):
    data = np.array([[2.0, 0, 2, 1], [1, 3, 3, 3], [np.nan, 1, np.nan, 0], [0, 0, 0, 0]])
    x, tx = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    got, want = getattr(x, name)(1, keepdim), getattr(tx, name)(1, keepdim)
    assert isinstance(got, getattr(cr.return_types, name)) and got._fields == ("values", "indices")
    same(got.values, want.values)
    assert got.indices.dtype == np.int64
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    values, indices = got
    assert values is got.values and indices is got[1]
    g = np.arange(4.0).reshape(want.values.shape) + 1
    values.backward(g)
    want.values.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_without_dim_is_a_value_and_with_a_tensor_the_elementwise_maximum():
    x, tx = pair()
    y, ty = pair(seed=1)
    same(x.max(), tx.max())
    same(x.max(y), tx.max(ty))
    same(cr.min(x, y), torch.min(tx, ty))
    same(F.max(x, other=y), torch.maximum(tx, ty))


def test_max_over_an_empty_dim_names_the_dim():
    with pytest.raises(IndexError, match=r"max\(\): dimension 1 .* is empty"):
        cr.tensor(np.zeros((2, 0))).max(1)


@pytest.mark.parametrize("dim", [0, -1])
def test_a_0d_tensor_accepts_dim_0_and_minus_1(dim):
    x, tx = cr.tensor(3.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    for name in ["sum", "mean", "logsumexp"]:
        same(getattr(x, name)(dim), getattr(tx, name)(dim))
        same(getattr(x, name)(dim, keepdim=True), getattr(tx, name)(dim, keepdim=True))
    got, want = x.max(dim), tx.max(dim)
    same(got.values, want.values)
    assert got.indices.item() == want.indices.item() == 0
    assert x.squeeze(dim).shape == () and x.unsqueeze(dim).shape == (1,)


def test_mean_over_an_empty_dim_is_nan_with_a_gradient_of_the_input_shape():
    x = cr.tensor(np.zeros((3, 0)), requires_grad=True)
    with np.errstate(all="raise"):
        m = x.mean(1)
    assert m.shape == (3,) and np.isnan(m.numpy()).all()
    m.sum().backward()
    assert x.grad.shape == (3, 0)
    assert np.isnan(cr.tensor(np.zeros(0)).mean().item())


def test_dtype_conversion_methods_match_torch():
    data = np.array([[-1.5, 0.0, 2.7]])
    x, tx = cr.tensor(data), torch.tensor(data)
    for name in ["float", "double", "half", "long", "int", "bool"]:
        got, want = getattr(x, name)(), getattr(tx, name)()
        assert got.dtype == np.dtype(str(want.dtype).removeprefix("torch."))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert x.type_as(cr.tensor([1], dtype="int32")).dtype == np.int32
    assert x.is_floating_point() and not x.long().is_floating_point()
    assert (x.element_size(), x.float().element_size(), x.half().element_size()) == (8, 4, 2)


def test_clone_copies_and_passes_the_gradient():
    x, tx = pair()
    c, tc = x.clone(), tx.clone()
    assert c.numpy() is not x.numpy() and not np.shares_memory(c.numpy(), x.numpy())
    (c * 3.0).sum().backward()
    (tc * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert c.grad_fn is not None and cr.clone(x).shape == x.shape


def test_view_reshape_expand_as_and_transposes_match_torch():
    x, tx = pair((2, 3))
    y, ty = pair((3, 2), seed=1)
    same(x.view(-1), tx.view(-1))
    same(x.view(3, 2), tx.view(3, 2))
    same(x.view((6, 1)), tx.view((6, 1)))
    same(x.view_as(y), tx.view_as(ty))
    same(x.reshape_as(y), tx.reshape_as(ty))
    same(cr.tensor([[1.0], [2.0]]).expand_as(x), torch.tensor([[1.0], [2.0]]).expand_as(tx))
    same(x.t(), tx.t())
    same(x.T, tx.T)
    b, tb = pair((4, 2, 3))
    same(b.mT, tb.mT)
    assert x.contiguous() is x
    v = cr.tensor([1.0, 2.0])
    assert v.t() is v


def test_t_of_a_3d_tensor_and_mT_of_a_vector_are_refused():
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions"):
        cr.tensor(np.zeros((2, 2, 2))).t()
    with pytest.raises(RuntimeError, match="mT needs at least 2 dimensions"):
        cr.tensor([1.0]).mT  # noqa: B018


def test_comparison_methods_match_torch():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    x, y, tx, ty = cr.tensor(a), cr.tensor(b), torch.tensor(a), torch.tensor(b)
    for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
        np.testing.assert_array_equal(getattr(x, name)(y).numpy(), getattr(tx, name)(ty).numpy())
        np.testing.assert_array_equal(getattr(x, name)(2.0).numpy(), getattr(tx, name)(2.0).numpy())


def test_item_tolist_and_requires_grad_():
    x = cr.tensor([[1.5]])
    assert x.item() == 1.5 and x.tolist() == [[1.5]]
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad


def test_np_asarray_of_a_tensor_is_its_values_as_for_a_pytorch_tensor():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(x).dtype == np.float32 and np.asarray(x).shape == (2, 2)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.array(x), x.numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: x.new_zeros(2, 3),
        lambda lib, x: x.new_ones((1,)),
        lambda lib, x: x.new_full((2,), 7),
        lambda lib, x: x.new_tensor([1, 2]),
        lambda lib, x: x.new_empty(3, dtype=lib.int64).zero_(),
        lambda lib, x: x.new_zeros(2, requires_grad=True),
    ],
)
def test_new_methods_make_tensors_in_the_tensors_dtype_as_pytorch(make):
    ours = make(cr, cr.ones(2, dtype=cr.float64))
    theirs = make(torch, torch.ones(2, dtype=torch.float64))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert ours.tolist() == theirs.tolist() and ours.requires_grad == theirs.requires_grad


def test_new_zeros_refuses_a_cuda_device_clearly():
    with pytest.raises(RuntimeError, match="CPU"):
        cr.ones(2).new_zeros(2, device="cuda")


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "elu", "leaky_relu"])
def test_activation_takes_pytorchs_input_keyword_as_torch_nn_functional(name):
    x = np.array([-1.5, 0.5, 2.0])
    ours = getattr(F, name)(input=cr.tensor(x))
    theirs = getattr(torch.nn.functional, name)(input=torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["relu", "elu", "leaky_relu"])
def test_activation_accepts_inplace_and_returns_the_result(name):
    x = cr.tensor(np.array([-1.5, 0.5]))
    np.testing.assert_allclose(
        getattr(F, name)(x, inplace=True).numpy(), getattr(F, name)(x).numpy()
    )
