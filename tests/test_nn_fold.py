"""F.unfold / F.fold and nn.Unfold / nn.Fold: PyTorch's im2col and col2im, values and first and
second derivatives against PyTorch, and the shapes and errors a user meets."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

GEOMETRIES = [
    ((2, 3, 7, 6), dict(kernel_size=3)),
    ((2, 3, 7, 6), dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 1))),
    ((1, 2, 5, 5), dict(kernel_size=2, stride=2)),  # side by side, as a 2×2 patch embedding
    ((3, 6, 5), dict(kernel_size=(3, 2), padding=1, stride=(1, 2))),  # unbatched (C, H, W)
    ((0, 2, 4, 4), dict(kernel_size=2)),  # an empty batch
]


@pytest.mark.parametrize(("shape", "geometry"), GEOMETRIES)
def test_unfold_and_fold_equal_pytorchs_values_and_derivatives(shape, geometry):
    torch = pytest.importorskip("torch")
    from double_backward_support import compare_with_torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    cols = torch.nn.functional.unfold(torch.tensor(x), **geometry).numpy()
    np.testing.assert_array_equal(F.unfold(cr.tensor(x), **geometry).numpy(), cols)
    size = shape[-2:]
    c = rng.standard_normal(cols.shape)
    expected = torch.nn.functional.fold(torch.tensor(c), size, **geometry).numpy()
    np.testing.assert_allclose(F.fold(cr.tensor(c), size, **geometry).numpy(), expected)

    # Both are linear: cube them so the second derivative is not zero.
    def unfold_cubed(lib, t):
        return lib.nn.functional.unfold(t, **geometry) ** 3

    def fold_cubed(lib, t):
        return lib.nn.functional.fold(t, size, **geometry) ** 3

    compare_with_torch(unfold_cubed, [x], 1, rtol=1e-10, atol=1e-12)
    compare_with_torch(fold_cubed, [c], 2, rtol=1e-10, atol=1e-12)


def test_a_convolution_is_unfold_then_one_matrix_product():
    rng = np.random.default_rng(3)
    x, w = (
        cr.tensor(rng.standard_normal((2, 3, 6, 5))),
        cr.tensor(rng.standard_normal((4, 3, 3, 3))),
    )
    out = (w.reshape(4, -1) @ F.unfold(x, 3, padding=1)).reshape(2, 4, 6, 5)
    np.testing.assert_allclose(out.numpy(), F.conv2d(x, w, padding=1).numpy(), rtol=1e-12)


def test_fold_of_unfold_counts_the_windows_over_each_pixel():
    ones = cr.ones(1, 1, 4, 4, dtype=cr.float64)
    counts = F.fold(F.unfold(ones, 3), (4, 4), 3).numpy()[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_modules_call_the_functions_and_print_their_settings():
    x = cr.randn(2, 3, 4, 4)
    unfold, fold = cr.nn.Unfold(2, stride=2), cr.nn.Fold((4, 4), 2, stride=2)
    assert repr(unfold) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=2)"
    assert repr(fold) == "Fold(output_size=(4, 4), kernel_size=2, dilation=1, padding=0, stride=2)"
    assert tuple(unfold(x).shape) == (2, 12, 4)
    np.testing.assert_array_equal(fold(unfold(x)).numpy(), x.numpy())  # windows do not overlap


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.unfold(cr.zeros(2, 3, 4), 5), "does not fit the padded spatial size"),
        (lambda: F.unfold(cr.zeros(4, 4), 2), r"expected input of shape \(N, C, H, W\)"),
        (lambda: F.unfold(cr.zeros(1, 1, 4, 4), 0), "kernel_size must be a positive integer"),
        (lambda: F.fold(cr.zeros(1, 5, 9), (4, 4), 2), r"expected \(N, C·4, 9\) for 3×3 windows"),
        (lambda: F.fold(cr.zeros(1, 4, 8), (4, 4), 2), r"expected \(N, C·4, 9\)"),
        (lambda: F.fold(cr.zeros(4), (4, 4), 2), r"expected input of shape \(N, C·kh·kw, L\)"),
    ],
)
def test_bad_shapes_and_settings_are_refused_with_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
