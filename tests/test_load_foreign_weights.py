"""Weights PyTorch users export without pickle load into chainrule models; pickles are refused.

``np.savez`` of a state dict and ``safetensors`` files written by other tools (no chainrule
metadata) load as an OrderedDict of name → Tensor; ``torch.save`` files are refused, by name
and by content, with the way to export them without pickle.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import ChainruleFormatError

EXPORT_HINT = r"numpy\.savez\(.*safetensors\.torch\.save_file"


def chainrule_model() -> cr.nn.Module:
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))


def state_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "0.weight": rng.standard_normal((8, 4)).astype(np.float32),
        "0.bias": rng.standard_normal(8).astype(np.float32),
        "2.weight": rng.standard_normal((3, 8)).astype(np.float32),
        "2.bias": rng.standard_normal(3).astype(np.float32),
    }


# ----- files written without chainrule --------------------------------------------------------
def test_a_plain_npz_of_a_state_dict_loads_as_an_ordered_dict_of_tensors_in_file_order(tmp_path):
    path = tmp_path / "w.npz"
    arrays = {"z.last": np.arange(3, dtype=np.int32), **state_arrays()}
    np.savez(path, **arrays)
    loaded = cr.load(path)
    assert type(loaded) is OrderedDict
    assert list(loaded) == list(arrays)
    for name, a in arrays.items():
        assert isinstance(loaded[name], cr.Tensor) and loaded[name].dtype == a.dtype
        np.testing.assert_array_equal(loaded[name].numpy(), a)


def test_a_plain_npz_loads_into_a_model_with_load_state_dict(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **state_arrays())
    model = chainrule_model()
    model.load_state_dict(cr.load(path))
    for name, a in state_arrays().items():
        np.testing.assert_array_equal(np.asarray(model.state_dict()[name]), a)
    other = chainrule_model()
    cr.load_into(other, path)
    np.testing.assert_array_equal(other[0].weight.numpy(), state_arrays()["0.weight"])


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int64, np.uint8, np.bool_])
def test_plain_safetensors_keep_every_dtype_numpy_has(tmp_path, dtype):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "w.safetensors"
    st.save_file({"b": np.ones((2, 3), dtype), "a": np.zeros(0, dtype)}, str(path))
    loaded = cr.load(path)
    assert type(loaded) is OrderedDict and list(loaded) == ["a", "b"]
    assert loaded["b"].dtype == dtype and loaded["b"].shape == (2, 3)
    assert loaded["a"].shape == (0,)


def test_a_compressed_npz_is_refused_before_inflating_and_says_to_use_savez(tmp_path):
    path = tmp_path / "w.npz"
    np.savez_compressed(path, w=np.zeros(1000))
    with pytest.raises(ChainruleFormatError, match="compressed.*numpy.savez, not"):
        cr.load(path)


def test_a_zip_of_other_files_is_refused_naming_them(tmp_path):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ChainruleFormatError, match=r"not an \.npz.*readme\.txt"):
        cr.load(path)


def test_an_npz_entry_whose_header_disagrees_with_the_zip_directory_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, w=np.zeros(4))
    data = bytearray(path.read_bytes())
    at = data.index(b"(4,)")
    data[at : at + 4] = b"(9,)"  # the header now announces more data than the entry holds
    path.write_bytes(bytes(data))
    with pytest.raises(ChainruleFormatError, match="entry 'w'"):
        cr.load(path)


def test_an_object_array_in_a_plain_npz_is_refused_never_unpickled(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ChainruleFormatError, match="entry 'w' holds pickled data"):
        cr.load(path)


# ----- pickles ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".pt", ".pth", ".bin", ".ckpt", ".PT"])
def test_pytorch_pickle_names_are_refused_with_the_way_to_export(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    np.savez(path.with_suffix(".npz"), w=np.ones(2))
    path.write_bytes(path.with_suffix(".npz").read_bytes())  # npz content, PyTorch's name
    with pytest.raises(ChainruleFormatError, match=f"named as a PyTorch pickle.*{EXPORT_HINT}"):
        cr.load(path)


def test_a_raw_pickle_under_any_name_says_how_to_export(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(ChainruleFormatError, match=f"is a Python pickle.*{EXPORT_HINT}"):
        cr.load(path)


# ----- with PyTorch -----------------------------------------------------------------------------
def torch_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def assert_same_outputs(torch_net, path) -> None:
    import torch

    model = chainrule_model()
    model.load_state_dict(cr.load(path))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = torch_net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(cr.from_numpy(x)).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_np_savez_of_a_torch_state_dict_loads_into_an_equal_chainrule_model(tmp_path):
    net = torch_model()
    path = tmp_path / "weights.npz"
    np.savez(path, **{k: v.numpy() for k, v in net.state_dict().items()})
    assert list(cr.load(path)) == list(net.state_dict())
    assert_same_outputs(net, path)


def test_safetensors_torch_save_file_loads_into_an_equal_chainrule_model(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    net = torch_model()
    path = tmp_path / "weights.safetensors"
    st.save_file(net.state_dict(), str(path))
    assert sorted(cr.load(path)) == sorted(net.state_dict())
    assert_same_outputs(net, path)


def test_bf16_safetensors_are_widened_to_float32_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    w = torch.tensor([1.0, -2.5, 3.140625, 1e-3, float("inf")], dtype=torch.bfloat16)
    path = tmp_path / "half.safetensors"
    st.save_file({"w": w}, str(path))
    loaded = cr.load(path)["w"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded.numpy(), w.float().numpy())


def test_fp8_safetensors_are_refused_naming_the_dtype(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    path = tmp_path / "fp8.safetensors"
    st.save_file({"w": torch.zeros(2).to(torch.float8_e4m3fn)}, str(path))
    with pytest.raises(ChainruleFormatError, match="'w' has dtype 'F8_E4M3'"):
        cr.load(path)


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_save_files_are_refused_by_content_whatever_their_name(tmp_path, legacy):
    torch = pytest.importorskip("torch")
    raw = tmp_path / "raw"
    torch.save(torch_model().state_dict(), raw, _use_new_zipfile_serialization=not legacy)
    for name in ("weights.npz", "weights.safetensors", "weights"):
        path = tmp_path / name
        path.write_bytes(raw.read_bytes())
        message = "is a Python pickle" if legacy else r"pickled data \(.*data\.pkl"
        with pytest.raises(ChainruleFormatError, match=f"{message}.*{EXPORT_HINT}"):
            cr.load(path)


def test_torch_save_to_a_pt_name_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch_model().state_dict(), path)
    with pytest.raises(ChainruleFormatError, match=EXPORT_HINT):
        cr.load(path)


# ----- torch.load's options -----------------------------------------------------------------------
def test_torch_load_style_calls_work_on_the_cpu(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **state_arrays())
    for kwargs in (
        {"map_location": "cpu"},
        {"map_location": cr.device("cpu")},
        {"weights_only": True},
    ):
        model = chainrule_model()
        model.load_state_dict(cr.load(path, **kwargs))
        np.testing.assert_array_equal(
            np.asarray(model.state_dict()["2.bias"]), state_arrays()["2.bias"]
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"map_location": "cuda"}, RuntimeError, "cuda"),
        ({"map_location": lambda storage, loc: storage}, TypeError, "map_location=None, 'cpu'"),
        ({"pickle_module": pickle}, TypeError, "does not support pickle_module"),
        ({"mmap": True}, TypeError, "does not support mmap=True"),
        ({"weights_only": "yes"}, TypeError, "weights_only must be a bool"),
    ],
)
def test_torch_load_options_chainrule_cannot_honour_are_refused_by_name(
    tmp_path, kwargs, error, message
):
    path = tmp_path / "w.npz"
    np.savez(path, w=np.ones(2))
    with pytest.raises(error, match=message):
        cr.load(path, **kwargs)
