"""PyTorch state dicts through .npz / .safetensors files into chainrule models and back."""

import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.interop import pytorch as interop

torch = pytest.importorskip("torch")


def torch_model():
    return torch.nn.Sequential(
        torch.nn.Linear(5, 16),
        torch.nn.BatchNorm1d(16),
        torch.nn.GELU(),
        torch.nn.Dropout(0.3),
        torch.nn.Linear(16, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 3),
    )


def chainrule_model():
    return nn.Sequential(
        nn.Linear(5, 16),
        nn.BatchNorm1d(16),
        nn.GELU(),
        nn.Dropout(0.3),
        nn.Linear(16, 8),
        nn.Tanh(),
        nn.Linear(8, 3),
    )


def trained_torch_model(x):
    torch.manual_seed(0)
    model = torch_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # moves the weights and batch norm's running statistics off their defaults
        opt.zero_grad()
        model(torch.from_numpy(x)).pow(2).mean().backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("suffix", ["npz", "safetensors"])
def test_round_trip_through_torch(tmp_path, suffix):
    if suffix == "safetensors":
        pytest.importorskip("safetensors")
    x = np.random.default_rng(0).normal(size=(32, 5)).astype(np.float32)
    source = trained_torch_model(x)
    state = {k: v.detach().cpu().numpy() for k, v in source.state_dict().items()}
    path = tmp_path / f"weights.{suffix}"
    if suffix == "npz":
        np.savez(path, **state)
    else:
        import safetensors.numpy

        safetensors.numpy.save_file(state, str(path))

    model = chainrule_model()
    assert interop.load_torch_weights(model, path) == ([], [])
    model.eval()
    with torch.no_grad():
        expected = source(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), expected, rtol=0, atol=1e-6)

    # Change the weights in chainrule, write them back, and load them into a fresh torch model.
    model[0].weight.data *= 0.5
    out = interop.save_torch_weights(model, tmp_path / f"back.{suffix}")
    assert list(tmp_path.glob(".*tmp")) == []
    back = interop.read_state_dict(out)
    assert sorted(back) == sorted(source.state_dict())  # safetensors sorts the names
    target = torch_model()
    target.load_state_dict({k: torch.from_numpy(v) for k, v in back.items()})
    target.eval()
    with torch.no_grad():
        again = target(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(again, model(cr.tensor(x)).numpy(), rtol=0, atol=1e-6)


def test_float64_state_dict_from_a_mapping():
    torch.manual_seed(1)
    source = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    source = source.double()
    state = {k: v.numpy() for k, v in source.state_dict().items()}
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    interop.load_torch_weights(model, state)
    x = np.random.default_rng(0).normal(size=(6, 3))
    with torch.no_grad():
        expected = source(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), expected, rtol=0, atol=1e-12)


def test_mismatch_is_reported_and_nothing_loaded(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = model.state_dict()
    path = tmp_path / "w.npz"
    np.savez(path, **{"0.weight": np.zeros((4, 3), np.float32), "2.weight": np.zeros((2, 5))})
    with pytest.raises(RuntimeError) as info:
        interop.load_torch_weights(model, path)
    message = str(info.value)
    assert "'0.bias'" in message and "2.weight: got shape (2, 5)" in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_pickled_npz_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **{"0.weight": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="allow_pickle"):
        interop.read_state_dict(path)


def test_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="unknown weights format 'pt'"):
        interop.read_state_dict(tmp_path / "weights.pt")
    model = nn.Sequential(nn.Linear(1, 1))
    out = interop.save_torch_weights(model, tmp_path / "weights.bin", format="npz")
    assert set(interop.read_state_dict(out, format="npz")) == {"0.weight", "0.bias"}


def test_safetensors_missing_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install"):
        interop.save_torch_weights(nn.Sequential(nn.Linear(1, 1)), tmp_path / "w.safetensors")
