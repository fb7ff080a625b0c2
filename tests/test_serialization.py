"""``chainrule.save`` / ``load`` / ``load_into``: round trips, formats, and every bad file and
failed write we could think of, each ending in a precise error and an intact previous file."""

from __future__ import annotations

import errno
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.io import atomic, serialization
from chainrule.io.serialization import ChainruleFormatError


def small_model(hidden: int = 5) -> nn.Module:
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def a_tree() -> dict:
    """Everything a checkpoint holds, in every awkward form."""
    rng = np.random.default_rng(1)
    return {
        "model": {"0.weight": rng.normal(size=(4, 3)).astype(np.float32), "0.bias": np.zeros(4)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": rng.normal(size=(4, 3))}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "x": None}],
        },
        "scheduler": {"best": math.inf, "worst": -math.inf, "mode": "min", "flag": True},
        "rng": np.random.default_rng(5).bit_generator.state,  # 128-bit ints
        "history": {"loss": [1.5, float("nan")], "stopped_early": None},
        "scalars": (np.float64(0.1), np.int64(-7), np.float32(2.5), np.bool_(True)),
        "shapes": [np.zeros(()), np.zeros((0, 3)), np.arange(12).reshape(3, 4).T, np.ones(2, bool)],
        "$tricky": {"$array": "not a reference"},
        "file": np.arange(3),  # np.savez would choke on this keyword
        "mixed keys": {1.5: "a", (1, "b"): "c", None: 0, False: 1},
    }


def assert_same(a, b) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


@pytest.fixture(params=["npz", "safetensors"])
def suffix(request) -> str:
    if request.param == "safetensors":
        pytest.importorskip("safetensors")
    return "." + request.param


# ----- round trips -------------------------------------------------------------------------------
def test_a_state_dict_round_trips_exactly_and_numpy_reads_its_entries_by_name(tmp_path):
    model = small_model()
    path = tmp_path / "model.npz"
    cr.save(model.state_dict(), path)
    loaded = cr.load(path)
    assert_same(model.state_dict(), loaded)
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["0.weight"], model[0].weight.numpy())


def test_a_whole_checkpoint_tree_round_trips_with_types_keys_and_non_finite_floats(
    tmp_path, suffix
):
    tree = a_tree()
    path = tmp_path / f"ckpt{suffix}"
    cr.save(tree, path)
    assert_same(tree, cr.load(path))


