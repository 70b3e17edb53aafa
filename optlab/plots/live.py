"""What the live surface figure draws, as plain JSON-ready data: picture, paths, sweeps, starts grid, arrows.

The figure itself is a small browser component (``optlab.ui.live_figure``): it draws the paths over the contour
picture with equal axes and switches between precomputed sweep members while a knob or the start is dragged.
This file only turns traces and sweeps into compact numbers; no Streamlit, no running.

Paths are sent as base64 strings of 16-bit coordinates (``encode_path``): 4 bytes a point, a step far below a
pixel, so a sweep of 25 paths weighs tens of kilobytes and the picture does not change.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optlab.i18n import t
from optlab.plots.surface import color, trial_evaluations

#: a path is drawn with at most this many points (the figure is a few hundred pixels wide)
MAX_PATH_POINTS = 400
#: coordinates are sent as 16-bit integers over the window widened by one window width on each side
_LEVELS = 65535


def encode_path(points: np.ndarray, bounds: Sequence[Sequence[float]], max_points: int = MAX_PATH_POINTS) -> str:
    """A path (n, 2) as base64 of little-endian uint16 pairs, its finite points thinned evenly to ``max_points``.

    q = round((x − (x₀ − w)) / 3w · 65535) with w the window width (likewise y): a step of w/21845, far below a
    pixel. A point more than one window width outside is clamped there (the figure clips it anyway).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) > max_points:
        idx = np.unique(np.linspace(0, len(pts) - 1, max_points).round().astype(int))
        pts = pts[idx]
    (x0, x1), (y0, y1) = bounds
    lo = np.array([x0 - (x1 - x0), y0 - (y1 - y0)])
    span = 3 * np.array([x1 - x0, y1 - y0])
    q = np.clip(np.round((pts - lo) / span * _LEVELS), 0, _LEVELS).astype("<u2")
    return base64.b64encode(q.tobytes()).decode("ascii")


def decode_path(text: str, bounds: Sequence[Sequence[float]]) -> np.ndarray:
    """The inverse of ``encode_path`` (for tests): (n, 2) points."""
    (x0, x1), (y0, y1) = bounds
    lo = np.array([x0 - (x1 - x0), y0 - (y1 - y0)])
    span = 3 * np.array([x1 - x0, y1 - y0])
    q = np.frombuffer(base64.b64decode(text), dtype="<u2").reshape(-1, 2).astype(np.float64)
    return lo + q / _LEVELS * span


def run_entry(trace: Any, i: int, bounds: Sequence[Sequence[float]]) -> dict:
    """One run as the figure draws it: label, colour, path, EMA shadow, where it ended, and the extra sequences
    some optimizers have: ``average`` (schedule-free's x_t) and ``evals`` (L-BFGS's trial points, ``from`` the
    point where their step began ``to`` where f was evaluated, pair by pair)."""
    entry = {
        "label": trace.label,
        "color": color(i),
        "path": encode_path(trace.points, bounds),
        "steps": int(len(trace.points) - 1),
        "diverged": trace.diverged_at is not None,
        "ema": None,
    }
    if getattr(trace, "ema_points", None) is not None:
        entry["ema"] = encode_path(trace.ema_points, bounds)
    if getattr(trace, "average_points", None) is not None:  # schedule-free's averaged x_t
        entry["average"] = encode_path(trace.average_points, bounds)
    origins, ends, _ = trial_evaluations(trace)  # L-BFGS's line-search points, each from where its step began
    if len(ends):
        if len(ends) > MAX_PATH_POINTS:
            keep = np.unique(np.linspace(0, len(ends) - 1, MAX_PATH_POINTS).round().astype(int))
            origins, ends = origins[keep], ends[keep]
        entry["evals"] = {"from": encode_path(origins, bounds, len(ends)), "to": encode_path(ends, bounds, len(ends))}
    return entry


