"""Plotly figures of the MNIST Lab's diagnostics: per-layer gradient norms and update/weight ratios over the
steps, the confusion matrix, the learning-rate range test. Arrays in, figures out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optlab.i18n import t
from optlab.mnist.diagnostics import HEALTHY_RATIO
from optlab.mnist.history import History

LAYER_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def layers_figure(history: History, r: int, height: int = 340) -> go.Figure:
    """Run r: ‖∇θ_l L‖₂ per parameter tensor (left) and ‖Δθ_l‖/‖θ_l‖ (right), both on log axes, with the
    rule of thumb's 1e-3 drawn across the right panel."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        t("gradient norm per layer ‖∇θ_l L‖₂"), t("update / weight ratio ‖Δθ_l‖ / ‖θ_l‖")))
    spe = max(1, history.steps_per_epoch)
    x = np.asarray(history.diag_step, dtype=float) / spe
    grads = np.asarray(history.grad_norm[r], dtype=float) if history.grad_norm[r] else np.zeros((0, 0))
    ratios = np.asarray(history.update_ratio[r], dtype=float) if history.update_ratio[r] else np.zeros((0, 0))
    for k, name in enumerate(history.param_names):
        color = LAYER_COLORS[k % len(LAYER_COLORS)]
        dash = "dot" if name.endswith(".bias") else "solid"
        if grads.size:
            fig.add_trace(go.Scatter(x=x, y=grads[:, k], name=name, legendgroup=name,
                                     line=dict(color=color, dash=dash)), 1, 1)
        if ratios.size:
            fig.add_trace(go.Scatter(x=x, y=ratios[:, k], name=name, legendgroup=name, showlegend=False,
                                     line=dict(color=color, dash=dash)), 1, 2)
    fig.add_hline(y=HEALTHY_RATIO, line=dict(color="#444", dash="dash", width=1), row=1, col=2,
                  annotation_text=t("rule of thumb 1e-3"), annotation_position="top left")
    fig.update_xaxes(title_text=t("epoch"))
    fig.update_yaxes(type="log")
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=40, b=40), legend=dict(orientation="h", y=-0.25))
    return fig


def confusion_figure(matrix: np.ndarray, height: int = 360) -> go.Figure:
    """Counts of (true digit, predicted digit); the diagonal holds the right answers."""
    m = np.asarray(matrix)
    fig = go.Figure(go.Heatmap(
        z=m, x=list(range(10)), y=list(range(10)), colorscale="Blues", showscale=False, text=m,
        texttemplate="%{text}",
        hovertemplate=t("true {truth}, predicted {guess}: {count}", truth="%{y}", guess="%{x}", count="%{z}")
        + "<extra></extra>"))
    fig.update_xaxes(title_text=t("predicted digit"), dtick=1, side="bottom", range=[-0.5, 9.5], constrain="domain")
    fig.update_yaxes(title_text=t("true digit"), dtick=1, range=[9.5, -0.5], scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=20, b=40))
    return fig


def range_test_figure(lrs, losses, smoothed, proposal: float | None, height: int = 320) -> go.Figure:
    """Loss against the learning rate on a log axis: each step's loss, the smoothed loss and the proposal."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=lrs, y=losses, mode="markers", marker=dict(size=4, color="#bbb"),
                             name=t("loss of each step")))
    fig.add_trace(go.Scatter(x=lrs, y=smoothed, name=t("smoothed loss"), line=dict(color="#1f77b4")))
    if proposal is not None:
        fig.add_vline(x=proposal, line=dict(color="#2ca02c", dash="dash"),
                      annotation_text=t("proposed lr {lr}", lr=f"{proposal:.3g}"), annotation_position="top")
    fig.update_xaxes(type="log", title_text=t("learning rate (log scale)"))
    fig.update_yaxes(title_text=t("training loss"))
    finite = [v for v in smoothed if np.isfinite(v)]
    if finite:
        fig.update_yaxes(range=[0, min(max(finite), 4 * min(finite)) * 1.1])
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=30, b=40), legend=dict(orientation="h", y=-0.3))
    return fig
