"""Nothing a file does can hurt: bombs, lies in headers and non-regular files, each refused with
an error naming the file, quickly, inside a memory bound.

Every hostile input is built here in a temporary folder and is small on disk (about 1 MB for a
bomb that inflates to 1 GiB). Each attempt runs in a child process whose address space is
limited to ``LIMIT`` (512 MiB) with ``RLIMIT_AS``: Python, NumPy and chainrule need about
110-150 MiB of it, the bombs would need 1 GiB or far more, so a regression fails with a
``MemoryError`` instead of swapping the machine. The child also reports its time and peak RSS.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux"
)

LIMIT = 512 << 20  # the child's whole address space
BOMB = 1 << 30  # what each bomb inflates to
SECONDS = 10.0  # a refusal takes well under a second; this only fails a real regression
MiB = 1 << 20


# ----- running an attempt in a bounded child ---------------------------------------------------
CHILD = """
import json, resource, sys, time
import numpy as np
import chainrule as cr
from chainrule.data import download, mnist_csv, read_idx, parse_idx
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
path = sys.argv[1]

def status_mib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

def peak_rss_mib():
    # VmHWM, not ru_maxrss: after fork + exec, ru_maxrss starts at the parent's peak.
    return status_mib("VmHWM")


start = time.perf_counter()
try:
    {call}
except BaseException as error:
    outcome = {{"error": type(error).__name__, "message": str(error)}}
else:
    outcome = {{"error": None, "message": ""}}
outcome["seconds"] = time.perf_counter() - start
outcome["peak_rss_mib"] = peak_rss_mib()
outcome["peak_address_space_mib"] = status_mib("VmPeak")
print(json.dumps(outcome))
"""


def attempt(call: str, path: Path | str, limit: int = LIMIT) -> dict:
    """Run ``call`` (a statement using ``path``) in a child with ``limit`` bytes of address
    space; its outcome: the error's type and message, seconds taken, peak RSS and peak address
    space in MiB."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["MKL_NUM_THREADS"] = "1"  # BLAS thread pools reserve address space per thread
    code = textwrap.dedent(CHILD).format(limit=limit, call=call)
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=60,  # a hang (a FIFO read blocking) fails here instead of blocking the suite
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_refused(outcome: dict, error: str, path: Path | str, *fragments: str) -> None:
    assert outcome["error"] == error, outcome
    assert str(path) in outcome["message"], outcome
    for fragment in fragments:
        assert fragment in outcome["message"], outcome
    assert outcome["seconds"] < SECONDS, outcome


# ----- building hostile files ------------------------------------------------------------------
def deflate_zeros(prefix: bytes, n_zeros: int, fill: bytes = b"\0") -> bytes:
    """Raw deflate of ``prefix`` then ``n_zeros`` zero (or ``fill``) bytes, in milliseconds.

    After a full flush the compressor starts afresh, so every MiB of zeros compresses to the
    same bytes: compress one, repeat it.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(fill * MiB) + c.flush(zlib.Z_FULL_FLUSH)
    assert n_zeros % MiB == 0
    return head + block * (n_zeros // MiB) + c.flush()


def crc_zeros(prefix: bytes, n_zeros: int, fill: bytes = b"\0") -> int:
    crc, zeros = zlib.crc32(prefix), fill * MiB
    for _ in range(n_zeros // MiB):
        crc = zlib.crc32(zeros, crc)
    return crc


def gzip_zeros(prefix: bytes, n_zeros: int, fill: bytes = b"\0") -> bytes:
    """A gzip file holding ``prefix`` then ``n_zeros`` zero (or ``fill``) bytes, about
    ``n_zeros / 1000`` on disk."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    size = (len(prefix) + n_zeros) & 0xFFFFFFFF
    trailer = struct.pack("<2L", crc_zeros(prefix, n_zeros, fill), size)
    return header + deflate_zeros(prefix, n_zeros, fill) + trailer


def npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def meta_npy(listed: dict[str, list]) -> bytes:
    """The ``__chainrule__`` entry: metadata listing ``listed`` (name → [dtype, shape, crc])."""
    tree = {name: {"$array": name} for name in listed}
    meta = {"format": "chainrule", "version": 1, "tree": tree, "arrays": listed}
    text = json.dumps(meta).encode()
    return npy_header("|u1", (len(text),)) + text


