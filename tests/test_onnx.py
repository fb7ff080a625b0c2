"""chainrule.interop.onnx.export: files onnxruntime runs to chainrule's outputs; clear refusals."""

import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.interop import onnx as cr_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-5


def run_file(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"input": x})
    return y


def reference(model, x):
    model.eval()
    with cr.no_grad():
        return model(cr.tensor(x)).numpy()


def warmed_up(model, x):
    """Train-mode passes so that batch norm's running statistics are not the defaults."""
    model.train()
    for scale in (1.0, 3.0):
        model(cr.tensor(x * scale))
    return model


def mlp_all_activations():
    return nn.Sequential(
        nn.Linear(6, 16),
        nn.Sigmoid(),
        nn.Linear(16, 16),
        nn.Tanh(),
        nn.Linear(16, 16),
        nn.ReLU(),
        nn.Linear(16, 16),
        nn.LeakyReLU(0.2),
        nn.Linear(16, 16),
        nn.ELU(0.7),
        nn.Linear(16, 16),
        nn.GELU(),
        nn.Linear(16, 16),
        nn.GELU(approximate="tanh"),
        nn.Linear(16, 16),
        nn.Softplus(beta=2.0, threshold=1.0),
        nn.Identity(),
        nn.Linear(16, 3),
        nn.Softmax(dim=1),
    )


def mlp_batchnorm_dropout():
    return nn.Sequential(
        nn.Linear(6, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Sequential(nn.Linear(32, 8), nn.BatchNorm1d(8, affine=False)),
        nn.Linear(8, 4),
        nn.LogSoftmax(dim=-1),
    )


def flatten_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))


def conv_net():
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, groups=2),
        nn.AvgPool2d(2, stride=1, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )


def conv_same_padding():
    """'same' with an even kernel pads unevenly (the odd cell after); 'valid' pads nothing."""
    return nn.Sequential(
        nn.Conv2d(3, 4, (2, 3), padding="same"),
        nn.ReLU(),
        nn.Conv2d(4, 2, 3, padding="valid"),
        nn.Flatten(),
    )


CASES = {
    "conv_same": (conv_same_padding, (3, 6, 7)),
    "all_activations": (mlp_all_activations, (6,)),
    "batchnorm_dropout": (mlp_batchnorm_dropout, (6,)),
    "flatten": (flatten_mlp, (2, 3)),
    "conv": (conv_net, (3, 8, 8)),
}


@pytest.mark.parametrize("opset", [13, 17, 20])
@pytest.mark.parametrize("case", sorted(CASES))
def test_onnxruntime_matches_chainrule(tmp_path, case, opset):
    build, features = CASES[case]
    cr.manual_seed(0)
    x = np.random.default_rng(1).normal(size=(16, *features)).astype(np.float32)
    model = warmed_up(build(), x)
    model.train()
    path = cr_onnx.export(model, x[:1], tmp_path / "model.onnx", opset=opset)
    assert model.training, "export must leave the model's mode as it was"
    # The file was written for batch 1 and runs on 16: the batch axis is dynamic.
    y = run_file(path, x)
    expected = reference(model, x)
    assert y.dtype == np.float32 and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=0, atol=TOLERANCE)


def test_float64_model_gives_a_float64_graph(tmp_path):
    cr.manual_seed(0)
    # Tanh, not GELU: onnxruntime's CPU provider has no float64 Erf (nor Conv) kernel.
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2), nn.Softmax(1)).double()
    x = np.random.default_rng(0).normal(size=(5, 3))
    path = cr_onnx.export(model, x, tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    assert {t.data_type for t in proto.graph.initializer} == {onnx.TensorProto.DOUBLE}
    np.testing.assert_allclose(run_file(path, x), reference(model, x), rtol=0, atol=1e-12)


def test_initializers_are_the_state_dict(tmp_path):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    path = cr_onnx.export(model, np.zeros((2, 4), np.float32), tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name, value in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        np.testing.assert_array_equal(stored[name], value)
    batch_axis = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_axis.dim_param == "batch"


class MyLayer(nn.Module):
    def forward(self, x):
        return x * 2


def test_unsupported_layer_names_it_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous")
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), MyLayer())
    with pytest.raises(ValueError, match=r"cannot export layer 3 \(MyLayer\): supported are .*"):
        cr_onnx.export(model, np.zeros((1, 2), np.float32), target)
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]


def test_batch_statistics_in_eval_mode_cannot_be_exported(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(ValueError, match=r"layer 1 \(BatchNorm1d\).*track_running_stats"):
        cr_onnx.export(model, np.zeros((4, 2), np.float32), tmp_path / "m.onnx")


@pytest.mark.parametrize("opset", [12, 10_000, "17"])
def test_opset_out_of_range(tmp_path, opset):
    with pytest.raises(ValueError, match="opset must be an integer"):
        cr_onnx.export(
            nn.Sequential(nn.ReLU()), np.zeros((1, 2), np.float32), tmp_path / "m", opset
        )


def test_pass_through_only_model(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = cr_onnx.export(nn.Sequential(nn.Identity(), nn.Dropout()), x, tmp_path / "m.onnx")
    np.testing.assert_array_equal(run_file(path, x), x)


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ImportError, match=r'pip install "chainrule\[onnx\]"'):
        cr_onnx.export(nn.Sequential(nn.ReLU()), np.zeros((1, 2), np.float32), tmp_path / "m")


def test_conv_with_a_non_zero_padding_mode_is_refused_by_name(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(ValueError, match="padding_mode='reflect'.*zeros only"):
        cr_onnx.export(model, np.zeros((1, 1, 5, 5), np.float32), tmp_path / "m.onnx")