def sweep_entry(sweep: Any, run: int, label: str, symbol: str, current: float, log: bool,
                bounds: Sequence[Sequence[float]]) -> dict:
    """A knob sweep of one run: the values, the member nearest the run's own value, every member's path."""
    return {
        "run": run,
        "knob": sweep.knob,
        "label": label,
        "symbol": symbol,
        "log": log,
        "values": [float(v) for v in sweep.values],
        "value": float(current),
        "current": sweep.nearest(current),
        "paths": [encode_path(p, bounds, MAX_PATH_POINTS // 2) for p in sweep.points],
        "diverged": [int(d) for d in sweep.diverged_at],
    }


def starts_entry(sweeps: Mapping[int, Any], bounds: Sequence[Sequence[float]]) -> dict | None:
    """Grid-start sweeps of every run (run index -> start Sweep on the same grid): what dragging the start shows."""
    if not sweeps:
        return None
    first = next(iter(sweeps.values()))
    return {
        "starts": np.asarray(first.values, dtype=np.float64).round(6).tolist(),
        "runs": {str(i): [encode_path(p, bounds, MAX_PATH_POINTS // 4) for p in s.points] for i, s in sweeps.items()},
    }


#: the downhill gradient is drawn red, a momentum or first moment purple; the update takes the run's colour
GRADIENT_RGB, MOMENT_RGB = "#B2182B", "#6A3D9A"


def arrows_entry(point: Sequence[float], vectors: Mapping[str, Sequence[float]], run_color: str,
                 length: float = 0.15) -> dict:
    """The inspector's arrows: each named vector drawn ``length`` × the window wide, its true length in the label.

    Only directions are to scale (gradients and updates differ by orders of magnitude). Zero or non-finite
    vectors are skipped. ``vectors`` is ordered gradient first, update last (any momentum in between).
    """
    out = []
    names = list(vectors)
    for i, name in enumerate(names):
        v = np.asarray(vectors[name], dtype=np.float64).reshape(-1)[:2]
        norm = float(np.linalg.norm(v))
        if not math.isfinite(norm) or norm == 0.0:
            continue
        rgb = GRADIENT_RGB if i == 0 else run_color if i == len(names) - 1 else MOMENT_RGB
        out.append({"name": t(name), "dx": float(v[0] / norm), "dy": float(v[1] / norm), "norm": norm, "color": rgb})
    return {"point": [float(point[0]), float(point[1])], "length": length, "vectors": out}


def figure_texts() -> dict[str, str]:
    """The words the figure writes itself (legend notes, its accessible name), in the reader's language."""
    return {
        "ema": t("dotted: EMA of the weights"),
        "average": t("dashed: the averaged point x, where eval() puts the weights"),
        "evals": t("small circles: where the line search evaluated f beyond the steps taken"),
        "diverged": t("(diverged)"),
        "aria": t("loss surface with optimizer paths"),
    }


def live_payload(*, image: str, bounds: Sequence[Sequence[float]], traces: Sequence[Any], minima: Sequence[Any],
                 start: Sequence[float], sweep: dict | None = None, starts: dict | None = None,
                 arrows: dict | None = None, colorbar: dict | None = None, inspected: int | None = None) -> dict:
    """Everything the live figure needs, JSON-ready. ``inspected`` is the run whose extra sequences (an average,
    line-search evaluations) are drawn; None: the swept run, else the first."""
    (x0, x1), (y0, y1) = bounds
    return {
        "inspected": inspected,
        "texts": figure_texts(),
        "image": image,
        "bounds": [float(x0), float(x1), float(y0), float(y1)],
        "runs": [run_entry(tr, i, bounds) for i, tr in enumerate(traces)],
        "minima": [[float(p.x), float(p.y), p.kind] for p in minima],
        "start": [float(start[0]), float(start[1])],
        "sweep": sweep,
        "starts": starts,
        "arrows": arrows,
        "colorbar": colorbar,
    }
