"""The playground's 2-D data: the built-in sets placed on one plane, and CSV uploads.

Every set lives on the square ``[-PLANE, PLANE]²`` so that the heatmaps, the decision boundary
and the input features (``sin x₁`` needs a few units to bend) share one picture. Labels are
float64 of shape ``(n, 1)``: 0.0/1.0 for classification (one sigmoid output, log loss), real
values for regression (one linear output, squared error).

``make_dataset(name, n, noise, seed)`` is public because the exported reproduce-this-run script
calls it: the same arguments give the same points, bit for bit.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from chainrule import data

#: Half the side of the input plane: points, heatmaps and the boundary cover [-PLANE, PLANE]².
PLANE = 3.0
CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("reg-plane", "reg-gauss")
DATASETS = CLASSIFICATION + REGRESSION
#: Upload limits: a CSV bigger than this is refused before it is parsed.
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 5000
MIN_CSV_ROWS = 4

#: Input features: name → (label shown on the page, function of the raw plane coordinates).
FEATURES = {
    "x1": ("x₁", lambda p: p[:, 0]),
    "x2": ("x₂", lambda p: p[:, 1]),
    "x1sq": ("x₁²", lambda p: p[:, 0] ** 2),
    "x2sq": ("x₂²", lambda p: p[:, 1] ** 2),
    "x1x2": ("x₁x₂", lambda p: p[:, 0] * p[:, 1]),
    "sin1": ("sin x₁", lambda p: np.sin(p[:, 0])),
    "sin2": ("sin x₂", lambda p: np.sin(p[:, 1])),
}


def is_regression(name: str) -> bool:
    """True for the regression sets (and for an uploaded CSV with real-valued labels)."""
    return name in REGRESSION


def features(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The network's input: the chosen features of raw plane points, shape (n, len(names))."""
    return np.stack([FEATURES[n][1](points) for n in names], axis=1)


def make_dataset(
    name: str, n: int = 500, noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the built-in set ``name`` on the plane, float64: x (n, 2), y (n, 1).

    ``noise`` runs from 0 to 0.5 (the page's 0–50 %); each set turns it into its own jitter so
    that 50 % is hard but not hopeless.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    if not 0.0 <= noise <= 0.5:
        raise ValueError(f"noise must be in [0, 0.5]; got {noise}")
    rng = np.random.default_rng(seed)
    if name in REGRESSION:
        return _regression(name, n, noise, rng)
    if name == "circle":
        x, y = data.circles(n, noise=noise * 0.4, factor=0.45, generator=rng)
        x = x * 2.6
    elif name == "xor":
        # Centre the unit square's corners and spread them to ±1.7, jittered around each.
        x, y = data.xor(n, noise=0.15 + noise * 0.8, generator=rng)
        x = (x - 0.5) * 3.4
    elif name == "gauss":
        centers = np.array([[-1.4, -1.4], [1.4, 1.4]])
        x, y = data.blobs(n, centers=centers, cluster_std=0.5 + noise * 2.0, generator=rng)
    elif name == "spiral":
        x, y = data.spirals(n, noise=noise * 0.25, turns=1.25, generator=rng)
        x = x * 2.8
    else:  # moons: centre the pair of half circles on the origin
        x, y = data.moons(n, noise=noise * 0.5, generator=rng)
        x = (x - np.array([0.5, 0.25])) * 2.0
    x = np.clip(x.astype(np.float64), -PLANE, PLANE)
    return x, np.asarray(y, dtype=np.float64).reshape(-1, 1)


def _regression(name: str, n: int, noise: float, rng: np.random.Generator):
    x = rng.uniform(-PLANE, PLANE, size=(n, 2))
    if name == "reg-plane":
        y = (x[:, 0] + x[:, 1]) / (2 * PLANE)
    else:  # two bumps of opposite sign
        bump = lambda cx, cy: np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 2.0)  # noqa: E731
        y = bump(-1.2, 1.2) - bump(1.2, -1.2)
    y = y + rng.normal(0.0, noise, size=n)
    return x, y.reshape(-1, 1)


def split(
    x: np.ndarray, y: np.ndarray, train_ratio: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded shuffle into (x_train, y_train, x_test, y_test); each side keeps ≥ 1 point."""
    order = np.random.default_rng([seed, 1]).permutation(len(x))
    n_train = min(max(int(round(len(x) * train_ratio)), 1), len(x) - 1)
    tr, te = order[:n_train], order[n_train:]
    return x[tr], y[tr], x[te], y[te]


class CSVError(ValueError):
    """An uploaded CSV is not two feature columns and a label; the message says what to fix."""


def parse_csv(raw: bytes) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Read an upload: x (n, 2) scaled onto the plane, y (n, 1), the problem type and a note.

    Accepts an optional header row, commas or semicolons. Labels with two distinct values are
    a classification (the smaller becomes 0, the larger 1); otherwise a regression. Features
    are scaled linearly so the points fill the plane (the note says by how much).
    """
    if len(raw) > MAX_CSV_BYTES:
        raise CSVError(f"the file is {len(raw):,} bytes; the limit is {MAX_CSV_BYTES:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CSVError(f"the file is not UTF-8 text (byte {err.start})") from None
    rows = _numeric_rows(text)
    if len(rows) < MIN_CSV_ROWS:
        raise CSVError(f"need at least {MIN_CSV_ROWS} data rows; found {len(rows)}")
    if len(rows) > MAX_CSV_ROWS:
        raise CSVError(f"at most {MAX_CSV_ROWS} rows; found {len(rows)}")
    table = np.array(rows, dtype=np.float64)
    x, y = table[:, :2], table[:, 2:]
    labels = np.unique(y)
    if len(labels) == 1:
        raise CSVError(f"every label is {labels[0]:g}: nothing to learn")
    problem = "classification" if len(labels) == 2 else "regression"
    if problem == "classification":
        y = (y == labels[1]).astype(np.float64)
    centre = (x.max(axis=0) + x.min(axis=0)) / 2
    half = np.maximum((x.max(axis=0) - x.min(axis=0)) / 2, 1e-12)
    x = (x - centre) / half * (0.9 * PLANE)
    note = f"{len(x)} rows, {problem}"
    if problem == "classification":
        note += f" (label {labels[0]:g} → class 0, {labels[1]:g} → class 1)"
    return x, y, problem, note


def _numeric_rows(text: str) -> list[list[float]]:
    """The data rows as floats; a first row that is not numbers is taken as a header."""
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    delimiter = ";" if ";" in text.split("\n", 1)[0] else None
    reader = (
        csv.reader(io.StringIO(text), delimiter=delimiter)
        if delimiter
        else csv.reader(io.StringIO(text), dialect)
    )
    rows: list[list[float]] = []
    for number, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue  # blank lines are harmless
        if len(cells) != 3:
            raise CSVError(f"line {number}: expected 3 columns (x1, x2, label); found {len(cells)}")
        values = [_number(c) for c in cells]
        if None in values:
            if number == 1 and not rows:
                continue  # a header
            bad = cells[values.index(None)]
            raise CSVError(f"line {number}: {bad!r} is not a number")
        rows.append(values)  # type: ignore[arg-type]
    return rows


def _number(cell: str) -> float | None:
    """The cell as a finite float, or None."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
