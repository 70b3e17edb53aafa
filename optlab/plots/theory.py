"""Figures of the quadratic's momentum theory: the rate map over (α, β), the error along each eigenvector, the
phase portrait of each direction. Arrays (and the dicts of ``optlab.lessons.momentum_theory``) in, figures out.

Fonts are 14 px or more throughout, for a projector; where both axes are the same quantity they share one scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from optlab.i18n import t
from optlab.plots.surface import COLORS, f32

FONT = 14
TITLE_FONT = 17
#: fast (low rate) dark, slow light: the eye finds the dark valley of good settings
RATE_SCALE = "Viridis"
DIVERGED = "#bdbdbd"
RATE_LEVELS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
#: the index of the invisible click grid in ``rate_map_figure``
CLICK_GRID_INDEX = 0


def _fonts(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, font_size=TITLE_FONT, x=0, xanchor="left"), height=height,
                      font=dict(size=FONT), hoverlabel=dict(font_size=FONT),
                      legend=dict(font_size=FONT), margin=dict(l=70, r=20, t=60, b=60))
    fig.update_annotations(font_size=FONT)
    # Streamlit's chart theme sets smaller tick labels of its own: name every axis font explicitly
    fig.update_xaxes(tickfont_size=FONT, title_font_size=FONT)
    fig.update_yaxes(tickfont_size=FONT, title_font_size=FONT)
    return fig


def rate_color_range(optimal_rate: float) -> tuple[float, float]:
    """The colour scale's range: from just below the best rate there is (rounded down to 0.05) up to 1."""
    return float(np.floor(optimal_rate * 20.0) / 20.0), 1.0


