"""Figures of the narrated step: one step's arrows on the contour, and each coordinate's effective step size.

Arrays in, figures out; the arrows come from ``optlab.lessons.narrated_step.arrows`` with their lengths already set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from optlab.plots.surface import base_layout, contour_trace, levels, minima_trace

#: One colour per role, the same on every step.
ROLE_COLORS = {"gradient": "#B2182B", "momentum": "#E08214", "direction": "#1B7837", "update": "#2166AC"}
HEIGHT = 560


def step_figure(
    contour: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    bounds: Sequence[Sequence[float]],
    path: np.ndarray,
    arrows: Mapping[str, np.ndarray],
    labels: Mapping[str, str],
    log_levels: bool = False,
    minima: Sequence[object] = (),
    path_name: str = "path",
    point_name: str = "point",
    title: str | None = None,
) -> go.Figure:
    """The contour, the path up to the current point (the last row of ``path``), and one arrow per role
    from that point along its (already scaled) displacement, labelled ``labels[role]``."""
    xs, ys, z = contour
    fig = go.Figure(data=[contour_trace(xs, ys, levels(z, log_levels), showscale=False)],
                    layout=base_layout(bounds, HEIGHT, title))
    path = np.asarray(path, dtype=np.float64)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=path_name,
                             line=dict(color="#444", width=1.5), marker=dict(size=4, color="#444"),
                             hovertemplate="(%{x:.5g}, %{y:.5g})<extra></extra>"))
    px, py = (float(c) for c in path[-1])
    for role, v in arrows.items():
        v = np.asarray(v, dtype=np.float64).reshape(-1)[:2]
        if not np.isfinite(v).all() or not v.any():
            continue
        c = ROLE_COLORS.get(role, "#333")
        fig.add_annotation(
            x=px + v[0], y=py + v[1], ax=px, ay=py, xref="x", yref="y", axref="x", ayref="y", name=role,
            showarrow=True, arrowhead=3, arrowsize=1.1, arrowwidth=3, arrowcolor=c, standoff=0,
            text=labels.get(role, role), font=dict(color=c, size=14), bgcolor="rgba(255,255,255,0.75)",
            xanchor="left" if v[0] >= 0 else "right",
        )
    if minima:
        fig.add_trace(minima_trace(minima))
    fig.add_trace(go.Scatter(x=[px], y=[py], mode="markers", name=point_name,
                             marker=dict(size=12, color="#B2182B", symbol="diamond"),
                             hovertemplate="(%{x:.5g}, %{y:.5g})<extra></extra>"))
    return fig


def step_size_figure(sizes: np.ndarray, t: int, *, title: str, y_title: str, x_title: str,
                     coordinate_names: Sequence[str] = ("x", "y")) -> go.Figure:
    """Bars of each coordinate's effective step size at step t (1-based row of ``sizes``, shape (n, 2)) on a
    log axis fixed over the whole run, so stepping through the run shows the bars grow and shrink; faint lines
    give each coordinate's history and a dotted line marks step t."""
    sizes = np.asarray(sizes, dtype=np.float64)
    steps = np.arange(1, len(sizes) + 1)
    positive = sizes[np.isfinite(sizes) & (sizes > 0)]
    lo, hi = (float(positive.min()), float(positive.max())) if positive.size else (1e-3, 1.0)
    colors = ("#B2182B", "#2166AC")
    fig = go.Figure()
    for i, name in enumerate(coordinate_names):
        fig.add_trace(go.Scatter(x=steps, y=sizes[:, i], mode="lines", name=name, opacity=0.35,
                                 line=dict(color=colors[i]), xaxis="x2", showlegend=False,
                                 hovertemplate="%{y:.4g}<extra></extra>"))
    fig.add_trace(go.Bar(x=list(coordinate_names), y=sizes[t - 1], marker_color=list(colors),
                         text=[f"{v:.3g}" for v in sizes[t - 1]], textposition="outside", name="",
                         showlegend=False, hovertemplate="%{y:.4g}<extra></extra>"))
    axis = dict(type="log", range=[math.log10(lo) - 0.3, math.log10(hi) + 0.4], exponentformat="power",
                title=y_title)
    fig.update_layout(
        title=title, height=340, margin=dict(l=60, r=20, t=50, b=40), yaxis=axis, bargap=0.5,
        xaxis=dict(domain=[0.0, 0.3]), xaxis2=dict(domain=[0.4, 1.0], anchor="y", title=x_title),
    )
    fig.add_shape(type="line", x0=t, x1=t, y0=0, y1=1, xref="x2", yref="paper",
                  line=dict(dash="dot", color="gray"))
    return fig