def test_load_state_dict_of_load_restores_a_fresh_model(tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    trained = small_model()
    for p in trained.parameters():
        p.data += 1.0
    cr.save(trained.state_dict(), path)
    fresh = small_model()
    fresh.load_state_dict(cr.load(path))
    assert_same(trained.state_dict(), fresh.state_dict())
    other = small_model()
    cr.load_into(other, path)
    assert_same(trained.state_dict(), other.state_dict())


def test_a_plain_safetensors_file_from_another_tool_loads_as_a_flat_state_dict(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "hub.safetensors"
    st.save_file({"w": np.ones((2, 2), np.float32)}, str(path))
    loaded = cr.load(path)  # as torch.load gives a state dict: an OrderedDict of Tensors
    assert list(loaded) == ["w"] and isinstance(loaded["w"], cr.Tensor)
    assert_same(loaded["w"].numpy(), np.ones((2, 2), np.float32))


def test_safetensors_without_the_package_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[safetensors\]"'):
        cr.save({"w": np.ones(2)}, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_what_is_not_plain_data_is_refused_naming_where_it_is(tmp_path):
    with pytest.raises(TypeError, match="'opt/fn'"):
        cr.save({"opt": {"fn": print}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="object arrays would need pickle"):
        cr.save({"w": np.array([object()])}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be"):
        cr.save({object(): 1}, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_tensors_are_saved_as_their_arrays(tmp_path):
    cr.save({"t": cr.tensor([1.0, 2.0])}, tmp_path / "t.npz")
    assert_same(cr.load(tmp_path / "t.npz"), {"t": cr.tensor([1.0, 2.0]).numpy()})


def test_a_saved_file_gets_ordinary_permissions_not_the_temp_files_0600(tmp_path):
    path = tmp_path / "m.npz"
    cr.save({"w": np.ones(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o644


# ----- bad files ---------------------------------------------------------------------------------
class _Payload:
    """Unpickling this would create a file: proof that nothing was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make any unpickling during the test fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_a_pickle_disguised_as_npz_is_refused_and_never_unpickled(tmp_path, no_unpickling):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"w": _Payload(marker)}))
    with pytest.raises(ChainruleFormatError, match="is a Python pickle.*never unpickles"):
        cr.load(path)
    assert not marker.exists()


def test_an_npz_holding_an_object_array_is_refused_naming_the_entry(tmp_path, no_unpickling):
    good = tmp_path / "good.npz"
    cr.save({"w": np.ones(2)}, good)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        dst.writestr("__chainrule__.npy", src.read("__chainrule__.npy"))
        with dst.open("w.npy", "w") as f:
            np.lib.format.write_array(f, np.array([_Payload(tmp_path / "x")]), allow_pickle=True)
    with pytest.raises(ChainruleFormatError, match="entry 'w' holds pickled data"):
        cr.load(bad)
    assert not (tmp_path / "x").exists()


def test_a_torch_save_file_is_recognised_as_pickled_data(tmp_path, no_unpickling):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.npz"
    # torch.save pickles with Pickler, which the fixture leaves alone; only loading must refuse.
    buf = tmp_path / "raw.pt"
    torch.save({"w": torch.ones(2)}, buf)
    path.write_bytes(buf.read_bytes())
    with pytest.raises(ChainruleFormatError, match="pickled data.*torch.save"):
        cr.load(path)


@pytest.mark.parametrize("fraction", [0.0001, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999])
def test_a_truncated_file_gets_a_precise_error(tmp_path, suffix, fraction):
    path = tmp_path / f"m{suffix}"
    cr.save(a_tree(), path)
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * fraction))])
    with pytest.raises(ChainruleFormatError, match="truncated|corrupted|not a chainrule"):
        cr.load(path)


def test_flipped_bytes_are_caught_or_harmless_never_a_raw_traceback(tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    tree = a_tree()
    cr.save(tree, path)
    data = path.read_bytes()
    caught = 0
    for pos in range(0, len(data), max(1, len(data) // 150)):
        corrupted = bytearray(data)
        corrupted[pos] ^= 0xFF
        path.write_bytes(bytes(corrupted))
        try:
            loaded = cr.load(path)
        except ChainruleFormatError:
            caught += 1
        else:  # a byte no reader checks (a zip timestamp, JSON padding): same content
            assert_same(tree, loaded)
    assert caught > 0


def test_a_non_chainrule_npz_npy_empty_or_random_file_is_named_for_what_it_is(tmp_path):
    cases = {
        "text.npz": (lambda p: zip_of_text(p), r"not an \.npz"),
        "single.npz": (lambda p: p.write_bytes(_npy_bytes()), "single .npy array"),
        "empty.npz": (lambda p: p.write_bytes(b""), "is empty"),
        "noise.npz": (lambda p: p.write_bytes(b"\x01\x02hello world"), "neither a zip"),
    }
    for name, (make, message) in cases.items():
        path = tmp_path / name
        make(path)
        with pytest.raises(ChainruleFormatError, match=message):
            cr.load(path)


def zip_of_text(path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "not an array")


def _npy_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.ones(2))
    return buf.getvalue()


def test_a_file_from_a_newer_format_version_asks_for_an_upgrade(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "FORMAT_VERSION", 99)
    cr.save({"w": np.ones(2)}, tmp_path / "new.npz")
    monkeypatch.undo()
    with pytest.raises(ChainruleFormatError, match="version 99.*upgrade chainrule"):
        cr.load(tmp_path / "new.npz")


def test_a_file_from_another_model_lists_every_mismatch_and_changes_nothing(tmp_path):
    path = tmp_path / "wide.npz"
    cr.save(small_model(hidden=8).state_dict(), path)
    model = small_model(hidden=5)
    before = model.state_dict()
    with pytest.raises(RuntimeError, match=r"(?s)0\.weight: got shape \(8, 3\).*2\.weight"):
        cr.load_into(model, path)
    with pytest.raises(RuntimeError, match="nothing was loaded"):
        model.load_state_dict(cr.load(path))
    assert_same(before, model.state_dict())


def test_a_nan_weight_is_returned_by_load_but_refused_by_load_into(tmp_path):
    state = small_model().state_dict()
    state["2.bias"][1] = np.nan
    path = tmp_path / "nan.npz"
    cr.save(state, path)
    assert np.isnan(cr.load(path)["2.bias"][1])
    model = small_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"non-finite weights: '2\.bias' \(1 NaN, 0 inf"):
        cr.load_into(model, path)
    assert_same(before, model.state_dict())
    cr.load_into(model, path, allow_nonfinite=True)
    assert np.isnan(model[2].bias.numpy()[1])


# ----- failed writes leave the old file ----------------------------------------------------------
def _old_file(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "model.npz"
    old = {"w": np.arange(5.0)}
    cr.save(old, path)
    return path, old


def test_saving_into_a_read_only_directory_fails_cleanly(tmp_path):
    path, old = _old_file(tmp_path)
    tmp_path.chmod(0o555)
    try:
        if os.access(tmp_path, os.W_OK):
            pytest.skip("this user (root?) can write to a read-only directory")
        with pytest.raises(PermissionError, match="cannot write"):
            cr.save({"w": np.zeros(5)}, path)
    finally:
        tmp_path.chmod(0o755)
    assert_same(old, cr.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_a_missing_directory_is_an_oserror_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot write"):
        cr.save({"w": np.ones(1)}, tmp_path / "nope" / "m.npz")


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_a_full_disk_leaves_the_old_file_intact_and_no_temp_file(tmp_path, monkeypatch, where):
    path, old = _old_file(tmp_path)

    def half_then_full(fd, data):
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "write":
        monkeypatch.setattr(atomic, "_write_fully", half_then_full)
    else:
        monkeypatch.setattr(atomic.os, where, full)
    with pytest.raises(OSError, match="No space left.*previous file is unchanged") as info:
        cr.save({"w": np.zeros(100_000)}, path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert_same(old, cr.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_ctrl_c_during_a_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path, old = _old_file(tmp_path)

    def interrupted(fd, data):
        os.write(fd, data[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_write_fully", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cr.save({"w": np.zeros(1000)}, path)
    assert_same(old, cr.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


KILLED_WRITER = """
import os, sys, time
import numpy as np
import chainrule as cr
from chainrule.io import atomic

def stall(fd, data):
    os.write(fd, data[: len(data) // 2])
    print("half written", flush=True)
    time.sleep(60)

atomic._write_fully = stall
cr.save({"w": np.zeros(200_000)}, sys.argv[1])
"""


def test_a_process_killed_while_saving_leaves_the_old_file_loadable(tmp_path):
    path, old = _old_file(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "half written"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert_same(old, cr.load(path))
    # SIGKILL leaves the half-written temp file; it is hidden, never read, and harmless.
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.npz"]
    assert all(n.startswith(".model.npz.") and n.endswith(".tmp") for n in leftovers)
    cr.save({"w": np.ones(3)}, path)
    assert_same({"w": np.ones(3)}, cr.load(path))


# ----- the name chooses the format (issue 9 §5) --------------------------------------------------
@pytest.mark.parametrize("name", ["model.pt", "model", "weights.npz.bak", "m.json"])
def test_saving_to_a_name_that_is_neither_npz_nor_safetensors_raises_naming_the_path(
    tmp_path, name
):
    path = tmp_path / name
    with pytest.raises(ValueError, match=rf"{path}: the name must end in \.npz or \.safetensors"):
        cr.save({"w": np.ones(2)}, path)
    assert list(tmp_path.iterdir()) == []


def test_format_may_repeat_the_suffix_but_never_contradict_it(tmp_path):
    cr.save({"w": np.ones(2)}, tmp_path / "a.NPZ", format="npz")
    assert_same(cr.load(tmp_path / "a.NPZ"), {"w": np.ones(2)})
    with pytest.raises(ValueError, match=r"format='safetensors': its suffix '\.npz' says 'npz'"):
        cr.save({"w": np.ones(2)}, tmp_path / "b.npz", format="safetensors")
    with pytest.raises(ValueError, match="format must be 'npz' or 'safetensors'"):
        cr.save({"w": np.ones(2)}, tmp_path / "c.npz", format="zip")


def test_reading_safetensors_needs_no_safetensors_package(tmp_path, monkeypatch):
    pytest.importorskip("safetensors")
    path = tmp_path / "m.safetensors"
    cr.save(a_tree(), path)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    assert_same(a_tree(), cr.load(path))


def test_a_compressed_npz_entry_is_refused_naming_it(tmp_path):
    good = tmp_path / "good.npz"
    cr.save({"w": np.ones(2)}, good)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    with pytest.raises(ChainruleFormatError, match=f"{bad}: entry .* is compressed"):
        cr.load(bad)
