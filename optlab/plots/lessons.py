"""Small Plotly figures for the lesson pages: curves, 2D paths over a contour, bars. Arrays in, figures out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t
from optlab.plots.surface import FONT, color

HEIGHT = 380  # a line chart or bar chart, its legend under it
PATHS_HEIGHT = 460  # a 2D path over a contour needs room: both axes share one scale


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, log_y: bool = False,
            height: int = HEIGHT) -> go.Figure:
    """Title, axis titles, and the legend in rows under the x axis title, where it meets neither axis title and
    takes none of the plot's width (a half-width column at 1280×720 has none to spare); each series gets an
    Okabe-Ito colour, told apart on a projector and with colour-blindness."""
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=40, b=40), font={**FONT, "size": 13},
                      xaxis_title=x_title, yaxis_title=y_title,
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.18, yanchor="top"))
    if log_y:
        fig.update_yaxes(type="log", exponentformat="power")  # 10⁻⁴ rather than the SI "100µ"
    return fig


def curves(series: Mapping[str, np.ndarray], title: str = "", x_title: str | None = None, y_title: str = "",
           log_y: bool = False, x: np.ndarray | None = None, hline: float | None = None,
           y_range: tuple[float, float] | None = None) -> go.Figure:
    """One line per named series against the step (or against ``x``); an optional dashed reference line and a
    fixed y range (a ratio that is 1 to the last bit would otherwise get ticks such as 0.99999999999999911).

    Titles and names come in the reader's language; the x axis is "step" (translated) unless ``x_title`` says.
    """
    fig = go.Figure()
    for i, (name, ys) in enumerate(series.items()):
        ys = np.asarray(ys, dtype=float)
        xs = np.arange(len(ys)) if x is None else x
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=dict(color=color(i))))
    if hline is not None:
        fig.add_hline(y=hline, line_dash="dash", line_color="gray")
    fig = _layout(fig, title, t("step") if x_title is None else x_title, y_title, log_y)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return fig


def paths(paths_by_name: Mapping[str, np.ndarray], title: str = "",
          contour: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
          minimum: tuple[float, float] | None = None) -> go.Figure:
    """2D paths (each an (n, 2) array) drawn over an optional contour (xs, ys, Z) with the minimum marked."""
    fig = go.Figure()
    if contour is not None:
        xs, ys, z = contour
        fig.add_trace(go.Contour(x=xs, y=ys, z=z, showscale=False, ncontours=25, opacity=0.5,
                                 colorscale="Greys", contours_coloring="lines", hoverinfo="skip"))
    for i, (name, pts) in enumerate(paths_by_name.items()):
        pts = np.asarray(pts, dtype=float)
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines+markers", marker_size=3, name=name,
                                 line=dict(color=color(i)), marker_color=color(i)))
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
    fig = go.Figure(go.Bar(x=list(values), y=[float(v) for v in values.values()], marker_color=color(0)))
    return _layout(fig, title, "", y_title)