def zip_file(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip of (name, data as stored, method, crc, uncompressed size), written by hand so an
    entry can say anything."""
    out, directory = io.BytesIO(), []
    for name, data, method, crc, size in entries:
        offset = out.tell()
        # flags, method, time, date (1980-01-01), CRC, sizes, name length, extra length
        fields = (0, method, 0, 33, crc, len(data), size, len(name), 0)
        local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, *fields)
        out.write(local + name.encode() + data)
        central = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, *fields, 0, 0, 0, 0,
                              offset)  # fmt: skip
        directory.append(central + name.encode())
    start = out.tell()
    out.write(b"".join(directory))
    n, cd_size = len(entries), out.tell() - start
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, cd_size, start, 0))
    return out.getvalue()


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data))


def deflated_zeros(name: str, prefix: bytes, n_zeros: int) -> tuple[str, bytes, int, int, int]:
    data = deflate_zeros(prefix, n_zeros)
    return (name, data, zipfile.ZIP_DEFLATED, crc_zeros(prefix, n_zeros), len(prefix) + n_zeros)


GIB_OF_DOUBLES = ("<f8", (BOMB // 8,))


# ----- .npz ------------------------------------------------------------------------------------
def test_an_npz_entry_that_inflates_to_1_gib_is_refused_before_inflating(tmp_path):
    dtype, shape = GIB_OF_DOUBLES
    path = tmp_path / "bomb.npz"
    header = npy_header(dtype, shape)
    path.write_bytes(
        zip_file([
            stored("__chainrule__.npy", meta_npy({"w": [dtype, list(shape), 0]})),
            deflated_zeros("w.npy", header, BOMB),
        ])
    )  # fmt: skip
    assert path.stat().st_size < 2 * MiB
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "entry 'w' is compressed")


def test_an_unlisted_npz_entry_is_refused_without_being_read(tmp_path):
    path = tmp_path / "extra.npz"
    w = np.lib.format
    buf = io.BytesIO()
    w.write_array(buf, np.ones(3))
    path.write_bytes(
        zip_file([
            stored("__chainrule__.npy", meta_npy({"w": ["<f8", [3], zlib.crc32(np.ones(3))]})),
            stored("w.npy", buf.getvalue()),
            deflated_zeros("evil.npy", npy_header(*GIB_OF_DOUBLES), BOMB),
        ])
    )  # fmt: skip
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "unexpected entry 'evil'")


def test_an_npz_entry_claiming_8_tb_is_a_format_error_naming_the_file(tmp_path):
    shape = (1 << 40,)  # 2**40 doubles: 8 TiB
    path = tmp_path / "liar.npz"
    path.write_bytes(
        zip_file([
            stored("__chainrule__.npy", meta_npy({"w": ["<f8", list(shape), 0]})),
            stored("w.npy", npy_header("<f8", shape) + bytes(64)),
        ])
    )  # fmt: skip
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "announces", "zip directory")


def test_an_npz_entry_whose_header_contradicts_the_metadata_is_refused_before_its_data(tmp_path):
    path = tmp_path / "mismatch.npz"
    path.write_bytes(
        zip_file([
            stored("__chainrule__.npy", meta_npy({"w": ["<f8", [2], 0]})),
            stored("w.npy", npy_header("<f8", (1 << 40,))),
        ])
    )  # fmt: skip
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "do not match its metadata")


def test_a_plain_npz_entry_that_inflates_to_1_gib_is_refused_before_inflating(tmp_path):
    # No chainrule metadata (as numpy.savez writes): the zip directory is all there is to check.
    path = tmp_path / "plain_bomb.npz"
    path.write_bytes(zip_file([deflated_zeros("w.npy", npy_header(*GIB_OF_DOUBLES), BOMB)]))
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "entry 'w' is compressed")


def test_a_plain_npz_entry_claiming_8_tb_is_refused_before_allocating(tmp_path):
    path = tmp_path / "plain_liar.npz"
    path.write_bytes(zip_file([stored("w.npy", npy_header("<f8", (1 << 40,)) + bytes(64))]))
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "announces", "zip directory")


def test_loading_an_ordinary_npz_needs_at_most_1_5_times_its_size(tmp_path):
    rng = np.random.default_rng(0)
    state = {f"{i}.weight": rng.standard_normal((1000, 1000)) for i in range(6)}
    state["big"] = rng.standard_normal(3_000_000)
    path = tmp_path / "model.npz"
    cr.save(state, path)
    del state
    size_mib = path.stat().st_size / MiB  # about 70 MiB
    call = (
        "before = peak_rss_mib()\n"
        "    tree = cr.load(path)\n"
        "    extra = peak_rss_mib() - before\n"
        "    raise SystemExit(f'extra {extra:.1f} MiB')"
    )
    outcome = attempt(call, path, limit=LIMIT)
    extra = float(outcome["message"].split()[1])
    assert extra <= 1.5 * size_mib, (extra, size_mib)


# ----- .safetensors ----------------------------------------------------------------------------
def test_a_safetensors_header_longer_than_the_file_is_refused_unread(tmp_path):
    path = tmp_path / "liar.safetensors"
    path.write_bytes((1 << 43).to_bytes(8, "little") + b'{"w": {}}')
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, "header claims")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dtype": "F64", "shape": [1 << 40], "data_offsets": [0, 8 << 40]}, "given bytes"),
        ({"dtype": "F64", "shape": [1 << 40], "data_offsets": [0, 8]}, "given bytes"),
        ({"dtype": "F64", "shape": [-1], "data_offsets": [0, 8]}, "non-negative"),
    ],
)
def test_a_safetensors_tensor_outside_the_file_or_of_the_wrong_size_is_refused(
    tmp_path, spec, message
):
    path = tmp_path / "liar.safetensors"
    header = json.dumps({"w": spec}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    outcome = attempt("cr.load(path)", path)
    assert_refused(outcome, "ChainruleFormatError", path, message)


def test_overlapping_safetensors_tensors_are_refused(tmp_path):
    path = tmp_path / "overlap.safetensors"
    spec = {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}
    header = json.dumps({"a": spec, "b": spec}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(16))
    with pytest.raises(cr.io.ChainruleFormatError, match="overlap"):
        cr.load(path)


# ----- IDX and CSV -----------------------------------------------------------------------------
def idx_header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)


def test_a_gzip_idx_bomb_stops_one_byte_past_the_announced_size(tmp_path):
    # MNIST's training images announce 47 MB; this file inflates to 1 GiB past them.
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_zeros(idx_header(0x08, (60000, 28, 28)), BOMB))
    assert path.stat().st_size < 2 * MiB
    outcome = attempt("read_idx(path, expected_magic=2051)", path)
    assert_refused(outcome, "IDXFormatError", path, "trailing bytes")


def test_a_gzip_idx_announcing_terabytes_is_found_truncated_not_allocated(tmp_path):
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip_zeros(idx_header(0x0E, (0xFFFFFFFF, 0xFFFF)), 4 * MiB))
    outcome = attempt("read_idx(path)", path)
    assert_refused(outcome, "IDXFormatError", path, "truncated data")


def test_a_raw_idx_announcing_terabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge-idx"
    path.write_bytes(idx_header(0x0E, (0xFFFFFFFF, 0xFFFF)) + bytes(100))
    outcome = attempt("read_idx(path)", path)
    assert_refused(outcome, "IDXFormatError", path, "truncated data")


def test_idx_sizes_whose_product_overflows_int64_are_a_format_error(tmp_path):
    header = idx_header(0x0E, (0xFFFFFFFF,) * 4)
    path = tmp_path / "overflow-idx"
    path.write_bytes(header)
    for read in (lambda: cr.data.read_idx(path), lambda: cr.data.parse_idx(header, str(path))):
        with pytest.raises(cr.data.IDXFormatError, match=f"{path}: corrupt header.*int64"):
            read()


def test_a_csv_gzip_bomb_of_one_endless_line_is_refused(tmp_path):
    path = tmp_path / "mnist_5k.csv.gz"
    path.write_bytes(gzip_zeros(b"0,0,0,", BOMB))  # 1 GiB without a newline
    outcome = attempt("mnist_csv(path)", path)
    assert_refused(outcome, "IDXFormatError", path, "line 1 is longer than")


def test_a_csv_gzip_bomb_of_blank_lines_stops_at_max_rows(tmp_path):
    path = tmp_path / "blank.csv.gz"
    path.write_bytes(gzip_zeros(b"", BOMB, fill=b"\n"))  # 1 GiB of newlines
    outcome = attempt("mnist_csv(path)", path)
    assert_refused(outcome, "IDXFormatError", path, "more than 100000 lines")


def test_a_csv_with_more_rows_than_max_rows_is_refused(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(("0," * 784 + "1\n") * 11)
    with pytest.raises(cr.data.IDXFormatError, match=f"{path}: more than 10 lines"):
        cr.data.mnist_csv(path, max_rows=10)
    assert cr.data.mnist_csv(path, max_rows=11)[0].shape == (11, 1, 28, 28)


# ----- downloads -------------------------------------------------------------------------------
def test_a_download_that_inflates_past_max_bytes_is_refused(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip_zeros(b"", BOMB))
    call = (
        "download.download_mnist(path + '/root', base_url='file://' + path + '/mirror', "
        "files=['t10k-labels-idx1-ubyte'], checksums={'t10k-labels-idx1-ubyte': '0' * 64})"
    )
    outcome = attempt(call, tmp_path)
    assert_refused(outcome, "DownloadError", "t10k-labels-idx1-ubyte.gz", "larger than")
    assert not (tmp_path / "root" / "t10k-labels-idx1-ubyte").exists()


# ----- non-regular files -----------------------------------------------------------------------
READERS = {
    "load": "cr.load(path)",
    "load_into": "cr.load_into(cr.nn.Linear(2, 2), path)",
    "read_idx": "read_idx(path)",
    "mnist_csv": "mnist_csv(path)",
}


def non_regular(kind: str, tmp_path: Path) -> Path:
    if kind == "/dev/zero":
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero here")
        return Path("/dev/zero")
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)  # nobody ever writes to it: a blocking read would hang forever
    else:
        path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_non_regular_files_are_refused_before_anything_is_read(tmp_path, reader, kind):
    path = non_regular(kind, tmp_path)
    error = "ChainruleFormatError" if reader.startswith("load") else "IDXFormatError"
    outcome = attempt(READERS[reader], path)
    assert_refused(outcome, error, path, "not a regular file")


def test_a_fifo_in_the_download_folder_is_refused_not_read(tmp_path):
    os.mkfifo(tmp_path / "t10k-labels-idx1-ubyte")
    call = (
        "download.download_mnist(path, base_url='http://127.0.0.1:9/', "
        "files=['t10k-labels-idx1-ubyte'])"
    )
    outcome = attempt(call, tmp_path)
    assert_refused(outcome, "DownloadError", tmp_path, "named pipe", "not a regular file")
