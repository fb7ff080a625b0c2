"""P3's pointwise math beyond the registries: integer and bool dtypes, the bitwise and logical
ops, predicates, precise errors, silence at domain edges, and erf's accuracy (vs PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

torch = pytest.importorskip("torch")


def both(values, dtype=None):
    a = np.asarray(values, dtype=dtype)
    return cr.tensor(a), torch.tensor(a)


def same(ours, theirs):
    want = theirs.numpy()
    assert ours.dtype == want.dtype, (ours.dtype, want.dtype)
    np.testing.assert_array_equal(ours.numpy(), want)


# ----- integers and bools ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign", "square", "abs"])
def test_integer_tensors_keep_their_dtype_as_in_torch(name):
    ours, theirs = both([-3, 0, 2, 7])
    same(getattr(cr, name)(ours), getattr(torch, name)(theirs))


@pytest.mark.parametrize("name", ["sin", "erf", "reciprocal", "rsqrt", "log2", "exp2", "atanh"])
def test_math_of_integer_tensors_gives_the_default_float(name):
    ours = getattr(cr, name)(cr.tensor([1, 2, 3]))
    theirs = getattr(torch, name)(torch.tensor([1, 2, 3]))
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: 7 // b,
        lambda a, b: -7 % b,
        lambda a, b: a.fmod(b),
        lambda a, b: a.remainder(b),
        lambda a, b: a.div(b, rounding_mode="trunc"),
        lambda a, b: a.div(b, rounding_mode="floor"),
        lambda a, b: a.floor_divide(b),
    ],
)
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_floor_division_and_remainders_match_torch(fn, dtype):
    a, ta = both([7, -7, 7, -7, 0, 5], dtype)
    b, tb = both([2, 2, -2, -2, 3, 5], dtype)
    same(fn(a, b), fn(ta, tb))


def test_integer_division_by_zero_raises_zero_division_error():
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        cr.tensor([1, 2]) // cr.tensor([1, 0])
    with pytest.raises(ZeroDivisionError):
        cr.tensor([1, 2]) % 0


def test_float_division_by_zero_gives_infinities_silently():
    a, ta = both([7.0, -7.0, 0.0])
    same(a // 0.0, ta // 0.0)
    same(cr.fmod(a, 0.0), torch.fmod(ta, 0.0))


def test_floor_divide_is_not_differentiable_as_in_torch():
    x = cr.tensor([3.5, -1.5], requires_grad=True)
    assert not (x // 2).requires_grad


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_bitwise_ops_match_torch(name, dtype):
    a, ta = both([0, 1, 5, 12] if dtype != np.bool_ else [0, 1, 1, 0], dtype)
    b, tb = both([3, 1, 6, 10] if dtype != np.bool_ else [1, 1, 0, 0], dtype)
    same(getattr(cr, name)(a, b), getattr(torch, name)(ta, tb))
    same(getattr(a, name)(1), getattr(ta, name)(1))


def test_bitwise_operators_and_python_scalars_match_torch():
    a, ta = both([5, 6, 12])
    m, tm = both([True, False, True])
    for fn in (
        lambda a, m: a & 3,
        lambda a, m: 3 | a,
        lambda a, m: a ^ True,
        lambda a, m: ~a,
        lambda a, m: ~m,
        lambda a, m: m & True,
        lambda a, m: m | a,
        lambda a, m: True ^ m,
    ):
        same(fn(a, m), fn(ta, tm))


def test_bitwise_and_on_float_tensors_raises_type_error():
    with pytest.raises(TypeError, match="bitwise_and is only defined for integer and bool"):
        cr.bitwise_and(cr.tensor([1.0]), cr.tensor([1.0]))
    with pytest.raises(TypeError, match="got float32"):
        cr.tensor([1, 2]) & cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="bitwise_not"):
        ~cr.tensor([1.0])


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_take_any_dtype_and_give_bools(name):
    a, ta = both([0.0, 1.5, -2.0, 0.0])
    b, tb = both([0, 0, 3, 4])
    same(getattr(cr, name)(a, b), getattr(torch, name)(ta, tb))
    same(cr.logical_not(a), torch.logical_not(ta))


def test_predicates_match_torch():
    a, ta = both([np.nan, np.inf, -np.inf, 0.0, 1.0])
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        same(getattr(a, name)(), getattr(ta, name)())
    b, tb = both([np.nan, np.inf, np.inf, 1e-9, 1.00001])
    same(cr.isclose(a, b), torch.isclose(ta, tb))
    same(a.isclose(b, equal_nan=True), ta.isclose(tb, equal_nan=True))
    same(cr.isclose(a, b, rtol=0.0, atol=0.0), torch.isclose(ta, tb, rtol=0.0, atol=0.0))


# ----- errors -------------------------------------------------------------------------------


def test_div_refuses_an_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        cr.div(cr.tensor([1.0]), 2.0, rounding_mode="round")


@pytest.mark.parametrize("name", ["sin", "erf", "floor", "log1p", "bitwise_not", "div"])
def test_out_is_refused_with_a_clear_error(name):
    x = cr.tensor([1, 2])
    args = (x, x) if name == "div" else (x,)
    with pytest.raises(TypeError, match="out= is not supported"):
        getattr(cr, name)(*args, out=x)


def test_frac_of_an_integer_tensor_raises_type_error():
    with pytest.raises(TypeError, match="frac is only defined for floating-point"):
        cr.frac(cr.tensor([1, 2]))


def test_round_decimals_must_be_an_int():
    with pytest.raises(TypeError, match="decimals must be an int"):
        cr.round(cr.tensor([1.25]), decimals=1.5)


def test_glu_refuses_an_odd_halving_dimension():
    with pytest.raises(ValueError, match="halving dimension must be even.*size 3"):
        F.glu(cr.tensor(np.zeros((2, 3))))


@pytest.mark.parametrize("fn", [F.glu, F.softmax, F.log_softmax, F.softmin])
def test_a_dim_out_of_range_raises_index_error(fn):
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        fn(cr.tensor(np.zeros((2, 4))), 2)


def test_softmax_refuses_dim_and_axis_together():
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        F.softmax(cr.tensor([1.0, 2.0]), dim=0, axis=0)


def test_normalize_refuses_a_non_positive_p():
    with pytest.raises(ValueError, match="p must be positive"):
        F.normalize(cr.tensor(np.ones((2, 2))), p=0)


def test_hardtanh_refuses_min_above_max():
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(cr.tensor([0.0]), min_val=1.0, max_val=-1.0)


# ----- edges are silent (warnings are errors in this suite) and follow torch -----------------


@pytest.mark.parametrize(
    "name, values",
    [
        ("atanh", [1.0, -1.0, 2.0]),
        ("asin", [1.0, 2.0]),
        ("acosh", [0.0, 1.0]),
        ("log2", [0.0, -1.0]),
        ("log10", [0.0, -1.0]),
        ("log1p", [-1.0, -2.0]),
        ("rsqrt", [0.0, -1.0]),
        ("reciprocal", [0.0, -0.0]),
        ("erfinv", [1.0, -1.0, 1.5]),
        ("sinh", [1e4, -1e4]),
        ("cosh", [1e4]),
        ("exp2", [1e5]),
        ("expm1", [1e4]),
        ("erfc", [np.inf, -np.inf, 1e4]),
    ],
)
def test_values_and_gradients_at_domain_edges_are_silent_and_match_torch(name, values):
    x = cr.tensor(np.array(values), requires_grad=True)
    tx = torch.tensor(np.array(values), requires_grad=True)
    out, tout = getattr(cr, name)(x), getattr(torch, name)(tx)
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    out.backward(np.ones(len(values)))
    tout.backward(torch.ones(len(values), dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_saturated_activations_are_finite_and_silent():
    x = cr.tensor(np.array([-1e4, -800.0, 800.0, 1e4]), requires_grad=True)
    for fn in (F.logsigmoid, F.mish, F.silu, F.selu, F.celu, F.softsign):
        out = fn(x)
        out.backward(np.ones(4))
        assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all()
        x.grad = None


def test_float32_stays_float32():
    x = cr.tensor([0.25, 0.5], requires_grad=True)
    for name in ("sin", "atanh", "erf", "erfc", "erfinv", "rsqrt", "exp2", "floor", "frac"):
        assert getattr(cr, name)(x).dtype == np.float32, name
    for fn in (F.silu, F.mish, F.hardswish, F.selu, F.logsigmoid, F.glu, F.normalize):
        assert fn(x.reshape(1, 2)).dtype == np.float32


# ----- erf family: float64 round-off, checked against torch --------------------------------


def test_erf_erfc_erfinv_agree_with_torch_to_1e_12_relative():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-6, 6, 20000), rng.uniform(-0.6, 0.6, 2000), [0.0, 0.5]])
    tail = np.concatenate([x, rng.uniform(5, 26, 2000)])
    np.testing.assert_allclose(cr.erf(x).numpy(), torch.erf(torch.from_numpy(x)), rtol=1e-12)
    np.testing.assert_allclose(
        cr.erfc(tail).numpy(), torch.erfc(torch.from_numpy(tail)), rtol=1e-12
    )
    y = np.concatenate([rng.uniform(-1, 1, 20000), 1 - 10.0 ** rng.uniform(-15, -1, 2000)])
    np.testing.assert_allclose(
        cr.erfinv(y).numpy(), torch.erfinv(torch.from_numpy(y)), rtol=1e-12, atol=0
    )


def test_gelu_uses_the_vectorized_erf():
    x = np.linspace(-8, 8, 1001)
    np.testing.assert_allclose(
        F.gelu(cr.tensor(x)).numpy(), torch.nn.functional.gelu(torch.from_numpy(x)), rtol=1e-12
    )


TORCH_METHODS = (
    "sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh arcsin arccos arctan arctan2 "
    "arcsinh arccosh arctanh floor ceil round trunc fix frac sign sgn fmod remainder floor_divide "
    "div divide true_divide erf erfc erfinv rsqrt reciprocal square log1p expm1 log2 log10 exp2 "
    "logaddexp lerp hypot nan_to_num isnan isinf isfinite isposinf isneginf isclose bitwise_and "
    "bitwise_or bitwise_xor bitwise_not logical_and logical_or logical_xor logical_not softmax "
    "log_softmax sigmoid"
).split()


@pytest.mark.parametrize("name", TORCH_METHODS)
def test_torch_tensor_methods_and_functions_exist(name):
    assert hasattr(torch.Tensor, name) and hasattr(cr.Tensor, name)
    assert hasattr(cr, name)


@pytest.mark.parametrize("name", ["erf_values", "erfc_values"])
def test_float32_erf_short_series_rounds_like_the_full_float64_series(name):
    from chainrule.ops import erf as erf_module

    fn = getattr(erf_module, name)
    x = (np.random.default_rng(3).standard_normal(200_000) * 3).astype(np.float32)
    full = fn(x.astype(np.float64)).astype(np.float32)
    short = fn(x)
    ulps = np.abs(full.view(np.int32).astype(np.int64) - short.view(np.int32).astype(np.int64))
    assert short.dtype == np.float32
    assert ulps.max() <= 1 and np.count_nonzero(ulps) <= 20
