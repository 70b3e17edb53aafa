"""EMA of weights: a shadow path on a noisy surface, the decay's τ warm-up, and the lag c·d/(1 − d) measured."""

import streamlit as st

from optlab import theory
from optlab.lessons import ema_weights
from optlab.plots.lessons import curves, paths
from optlab.surfaces import quadratic
from optlab.ui.lesson import predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()


@st.cache_data(max_entries=64)
def shadow(lr: float, noise: float, decay: float, tau: float, steps: int) -> dict:
    return ema_weights.shadow_path(lr, noise, decay, tau, steps)


@st.cache_data(max_entries=4)
def bowl_grid() -> tuple:
    return quadratic(4.0).grid(60)


st.title("EMA of weights")
st.markdown("Keep a second copy of the weights that follows the trained ones slowly, after every step:")
st.latex(r"W_{\text{ema}} \leftarrow d\, W_{\text{ema}} + (1 - d)\, W")
st.markdown(
    "With noisy gradients the trained weights jitter around the minimum; their average sits closer to it. The "
    "price is lag: on a steady slope the average trails behind."
)

LR, STEPS = 0.1, 300

st.subheader("1. A shadow path on a noisy surface")
c1, c2, c3 = st.columns(3)
noise = c1.slider("gradient noise σ", 0.0, 3.0, 1.0, 0.1, key="ema_noise")
decay = c2.select_slider("decay d", [0.5, 0.8, 0.9, 0.95, 0.98, 0.99], 0.95, key="ema_decay")
tau = c3.slider("warm-up τ (updates)", 0.0, 50.0, 0.0, 1.0, key="ema_tau")
run = shadow(LR, noise, decay, tau, STEPS)
st.plotly_chart(paths({"SGD weights": run["raw"], "EMA of the weights": run["ema"]},
                      f"SGD (lr = {LR:g}, {STEPS} steps) on a noisy quadratic bowl", contour=bowl_grid(),
                      minimum=(0.0, 0.0)), key="ema_paths")
st.markdown("Mean distance to the minimum over the second half of the run:")
m1, m2 = st.columns(2)
m1.metric("SGD weights", f"{run['raw_distance']:.4f}")
m2.metric("EMA of the weights", f"{run['ema_distance']:.4f}")
show_code(ema_weights.shadow_path)

st.subheader("2. The decay and its τ warm-up")
st.markdown(r"With a warm-up $\tau > 0$ the decay used at update $t$ grows towards `decay` ($\tau = 0$ keeps it "
            "constant):")
st.latex(r"d_t = \text{decay}\cdot\bigl(1 - e^{-t/\tau}\bigr)")
st.markdown("Early on the average follows the weights closely and forgets its start.")
st.plotly_chart(
    curves({f"τ = {t:g}": ema_weights.decay_warmup(0.999, t, 2000) for t in (0.0, 100.0, 500.0, 2000.0)},
           "decay used at update t (decay = 0.999)", x_title="update t", y_title="decay dₜ"),
    key="ema_warmup",
)
show_code(ema_weights.decay_warmup)

st.subheader("3. The lag on a ramp")
QUESTION_DECAY, RAMP_STEPS = 0.99, 5000
expected_lag = theory.ema_lag(1.0, QUESTION_DECAY)  # c·d/(1 − d) with c = 1
options = [f"about {n:g} step{'s' if n != 1 else ''}" for n in (1.0, 10.0, round(expected_lag))]
if predict_then_reveal(
    "ema_lag",
    f"Weights grow by 1 per step. How far behind is an EMA with $d = {QUESTION_DECAY:g}$ once it has settled?",
    options,
    options[-1],
    rf"The lag is $c\,d/(1 - d) = {expected_lag:g}$ steps' worth of growth.",
):
    st.markdown("Now try other slopes and decays; the lag is in the weights' own units ($c$ per step).")
    l1, l2 = st.columns(2)
    slope = l1.slider("slope c (growth per step)", 0.1, 5.0, 1.0, 0.1, key="ema_slope")
    lag_decay = l2.select_slider("decay d on the ramp", [0.5, 0.9, 0.95, 0.99], QUESTION_DECAY, key="ema_lag_decay")
    measured = ema_weights.lag_on_a_ramp(slope, lag_decay, RAMP_STEPS)
    r1, r2 = st.columns(2)
    r1.metric(r"expected lag $c\,d/(1 - d)$", f"{theory.ema_lag(slope, lag_decay):.4f}")
    r2.metric(f"measured lag after {RAMP_STEPS} steps", f"{measured:.4f}")
show_code(ema_weights.lag_on_a_ramp)
