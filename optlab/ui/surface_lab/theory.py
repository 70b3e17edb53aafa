"""The Surface Lab's theory check on the quadratic: κ, the optimal step sizes (one click to use them), and the
rate theory predicts (``optlab.theory``) beside the measured one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from optlab import theory
from optlab.config.surface_lab import LabConfig, predicted_rate
from optlab.surfaces import Surface
from optlab.trace import Trace
from optlab.ui.widgets import set_optimizer_values, set_schedule_values

SS = st.session_state


def _use_gd(alpha: float) -> None:
    set_optimizer_values("sl_r1", "sgd", {"lr": alpha, "weight_decay": 0.0})
    set_schedule_values("sl_r1", "constant")
    SS.sl_r1_groups = False  # α* is one step size for both directions
    SS.sl_noise = 0.0


def _use_momentum(alpha: float, beta: float) -> None:
    SS.sl_nruns = max(int(SS.get("sl_nruns", 1)), 2)
    set_optimizer_values("sl_r2", "momentum", {"lr": alpha, "momentum": beta, "dampening": 0.0,
                                                "weight_decay": 0.0})
    set_schedule_values("sl_r2", "constant")
    SS.sl_r2_groups = False
    SS.sl_noise = 0.0


def theory_panel(surface: Surface, cfg: LabConfig, traces: Sequence[Trace]) -> None:
    """κ, the optimal step sizes with a "use it" button each, and predicted vs measured convergence rates."""
    lam_min, lam_max = surface.hessian_eigs
    kappa = lam_max / lam_min
    a_gd, r_gd = theory.gd_optimal(lam_min, lam_max)
    a_m, b_m, r_m = theory.momentum_optimal(lam_min, lam_max)
    st.markdown(f"Hessian eigenvalues λ = {lam_min:.6g}, {lam_max:.6g}; condition number **κ = {kappa:.6g}**.")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Gradient descent**: α* = 2/(λ₁+λₙ)")
        st.metric("optimal step α*", f"{a_gd:.6g}")
        st.metric("rate (κ−1)/(κ+1)", f"{r_gd:.6g}")
        st.button("use it (run 1 = SGD with α*)", key="sl_theory_gd", on_click=_use_gd, args=(a_gd,))
    with c2:
        st.markdown("**Momentum**: α* = (2/(√λ₁+√λₙ))², β* = ((√κ−1)/(√κ+1))²")
        st.metric("optimal step α*", f"{a_m:.6g}")
        st.metric("optimal momentum β*", f"{b_m:.6g}")
        st.metric("rate (√κ−1)/(√κ+1)", f"{r_m:.6g}")
        st.button("use it (run 2 = momentum with α*, β*)", key="sl_theory_mom", on_click=_use_momentum,
                  args=(a_m, b_m))
    rows = []
    for run, tr in zip(cfg.runs, traces, strict=True):
        pred = predicted_rate(run, (lam_min, lam_max), axis_aligned=cfg.param("angle") == 0)
        errors = surface.nearest_minimum_distance(tr.points)
        try:
            measured = theory.measured_rate(errors)
        except ValueError:  # too short, diverged or already at the minimum: nothing to fit
            measured = None
        rows.append({"run": tr.label, "predicted rate": "—" if pred is None else f"{pred:.6f}",
                     "measured rate": "—" if measured is None or not math.isfinite(measured) else f"{measured:.6f}"})
    st.markdown("**Predicted vs measured** (measured: the geometric mean shrink of the distance to the minimum)")
    if any(run.lr_y_factor is not None for run in cfg.runs):
        st.caption("A run with two param groups on the unrotated bowl is two 1D problems: x (λ₁) with the x "
                   "group's lr and y (λₙ) with the y group's; the slower one sets the rate. A larger lr for the "
                   "flat direction is a diagonal preconditioner: it can beat the best single lr. Rotated, the groups "
                   "mix the directions and no rate is predicted here.")
    st.dataframe(rows, hide_index=True, key="sl_theory_table")
