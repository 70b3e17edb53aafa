"""Per-step curves of several runs: loss (gap to the minimum, log y) and distance to the nearest minimum.

Arrays in, ``go.Figure`` out; no Streamlit. A diverged run's curve stops at its last good step with a cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t
from optlab.plots.surface import FONT, color, f32


def _positive(y: np.ndarray) -> np.ndarray:
    """A log axis cannot show zero or negative values: they become gaps (NaN)."""
    y = np.asarray(y, dtype=np.float64)
    return np.where(y > 0, y, np.nan)


def y_range(ys: Sequence[np.ndarray], traces: Sequence[Any], log_y: bool) -> list[float] | None:
    """The y range of the runs that did not diverge (log10 units on a log axis), with a little room.

    A diverged run can climb to 10⁶ and squash every other curve into a line; its curve leaves the top of the
    plot instead, and its cross is pinned at the top edge. None (Plotly's own range) when every run diverged.
    """
    kept = [np.asarray(y, dtype=np.float64) for y, tr in zip(ys, traces, strict=True) if tr.diverged_at is None]
    values = np.concatenate([y[np.isfinite(y)] for y in kept]) if kept else np.zeros(0)
    if log_y:
        values = np.log10(values[values > 0])
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    pad = max(hi - lo, 1.0 if log_y else abs(hi) or 1.0) * 0.06
    return [lo - pad, hi + 4 * pad]


def _curves(ys: Sequence[np.ndarray], traces: Sequence[Any], ytitle: str, log_y: bool, height: int) -> go.Figure:
    fig = go.Figure()
    ys = [_positive(y) if log_y else np.asarray(y, dtype=np.float64) for y in ys]
    window = y_range(ys, traces, log_y)
    top = None if window is None else (10.0 ** window[1] if log_y else window[1])
    for i, (y, tr) in enumerate(zip(ys, traces, strict=True)):
        steps = np.arange(len(y))
        fig.add_trace(go.Scatter(x=steps, y=f32(y), mode="lines", name=tr.label, line=dict(color=color(i), width=2),
                                 legendgroup=f"run{i}",
                                 hovertemplate=t("{run}<br>after step %{{x}}", run=tr.label)
                                 + "<br>%{y:.4g}<extra></extra>"))
        if tr.diverged_at and len(y):  # diverged_at 0 is the start itself: the page says that once, not per curve
            last = float(y[-1]) if np.isfinite(y[-1]) else top
            mark = last if top is None or last is None else min(last, top)
            fig.add_trace(go.Scatter(x=[steps[-1]], y=[mark], mode="markers+text", cliponaxis=False,
                                     marker=dict(symbol="x", size=12, color=color(i)), legendgroup=f"run{i}",
                                     text=[t("diverged at step {step}", step=tr.diverged_at)], textposition="top left",
                                     showlegend=False, hoverinfo="skip"))
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=30, b=40), font=FONT,
                      xaxis_title=t("step t (0: the start θ₀)"),
                      yaxis=dict(title=ytitle, type="log" if log_y else "linear", exponentformat="power",
                                 range=window),
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
    return _curves(list(distances), traces, t("distance to nearest minimum"), True, height)