def rate_map_figure(alphas: np.ndarray, betas: np.ndarray, rates: np.ndarray, lam_max: float,
                    optimum: tuple[float, float, float], current: tuple[float, float, float],
                    probes: Sequence[Mapping[str, Any]] = (), click_every: int = 2, height: int = 560) -> go.Figure:
    """The rate of heavy ball over (α, β), divergence greyed out, the optimum, the probes and the current run marked.

    ``rates[j, i]`` belongs to (``alphas[i]``, ``betas[j]``). Trace 0 is an invisible grid over every
    ``click_every``-th cell: a heat map sends no click events, scatter points do, and each carries its (α, β).
    Probe markers are filled with their *measured* rate in the map's own colours, so a probe that agrees with the
    map disappears into it; their labels print the measured rate.
    """
    rates = np.asarray(rates, dtype=np.float64)
    a_opt, b_opt, r_opt = optimum
    lo, hi = rate_color_range(r_opt)
    converges = rates < 1.0
    fig = go.Figure()
    ia, ib = np.arange(0, len(alphas), click_every), np.arange(0, len(betas), click_every)
    ga, gb = np.meshgrid(np.asarray(alphas)[ia], np.asarray(betas)[ib])
    fig.add_trace(go.Scatter(
        x=f32(ga.ravel()), y=f32(gb.ravel()), customdata=f32(rates[np.ix_(ib, ia)].ravel()), mode="markers",
        marker=dict(size=8, color="rgba(0,0,0,0)", symbol="square"), name="click grid", showlegend=False,
        hovertemplate=t("α = %{x:.3f}<br>β = %{y:.3f}<br>rate = %{customdata:.4f}<br>click to run here")
        + "<extra></extra>",
        unselected=dict(marker=dict(opacity=0)), selected=dict(marker=dict(opacity=0))))
    fig.add_trace(go.Heatmap(x=f32(alphas), y=f32(betas), z=f32(np.where(converges, rates, np.nan)),
                             coloraxis="coloraxis", hoverinfo="skip", name=t("rate")))
    fig.add_trace(go.Heatmap(x=f32(alphas), y=f32(betas), z=np.where(converges, np.nan, 1.0).astype(np.float32),
                             colorscale=[[0, DIVERGED], [1, DIVERGED]], showscale=False, hoverinfo="skip",
                             name=t("diverges")))
    z = f32(np.where(converges, rates, np.nan))
    for level in (v for v in RATE_LEVELS if v > r_opt + 0.01):  # one trace per level: Plotly spaces levels evenly
        fig.add_trace(go.Contour(
            x=f32(alphas), y=f32(betas), z=z, hoverinfo="skip", showscale=False, showlegend=False,
            contours=dict(coloring="none", showlabels=True, start=level, end=level, size=1.0,
                          labelfont=dict(size=FONT, color="black")),
            line=dict(color="rgba(0,0,0,0.6)", width=1), name=t("rate {level}", level=f"{level:g}")))
    edge = np.linspace(0.0, 1.0, 50)
    fig.add_trace(go.Scatter(x=(2.0 + 2.0 * edge) / lam_max, y=edge, mode="lines",
                             name=t("αλₙ = 2 + 2β: diverges beyond"),
                             line=dict(color="black", dash="dash", width=2), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t("diverges (rate ≥ 1)"),
                             marker=dict(symbol="square", size=14, color=DIVERGED)))
    measured = [p for p in probes if p.get("measured rate") is not None]
    if measured:
        fill = sample_colorscale(RATE_SCALE, [min(max((p["measured rate"] - lo) / (hi - lo), 0.0), 1.0)
                                              for p in measured])
        fig.add_trace(go.Scatter(
            x=[p["α"] for p in measured], y=[p["β"] for p in measured], mode="markers+text",
            marker=dict(symbol="diamond", size=18, color=fill, line=dict(color="white", width=2)),
            text=[f"{p['measured rate']:.4f}" for p in measured], cliponaxis=False,
            textposition=["top left" if p["α"] > 0.75 * float(alphas[-1]) else "top right" for p in measured],
            textfont=dict(size=FONT, color="black"), name=t("real runs (label: measured rate)"),
            customdata=[[t(p["run"]), p["rate on the map"], p["measured rate"]] for p in measured],
            hovertemplate=t("%{customdata[0]}<br>α = %{x:.4f}, β = %{y:.4f}<br>map %{customdata[1]:.4f}, "
                            "measured %{customdata[2]:.4f}") + "<extra></extra>",
            unselected=dict(marker=dict(opacity=1))))
    fig.add_trace(go.Scatter(
        x=[a_opt], y=[b_opt], mode="markers", name=t("optimum: rate {rate}", rate=f"{r_opt:.4f}"),
        marker=dict(symbol="star", size=22, color="#E69F00", line=dict(color="black", width=1.5)),
        hovertemplate=t("optimum<br>α* = {alpha}, β* = {beta}<br>rate {rate}", alpha=f"{a_opt:.4f}",
                        beta=f"{b_opt:.4f}", rate=f"{r_opt:.4f}") + "<extra></extra>",
        unselected=dict(marker=dict(opacity=1))))
    a, b, r = current
    fig.add_trace(go.Scatter(
        x=[a], y=[b], mode="markers", name=t("this run: rate {rate}", rate=f"{r:.4f}") if r < 1 else t("this run: diverges"),
        marker=dict(symbol="circle-open", size=20, color="#D55E00", line=dict(width=4)),
        hovertemplate=t("this run<br>α = {alpha}, β = {beta}<br>rate {rate}", alpha=f"{a:.4f}", beta=f"{b:.4f}",
                        rate=f"{r:.4f}") + "<extra></extra>",
        unselected=dict(marker=dict(opacity=1))))
    fig.update_layout(
        coloraxis=dict(colorscale=RATE_SCALE, cmin=lo, cmax=hi,
                       colorbar=dict(title=dict(text=t("rate per step"), side="right"), tickfont_size=FONT, len=0.9)),
        xaxis=dict(title=t("learning rate α"), range=[0.0, float(alphas[-1] + alphas[0])], constrain="domain"),
        yaxis=dict(title=t("momentum β"), range=[-0.03, 1.0]),
        legend=dict(orientation="h", yanchor="top", y=-0.14, x=0, xanchor="left"),
        clickmode="event+select", dragmode=False, uirevision="rate map", plot_bgcolor="white")
    fig = _fonts(fig, t("Convergence rate of heavy ball over (α, β): darker is faster; click to run there"), height)
    fig.update_layout(margin=dict(b=110))
    return fig


