"""Plotly figure of the MNIST net's loss landscape: the loss over a plane through trained weights as a contour,
each run's projected weight trajectory on it (PCA plane), the trained weights at the centre. Arrays in."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t
from optlab.mnist.landscape import PLANES
from optlab.plots.training import COLORS


def landscape_figure(plane: str, alphas, betas, loss, centre_loss: float, labels: list[str], paths,
                     path_steps, shares, centre_label: str, height: int = 520) -> go.Figure:
    """Contour of log10 loss over (α, β) with the axes labelled by what they are (see optlab.mnist.landscape)."""
    z = np.log10(np.maximum(np.asarray(loss, dtype=float), 1e-6))
    fig = go.Figure(go.Contour(
        x=alphas, y=betas, z=z, colorscale="Viridis", ncontours=25,
        colorbar=dict(title=dict(text=t("log10 loss"), side="right"), thickness=12),
        hovertemplate=t("loss {loss} at ({a}, {b})", loss="%{customdata:.3f}", a="%{x:.3g}", b="%{y:.3g}")
        + "<extra></extra>", customdata=np.asarray(loss, dtype=float)))
    for r, path in enumerate(paths):
        pts = np.asarray(path, dtype=float)
        if not len(pts):
            continue
        fig.add_trace(go.Scatter(
            x=pts[:, 0], y=pts[:, 1], mode="lines+markers", name=labels[r],
            line=dict(color=COLORS[r % len(COLORS)], width=2), marker=dict(size=5),
            customdata=np.asarray(path_steps), hovertemplate=t("{label}, step {step}", label=labels[r],
                                                                step="%{customdata}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", marker=dict(symbol="star", size=14, color="white",
                                                                            line=dict(color="black", width=1)),
                             name=t("trained weights of {label} (loss {loss})", label=centre_label,
                                    loss=f"{centre_loss:.3f}")))
    if plane == "pca":
        x_title = t("distance along the 1st principal direction ({share} of the path's variance)",
                    share=f"{shares[0]:.0%}")
        y_title = t("distance along the 2nd principal direction ({share})", share=f"{shares[1]:.0%}")
    else:
        x_title = t("α: filter-normalised random direction 1")
        y_title = t("β: filter-normalised random direction 2")
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    fig.update_layout(height=height, margin=dict(l=50, r=10, t=40, b=50), title=dict(text=t(PLANES[plane]), x=0.01),
                      legend=dict(orientation="h", y=-0.18))
    return fig
