"""Plotly figures of a 2D surface: contour with trajectories, click grid and inspector arrows, and a 3D view.

Arrays in, ``go.Figure`` out: no Streamlit, no running. A "trace" here is anything with ``label``, ``points``
(n+1, 2), ``diverged_at`` and ``ema_points`` (an ``optlab.trace.Trace``). The animated replay is in
``optlab.plots.animation``, loss and distance curves in ``optlab.plots.curves``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optlab.i18n import t

#: Okabe-Ito colours: distinguishable with colour-blindness and on a projector; run i gets COLORS[i].
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Pale at the bottom of the surface, darker higher up, so the coloured paths stand out.
CONTOUR_SCALE = [[0.0, "#fffaf0"], [0.35, "#dcebf5"], [0.7, "#9fbfd9"], [1.0, "#52779c"]]
N_LEVELS = 30


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def f32(a: Any) -> np.ndarray:
    """float32 copy: half the payload of float64, and a screen cannot show the difference."""
    return np.asarray(a, dtype=np.float32)


# --------------------------------------------------------------------------------------------------------------
# Contour levels
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Levels:
    """What the contour draws: ``z`` (log10(f − f₀ + δ) on a log scale, else f) and colour-bar ticks in f units."""

    z: np.ndarray
    log: bool
    offset: float  # f₀ − δ: f = 10^z + offset on a log scale
    tickvals: list[float]
    ticktext: list[str]

    def to_plot(self, f: Any) -> np.ndarray:
        """Values of f in the units of ``z`` (for 3D paths over a log-scaled surface)."""
        f = np.asarray(f, dtype=np.float64)
        if not self.log:
            return f
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log10(np.maximum(f - self.offset, 1e-300))


def levels(Z: np.ndarray, log: bool, f_min: float | None = None) -> Levels:
    """Contour values for ``Z``: on a log scale z = log10(f − f₀ + δ), f₀ the lowest value, δ = span·1e-6.

    δ keeps the minimum finite and sets how many decades below the span the finest contour reaches (six).
    """
    Z = np.asarray(Z, dtype=np.float64)
    finite = Z[np.isfinite(Z)]
    if not log or finite.size == 0:
        return Levels(Z, False, 0.0, [], [])
    f0 = float(finite.min()) if f_min is None else min(float(finite.min()), f_min)
    span = max(float(finite.max()) - f0, 1e-12)
    delta = span * 1e-6
    offset = f0 - delta
    with np.errstate(invalid="ignore"):
        z = np.log10(np.where(np.isfinite(Z), Z, np.nan) - offset)  # log10(f − f₀ + δ)
    # ticks where f − f₀ is a whole decade, labelled with f itself: 0.001, 0.01, ... when f₀ = 0
    lo, hi = math.ceil(math.log10(delta)), math.floor(math.log10(span))
    tickvals = [math.log10(10.0**k + delta) for k in range(lo, hi + 1)]
    ticktext = [f"{f0 + 10.0**k:.3g}" for k in range(lo, hi + 1)]
    return Levels(z, True, offset, tickvals, ticktext)


# --------------------------------------------------------------------------------------------------------------
# The contour with paths
# --------------------------------------------------------------------------------------------------------------


def contour_trace(xs: np.ndarray, ys: np.ndarray, lev: Levels, showscale: bool = True) -> go.Contour:
    z = f32(lev.z)
    finite = z[np.isfinite(z)]
    zlo, zhi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    size = (zhi - zlo) / N_LEVELS or 1.0
    colorbar = dict(title=dict(text="f", side="right"), thickness=12)
    if lev.log:
        colorbar.update(tickvals=lev.tickvals, ticktext=lev.ticktext)
    return go.Contour(
        x=f32(xs),
        y=f32(ys),
        z=z,
        contours=dict(start=zlo, end=zhi, size=size, coloring="fill", showlines=True),
        line=dict(width=0.5, color="rgba(60,80,110,0.35)"),
        colorscale=CONTOUR_SCALE,
        colorbar=colorbar,
        showscale=showscale,
        hoverinfo="skip",
        name=t("surface"),
        showlegend=False,
    )


def click_grid_trace(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, n: int = 40) -> go.Scatter:
    """An invisible n x n scatter over the contour: contours send no click events, scatter points do.

    Its hover also shows f at the point (customdata), which the log-scaled contour cannot.
    """
    ix = np.linspace(0, len(xs) - 1, n).round().astype(int)
    iy = np.linspace(0, len(ys) - 1, n).round().astype(int)
    gx, gy = np.meshgrid(np.asarray(xs)[ix], np.asarray(ys)[iy])
    gz = np.asarray(Z)[np.ix_(iy, ix)]
    return go.Scatter(
        x=f32(gx.ravel()),
        y=f32(gy.ravel()),
        customdata=f32(gz.ravel()),
        mode="markers",
        marker=dict(size=14, color="rgba(0,0,0,0)", symbol="square"),
        hovertemplate="x=%{x:.3f}<br>y=%{y:.3f}<br>f=%{customdata:.4g}<br>" + t("click to start here")
        + "<extra></extra>",
        name="click grid",
        showlegend=False,
    )


def minima_trace(minima: Sequence[Any]) -> go.Scatter:
    """Known minima (``Point``s with x, y, value, kind) as stars."""
    return go.Scatter(
        x=[p.x for p in minima],
        y=[p.y for p in minima],
        customdata=[[p.value, t(p.kind)] for p in minima],
        mode="markers",
        marker=dict(symbol="star", size=16, color="#FFD700", line=dict(color="black", width=1)),
        hovertemplate=t("%{customdata[1]} minimum") + "<br>(%{x:.4g}, %{y:.4g})<br>f=%{customdata[0]:.6g}"
        "<extra></extra>",
        name=t("minimum"),
    )


def ema_name(i: int) -> str:
    """Legend text of run i's EMA shadow (i from 0): the run's own label already says "+ EMA"."""
    return t("EMA shadow of run {n}", n=i + 1)


def average_name(i: int) -> str:
    """Legend text of run i's averaged sequence x_t (schedule-free's eval() point)."""
    return t("averaged point x of run {n} (where eval() puts it)", n=i + 1)


def evaluations_name(i: int) -> str:
    """Legend text of run i's closure evaluations (L-BFGS's line search)."""
    return t("line-search evaluations of run {n}", n=i + 1)


def trial_evaluations(tr: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closure evaluations of a run that are trial points: (origins (k, 2), points (k, 2), steps (k,)).

    Evaluation e of step s is drawn from θ_{s−1}, where step s began, to where it evaluated f. The path already
    shows θ_{s−1} (the first call of each step) and θ_s (the trial the step accepted), so calls there are left
    out, and so are non-finite points: what remains is where the line search looked beyond the steps taken.
    """
    empty = (np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    points = getattr(tr, "closure_points", None)
    if points is None or len(points) == 0:
        return empty
    points, steps = np.asarray(points, dtype=np.float64), np.asarray(tr.closure_steps, dtype=np.int64)
    path = np.asarray(tr.points, dtype=np.float64)
    keep = (steps >= 1) & (steps <= len(path) - 1) & np.isfinite(points).all(axis=1)
    origins = path[np.clip(steps - 1, 0, len(path) - 1)]
    accepted = path[np.clip(steps, 0, len(path) - 1)]
    keep &= ~(points == origins).all(axis=1) & ~(points == accepted).all(axis=1)
    return origins[keep], points[keep], steps[keep]


def _segments(origins: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of separate segments origin → end, NaN between them (Plotly breaks a line at a gap)."""
    gap = np.full(len(ends), np.nan)
    xs = np.column_stack([origins[:, 0], ends[:, 0], gap]).ravel()
    ys = np.column_stack([origins[:, 1], ends[:, 1], gap]).ravel()
    return xs, ys


def extra_sequence_traces(tr: Any, i: int) -> list[go.Scatter]:
    """A run's extra sequences on the contour: schedule-free's averaged x_t as a second line of the run's colour
    (dashed), and L-BFGS's trial evaluations as small open markers joined faintly to where their step began."""
    c = color(i)
    out = []
    average = getattr(tr, "average_points", None)
    if average is not None:
        avg = np.asarray(average)
        out.append(go.Scatter(
            x=f32(avg[:, 0]), y=f32(avg[:, 1]), mode="lines", line=dict(color=c, width=2.2, dash="dash"),
            name=average_name(i), legendgroup=f"run{i}",
            hovertemplate=t("{run}<br>after step %{{pointNumber}}", run=average_name(i))
            + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
        ))
    origins, ends, steps = trial_evaluations(tr)
    if len(ends):
        sx, sy = _segments(origins, ends)
        out.append(go.Scatter(x=f32(sx), y=f32(sy), mode="lines", line=dict(color=c, width=1), opacity=0.35,
                              hoverinfo="skip", showlegend=False, legendgroup=f"run{i}", name=evaluations_name(i)))
        out.append(go.Scatter(
            x=f32(ends[:, 0]), y=f32(ends[:, 1]), customdata=steps, mode="markers",
            marker=dict(symbol="circle-open", size=6, color=c, line=dict(width=1.2)),
            name=evaluations_name(i), legendgroup=f"run{i}",
            hovertemplate=t("{run}<br>evaluated by step %{{customdata}}", run=evaluations_name(i))
            + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
        ))
    return out


#: Size of a saved PNG in CSS pixels (scale 2 doubles them): wide enough for a legend of six long run labels.
IMAGE_SIZE = (1200, 720)
#: Figures name a font every computer has. Plotly sizes legend entries with the page's font, but a saved PNG is
#: drawn from an SVG image, which cannot use the page's web font (Source Sans): its wider fallback then ran
#: legend entries into each other and off the edge. A system font measures and draws the same in both.
#: Chinese text takes its glyphs from Noto Sans CJK (Debian's fonts-noto-cjk), named so that the SVG a PNG is
#: drawn from finds it too.
FONT = dict(family="Arial, Helvetica, 'Liberation Sans', 'Noto Sans CJK SC', sans-serif")


def image_config(name: str, width: int = IMAGE_SIZE[0], height: int = IMAGE_SIZE[1], **config: Any) -> dict:
    """Plotly's chart config whose camera button saves ``optlab_<name>.png`` at ``width`` x ``height``.

    Plotly names every download ``newplot.png`` unless ``toImageButtonOptions`` says otherwise, and without a
    size it saves the figure at its size on screen (https://plotly.com/javascript/configuration-options/): in a
    narrow column a legend of long run labels runs off the right edge. Saved at slide size the figure is laid out
    again, the legend wrapping inside it.
    """
    options = {"format": "png", "filename": f"optlab_{name}", "width": width, "height": height, "scale": 2}
    return {**config, "toImageButtonOptions": options}


def path_traces(tr: Any, i: int) -> list[go.Scatter]:
    """One run on the contour: its path, its EMA shadow (dotted), its extra sequences (``extra_sequence_traces``)
    and its end (a cross if it diverged)."""
    pts = np.asarray(tr.points)
    c = color(i)
    diverged = tr.diverged_at is not None
    out = [
        go.Scatter(
            x=f32(pts[:, 0]),
            y=f32(pts[:, 1]),
            mode="lines+markers",
            line=dict(color=c, width=2.5),
            marker=dict(size=3, color=c),
            name=tr.label,
            legendgroup=f"run{i}",
            hovertemplate=t("{run}<br>after step %{{pointNumber}}", run=tr.label)
            + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
        )
    ]
    if getattr(tr, "ema_points", None) is not None:
        ema = np.asarray(tr.ema_points)
        out.append(
            go.Scatter(
                x=f32(ema[:, 0]),
                y=f32(ema[:, 1]),
                mode="lines",
                line=dict(color=c, width=2, dash="dot"),
                name=ema_name(i),
                legendgroup=f"run{i}",
                hovertemplate=t("{run}<br>after step %{{pointNumber}}", run=ema_name(i))
                + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
            )
        )
    out += extra_sequence_traces(tr, i)
    end_text = (t("diverged at step {step}", step=tr.diverged_at) if diverged
                else t("end, after step {step}", step=len(pts) - 1))
    out.append(
        go.Scatter(
            x=f32(pts[-1:, 0]),
            y=f32(pts[-1:, 1]),
            mode="markers",
            marker=dict(symbol="x" if diverged else "circle", size=12 if diverged else 9, color=c,
                        line=dict(color="white", width=1)),
            name=end_text,
            legendgroup=f"run{i}",
            showlegend=False,
            hovertemplate=f"{tr.label}: {end_text}<extra></extra>",
        )
    )
    return out


def start_trace(start: Sequence[float]) -> go.Scatter:
    return go.Scatter(
        x=[float(start[0])],
        y=[float(start[1])],
        mode="markers",
        marker=dict(symbol="circle-open", size=14, color="black", line=dict(width=2)),
        name=t("start"),
        hovertemplate=t("start") + " (%{x:.4g}, %{y:.4g})<extra></extra>",
    )


def picture_image(picture: str, bounds: Sequence[Sequence[float]]) -> dict:
    """A layout image that fills the plot window with the contour picture (``optlab.plots.raster``)."""
    (x0, x1), (y0, y1) = bounds
    return dict(source=picture, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                sizing="stretch", layer="below")


def base_layout(bounds: Sequence[Sequence[float]], height: int = 620, title: str | None = None) -> dict:
    """Axes fixed to the surface's window (a diverging path must not zoom the picture out) at equal scale, so a
    round bowl draws round and a gradient is drawn perpendicular to its level set."""
    (x0, x1), (y0, y1) = bounds
    return dict(
        title=dict(text=title) if title else None,
        xaxis=dict(range=[x0, x1], title="x", constrain="domain"),
        yaxis=dict(range=[y0, y1], title="y", scaleanchor="x", scaleratio=1, constrain="domain"),
        height=height,
        margin=dict(l=50, r=20, t=40 if title else 20, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
        font={**FONT, "size": 14},  # readable from the back of a room
        uirevision="surface",  # keep the user's zoom when only the paths change
        dragmode="pan",
        clickmode="event+select",
    )


def contour_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    bounds: Sequence[Sequence[float]],
    traces: Sequence[Any] = (),
    minima: Sequence[Any] = (),
    start: Sequence[float] | None = None,
    log_levels: bool = False,
    f_min: float | None = None,
    click_grid: int = 40,
    height: int = 620,
    title: str | None = None,
) -> go.Figure:
    """The main picture: filled contour (log-scaled levels if asked), minima, start and every run's path.

    ``Z[i, j] = f(xs[j], ys[i])``. With ``click_grid`` > 0 an invisible scatter grid (trace 1) makes the plot
    clickable; its points carry their (x, y).
    """
    lev = levels(Z, log_levels, f_min)
    data: list[Any] = [contour_trace(xs, ys, lev)]
    if click_grid:
        data.append(click_grid_trace(xs, ys, Z, click_grid))
    for i, tr in enumerate(traces):
        data += path_traces(tr, i)
    if minima:
        data.append(minima_trace(minima))
    if start is not None:
        data.append(start_trace(start))
    return go.Figure(data=data, layout=base_layout(bounds, height, title))


#: the index of the click grid in a contour_figure with click_grid > 0
CLICK_GRID_INDEX = 1


def add_arrows(
    fig: go.Figure,
    point: Sequence[float],
    vectors: Mapping[str, Sequence[float]],
    bounds: Sequence[Sequence[float]],
    length: float = 0.15,
) -> go.Figure:
    """Arrows from ``point`` along each named vector, all drawn ``length`` x the plot width long.

    Only directions are to scale (gradients and updates differ by orders of magnitude); each label carries
    the vector's true length. Zero or non-finite vectors are skipped.
    """
    (x0, x1), (y0, y1) = bounds
    size = length * max(x1 - x0, y1 - y0)
    px, py = float(point[0]), float(point[1])
    for i, (name, v) in enumerate(vectors.items()):
        v = np.asarray(v, dtype=np.float64).reshape(-1)[:2]
        norm = float(np.linalg.norm(v))
        if not math.isfinite(norm) or norm == 0.0:
            continue
        tx, ty = px + size * v[0] / norm, py + size * v[1] / norm
        c = COLORS[(i + 1) % len(COLORS)] if i else "#B2182B"
        fig.add_annotation(
            x=tx, y=ty, ax=px, ay=py, xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=2.5, arrowcolor=c,
            text=f"{t(name)} ({norm:.3g})", font=dict(color=c, size=13), bgcolor="rgba(255,255,255,0.7)",
            xanchor="left" if v[0] >= 0 else "right",
        )
    fig.add_trace(
        go.Scatter(x=[px], y=[py], mode="markers", marker=dict(size=12, color="#B2182B", symbol="diamond"),
                   name=t("inspected point"), hovertemplate="(%{x:.5g}, %{y:.5g})<extra></extra>")
    )
    return fig


# --------------------------------------------------------------------------------------------------------------
# 3D
# --------------------------------------------------------------------------------------------------------------


def surface3d_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    traces: Sequence[Any] = (),
    log_levels: bool = False,
    f_min: float | None = None,
    max_side: int = 70,
    height: int = 620,
) -> go.Figure:
    """The surface in 3D (height log10(f − f₀ + δ) when log-scaled) with every path lying on it.

    The grid is thinned to at most ``max_side`` points per side: a 3D mesh costs far more to draw than a contour.
    """
    step = max(1, math.ceil(len(xs) / max_side))
    xs3, ys3, Z3 = np.asarray(xs)[::step], np.asarray(ys)[::step], np.asarray(Z)[::step, ::step]
    lev = levels(Z3, log_levels, f_min)
    data: list[Any] = [
        go.Surface(x=f32(xs3), y=f32(ys3), z=f32(lev.z), colorscale=CONTOUR_SCALE, showscale=False, opacity=0.95,
                   name=t("surface"), hoverinfo="skip")
    ]
    for i, tr in enumerate(traces):
        pts = np.asarray(tr.points)
        n = min(len(pts), len(tr.losses))
        z = lev.to_plot(np.asarray(tr.losses)[:n])
        data.append(
            go.Scatter3d(x=f32(pts[:n, 0]), y=f32(pts[:n, 1]), z=f32(z), mode="lines", name=tr.label,
                         line=dict(color=color(i), width=5), legendgroup=f"run{i}")
        )
        average, average_f = getattr(tr, "average_points", None), getattr(tr, "average_losses", None)
        if average is not None and average_f is not None:  # schedule-free's x_t, at f of its own points
            m = min(len(average), len(average_f))
            data.append(
                go.Scatter3d(x=f32(average[:m, 0]), y=f32(average[:m, 1]),
                             z=f32(lev.to_plot(np.asarray(average_f)[:m])), mode="lines", name=average_name(i),
                             legendgroup=f"run{i}", line=dict(color=color(i), width=4, dash="dash"))
            )
        ema, ema_f = getattr(tr, "ema_points", None), getattr(tr, "ema_losses", None)
        if ema is not None and ema_f is not None:  # the shadow lies on the surface too, at f of its own points
            ema = np.asarray(ema)
            m = min(len(ema), len(ema_f))
            data.append(
                go.Scatter3d(x=f32(ema[:m, 0]), y=f32(ema[:m, 1]), z=f32(lev.to_plot(np.asarray(ema_f)[:m])),
                             mode="lines", name=ema_name(i), legendgroup=f"run{i}",
                             line=dict(color=color(i), width=4, dash="dot"))
            )
    (x0, x1), (y0, y1) = (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1]))
    ztitle = "log10(f − f₀ + δ)" if lev.log else "f"
    return go.Figure(
        data=data,
        layout=dict(
            height=height,
            margin=dict(l=0, r=0, t=10, b=0),
            scene=dict(xaxis=dict(range=[x0, x1], title="x"), yaxis=dict(range=[y0, y1], title="y"),
                       zaxis=dict(title=ztitle), aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.6)),
            legend=dict(orientation="h"),
            font=FONT,
            uirevision="surface3d",
        ),
    )
