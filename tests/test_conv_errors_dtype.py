"""Bad convolution and pooling arguments raise precise errors; float32 networks stay float32."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim


def zeros(*shape, dtype=np.float32):
    return cr.tensor(np.zeros(shape, dtype=dtype))


def test_conv2d_wrong_channel_count_names_the_expected_shape():
    with pytest.raises(
        ValueError, match=r"expected input of shape \(N, 3, H, W\); got \(2, 4, 8, 8\)"
    ):
        nn.Conv2d(3, 8, 3)(zeros(2, 4, 8, 8))


def test_conv2d_three_dimensional_input_names_the_expected_shape():
    with pytest.raises(
        ValueError, match=r"expected input of shape \(N, 3, H, W\); got \(3, 8, 8\)"
    ):
        nn.Conv2d(3, 8, 3)(zeros(3, 8, 8))


def test_conv1d_wrong_input_names_the_expected_shape():
    with pytest.raises(ValueError, match=r"\(N, 2, L\); got \(4, 2, 3, 3\)"):
        nn.Conv1d(2, 4, 3)(zeros(4, 2, 3, 3))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match="spans 5 but the padded input is only 4"):
        nn.Conv2d(1, 1, 5)(zeros(1, 1, 4, 9))
    with pytest.raises(ValueError, match="spans 5 but the padded input is only 4"):
        nn.Conv2d(1, 1, 3, dilation=2)(zeros(1, 1, 4, 9))
    nn.Conv2d(1, 1, 5, padding=1)(zeros(1, 1, 3, 3))  # padded to 5: exactly one window
    with pytest.raises(ValueError, match="MaxPool2d: .*output size is too small"):
        F.max_pool2d(zeros(1, 1, 2, 2), 3)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"stride": 0}, "stride must be a positive integer"),
        ({"stride": -1}, "stride must be a positive integer"),
        ({"padding": -1}, "padding must be a non-negative integer"),
        ({"dilation": 0}, "dilation must be a positive integer"),
        ({"kernel_size": 0}, "kernel_size must be a positive integer"),
        ({"groups": 0}, "groups must be a positive integer"),
        ({"groups": 3}, "groups=3 must divide in_channels"),
    ],
)
def test_layer_arguments_are_checked(kwargs, message):
    args = {"in_channels": 4, "out_channels": 6, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(**args)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"stride": 0}, "Conv2d: stride must be a positive"),
        ({"padding": -2}, "Conv2d: padding must be a non-negative"),
        ({"dilation": (1, 0)}, "Conv2d: dilation must be a positive"),
        ({"groups": 3}, "groups=3 must divide both the input channels"),
    ],
)
def test_functional_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        # With groups=3 the 6 input channels divide, the 4 output channels do not.
        F.conv2d(zeros(1, 6, 5, 5), zeros(4, 6 // kwargs.get("groups", 1), 3, 3), **kwargs)


def test_functional_checks_weight_against_input_channels():
    with pytest.raises(
        ValueError, match=r"expects 4 input channels; got input of shape \(1, 6, 5, 5\)"
    ):
        F.conv2d(zeros(1, 6, 5, 5), zeros(2, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\); expected \(2,\)"):
        F.conv2d(zeros(1, 3, 5, 5), zeros(2, 3, 3, 3), zeros(3))


def test_pool_padding_at_most_half_the_kernel():
    with pytest.raises(ValueError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(zeros(1, 1, 6, 6), 2, padding=2)
    with pytest.raises(ValueError, match="padding must be a non-negative"):
        nn.AvgPool2d(2, padding=-1)(zeros(1, 1, 6, 6))


def test_float32_cnn_training_step_stays_float32():
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, groups=2),
        nn.AvgPool2d(2, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )
    seen = []
    for layer in model:
        layer.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    x = cr.tensor(np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.CrossEntropyLoss()(model(x), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    opt.step()
    assert loss.dtype == np.float32
    assert seen and all(d == np.float32 for d in seen)
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    for name, b in model.named_buffers():
        assert b.dtype in (np.float32, np.int64), name


def test_ops_compute_in_float32_without_upcasting_the_gradient():
    """The ops' own backward returns float32 (the engine would cast back, hiding an upcast)."""
    from chainrule.ops import conv, pooling

    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 7, 6), dtype=np.float32)
    w = rng.random((4, 3, 3, 3), dtype=np.float32)
    g = rng.random((2, 4, 4, 3), dtype=np.float32)
    op = conv.Conv2d()
    out = op.forward(
        x,
        w,
        rng.random(4, dtype=np.float32),
        stride=(2, 2),
        padding=(1, 1),
        dilation=(1, 1),
        groups=1,
    )
    op.needs_input_grad = (True, True, True)
    assert out.dtype == np.float32
    assert all(gr.dtype == np.float32 for gr in op.backward(g))
    geometry = {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1)}
    result = pooling.max_windows(
        x, dilation=(1, 1), spans=(1, 1), **{k: v for k, v in geometry.items() if k != "padding"}
    )
    for pool, kwargs in (
        (pooling.MaxPool2d(), {"dilation": (1, 1), "result": result}),
        (pooling.AvgPool2d(), {}),
    ):
        y = pool.forward(x, **geometry, **kwargs)
        assert y.dtype == np.float32
        assert pool.backward(np.ones_like(y))[0].dtype == np.float32
    gp = pooling.GlobalAvgPool2d()
    assert gp.forward(x).dtype == np.float32
    assert gp.backward(np.ones((2, 3, 1, 1), np.float32))[0].dtype == np.float32


def test_max_pool_keeps_an_integer_dtype_as_pytorch():
    x = cr.tensor(np.arange(16, dtype=np.int32).reshape(1, 1, 4, 4))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert y.dtype == np.int32 and idx.dtype == np.int64
    np.testing.assert_array_equal(y.numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[5, 7], [13, 15]])
    y1 = F.max_pool1d(cr.tensor(np.array([[[3, -9, 4, 4, 0]]], dtype=np.int64)), 2, ceil_mode=True)
    assert y1.dtype == np.int64 and y1.tolist() == [[[3, 4, 0]]]


def test_integer_input_of_average_pooling_is_computed_in_the_default_float_dtype():
    y = F.avg_pool2d(cr.tensor(np.arange(16).reshape(1, 1, 4, 4)), 2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_float64_input_meets_float32_layer_in_float32():
    y = nn.Conv2d(1, 2, 3)(cr.tensor(np.zeros((1, 1, 5, 5))))
    assert y.dtype == np.float32
