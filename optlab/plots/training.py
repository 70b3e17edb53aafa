"""Plotly figures for the MNIST lab: live training curves, optimizer-state histograms, a grid of test digits.

Arrays in, figures out; long curves are averaged into at most `max_points` buckets to keep payloads small.
A run that diverged has its loss and lr curves end at the last step before it, marked with a cross.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optlab.i18n import N_, t
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


CURVE_TITLES = (
    N_("train loss"), N_("test loss"), N_("test accuracy"),
    N_("learning rate (log scale)"), N_("weight norm ‖θ‖₂"), N_("gradient norm ‖∇L‖₂ (all layers)"),
)
SAVED_COLOR = "#7f7f7f"


def _total_grad_norm(history: History, r: int) -> np.ndarray:
    """‖∇L‖₂ over all parameters at each sampled step: √(Σ_l ‖∇θ_l L‖₂²) of the per-layer norms."""
    rows = np.asarray(history.grad_norm[r], dtype=float) if history.grad_norm and history.grad_norm[r] else None
    return np.zeros(0) if rows is None else np.sqrt((rows**2).sum(axis=1))


def _add_history(fig: go.Figure, history: History, max_points: int, saved: bool = False) -> None:
    """The curves of one history: each run in its colour, or (a saved run laid over a new one) grey and dashed."""
    spe = max(1, history.steps_per_epoch)
    for r, label in enumerate(history.labels):
        color = SAVED_COLOR if saved else COLORS[r % len(COLORS)]
        dash = "dot" if saved else "solid"
        name = t("saved: {label}", label=label) if saved else label
        group = ("saved " if saved else "") + label
        diverged = history.diverged[r] if r < len(history.diverged) else None
        # steps 1 .. t−1 of a run that diverged at step t: the ones it really trained through
        keep = len(history.step) if diverged is None else max(0, diverged["step"] - 1)
        steps = np.asarray(history.step[:keep], dtype=float)
        loss = history.loss[r][:keep]
        line = dict(color=color, dash=dash)
        if len(loss):
            xs, ys = downsample(steps / spe, loss, max_points)
            fig.add_trace(go.Scatter(x=xs, y=ys, name=name, legendgroup=group, line=line), 1, 1)
        if diverged is not None:
            x_end = (steps[-1] if len(steps) else 0.0) / spe
            y_end = float(loss[-1]) if len(loss) else None
            text = t("diverged at step {step}", step=diverged["step"])
            fig.add_trace(go.Scatter(
                x=[x_end], y=[y_end], mode="markers+text", marker=dict(symbol="x", size=12, color=color),
                text=[text], textposition="top right", name=t("{label} diverged", label=label),
                legendgroup=group, showlegend=False,
                hovertemplate=f"{label}: {diverged['reason']} · {text}<extra></extra>"), 1, 1)
        evals = np.asarray(history.eval_step) / spe
        if history.test_loss[r]:
            fig.add_trace(go.Scatter(x=evals, y=history.test_loss[r], name=name, legendgroup=group,
                                     mode="lines+markers", line=line, showlegend=False), 1, 2)
        if history.test_acc[r]:
            fig.add_trace(go.Scatter(x=evals, y=history.test_acc[r], name=name, legendgroup=group,
                                     mode="lines+markers", line=line, showlegend=False), 1, 3)
        if history.ema_acc and history.ema_acc[r]:
            fig.add_trace(go.Scatter(
                x=np.asarray(history.eval_step[-len(history.ema_acc[r]):]) / spe, y=history.ema_acc[r],
                name=t("{label} (EMA)", label=name), legendgroup=group, mode="lines+markers",
                line=dict(color=color, dash="dot")), 1, 3)
        if history.lr[r][:keep]:
            lrs = np.asarray(history.lr[r][:keep], dtype=float)  # (steps, groups)
            for g in range(lrs.shape[1]):
                if g and np.allclose(lrs[:, g], lrs[:, 0], equal_nan=True):
                    continue  # a group with the same lr as group 0 adds nothing
                xs, ys = downsample(steps / spe, lrs[:, g], max_points)
                fig.add_trace(go.Scatter(
                    x=xs, y=ys, name=f"{name} lr[{g}]", legendgroup=group, showlegend=False,
                    line=dict(color=color, dash=dash if g == 0 else "dash")), 2, 1)
        if history.weight_norm[r]:
            fig.add_trace(go.Scatter(
                x=np.asarray(history.norm_step) / spe, y=history.weight_norm[r], name=name, legendgroup=group,
                showlegend=False, line=line), 2, 2)
        total = _total_grad_norm(history, r)
        if len(total):
            fig.add_trace(go.Scatter(
                x=np.asarray(history.diag_step) / spe, y=total, name=name, legendgroup=group, showlegend=False,
                line=line), 2, 3)
    change = history.lr_change
    if change is not None and not saved:
        for col in (1, 2, 3):
            for row in (1, 2):
                fig.add_vline(x=change["step"] / spe, line=dict(color="#999", dash="dot", width=1), row=row,
                              col=col)


def curves_figure(history: History, max_points: int = 300, height: int = 520,
                  saved: History | None = None) -> go.Figure:
    """2×3: train loss per step, test loss, test accuracy (EMA dotted), lr per param group on a log axis, weight
    norm ‖θ‖₂, gradient norm ‖∇L‖₂; `saved` is a saved run's history drawn under the new one, grey and dotted.
    A mid-run lr change is a dotted vertical line."""
    fig = make_subplots(rows=2, cols=3, subplot_titles=[t(title) for title in CURVE_TITLES],
                        horizontal_spacing=0.07, vertical_spacing=0.2)
    if saved is not None:
        _add_history(fig, saved, max_points, saved=True)
    _add_history(fig, history, max_points)
    fig.update_xaxes(title_text=t("epoch"))
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(type="log", row=2, col=1)
    fig.update_yaxes(type="log", row=2, col=3)
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
        fig.update_xaxes(title_text=f"log10|{key}|" if s["log10"] else key, row=1, col=i)  # state names: code
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
        shown = t("{pred} (is {label})", pred=int(preds[k]), label=int(labels[k]))
        texts.append(f"{int(preds[k])}" if right else shown)
        colors.append("#2ca02c" if right else "#d62728")
    fig = go.Figure(go.Heatmap(z=canvas, colorscale="gray_r", showscale=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="text", text=texts, textfont=dict(color=colors, size=12),
                             hoverinfo="skip", showlegend=False))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(height=80 + rows * 70, margin=dict(l=0, r=0, t=10, b=0), plot_bgcolor="white")
    return fig
