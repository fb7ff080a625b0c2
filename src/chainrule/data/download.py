"""Opt-in download of the MNIST IDX files, verified by SHA-256, into a local cache.

Nothing in chainrule downloads on its own: :func:`chainrule.data.mnist` only reads local files.
:func:`download_mnist` is the one function that touches the network, and only when called.

Integrity is checked on the *decompressed* IDX bytes, never on the ``.gz`` archives: mirrors
recompress the files (the gzip header holds a timestamp), so archive checksums differ between
otherwise identical copies, while the decompressed content is the same everywhere.

Nothing a server sends can exhaust memory: the body is read, and inflated, in steps and at most
``max_bytes`` of each (64 MiB by default; the largest MNIST file is 47 MB), so an endless
response or a gzip bomb is refused once it passes the bound. A file already in the folder is
read only if it is a regular file (a named pipe there would block the check forever).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from chainrule.io import atomic

#: PyTorch's MNIST mirror. Another public one is https://storage.googleapis.com/cvdf-datasets/mnist/
DEFAULT_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: SHA-256 of each decompressed IDX file. ``None`` would mean "no trusted value known": such a
#: file is refused rather than downloaded unverified (pass your own value in ``checksums=``).
MNIST_SHA256: dict[str, str | None] = {
    # Published in many independent projects' download scripts, always beside the three values
    # below and the size 47,040,016 bytes; its decompressed MD5 is published as
    # 6bbc9ace898e44ae57da46a324031adb. Not recomputed here: the file was not available.
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    # These three were computed from copies whose decompressed MD5s equal the published ones
    # (a25bea73…, 2646ac64…, 27ae3e4e…), and match the published SHA-256 values.
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

_GZIP_MAGIC = b"\x1f\x8b"
#: The most bytes :func:`download_mnist` accepts per file, as sent and once decompressed.
MAX_DOWNLOAD_BYTES = 64 << 20
_STEP = 1 << 20


class DownloadError(OSError):
    """A download failed: HTTP error, unreachable server, or a truncated transfer."""


class ChecksumError(DownloadError):
    """A file's SHA-256 is not the expected one. Nothing was written or replaced."""


def default_cache_dir() -> Path:
    """Where MNIST is cached: ``$CHAINRULE_CACHE/mnist`` if set, else
    ``$XDG_CACHE_HOME/chainrule/mnist``, else ``~/.cache/chainrule/mnist``."""
    if os.environ.get("CHAINRULE_CACHE"):
        return Path(os.environ["CHAINRULE_CACHE"]).expanduser() / "mnist"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "chainrule" / "mnist"
    return Path.home() / ".cache" / "chainrule" / "mnist"


