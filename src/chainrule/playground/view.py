"""What the page draws, as JSON: the network's shape and data (:func:`network`, sent when it
changes) and the live state (:func:`frame`, sent after every batch of steps).

Heatmaps travel as base64 bytes, one per grid cell, 0 … 255 for −1 … +1 (each unit's values
mapped to that range as its activation allows), so a frame of a 2-4-4-1 network is a few tens
of kilobytes rather than megabytes of JSON numbers.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from chainrule.playground import datasets, diagnose
from chainrule.playground.gradients import classic_net, explain_selection, widths

#: Cells per side of each neuron's heatmap and of the output's decision boundary.
GRID, BOUNDARY_GRID = 40, 80


def finite(value: Any) -> float | None:
    """A float for JSON, or None for NaN and ±inf (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def array_json(a: np.ndarray) -> Any:
    """Nested lists of floats, non-finite entries as None."""
    a = np.asarray(a, dtype=np.float64)
    if np.isfinite(a).all():
        return a.tolist()
    if a.ndim == 0:
        return None
    return [array_json(row) for row in a]


def clean(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None, so that it is valid JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return clean(obj.item())
    return obj


def grid_points(n: int) -> np.ndarray:
    """Cell centres of an n×n grid over the plane, row by row from the top (x₂ = +PLANE)."""
    step = 2 * datasets.PLANE / n
    ticks = -datasets.PLANE + step * (np.arange(n) + 0.5)
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


def encode(u: np.ndarray) -> str:
    """Values in [−1, 1] (clipped; NaN as 0) as base64 bytes 0 … 255."""
    u = np.nan_to_num(np.clip(u, -1.0, 1.0), nan=0.0)
    return base64.b64encode(np.round((u + 1.0) * 127.5).astype(np.uint8).tobytes()).decode()


def _scaled(values: np.ndarray, activation: str) -> np.ndarray:
    """A unit's values mapped to [−1, 1] for colouring: σ's (0, 1) stretched, others clipped."""
    return 2.0 * values - 1.0 if activation == "sigmoid" else values


def heatmaps(session: Any) -> tuple[dict[str, str], dict[str, list[float | None]], str]:
    """Every unit's heatmap (keyed ``"layer-index"``), its value range, and the boundary."""
    names = session.config.features
    params = [p._data for p in session.model.parameters()]
    net = classic_net(session, params)
    maps: dict[str, str] = {}
    ranges: dict[str, list[float | None]] = {}
    with np.errstate(all="ignore"):
        _, acts = net.forward(datasets.features(grid_points(GRID), names))
        for layer, a in enumerate(acts):
            for j in range(a.shape[1]):
                col = a[:, j]
                if layer == 0:
                    u = col / max(float(np.abs(col).max()), 1e-12)
                else:
                    u = _scaled(col, net.layers[layer - 1].activation)
                maps[f"{layer}-{j}"] = encode(u)
                ranges[f"{layer}-{j}"] = [finite(np.nanmin(col)), finite(np.nanmax(col))]
        _, fine = net.forward(datasets.features(grid_points(BOUNDARY_GRID), names))
        boundary = encode(_scaled(fine[-1][:, 0], net.layers[-1].activation))
    return maps, ranges, boundary


def feature_maps() -> dict[str, str]:
    """Every input feature's heatmap over the plane, used or not (they never change)."""
    points = grid_points(GRID)
    maps = {}
    for name in datasets.FEATURES:
        col = datasets.features(points, [name])[:, 0]
        maps[name] = encode(col / max(float(np.abs(col).max()), 1e-12))
    return maps


def _points(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    return np.concatenate([x, y], axis=1).round(4).tolist()


def runs_json(session: Any) -> list[dict[str, Any]]:
    """Every kept run's label and loss points, oldest first."""
    return [{"id": r.id, "label": r.label, "points": r.points} for r in session.runs]


def network(session: Any) -> dict[str, Any]:
    """The shape of things: widths, feature labels, the points, the options and all runs."""
    return {
        "version": session.version,
        "widths": widths(session),
        "features": [
            {"name": n, "label": datasets.FEATURES[n][0]} for n in session.config.features
        ],
        "all_features": [{"name": n, "label": v[0]} for n, v in datasets.FEATURES.items()],
        "problem": session.problem,
        "plane": datasets.PLANE,
        "grid": GRID,
        "boundary_grid": BOUNDARY_GRID,
        "feature_maps": feature_maps(),
        "train": _points(session.x_train, session.y_train),
        "test": _points(session.x_test, session.y_test),
        "options": session.options(),
        "runs": runs_json(session),
    }


def frame(session: Any) -> dict[str, Any]:
    """The live state: counters, losses, weights, heatmaps, the panel, health, divergence."""
    maps, ranges, boundary = heatmaps(session)
    linears = session.linears
    return {
        "version": session.version,
        "run": session.run.id,
        "step": session.step_count,
        "epoch": session.batches.epoch,
        "playing": session.playing,
        "speed": session.config.speed,
        "train_loss": session.train_loss,
        "test_loss": session.test_loss,
        "point": session.run.points[-1],
        "weights": [array_json(m.weight._data) for m in linears],
        "biases": [array_json(m.bias._data) for m in linears],
        "heatmaps": maps,
        "ranges": ranges,
        "boundary": boundary,
        "panel": explain_selection(session),
        "health": diagnose.health(session),
        "divergence": session.divergence,
    }
