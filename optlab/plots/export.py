"""One standalone HTML file of a Surface Lab view: the figure with its runs, a slider through a precomputed sweep
of one knob, the animated replay, and the teacher's task. Opening it needs nothing but a browser (plotly.js is
inline, https://plotly.com/python/interactive-html-export/).

Arrays in, HTML text out. The data also rides along as JSON in ``<script id="optlab-data">`` (what the figure
shows, readable without running the page).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t

from .board import PALETTE, contour

MAX_FRAMES = 60


@dataclass(frozen=True)
class Run:
    label: str
    points: np.ndarray  # (n+1, 2)


@dataclass(frozen=True)
class SweepPaths:
    label: str  # the run the sweep varies, e.g. "Adam"
    knob: str  # e.g. "lr"
    values: np.ndarray  # (K,)
    paths: Sequence[np.ndarray]  # K paths, each (n+1, 2) with NaN after a divergence
    current: int  # index of the value the run uses


def _frames_at(n_steps: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_steps, min(MAX_FRAMES, n_steps + 1)).round().astype(int))


def _xy(points: np.ndarray) -> tuple[list, list]:
    pts = np.asarray(points, dtype=float)
    return [None if not np.isfinite(v) else round(float(v), 6) for v in pts[:, 0]], \
           [None if not np.isfinite(v) else round(float(v), 6) for v in pts[:, 1]]


def export_figure(title: str, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, log: bool,
                  bounds: Sequence[Sequence[float]], runs: Sequence[Run], sweep: SweepPaths | None) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(contour(xs, ys, z, log))
    for i, run in enumerate(runs):
        x, y = _xy(run.points)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=run.label, marker={"size": 3},
                                 line={"color": PALETTE[i % len(PALETTE)], "width": 2.5}))
    sliders = []
    if sweep is not None:
        x, y = _xy(sweep.paths[sweep.current])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=t("{run}, {knob} from the slider", run=sweep.label,
                                                                 knob=sweep.knob),
                                 line={"color": "#000000", "width": 2, "dash": "dot"}))
        index = len(fig.data) - 1
        steps = []
        for k, value in enumerate(sweep.values):
            x, y = _xy(sweep.paths[k])
            steps.append({"method": "restyle", "label": f"{value:.3g}", "args": [{"x": [x], "y": [y]}, [index]]})
        sliders.append({"active": sweep.current, "steps": steps, "y": -0.02, "len": 0.9, "x": 0.05,
                        "currentvalue": {"prefix": f"{sweep.label}: {sweep.knob} = ", "font": {"size": 18}}})
    # the replay: frames that grow every run's path up to step s
    n = max((len(r.points) - 1 for r in runs), default=0)
    frames = []
    for s in _frames_at(n):
        data = []
        for run in runs:
            x, y = _xy(run.points[: s + 1])
            data.append(go.Scatter(x=x, y=y))
        frames.append(go.Frame(data=data, traces=list(range(1, 1 + len(runs))), name=str(int(s))))
    fig.frames = frames
    play = {"type": "buttons", "direction": "left", "x": 0.0, "y": 1.08, "showactive": False, "buttons": [
        {"label": t("▶ Replay"), "method": "animate",
         "args": [None, {"frame": {"duration": 60, "redraw": True}, "fromcurrent": False, "transition": {"duration": 0}}]},
        {"label": t("⏸ Pause"), "method": "animate",
         "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]},
    ]}
    fig.update_layout(title={"text": title, "font": {"size": 22}}, height=720, font={"size": 16},
                      xaxis={"range": list(bounds[0]), "title": {"text": "x"}},
                      yaxis={"range": list(bounds[1]), "title": {"text": "y"}, "scaleanchor": "x"},
                      legend={"orientation": "h", "y": -0.2}, updatemenus=[play], sliders=sliders,
                      margin={"l": 60, "r": 20, "t": 90, "b": 140}, plot_bgcolor="white")
    return fig


def standalone_html(fig: go.Figure, title: str, task: str, data: dict) -> str:
    """The whole file: the task, then the figure, plotly.js inline, and the data as JSON."""
    body = fig.to_html(full_html=False, include_plotlyjs=True, div_id="optlab-figure",
                       config={"displaylogo": False, "responsive": True})
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    task_html = "".join(f"<p>{html.escape(line)}</p>" for line in task.splitlines() if line.strip())
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:16px 28px;font-size:20px}"
        " .task{background:#f3f7fb;border-left:6px solid #0072B2;padding:8px 16px;margin-bottom:8px}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        + (f"<div class=\"task\" id=\"optlab-task\">{task_html}</div>" if task_html else "")
        + body
        + f"<script type=\"application/json\" id=\"optlab-data\">{payload}</script>"
        + f"<p><small>{html.escape(t('Made with optlab: this file works offline, with nothing installed.'))}"
        "</small></p></body></html>\n"
    )
