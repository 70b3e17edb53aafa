"""EMA of weights: a shadow path on a noisy surface, the decay's τ warm-up, and the lag c·d/(1 − d) measured."""

import streamlit as st

from optlab import theory
from optlab.i18n import t, tn
from optlab.lessons import ema_weights
from optlab.plots.lessons import curves, paths
from optlab.surfaces import quadratic
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()


@st.cache_data(max_entries=64)
def shadow(lr: float, noise: float, decay: float, tau: float, steps: int) -> dict:
    return ema_weights.shadow_path(lr, noise, decay, tau, steps)


@st.cache_data(max_entries=4)
def bowl_grid() -> tuple:
    return quadratic(4.0).grid(60)


st.title(t("EMA of weights"))
controls = keep_in_link(9)
st.markdown(t("Keep a second copy of the weights that follows the trained ones slowly, after every step:"))
st.latex(r"W_{\text{ema}} \leftarrow d\, W_{\text{ema}} + (1 - d)\, W")
st.markdown(t(
    "With noisy gradients the trained weights jitter around the minimum; their average sits closer to it. The "
    "price is lag: on a steady slope the average trails behind."
))

LR, STEPS = 0.1, 300

st.subheader(t("1. A shadow path on a noisy surface"))
c1, c2, c3 = st.columns(3)
noise = controls.widget(c1.slider, t("gradient noise σ"), 0.0, 3.0, 1.0, 0.1, key="ema_noise")
decay = controls.widget(c2.select_slider,
                        t("decay d"), [0.5, 0.8, 0.9, 0.95, 0.98, 0.99], 0.95, key="ema_decay")
tau = controls.widget(c3.slider, t("warm-up τ (updates)"), 0.0, 50.0, 0.0, 1.0, key="ema_tau")
run = shadow(LR, noise, decay, tau, STEPS)
st.plotly_chart(paths({t("SGD weights"): run["raw"], t("EMA of the weights"): run["ema"]},
                      t("SGD (lr = {lr}, {steps} steps) on a noisy quadratic bowl", lr=f"{LR:g}", steps=STEPS),
                      contour=bowl_grid(),
                      minimum=(0.0, 0.0)), key="ema_paths")
st.markdown(t("Mean distance to the minimum over the second half of the run:"))
m1, m2 = st.columns(2)
m1.metric(t("SGD weights"), f"{run['raw_distance']:.4f}")
m2.metric(t("EMA of the weights"), f"{run['ema_distance']:.4f}")
show_code(ema_weights.shadow_path)

st.subheader(t("2. The decay and its τ warm-up"))
st.markdown(t(r"With a warm-up $\tau > 0$ the decay used at update $t$ grows towards `decay` ($\tau = 0$ keeps "
              "it constant):"))
st.latex(r"d_t = \text{decay}\cdot\bigl(1 - e^{-t/\tau}\bigr)")
st.markdown(t("Early on the average follows the weights closely and forgets its start."))
st.plotly_chart(
    curves({f"τ = {tau:g}": ema_weights.decay_warmup(0.999, tau, 2000) for tau in (0.0, 100.0, 500.0, 2000.0)},
           t("decay used at update t (decay = 0.999)"), x_title=t("update t"), y_title=t("decay dₜ")),
    key="ema_warmup",
)
show_code(ema_weights.decay_warmup)

st.subheader(t("3. The lag on a ramp"))
QUESTION_DECAY, RAMP_STEPS = 0.99, 5000
expected_lag = theory.ema_lag(1.0, QUESTION_DECAY)  # c·d/(1 − d) with c = 1
options = [tn("about {n} step", "about {n} steps", int(n)) for n in (1.0, 10.0, round(expected_lag))]
if predict_then_reveal(
    "ema_lag",
    t("Weights grow by 1 per step. How far behind is an EMA with $d = {d}$ once it has settled?",
      d=f"{QUESTION_DECAY:g}"),
    options,
    options[-1],
    t(r"The lag is $c\,d/(1 - d) = {lag}$ steps' worth of growth.", lag=f"{expected_lag:g}"),
):
    st.markdown(t("Now try other slopes and decays; the lag is in the weights' own units ($c$ per step)."))
    l1, l2 = st.columns(2)
    slope = controls.widget(l1.slider, t("slope c (growth per step)"), 0.1, 5.0, 1.0, 0.1, key="ema_slope")
    lag_decay = controls.widget(l2.select_slider,
                                t("decay d on the ramp"), [0.5, 0.9, 0.95, 0.99], QUESTION_DECAY, key="ema_lag_decay")
    measured = ema_weights.lag_on_a_ramp(slope, lag_decay, RAMP_STEPS)
    r1, r2 = st.columns(2)
    r1.metric(t(r"expected lag $c\,d/(1 - d)$"), f"{theory.ema_lag(slope, lag_decay):.4f}")
    r2.metric(t("measured lag after {steps} steps", steps=RAMP_STEPS), f"{measured:.4f}")
show_code(ema_weights.lag_on_a_ramp)
