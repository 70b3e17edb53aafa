"""Plotly figures for the MNIST lab: live training curves, optimizer-state histograms, a grid of test digits.

Arrays in, figures out; long curves are averaged into at most `max_points` buckets to keep payloads small.
A run that diverged has its loss and lr curves end at the last step before it, marked with a cross.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optlab.i18n import t
from optlab.mnist.history import History

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Bucket means of (x, y) into at most max_points points (the curve's shape kept, the noise averaged)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if n <= max_points:
        return x, y
    edges = np.linspace(0, n, max_points + 1).astype(int)
    xs = np.array([x[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)])
    ys = np.array([y[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return xs, ys


def curves_figure(history: History, max_points: int = 300, height: int = 520) -> go.Figure:
    """2×2: train loss per step, test accuracy (EMA dotted), lr per param group, weight norm ‖θ‖₂."""
    fig = make_subplots(
        rows=2, cols=2, subplot_titles=(t("train loss"), t("test accuracy"), t("learning rate"), t("weight norm ‖θ‖₂")),
        horizontal_spacing=0.09, vertical_spacing=0.2,
    )
    spe = max(1, history.steps_per_epoch)
    for r, label in enumerate(history.labels):
        color = COLORS[r % len(COLORS)]
        diverged = history.diverged[r] if r < len(history.diverged) else None
        # steps 1 .. t−1 of a run that diverged at step t: the ones it really trained through
        keep = len(history.step) if diverged is None else max(0, diverged["step"] - 1)
        steps = np.asarray(history.step[:keep], dtype=float)
        loss = history.loss[r][:keep]
        if len(loss):
            xs, ys = downsample(steps / spe, loss, max_points)
            fig.add_trace(go.Scatter(x=xs, y=ys, name=label, legendgroup=label, line=dict(color=color)), 1, 1)
        if diverged is not None:
            x_end = (steps[-1] if len(steps) else 0.0) / spe
            y_end = float(loss[-1]) if len(loss) else None
            fig.add_trace(go.Scatter(
                x=[x_end], y=[y_end], mode="markers+text", marker=dict(symbol="x", size=12, color=color),
                text=[t("diverged at step {step}", step=diverged["step"])], textposition="top right",
                name=t("{run} diverged", run=label),
                legendgroup=label, showlegend=False, hovertemplate=t("{run}: {reason} at step {step}", run=label,
                                                                reason=t(diverged["reason"]), step=diverged["step"])
                + "<extra></extra>"), 1, 1)
        if history.test_acc[r]:
            fig.add_trace(go.Scatter(
                x=np.asarray(history.eval_step) / spe, y=history.test_acc[r], name=label, legendgroup=label,
                mode="lines+markers", line=dict(color=color), showlegend=False), 1, 2)
        if history.ema_acc and history.ema_acc[r]:
            fig.add_trace(go.Scatter(
                x=np.asarray(history.eval_step[-len(history.ema_acc[r]):]) / spe, y=history.ema_acc[r],
                name=t("{run} (EMA)", run=label), legendgroup=label, mode="lines+markers",
                line=dict(color=color, dash="dot")), 1, 2)
        if history.lr[r][:keep]:
            lrs = np.asarray(history.lr[r][:keep], dtype=float)  # (steps, groups)
            for g in range(lrs.shape[1]):
                if g and np.allclose(lrs[:, g], lrs[:, 0], equal_nan=True):
                    continue  # a group with the same lr as group 0 adds nothing
                xs, ys = downsample(steps / spe, lrs[:, g], max_points)
                fig.add_trace(go.Scatter(
                    x=xs, y=ys, name=f"{label} lr[{g}]", legendgroup=label, showlegend=False,
                    line=dict(color=color, dash="solid" if g == 0 else "dash")), 2, 1)
        if history.weight_norm[r]:
            fig.add_trace(go.Scatter(
                x=np.asarray(history.norm_step) / spe, y=history.weight_norm[r], name=label, legendgroup=label,
                showlegend=False, line=dict(color=color)), 2, 2)
    fig.update_xaxes(title_text=t("epoch"))
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=40, b=40), legend=dict(orientation="h", y=-0.12))
    return fig


def state_histograms_figure(stats: list[dict], key: str) -> go.Figure:
    """One bar histogram per layer of an optimizer state tensor (from inspect_state.layer_state_stats)."""
    n = max(1, len(stats))
    fig = make_subplots(rows=1, cols=n, subplot_titles=[_hist_title(s) for s in stats] or [key])
    for i, s in enumerate(stats, start=1):
        edges = np.asarray(s["edges"])
        if len(edges) < 2:  # no finite entry: the title says how many are NaN or infinite
            fig.update_xaxes(title_text=key, row=1, col=i)
            continue
        centers = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(go.Bar(x=centers, y=s["counts"], width=np.diff(edges), name=s["name"], showlegend=False,
                             marker_color=COLORS[0]), 1, i)
        fig.update_xaxes(title_text=f"log10|{key}|" if s["log10"] else key, row=1, col=i)
    fig.update_layout(height=280, margin=dict(l=40, r=10, t=40, b=40), bargap=0)
    return fig


def _hist_title(s: dict) -> str:
    """The layer's name, and how many entries are left out of its histogram for not being finite."""
    bad = [f"{s[k]:,} {k}" for k in ("nan", "inf") if s.get(k)]
    return s["name"] + (t(" ({entries} not shown)", entries=", ".join(bad)) if bad else "")


def digits_figure(images: np.ndarray, labels: np.ndarray, preds: np.ndarray, cols: int = 10) -> go.Figure:
    """Test digits tiled in one heatmap, each with its prediction above it: green when right, red when wrong."""
    images = np.asarray(images, dtype=float).reshape(-1, 28, 28)
    n = len(images)
    rows = max(1, -(-n // cols))
    pad = 8  # pixels above each digit for its label
    canvas = np.full((rows * (28 + pad), cols * 28), np.nan)
    xs, ys, texts, colors = [], [], [], []
    for k in range(n):
        r, c = divmod(k, cols)
        top = r * (28 + pad) + pad
        canvas[top : top + 28, c * 28 : (c + 1) * 28] = images[k]
        right = int(preds[k]) == int(labels[k])
        xs.append(c * 28 + 14)
        ys.append(top - pad / 2)
        texts.append(f"{int(preds[k])}" if right else t("{pred} (is {label})", pred=int(preds[k]), label=int(labels[k])))
        colors.append("#2ca02c" if right else "#d62728")
    fig = go.Figure(go.Heatmap(z=canvas, colorscale="gray_r", showscale=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="text", text=texts, textfont=dict(color=colors, size=12),
                             hoverinfo="skip", showlegend=False))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(height=80 + rows * 70, margin=dict(l=0, r=0, t=10, b=0), plot_bgcolor="white")
    return fig
