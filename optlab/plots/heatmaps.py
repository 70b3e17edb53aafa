"""Matrices side by side as heat maps on one colour scale (the Adafactor lesson's v and its factored estimate)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def matrices(named: Mapping[str, np.ndarray], *, title: str, colorbar_title: str = "",
             x_title: str = "", y_title: str = "") -> go.Figure:
    """One heat map per named matrix, all on the same colour range, so equal colours mean equal values."""
    values = np.concatenate([np.asarray(m, dtype=np.float64).reshape(-1) for m in named.values()])
    lo, hi = float(values.min()), float(values.max())
    fig = make_subplots(rows=1, cols=len(named), subplot_titles=list(named), horizontal_spacing=0.08)
    for i, m in enumerate(named.values(), start=1):
        fig.add_trace(go.Heatmap(z=np.asarray(m, dtype=np.float64), zmin=lo, zmax=hi, colorscale="Viridis",
                                 showscale=i == len(named), colorbar=dict(title=colorbar_title),
                                 hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>"), 1, i)
        fig.update_yaxes(autorange="reversed", title_text=y_title if i == 1 else "", row=1, col=i)
        fig.update_xaxes(title_text=x_title, row=1, col=i)
    fig.update_layout(title=title, height=360, margin=dict(l=60, r=20, t=70, b=50))
    return fig
