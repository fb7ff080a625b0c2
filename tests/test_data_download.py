"""download_mnist against a local HTTP server (127.0.0.1, ephemeral port; never the internet)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import (
    DEFAULT_BASE_URL,
    MNIST_FILES,
    MNIST_SHA256,
    ChecksumError,
    DownloadError,
    default_cache_dir,
    download_mnist,
    mnist,
)

IMAGES, LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


def idx_file(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


rng = np.random.default_rng(0)
FILES = {
    IMAGES: idx_file(rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)),
    LABELS: idx_file(np.array([7, 2, 1], dtype=np.uint8)),
}
CHECKSUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


class Server:
    """Serves ``routes`` (URL path → body); records every request path.

    A route may be ``(body, announced_length)`` to send a Content-Length that is a lie, which
    is how a connection dropped mid-transfer looks to the client.
    """

    def __init__(self) -> None:
        self.routes: dict[str, bytes | tuple[bytes, int]] = {}
        self.requests: Counter[str] = Counter()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                outer.requests[self.path] += 1
                route = outer.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                body, length = route if isinstance(route, tuple) else (route, len(route))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass  # keep the test output clean

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        # A short poll interval: shutdown() waits for the serving loop's next poll.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def serve(self, name: str, body: bytes | tuple[bytes, int]) -> None:
        self.routes[f"/mnist/{name}.gz"] = body

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(monkeypatch) -> Iterator[Server]:
    # A proxy from the environment would turn 127.0.0.1 requests into outside traffic.
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    s = Server()
    for name, data in FILES.items():
        s.serve(name, gzip.compress(data))
    yield s
    s.close()


def fetch(root: Path, server: Server, files=(IMAGES, LABELS), checksums=None) -> Path:
    return download_mnist(
        root, base_url=server.url, files=files, checksums=checksums or CHECKSUMS, timeout=10
    )


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".tmp"))


# ----- success and caching --------------------------------------------------------------------
def test_download_writes_the_decompressed_files_and_mnist_reads_them(tmp_path, server):
    root = fetch(tmp_path / "cache", server)
    assert root == tmp_path / "cache"
    assert (root / IMAGES).read_bytes() == FILES[IMAGES]
    assert (root / LABELS).read_bytes() == FILES[LABELS]
    assert leftovers(root) == []
    X, y = mnist(root, train=False)
    assert X.shape == (3, 1, 28, 28) and y.tolist() == [7, 2, 1]


def test_a_second_call_uses_the_cache_and_downloads_nothing(tmp_path, server):
    fetch(tmp_path, server)
    assert sum(server.requests.values()) == 2
    fetch(tmp_path, server)
    assert sum(server.requests.values()) == 2


def test_a_file_served_uncompressed_is_accepted_when_its_checksum_is_right(tmp_path, server):
    server.serve(LABELS, FILES[LABELS])
    fetch(tmp_path, server, files=[LABELS])
    assert (tmp_path / LABELS).read_bytes() == FILES[LABELS]


def test_a_single_file_name_may_be_given_as_a_string(tmp_path, server):
    fetch(tmp_path, server, files=LABELS)
    assert [p.name for p in tmp_path.iterdir()] == [LABELS]


def test_root_defaults_to_the_cache_dir(tmp_path, server, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    root = download_mnist(base_url=server.url, files=[LABELS], checksums=CHECKSUMS, timeout=10)
    assert root == tmp_path / "mnist" and (root / LABELS).is_file()


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "a"))
    assert default_cache_dir() == tmp_path / "a" / "mnist"
    monkeypatch.delenv("CHAINRULE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert default_cache_dir() == tmp_path / "b" / "chainrule" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c" / ".cache" / "chainrule" / "mnist"


# ----- failures leave nothing behind -----------------------------------------------------------
def test_a_truncated_download_is_refused(tmp_path, server):
    body = gzip.compress(FILES[IMAGES])
    server.serve(IMAGES, (body[:100], len(body)))  # the connection drops after 100 bytes
    with pytest.raises(
        DownloadError, match=f"truncated download: expected {len(body)} bytes, got 100"
    ):
        fetch(tmp_path, server, files=[IMAGES])
    assert list(tmp_path.iterdir()) == []


def test_a_cut_gzip_stream_is_refused_as_truncated(tmp_path, server):
    server.serve(IMAGES, gzip.compress(FILES[IMAGES])[:-30])  # complete transfer, cut archive
    with pytest.raises(DownloadError, match="truncated download: the gzip stream ends early"):
        fetch(tmp_path, server, files=[IMAGES])
    assert list(tmp_path.iterdir()) == []


def test_corrupted_bytes_fail_the_checksum_and_nothing_is_written(tmp_path, server):
    corrupted = bytearray(FILES[IMAGES])
    corrupted[500] ^= 0xFF
    server.serve(IMAGES, gzip.compress(bytes(corrupted)))
    actual = hashlib.sha256(bytes(corrupted)).hexdigest()
    with pytest.raises(ChecksumError, match=f"is {actual}, expected {CHECKSUMS[IMAGES]}"):
        fetch(tmp_path, server, files=[IMAGES])
    assert list(tmp_path.iterdir()) == []


def test_corrupt_gzip_data_is_refused(tmp_path, server):
    server.serve(IMAGES, b"\x1f\x8b" + b"\x00" * 50)
    with pytest.raises(DownloadError, match="corrupt gzip data"):
        fetch(tmp_path, server, files=[IMAGES])


def test_http_404_is_reported_with_the_url(tmp_path, server):
    del server.routes[f"/mnist/{LABELS}.gz"]
    with pytest.raises(DownloadError, match=f"{LABELS}.gz: HTTP 404"):
        fetch(tmp_path, server)
    # The images came first and were complete: they stay; the labels never appeared.
    assert sorted(p.name for p in tmp_path.iterdir()) == [IMAGES]


def test_an_unreachable_server_is_reported(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now, so the connection is refused.
    with pytest.raises(DownloadError, match="cannot reach the server"):
        download_mnist(
            tmp_path,
            base_url=f"http://127.0.0.1:{port}/",
            files=[LABELS],
            checksums=CHECKSUMS,
            timeout=5,
        )


# ----- existing files -------------------------------------------------------------------------
def test_a_valid_existing_file_is_not_clobbered_or_downloaded_again(tmp_path, server):
    existing = tmp_path / LABELS
    existing.write_bytes(FILES[LABELS])
    os.utime(existing, ns=(1_000_000_000, 1_000_000_000))
    before = os.stat(existing)
    fetch(tmp_path, server)
    after = os.stat(existing)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert server.requests == Counter({f"/mnist/{IMAGES}.gz": 1})


def test_an_existing_file_with_a_wrong_checksum_stops_the_run_and_is_left_as_it_is(
    tmp_path, server
):
    existing = tmp_path / LABELS
    existing.write_bytes(b"my own file")
    with pytest.raises(
        ChecksumError, match=f"{LABELS} already exists but its SHA-256 is .*untouched"
    ):
        fetch(tmp_path, server)
    assert existing.read_bytes() == b"my own file"
    assert sum(server.requests.values()) == 0  # refused before downloading anything


def test_a_good_download_never_replaces_a_valid_file_through_a_partial_one(tmp_path, server):
    server.serve(LABELS, gzip.compress(b"wrong"))
    (tmp_path / IMAGES).write_bytes(FILES[IMAGES])
    with pytest.raises(ChecksumError):
        fetch(tmp_path, server)
    assert (tmp_path / IMAGES).read_bytes() == FILES[IMAGES]
    assert sorted(p.name for p in tmp_path.iterdir()) == [IMAGES]


# ----- the checksum table ---------------------------------------------------------------------
def test_a_file_without_a_known_checksum_is_refused_before_any_download(tmp_path, server):
    with pytest.raises(ValueError, match=f"no known SHA-256 for '{LABELS}'"):
        fetch(tmp_path, server, checksums={IMAGES: CHECKSUMS[IMAGES], LABELS: None})
    assert sum(server.requests.values()) == 0


def test_the_builtin_table_has_a_sha256_for_every_mnist_file():
    assert set(MNIST_SHA256) == set(MNIST_FILES)
    for digest in MNIST_SHA256.values():
        assert digest is not None and len(digest) == 64 and int(digest, 16) >= 0
    assert DEFAULT_BASE_URL.startswith("https://")


def test_an_interrupted_write_leaves_neither_a_partial_nor_a_temporary_file(
    tmp_path, server, monkeypatch
):
    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("chainrule.io.atomic.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        fetch(tmp_path, server, files=[LABELS])
    assert list(tmp_path.iterdir()) == []
