"""The class board's figure: every student's path over the surface (Surface Lab), or every loss curve (MNIST Lab).

Arrays in, ``go.Figure`` out. A submission is drawn from what it stored: ``series`` is a list of ``[x, y]``
points for a path, or of losses for a curve; ``name`` is the display name or, when names are hidden, a number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t

# Okabe-Ito then Tableau colours: distinguishable, and readable on a projector.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#4E79A7", "#F28E2B",
           "#59A14F", "#B07AA1", "#9C755F")
CONTOUR_SCALE = [[0.0, "#fffaf0"], [0.35, "#dcebf5"], [0.7, "#9fbfd9"], [1.0, "#52779c"]]


def contour(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, log: bool) -> go.Contour:
    """The surface as a pale filled contour (log10 of f − min + a little on a log scale)."""
    z = np.asarray(z, dtype=float)
    if log:
        z = np.log10(z - np.nanmin(z) + 1e-3 * (np.nanmax(z) - np.nanmin(z) + 1e-12) + 1e-12)
    return go.Contour(x=xs, y=ys, z=z.astype(np.float32), colorscale=CONTOUR_SCALE, showscale=False, ncontours=30,
                      line={"width": 0.5, "color": "rgba(60,80,110,0.35)"}, hoverinfo="skip", name="f")


def board_figure(kind: str, entries: Sequence[tuple[str, Sequence]], background: go.Contour | None = None,
                 bounds: Sequence[Sequence[float]] | None = None, height: int = 560) -> go.Figure:
    """One line per submission: ``entries`` are (name, series); ``kind`` is "path" or "curve"."""
    fig = go.Figure()
    if background is not None and kind == "path":
        fig.add_trace(background)
    for i, (name, series) in enumerate(entries):
        colour = PALETTE[i % len(PALETTE)]
        if kind == "path":
            pts = np.asarray(series, dtype=float).reshape(-1, 2)
            fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines", name=name,
                                     line={"color": colour, "width": 2.5},
                                     hovertemplate=t("{name}: ({x}, {y})", name=name, x="%{x:.3g}", y="%{y:.3g}")
                                     + "<extra></extra>"))
            fig.add_trace(go.Scatter(x=pts[-1:, 0], y=pts[-1:, 1], mode="markers", showlegend=False,
                                     marker={"color": colour, "size": 10, "symbol": "x"}, hoverinfo="skip"))
        else:
            values = np.asarray(series, dtype=float)
            fig.add_trace(go.Scatter(x=np.arange(1, len(values) + 1), y=values, mode="lines", name=name,
                                     line={"color": colour, "width": 2}))
    layout = {"height": height, "margin": {"l": 50, "r": 10, "t": 30, "b": 40}, "font": {"size": 16},
              "legend": {"orientation": "h", "y": -0.12}, "plot_bgcolor": "white"}
    if kind == "path":
        layout |= {"xaxis": {"title": {"text": "x"}}, "yaxis": {"title": {"text": "y"}, "scaleanchor": "x"}}
        if bounds is not None:
            layout["xaxis"]["range"] = list(bounds[0])
            layout["yaxis"]["range"] = list(bounds[1])
    else:
        layout |= {"xaxis": {"title": {"text": t("point of the curve")}},
                   "yaxis": {"title": {"text": t("training loss")}, "type": "log"}}
    fig.update_layout(**layout)
    return fig