def component_error_figure(run: Mapping[str, Any], height: int = 460) -> go.Figure:
    """|cᵢ,ₜ| along each eigenvector on a log scale, each with its predicted |cᵢ,₀|·rᵢᵗ dashed, and the distance."""
    fig = go.Figure()
    ts = np.arange(run["steps"] + 1)
    top = float(np.max(run["distance"]))
    floor = top * 1e-13
    for i, comp in enumerate(run["components"]):
        err = np.where(comp["error"] > floor, comp["error"], np.nan)  # 0 and rounding noise have no log
        c = COLORS[i]
        fig.add_trace(go.Scatter(x=ts, y=f32(err), mode="lines", line=dict(color=c, width=3),
                                 name=t("{direction} = {lam}: measured {rate}", direction=t(comp["name"]),
                                        lam=f"{comp['lam']:.4g}", rate=_rate(comp["measured"]))))
        with np.errstate(over="ignore", under="ignore"):
            pred = abs(comp["position"][0]) * comp["predicted"] ** ts.astype(np.float64)
        fig.add_trace(go.Scatter(x=ts, y=f32(np.where(pred > floor, pred, np.nan)), mode="lines",
                                 line=dict(color=c, dash="dash", width=2),
                                 name=t("predicted |c₀|·rᵗ, r = {rate}", rate=f"{comp['predicted']:.4f}")))
    dist = np.where(run["distance"] > floor, run["distance"], np.nan)
    fig.add_trace(go.Scatter(x=ts, y=f32(dist), mode="lines", line=dict(color="#555555", width=1.5, dash="dot"),
                             name=t("distance to the minimum: measured {rate}", rate=_rate(run["measured"]))))
    fig.update_yaxes(type="log", exponentformat="power", title=t("|component of θₜ − θ*|"),
                     range=[np.log10(floor), np.log10(top) + 0.3])
    fig.update_xaxes(title=t("step t"), range=[0, run["steps"]])
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, xanchor="left"))
    fig = _fonts(fig, t("Error along each eigenvector, α = {alpha}, β = {beta}, κ = {kappa}",
                        alpha=f"{run['alpha']:.4g}", beta=f"{run['beta']:.4g}", kappa=f"{run['kappa']:g}"), height)
    fig.update_layout(margin=dict(b=130))
    return fig


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def phase_figure(run: Mapping[str, Any], height: int = 480) -> go.Figure:
    """Velocity cₜ − cₜ₋₁ against position cₜ for each eigen-direction, one panel each, one scale per panel."""
    comps = run["components"]
    titles = [t("{direction}: {motion}", direction=t(c["name"]), motion=_motion(c)) for c in comps]
    fig = make_subplots(rows=1, cols=len(comps), subplot_titles=titles, horizontal_spacing=0.1)
    for i, comp in enumerate(comps):
        x, v = comp["position"], comp["velocity"]
        col = i + 1
        fading = [[0.0, COLORS[i]], [1.0, "#e0e0e0"]]  # the colour fades with the step: where the run is late
        fig.add_trace(go.Scatter(x=f32(x), y=f32(v), mode="lines+markers", name=t(comp["name"]), showlegend=False,
                                 marker=dict(size=6, color=np.arange(len(x)), colorscale=fading, cmin=0,
                                             cmax=max(len(x) - 1, 1)),
                                 line=dict(color=COLORS[i], width=1),
                                 hovertemplate=t("step %{customdata}<br>position %{x:.4g}<br>velocity %{y:.4g}")
                                 + "<extra></extra>", customdata=np.arange(len(x))), row=1, col=col)
        fig.add_trace(go.Scatter(x=[x[0]], y=[v[0]], mode="markers", marker=dict(size=14, color="black",
                                 symbol="circle-open", line=dict(width=3)), name=t("start (at rest)"),
                                 showlegend=i == 0, hoverinfo="skip"), row=1, col=col)
        fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", marker=dict(size=16, color="black",
                                 symbol="x-thin", line=dict(width=3)), name=t("minimum"), showlegend=i == 0,
                                 hoverinfo="skip"), row=1, col=col)
        finite = np.isfinite(x) & np.isfinite(v)
        reach = float(max(np.max(np.abs(x[finite])), np.max(np.abs(v[finite])), 1e-12)) * 1.1
        fig.update_xaxes(title_text=t("position cₜ"), range=[-reach, reach], zeroline=True, row=1, col=col)
        fig.update_yaxes(title_text=t("velocity cₜ − cₜ₋₁"), range=[-reach, reach], zeroline=True,
                         scaleanchor="x" if col == 1 else f"x{col}", scaleratio=1, row=1, col=col)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"))
    fig = _fonts(fig, t("Phase portrait of each direction, α = {alpha}, β = {beta}", alpha=f"{run['alpha']:.4g}",
                        beta=f"{run['beta']:.4g}"), height)
    fig.update_layout(margin=dict(b=110))
    return fig


def _motion(comp: Mapping[str, Any]) -> str:
    kind = comp["damping"]
    return t("{kind}, flips every step", kind=t(kind.kind)) if kind.flips else t(kind.kind)
