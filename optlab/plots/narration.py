"""Figures of the narrated step: one step's arrows on the contour, and each coordinate's effective step size.

Arrays in, figures out; the arrows come from ``optlab.lessons.narrated_step.arrows`` with their lengths already set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from optlab.plots.surface import FONT, base_layout, contour_trace, levels, minima_trace

#: One colour per role, the same on every step.
ROLE_COLORS = {"gradient": "#B2182B", "momentum": "#E08214", "direction": "#1B7837", "update": "#2166AC"}
HEIGHT = 560


#: Plot height in pixels inside the figure (HEIGHT less the title and legend margins), for placing labels.
PLOT_PX = 430
LABEL_PX = (8.0, 22.0)  # about one character's width and a label's height at font size 14
MARKER_PX = 14.0  # half the box a marker (the point, a minimum) keeps free of labels


def fit_window(bounds: Sequence[Sequence[float]], ends: Sequence[Sequence[float]], pad: float = 0.06
               ) -> tuple[tuple[float, float], tuple[float, float]]:
    """``bounds`` grown just enough that every point of ``ends`` (the arrow heads and their start) lies inside
    with ``pad`` × the window's size to spare, so no arrow leaves the picture."""
    (x0, x1), (y0, y1) = bounds
    pts = np.asarray(ends, dtype=np.float64).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return (float(x0), float(x1)), (float(y0), float(y1))
    m = pad * max(x1 - x0, y1 - y0)
    return ((float(min(x0, pts[:, 0].min() - m)), float(max(x1, pts[:, 0].max() + m))),
            (float(min(y0, pts[:, 1].min() - m)), float(max(y1, pts[:, 1].max() + m))))


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def place_labels(point: Sequence[float], arrows: Mapping[str, np.ndarray], labels: Mapping[str, str],
                 window: Sequence[Sequence[float]], avoid: Sequence[Sequence[float]] = ()) -> dict[str, dict]:
    """Where each arrow's label goes: beside its head, on the side the arrow points to (turned back where it
    would leave the window), moved up or down in whole label heights until it covers no other label, the
    point or a point of ``avoid`` (the minima). Returns role -> annotation keywords (x, y, xanchor, yshift)."""
    (x0, x1), (y0, y1) = window
    per_px = max(x1 - x0, y1 - y0) / PLOT_PX  # data units per pixel (equal axes: the longer side decides)
    char_w, line_h = LABEL_PX[0] * per_px, LABEL_PX[1] * per_px
    r = MARKER_PX * per_px
    taken = [(p[0] - r, p[0] + r, p[1] - r, p[1] + r) for p in [point, *avoid]]
    out: dict[str, dict] = {}
    for role, v in arrows.items():
        hx, hy = float(point[0] + v[0]), float(point[1] + v[1])
        w = char_w * len(labels.get(role, role)) + 4 * per_px
        right = v[0] >= 0 and hx + w <= x1 or hx - w < x0
        left_edge = hx + 3 * per_px if right else hx - 3 * per_px - w
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            cy = hy + k * line_h
            box = (left_edge, left_edge + w, cy - line_h / 2, cy + line_h / 2)
            if not any(_overlaps(box, b) for b in taken):
                break
        taken.append(box)
        out[role] = dict(x=hx, y=hy, xanchor="left" if right else "right", yshift=k * LABEL_PX[1],
                         xshift=3 if right else -3)
    return out


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
    from that point along its (already scaled) displacement, labelled ``labels[role]`` beside its head.

    The window is ``bounds`` grown to hold every arrow head (:func:`fit_window`), at equal scale; the title sits
    above the plot and the legend below it, so neither covers the other."""
    xs, ys, z = contour
    path = np.asarray(path, dtype=np.float64)
    px, py = (float(c) for c in path[-1])
    shown = {role: np.asarray(v, dtype=np.float64).reshape(-1)[:2] for role, v in arrows.items()}
    shown = {role: v for role, v in shown.items() if np.isfinite(v).all() and v.any()}
    window = fit_window(bounds, [(px, py)] + [(px + v[0], py + v[1]) for v in shown.values()])
    layout = base_layout(window, HEIGHT, title)
    layout.update(
        title=dict(text=title, x=0.0, xanchor="left", y=0.985, yanchor="top") if title else None,
        legend=dict(orientation="h", yanchor="top", y=-0.14, xanchor="left", x=0.0),
        margin=dict(l=50, r=20, t=44 if title else 16, b=86),
    )
    fig = go.Figure(data=[contour_trace(xs, ys, levels(z, log_levels), showscale=False)], layout=layout)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=path_name,
                             line=dict(color="#444", width=1.5), marker=dict(size=4, color="#444"),
                             hovertemplate="(%{x:.5g}, %{y:.5g})<extra></extra>"))
    places = place_labels((px, py), shown, labels, window, [(p.x, p.y) for p in minima])
    for role, v in shown.items():
        c = ROLE_COLORS.get(role, "#333")
        fig.add_annotation(  # the arrow: from (ax, ay), the point, to (x, y), its head; no text at its tail
            x=px + v[0], y=py + v[1], ax=px, ay=py, xref="x", yref="y", axref="x", ayref="y", name=role,
            showarrow=True, arrowhead=3, arrowsize=1.1, arrowwidth=3, arrowcolor=c, standoff=0, text="",
        )
        fig.add_annotation(  # its label, beside the head
            **places[role], xref="x", yref="y", showarrow=False, name=f"{role} label", yanchor="middle",
            text=labels.get(role, role), font=dict(color=c, size=14), bgcolor="rgba(255,255,255,0.8)",
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
    log axis fixed over the whole run (whole decades, so its ticks read as plain numbers), so stepping through
    the run shows the bars grow and shrink; a line per coordinate gives its history and a dotted line marks
    step t."""
    sizes = np.asarray(sizes, dtype=np.float64)
    steps = np.arange(1, len(sizes) + 1)
    positive = sizes[np.isfinite(sizes) & (sizes > 0)]
    lo, hi = (float(positive.min()), float(positive.max())) if positive.size else (1e-3, 1.0)
    lo_decade, hi_decade = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    hi_decade = max(hi_decade, lo_decade + 1)
    colors = ("#B2182B", "#2166AC")
    fig = go.Figure()
    for i, name in enumerate(coordinate_names):
        fig.add_trace(go.Scatter(x=steps, y=sizes[:, i], mode="lines", name=name, opacity=0.8,
                                 line=dict(color=colors[i], width=2.5), xaxis="x2", legendgroup=name,
                                 hovertemplate=f"{name}: " + "%{y:.4g}<extra></extra>"))
    fig.add_trace(go.Bar(x=list(coordinate_names), y=sizes[t - 1], marker_color=list(colors),
                         text=[f"{v:.3g}" for v in sizes[t - 1]], textposition="outside", name="",
                         textfont=dict(size=15), showlegend=False, hovertemplate="%{y:.4g}<extra></extra>"))
    ticks = [10.0**k for k in range(lo_decade, hi_decade + 1)]
    axis = dict(type="log", range=[lo_decade - 0.02, hi_decade + 0.25], tickvals=ticks,
                ticktext=[f"{v:g}" for v in ticks], title=y_title, showgrid=True)
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left"), height=360, margin=dict(l=70, r=20, t=50, b=50),
        yaxis=axis, bargap=0.45, font={**FONT, "size": 14},
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis=dict(domain=[0.0, 0.3], tickfont=dict(size=16)),
        xaxis2=dict(domain=[0.4, 1.0], anchor="y", title=x_title),
    )
    fig.add_shape(type="line", x0=t, x1=t, y0=0, y1=1, xref="x2", yref="paper",
                  line=dict(dash="dot", color="gray"))
    return fig
