"""Creation functions against PyTorch: the same call, spelled the same, gives the same dtype,
shape and values (``import chainrule as torch`` must not change a program's numbers)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def same(ours: cr.Tensor, theirs: torch.Tensor) -> None:
    expected = theirs.detach().numpy()
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    assert ours.shape == expected.shape
    np.testing.assert_array_equal(ours.numpy(), expected)


#: Each call is written once and run with m = chainrule and m = torch.
CALLS = {
    "zeros ints": lambda m: m.zeros(2, 3),
    "zeros tuple": lambda m: m.zeros((2, 3)),
    "zeros list": lambda m: m.zeros([4]),
    "zeros size=": lambda m: m.zeros(size=(1, 2)),
    "zeros 0-d": lambda m: m.zeros(()),
    "zeros size-0": lambda m: m.zeros(0, 3),
    "zeros int64": lambda m: m.zeros(2, dtype=m.int64),
    "ones": lambda m: m.ones(3, 1),
    "ones float64": lambda m: m.ones(2, dtype=m.float64),
    "ones bool": lambda m: m.ones(2, dtype=m.bool),
    "ones half": lambda m: m.ones(2, dtype=m.half),
    "empty shape": lambda m: m.empty(2, 2).fill_(0) if m is torch else m.empty(2, 2),
    "full float": lambda m: m.full((2, 2), 1.5),
    "full int": lambda m: m.full((2,), 7),
    "full bool": lambda m: m.full((2,), True),
    "full dtype": lambda m: m.full([3], 2, dtype=m.float64),
    "eye": lambda m: m.eye(3),
    "eye rect": lambda m: m.eye(2, 4),
    "eye long": lambda m: m.eye(2, dtype=m.long),
    "arange n": lambda m: m.arange(5),
    "arange start end": lambda m: m.arange(2, 7),
    "arange step": lambda m: m.arange(0, 10, 3),
    "arange negative step": lambda m: m.arange(5, 0, -2),
    "arange float": lambda m: m.arange(0, 1, 0.1),
    "arange float end": lambda m: m.arange(5.0),
    "arange float64": lambda m: m.arange(-1, 1, 0.25, dtype=m.float64),
    "arange int dtype float": lambda m: m.arange(4, dtype=m.float32),
    "arange empty": lambda m: m.arange(3, 3),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace awkward": lambda m: m.linspace(-3.3, 7.1, 13),
    "linspace long": lambda m: m.linspace(-3.3, 7.1, 1000),
    "linspace float64": lambda m: m.linspace(0, 2, 7, dtype=m.float64),
    "linspace int": lambda m: m.linspace(0, 10, 5, dtype=m.int64),
    "linspace one": lambda m: m.linspace(2, 5, 1),
    "linspace none": lambda m: m.linspace(2, 5, 0),
    "linspace descending": lambda m: m.linspace(1, -1, 6),
    "logspace": lambda m: m.logspace(0, 2, 3),
    "logspace base": lambda m: m.logspace(-1, 1, 5, base=2.0),
    "logspace float64": lambda m: m.logspace(0, 3, 4, dtype=m.float64),
    "tensor list": lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "tensor ints": lambda m: m.tensor([1, 2, 3]),
    "tensor bools": lambda m: m.tensor([True, False]),
    "tensor dtype": lambda m: m.tensor([1, 2], dtype=m.float32),
    "tensor float64 array": lambda m: m.tensor(np.arange(3.0)),
    "as_tensor": lambda m: m.as_tensor([1.5, 2.5]),
    "as_tensor dtype": lambda m: m.as_tensor(np.arange(3), dtype=m.float64),
    "from_numpy": lambda m: m.from_numpy(np.arange(4, dtype=np.int32)),
    "zeros_like": lambda m: m.zeros_like(m.ones(2, 3, dtype=m.float64)),
    "ones_like dtype": lambda m: m.ones_like(m.zeros(2), dtype=m.int32),
    "full_like": lambda m: m.full_like(m.zeros(2, 2), 3.5),
    "full_like int": lambda m: m.full_like(m.zeros(3, dtype=m.int64), 4),
    "empty_like shape": lambda m: m.empty_like(m.ones(2, 5)).fill_(0)
    if m is torch
    else m.empty_like(m.ones(2, 5)),
    "FloatTensor data": lambda m: m.FloatTensor([1, 2]),
    "DoubleTensor data": lambda m: m.DoubleTensor([[1, 2]]),
    "LongTensor data": lambda m: m.LongTensor([1, 2]),
    "IntTensor data": lambda m: m.IntTensor([3]),
    "BoolTensor data": lambda m: m.BoolTensor([True, False]),
    "ByteTensor data": lambda m: m.ByteTensor([1, 255]),
    "FloatTensor sizes": lambda m: m.FloatTensor(2, 3).zero_(),
}


@pytest.mark.parametrize("name", CALLS)
def test_creation_matches_pytorch(name):
    same(CALLS[name](cr), CALLS[name](torch))


@pytest.mark.parametrize("fill", [2, 2.5, True])
def test_full_infers_the_dtype_from_the_fill_value_as_pytorch_2(fill):
    assert cr.full((2,), fill).dtype == torch.full((2,), fill).detach().numpy().dtype


def test_created_tensors_are_leaves_and_take_requires_grad():
    for t in (
        cr.zeros(2, requires_grad=True),
        cr.ones(2, 2, requires_grad=True),
        cr.full((2,), 1.0, requires_grad=True),
        cr.arange(0.0, 3.0, requires_grad=True),
        cr.linspace(0, 1, 3, requires_grad=True),
        cr.eye(2, requires_grad=True),
        cr.tensor([1.0], requires_grad=True),
        cr.zeros_like(cr.ones(2), requires_grad=True),
    ):
        assert t.requires_grad and t.is_leaf and t.grad_fn is None


def test_requires_grad_on_an_integer_creation_is_refused():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        cr.arange(3, requires_grad=True)


def test_from_numpy_and_as_tensor_share_memory_with_the_array():
    a = np.zeros(3, dtype=np.float32)
    cr.from_numpy(a).numpy()[0] = 1
    cr.as_tensor(a).numpy()[1] = 2
    assert a.tolist() == [1, 2, 0]


def test_as_tensor_returns_a_tensor_of_the_right_dtype_itself():
    t = cr.zeros(2)
    assert cr.as_tensor(t) is t and cr.as_tensor(t, dtype=cr.float64).dtype == cr.float64


def test_tensor_copies_its_data():
    a = np.zeros(2)
    cr.tensor(a).numpy()[0] = 1
    assert a[0] == 0


def test_tensor_of_size_objects_and_default_dtype_follow_set_default_dtype():
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.zeros(2).dtype == cr.float64 and cr.arange(1.0).dtype == cr.float64
        assert cr.full((1,), 0.5).dtype == cr.float64 and cr.rand(1).dtype == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)


def test_out_is_refused_with_a_clear_error():
    for call in (
        lambda: cr.zeros(2, out=cr.zeros(2)),
        lambda: cr.arange(3, out=cr.zeros(3)),
        lambda: cr.randn(2, out=cr.zeros(2)),
    ):
        with pytest.raises(TypeError, match="out= is not supported"):
            call()


def test_negative_size_is_refused():
    with pytest.raises(RuntimeError, match="size must be non-negative"):
        cr.zeros(2, -1)


def test_non_integer_size_is_refused():
    with pytest.raises(TypeError, match="size must be ints or one tuple of ints"):
        cr.ones(2.5)


def test_size_given_twice_is_refused():
    with pytest.raises(TypeError, match="both positionally and as size="):
        cr.zeros(2, size=(2,))


def test_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match="unexpected keyword argument 'shape'"):
        cr.zeros(shape=(2,))


def test_arange_with_zero_step_is_refused():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        cr.arange(0, 5, 0)


def test_arange_with_a_step_of_the_wrong_sign_is_refused():
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        cr.arange(5, 0, 1)


def test_linspace_with_negative_steps_is_refused():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        cr.linspace(0, 1, -1)


def test_unsupported_dtype_is_refused():
    with pytest.raises(TypeError, match="not supported"):
        cr.zeros(2, dtype=np.complex64)


def test_dtype_that_is_not_a_dtype_is_refused():
    with pytest.raises(TypeError, match="is not a dtype"):
        cr.zeros(2, dtype=cr.zeros)
