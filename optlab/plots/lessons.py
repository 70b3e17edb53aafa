"""Small Plotly figures for the lesson pages: curves, 2D paths over a contour, bars. Arrays in, figures out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t

HEIGHT = 340  # a line chart or bar chart
PATHS_HEIGHT = 460  # a 2D path over a contour needs room: both axes share one scale


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, log_y: bool = False,
            height: int = HEIGHT) -> go.Figure:
    """Title, axis titles, and the legend to the right of the plot, where it can meet neither axis title."""
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=40, b=40),
                      xaxis_title=x_title, yaxis_title=y_title,
                      legend=dict(x=1.02, xanchor="left", y=1, yanchor="top"))
    if log_y:
        fig.update_yaxes(type="log", exponentformat="power")  # 10⁻⁴ rather than the SI "100µ"
    return fig


def curves(series: Mapping[str, np.ndarray], title: str = "", x_title: str | None = None, y_title: str = "",
           log_y: bool = False, x: np.ndarray | None = None, hline: float | None = None) -> go.Figure:
    """One line per named series against the step (or against ``x``); an optional dashed reference line.

    Titles and names come in the reader's language; the x axis is "step" (translated) unless ``x_title`` says.
    """
    fig = go.Figure()
    for name, ys in series.items():
        ys = np.asarray(ys, dtype=float)
        xs = np.arange(len(ys)) if x is None else x
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name))
    if hline is not None:
        fig.add_hline(y=hline, line_dash="dash", line_color="gray")
    return _layout(fig, title, t("step") if x_title is None else x_title, y_title, log_y)


def paths(paths_by_name: Mapping[str, np.ndarray], title: str = "",
          contour: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
          minimum: tuple[float, float] | None = None) -> go.Figure:
    """2D paths (each an (n, 2) array) drawn over an optional contour (xs, ys, Z) with the minimum marked."""
    fig = go.Figure()
    if contour is not None:
        xs, ys, z = contour
        fig.add_trace(go.Contour(x=xs, y=ys, z=z, showscale=False, ncontours=25, opacity=0.5,
                                 colorscale="Greys", contours_coloring="lines", hoverinfo="skip"))
    for name, pts in paths_by_name.items():
        pts = np.asarray(pts, dtype=float)
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines+markers", marker_size=3, name=name))
    if minimum is not None:
        fig.add_trace(go.Scatter(x=[minimum[0]], y=[minimum[1]], mode="markers", name=t("minimum"),
                                 marker=dict(symbol="star", size=12, color="black")))
    fig = _layout(fig, title, "x", "y", height=PATHS_HEIGHT)
    if contour is not None:  # show the surface's own box, not Plotly's padding around it
        fig.update_xaxes(range=[float(np.min(xs)), float(np.max(xs))], constrain="domain")
        fig.update_yaxes(range=[float(np.min(ys)), float(np.max(ys))], constrain="domain")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)  # one unit is as long on both axes, so circles look round
    return fig


def bars(values: Mapping[str, float], title: str = "", y_title: str = "") -> go.Figure:
    """A bar per named value."""
    fig = go.Figure(go.Bar(x=list(values), y=[float(v) for v in values.values()]))
    return _layout(fig, title, "", y_title)