def download_mnist(
    root: str | os.PathLike[str] | None = None,
    base_url: str = DEFAULT_BASE_URL,
    files: Iterable[str] = MNIST_FILES,
    checksums: Mapping[str, str | None] | None = None,
    timeout: float = 60.0,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Download MNIST's IDX files (decompressed) into ``root``, verifying each one's SHA-256.

    For each name in ``files``, fetches ``{base_url}/{name}.gz`` (a server may also send the
    file uncompressed), checks the SHA-256 of the decompressed bytes against ``checksums``,
    and only then writes it as ``root/name`` through a temporary file and an atomic rename,
    so an interrupted run never leaves a partial file under the real name.

    A file already in ``root`` with the right checksum is kept and not downloaded again. One
    with a different checksum is never overwritten: the call raises :class:`ChecksumError`
    before any download, naming the file, and leaves it for you to inspect or delete.

    Parameters
    ----------
    root : path, optional
        Target folder, created if needed. Defaults to :func:`default_cache_dir`, which is where
        :func:`chainrule.data.mnist` looks when given no root.
    base_url : str
        Folder URL of the mirror.
    files : iterable of str
        Decompressed file names to fetch; by default all four.
    checksums : mapping of file name to SHA-256 hex digest, optional
        Defaults to :data:`MNIST_SHA256`. A file without a known checksum is refused.
    timeout : float
        Seconds to wait on the network for each request.
    max_bytes : int
        The most bytes accepted per file, as sent and once decompressed
        (:data:`MAX_DOWNLOAD_BYTES`, 64 MiB); a larger response is refused, not stored.

    Returns
    -------
    Path
        ``root``, ready for ``chainrule.data.mnist(root)``.

    Raises
    ------
    ValueError
        A requested file has no known checksum (nothing is downloaded).
    ChecksumError
        A download's (or an existing file's) SHA-256 differs from the expected one.
    DownloadError
        HTTP error (e.g. 404), unreachable server, a truncated transfer, a response over
        ``max_bytes``, or an existing file in ``root`` that is not a regular file.
    """
    folder = Path(root) if root is not None else default_cache_dir()
    names = [files] if isinstance(files, str) else list(files)
    table = MNIST_SHA256 if checksums is None else checksums
    expected = {name: _expected_checksum(table, name) for name in names}

    # Check what is already there before touching the network, so a bad file stops the run
    # before it has downloaded anything.
    missing = [name for name in names if not _already_there(folder / name, expected[name])]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
    for name in missing:
        url = f"{base_url.rstrip('/')}/{name}.gz"
        data = _decompress(_fetch(url, timeout, max_bytes), url, max_bytes)
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected[name]:
            raise ChecksumError(
                f"{url}: SHA-256 of the decompressed file is {actual}, expected {expected[name]} "
                f"({len(data)} bytes received); refusing to write {folder / name}"
            )
        atomic.write_bytes(folder / name, data)
    return folder


def _already_there(path: Path, expected: str) -> bool:
    """Whether ``path`` holds the right file; ChecksumError if it holds another one."""
    if not path.exists():
        return False
    actual = _sha256_of_file(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} already exists but its SHA-256 is {actual}, not the expected "
            f"{expected}; it was left untouched. Delete it to download it again, "
            "or choose another root."
        )
    return True


def _expected_checksum(table: Mapping[str, str | None], name: str) -> str:
    value = table.get(name)
    if not value:
        raise ValueError(
            f"no known SHA-256 for {name!r}, so it cannot be verified and will not be "
            f"downloaded; pass checksums={{{name!r}: '<sha256 of the decompressed file>'}}"
        )
    return value.lower()


def _fetch(url: str, timeout: float, max_bytes: int) -> bytes:
    """The whole body at ``url``; DownloadError on HTTP errors, short transfers and bodies over
    ``max_bytes`` (read in steps, so an endless body stops at the bound)."""
    # Imported here: urllib and http.client cost more at startup than all of chainrule's ops.
    import http.client
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            body = _read_bounded(response, max_bytes, url, "the response")
    except urllib.error.HTTPError as error:
        error.close()  # it holds the open response; left open it leaks a socket
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise DownloadError(f"{url}: cannot reach the server ({error.reason})") from error
    except http.client.IncompleteRead as error:
        got = len(error.partial)
        want = got + error.expected if error.expected is not None else "more"
        raise DownloadError(
            f"{url}: truncated download: expected {want} bytes, got {got}"
        ) from error
    except (http.client.HTTPException, OSError) as error:
        raise DownloadError(f"{url}: download failed ({error})") from error
    if announced is not None and announced.isdigit() and int(announced) != len(body):
        raise DownloadError(
            f"{url}: truncated download: expected {int(announced)} bytes, got {len(body)}"
        )
    return body


def _read_bounded(stream: io.BufferedIOBase, max_bytes: int, url: str, what: str) -> bytes:
    """All of ``stream``, read in steps; DownloadError once it passes ``max_bytes``."""
    chunks, total = [], 0
    while chunk := stream.read(min(_STEP, max_bytes + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise DownloadError(
                f"{url}: {what} is larger than {max_bytes} bytes; refused (pass max_bytes= to "
                "allow more)"
            )
    return b"".join(chunks)


def _decompress(body: bytes, url: str, max_bytes: int) -> bytes:
    if not body.startswith(_GZIP_MAGIC):
        return body  # served uncompressed; the checksum decides whether it is right
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            return _read_bounded(stream, max_bytes, url, "the decompressed file")
    except EOFError as error:
        raise DownloadError(
            f"{url}: truncated download: the gzip stream ends early ({len(body)} bytes received)"
        ) from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise ChecksumError(f"{url}: corrupt gzip data ({error})") from error


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with atomic.open_regular(path, DownloadError) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
