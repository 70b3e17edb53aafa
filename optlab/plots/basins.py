"""Plotly figure of basins of attraction: every start of a grid over the contour, coloured by where it ended.

Arrays in, ``go.Figure`` out: no Streamlit, no running (``optlab.basins`` computes the labels). With listed
minima each start takes its minimum's colour; without any, it is coloured by the loss where it ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optlab.basins import DIVERGED, NO_MINIMUM, count_labels
from optlab.i18n import t
from optlab.plots.surface import COLORS, base_layout, contour_trace, f32, levels, minima_trace, start_trace

#: minimum i gets BASIN_COLORS[i] (Okabe-Ito without black, which marks divergence)
BASIN_COLORS = COLORS[:-1]
NO_MINIMUM_COLOR = "#9E9E9E"
DIVERGED_COLOR = "#000000"
PLOT_PX = 560  # the plotting area's height in a 620 px figure, to size one grid cell's marker


def basin_name(label: int, minima: Sequence[Any]) -> str:
    """Legend text of a label: "→ (3, 2), f = 0", "no minimum within reach" or "diverged"."""
    if label == DIVERGED:
        return t("diverged")
    if label == NO_MINIMUM:
        return t("no minimum within reach") if minima else t("ended (no minimum listed)")
    p = minima[label]
    kind = f" ({t(p.kind)})" if p.kind != "global" else ""
    return f"→ ({p.x:.3g}, {p.y:.3g}), f = {p.value:.3g}{kind}"


def basin_color(label: int) -> str:
    if label == DIVERGED:
        return DIVERGED_COLOR
    if label == NO_MINIMUM:
        return NO_MINIMUM_COLOR
    return BASIN_COLORS[label % len(BASIN_COLORS)]


def count_rows(labels: np.ndarray, minima: Sequence[Any]) -> list[dict]:
    """The counts table: one row per minimum, then "no minimum within reach" and "diverged", with shares."""
    total = max(len(labels), 1)
    rows = []
    for label, count in count_labels(labels, len(minima)).items():
        rows.append({t("ends at"): basin_name(label, minima), t("starts"): count,
                     t("share"): f"{100 * count / total:.1f} %"})
    return rows


def marker_size(n: int) -> float:
    """About two thirds of one grid cell, so the contour shows between the markers."""
    return float(np.clip(0.65 * PLOT_PX / max(n, 1), 3.0, 16.0))


def _hover(finals: np.ndarray, losses: np.ndarray, mask: np.ndarray) -> dict:
    custom = np.column_stack([finals[mask], losses[mask]])
    return dict(
        customdata=f32(custom),
        hovertemplate=t("start (%{x:.3g}, %{y:.3g})<br>ends at (%{customdata[0]:.4g}, %{customdata[1]:.4g})")
        + "<br>f = %{customdata[2]:.4g}<extra></extra>",
    )


def basins_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    bounds: Sequence[Sequence[float]],
    starts: np.ndarray,
    finals: np.ndarray,
    final_losses: np.ndarray,
    labels: np.ndarray,
    minima: Sequence[Any] = (),
    start: Sequence[float] | None = None,
    log_levels: bool = False,
    f_min: float | None = None,
    height: int = 620,
    title: str | None = None,
) -> go.Figure:
    """Contour, then one square per start coloured by its label (or by its final loss when there are no minima).

    ``starts``, ``finals`` ``(R, 2)``, ``final_losses`` and ``labels`` ``(R,)`` come from ``optlab.basins``;
    ``R`` is ``n * n``. Diverged starts are black crosses. The minima are stars, ``start`` an open circle.
    """
    starts, finals = np.asarray(starts, dtype=np.float64), np.asarray(finals, dtype=np.float64)
    losses, labels = np.asarray(final_losses, dtype=np.float64), np.asarray(labels)
    n = int(round(np.sqrt(len(starts))))
    size = marker_size(n)
    lev = levels(Z, log_levels, f_min)
    data: list[Any] = [contour_trace(xs, ys, lev, showscale=False)]
    if minima:
        groups = [*range(len(minima)), NO_MINIMUM, DIVERGED]
    else:  # nothing to name: colour by where the loss ended, diverged starts apart
        alive = labels != DIVERGED
        colorbar = dict(title=dict(text=t("final f"), side="right"), thickness=12)
        if lev.log:
            colorbar.update(tickvals=lev.tickvals, ticktext=lev.ticktext)
        data.append(go.Scatter(
            x=f32(starts[alive, 0]), y=f32(starts[alive, 1]), mode="markers", name=t("final loss"),
            marker=dict(symbol="square", size=size, opacity=0.8, color=f32(lev.to_plot(losses[alive])),
                        colorscale="Viridis", colorbar=colorbar, showscale=True),
            **_hover(finals, losses, alive),
        ))
        groups = [DIVERGED]
    for label in groups:
        mask = labels == label
        if not mask.any():
            continue
        diverged = label == DIVERGED
        data.append(go.Scatter(
            x=f32(starts[mask, 0]), y=f32(starts[mask, 1]), mode="markers", name=basin_name(label, minima),
            marker=dict(symbol="x" if diverged else "square", size=size * (0.7 if diverged else 1.0),
                        opacity=0.8, color=basin_color(label), line=dict(width=0)),
            **(dict(hovertemplate=t("start (%{x:.3g}, %{y:.3g})<br>diverged") + "<extra></extra>") if diverged
               else _hover(finals, losses, mask)),
        ))
    if minima:
        data.append(minima_trace(minima))
    if start is not None:
        data.append(start_trace(start))
    layout = base_layout(bounds, height, title)
    layout.update(uirevision="basins", dragmode="zoom", clickmode="event")
    return go.Figure(data=data, layout=layout)
