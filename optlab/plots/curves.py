"""Per-step curves of several runs: loss (gap to the minimum, log y) and distance to the nearest minimum.

Arrays in, ``go.Figure`` out; no Streamlit. A diverged run's curve stops at its last good step with a cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optlab.plots.surface import color, f32


def _positive(y: np.ndarray) -> np.ndarray:
    """A log axis cannot show zero or negative values: they become gaps (NaN)."""
    y = np.asarray(y, dtype=np.float64)
    return np.where(y > 0, y, np.nan)


def _curves(ys: Sequence[np.ndarray], traces: Sequence[Any], ytitle: str, log_y: bool, height: int) -> go.Figure:
    fig = go.Figure()
    for i, (y, tr) in enumerate(zip(ys, traces, strict=True)):
        y = _positive(y) if log_y else np.asarray(y, dtype=np.float64)
        steps = np.arange(len(y))
        fig.add_trace(go.Scatter(x=steps, y=f32(y), mode="lines", name=tr.label, line=dict(color=color(i), width=2),
                                 legendgroup=f"run{i}",
                                 hovertemplate=f"{tr.label}<br>step %{{x}}<br>%{{y:.4g}}<extra></extra>"))
        if tr.diverged_at is not None and len(y):
            fig.add_trace(go.Scatter(x=[steps[-1]], y=[float(y[-1])], mode="markers+text",
                                     marker=dict(symbol="x", size=12, color=color(i)), legendgroup=f"run{i}",
                                     text=[f"diverged at step {tr.diverged_at}"], textposition="top left",
                                     showlegend=False, hoverinfo="skip"))
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=30, b=40), xaxis_title="step",
                      yaxis=dict(title=ytitle, type="log" if log_y else "linear", exponentformat="power"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig


def loss_figure(traces: Sequence[Any], f_min: float | None = None, height: int = 340) -> go.Figure:
    """Loss vs step on a log axis: f − f_min when the minimum value is known, else f itself."""
    ys = [np.asarray(tr.losses, dtype=np.float64) - (f_min or 0.0) for tr in traces]
    log_y = f_min is not None or all(np.nanmin(y) > 0 for y in ys if len(y))
    title = "f − f_min" if f_min is not None else "f"
    return _curves(ys, traces, title, log_y, height)


def distance_figure(traces: Sequence[Any], distances: Sequence[np.ndarray], height: int = 340) -> go.Figure:
    """Distance to the nearest known minimum vs step, on a log axis."""
    return _curves(list(distances), traces, "distance to nearest minimum", True, height)
