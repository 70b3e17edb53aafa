"""Overlaid histograms of named samples with shared bins (the lesson figures of step sizes). Arrays in, figure out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

COLORS = ("#B2182B", "#2166AC", "#1B7837", "#E08214")


def histogram(samples: Mapping[str, np.ndarray], *, title: str, x_title: str, y_title: str,
              bins: int = 40, x_range: tuple[float, float] | None = None) -> go.Figure:
    """One bar series per named sample over the same ``bins`` bins (counts), so the shapes compare directly."""
    values = np.concatenate([np.asarray(v, dtype=np.float64).reshape(-1) for v in samples.values()])
    lo, hi = x_range if x_range is not None else (float(values.min()), float(values.max()))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig = go.Figure()
    for i, (name, v) in enumerate(samples.items()):
        counts, _ = np.histogram(np.clip(np.asarray(v, dtype=np.float64), lo, hi), bins=edges)
        fig.add_trace(go.Bar(x=centres, y=counts, width=width, name=name, opacity=0.75,
                             marker_color=COLORS[i % len(COLORS)],
                             hovertemplate="%{x:.3g}: %{y}<extra>" + name + "</extra>"))
    fig.update_layout(title=title, barmode="overlay", height=360, bargap=0,
                      margin=dict(l=60, r=20, t=50, b=50), xaxis_title=x_title, yaxis_title=y_title,
                      legend=dict(x=1.02, xanchor="left", y=1, yanchor="top"))
    return fig
