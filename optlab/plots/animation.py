"""Animated replay of every run over the contour, with play, pause and a step slider (Plotly frames, no Streamlit).

Frames hold only the moving traces (every run's trail, every run's head, and every EMA shadow's head when a run
has one) and name them, so nothing else is touched. The surface is the contour *picture* behind the axes (``picture``, a PNG data URI from
``optlab.plots.raster``), not a contour trace: frames then need no full redraw (``redraw=False``), and the
contour can never drop out of a frame. Without a picture a contour trace is drawn and every frame must redraw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t
from optlab.plots.surface import (
    base_layout,
    color,
    contour_trace,
    ema_name,
    f32,
    levels,
    minima_trace,
    picture_image,
)

#: More frames than this make the payload large and the replay no more instructive.
MAX_FRAMES = 120


def frame_steps(n_steps: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """The steps shown as frames: 0, the last step, and evenly spaced ones between; at most ``max_frames``."""
    if n_steps <= 0:
        return np.zeros(1, dtype=int)
    count = min(n_steps + 1, max_frames)
    return np.unique(np.linspace(0, n_steps, count).round().astype(int))


def _run_colorscale(n: int) -> list[list[Any]]:
    """A stepped colour scale that maps the number i to run i's colour, so one trace can colour many runs."""
    n = max(n, 1)
    scale: list[list[Any]] = []
    for i in range(n):
        scale += [[i / n, color(i)], [(i + 1) / n, color(i)]]
    return scale


def _has_ema(traces: Sequence[Any]) -> bool:
    return any(getattr(tr, "ema_points", None) is not None for tr in traces)


def _frame(traces: Sequence[Any], steps: np.ndarray, k: int) -> list[dict]:
    """Frame k: every run's trail through the frame steps so far (one marker trace), every head (another) and,
    when a run has an EMA shadow, where each shadow is now (a third).

    Frames are plain dicts with only x, y and marker colours: they update existing traces, and a few
    hundred full Scatter objects would cost far more to build and to send.
    """
    trail_x, trail_y, trail_c, head_x, head_y, head_c, ema_x, ema_y, ema_c = [], [], [], [], [], [], [], [], []
    for i, tr in enumerate(traces):
        pts = np.asarray(tr.points)
        shown = np.minimum(steps[: k + 1], len(pts) - 1)  # a diverged run stays where it stopped
        trail_x.append(pts[shown, 0])
        trail_y.append(pts[shown, 1])
        trail_c.append(np.full(len(shown), i + 0.5))
        head_x.append(pts[shown[-1], 0])
        head_y.append(pts[shown[-1], 1])
        head_c.append(i + 0.5)
        if getattr(tr, "ema_points", None) is not None:
            ema = np.asarray(tr.ema_points)
            now = min(int(shown[-1]), len(ema) - 1)
            ema_x.append(ema[now, 0])
            ema_y.append(ema[now, 1])
            ema_c.append(i + 0.5)
    cat = lambda parts: f32(np.concatenate(parts)) if parts else f32([])
    frame = [
        dict(type="scatter", x=cat(trail_x), y=cat(trail_y), marker=dict(color=cat(trail_c))),
        dict(type="scatter", x=f32(head_x), y=f32(head_y), marker=dict(color=f32(head_c))),
    ]
    if _has_ema(traces):
        frame.append(dict(type="scatter", x=f32(ema_x), y=f32(ema_y), marker=dict(color=f32(ema_c))))
    return frame


def replay_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    bounds: Sequence[Sequence[float]],
    traces: Sequence[Any],
    minima: Sequence[Any] = (),
    log_levels: bool = False,
    f_min: float | None = None,
    max_frames: int = MAX_FRAMES,
    frame_ms: int = 150,
    ghost: bool = True,
    height: int = 620,
    picture: str | None = None,
) -> go.Figure:
    """Every run moving together over the contour, one frame per shown step (at most ``max_frames``).

    With ``ghost`` each whole path is drawn faintly underneath, so the class sees where the run is heading.
    """
    n_steps = max((len(tr.points) - 1 for tr in traces), default=0)
    steps = frame_steps(n_steps, max_frames)
    redraw = picture is None  # a contour trace must be redrawn with every frame, a picture never
    data: list[Any] = [] if picture else [contour_trace(xs, ys, levels(Z, log_levels, f_min), showscale=False)]
    if minima:
        data.append(minima_trace(minima))
    for i, tr in enumerate(traces):
        pts = np.asarray(tr.points)
        data.append(go.Scatter(x=f32(pts[:, 0]) if ghost else [], y=f32(pts[:, 1]) if ghost else [], mode="lines",
                               line=dict(color=color(i), width=2), opacity=0.3, name=tr.label, hoverinfo="skip",
                               legendgroup=f"run{i}"))
        if getattr(tr, "ema_points", None) is not None:  # the shadow's whole path, dotted, as on the contour
            ema = np.asarray(tr.ema_points)
            data.append(go.Scatter(x=f32(ema[:, 0]) if ghost else [], y=f32(ema[:, 1]) if ghost else [],
                                   mode="lines", line=dict(color=color(i), width=2, dash="dot"), opacity=0.5,
                                   name=ema_name(i), hoverinfo="skip", legendgroup=f"run{i}"))
    scale = _run_colorscale(len(traces))
    marker = dict(colorscale=scale, cmin=0, cmax=max(len(traces), 1), showscale=False)
    first = _frame(traces, steps, 0)
    data.append(go.Scatter(x=first[0]["x"], y=first[0]["y"], mode="markers", name="trail", showlegend=False,
                           hoverinfo="skip", marker=dict(size=5, color=first[0]["marker"]["color"], **marker)))
    data.append(go.Scatter(x=first[1]["x"], y=first[1]["y"], mode="markers", name="now", showlegend=False,
                           hoverinfo="skip", marker=dict(size=13, line=dict(color="white", width=1.5),
                                                         color=first[1]["marker"]["color"], **marker)))
    if _has_ema(traces):
        data.append(go.Scatter(x=first[2]["x"], y=first[2]["y"], mode="markers", name="EMA now", showlegend=False,
                               hoverinfo="skip", marker=dict(size=11, symbol="diamond",
                                                             line=dict(color="white", width=1.5),
                                                             color=first[2]["marker"]["color"], **marker)))
    moving_idx = list(range(len(data) - len(first), len(data)))

    frames = []
    for k, s in enumerate(steps):
        frames.append(dict(data=_frame(traces, steps, k), traces=moving_idx, name=str(int(s))))

    play = dict(frame=dict(duration=frame_ms, redraw=redraw), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=redraw), transition=dict(duration=0), mode="immediate")
    layout = base_layout(bounds, height)
    if picture:
        layout["images"] = [picture_image(picture, bounds)]
    layout.update(
        uirevision="replay",
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=-0.08, xanchor="left", yanchor="top", showactive=False,
            buttons=[dict(label="▶ " + t("Play"), method="animate", args=[None, play]),
                     dict(label="❚❚ " + t("Pause"), method="animate", args=[[None], pause])],
        )],
        sliders=[dict(
            active=0, x=0.18, y=-0.04, len=0.82, xanchor="left", yanchor="top",
            currentvalue=dict(prefix=t("step") + " ", visible=True),
            steps=[dict(label=str(int(s)), method="animate",
                        args=[[str(int(s))], dict(frame=dict(duration=0, redraw=redraw), mode="immediate",
                                                  transition=dict(duration=0))])
                   for s in steps],
        )],
    )
    layout["margin"] = dict(l=50, r=20, t=20, b=110)
    fig = go.Figure(data=data, layout=layout)
    fig.frames = frames
    return fig
