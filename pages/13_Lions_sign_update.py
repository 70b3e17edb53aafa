"""Lion's sign update: every coordinate moves by exactly ± the learning rate, on a surface and in a small net."""

import numpy as np
import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import lion_sign as lesson
from optlab.plots.histograms import histogram
from optlab.plots.lessons import curves, paths
from optlab.surfaces import get_surface
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()
KAPPA = 100.0
NET_STEPS = 10


@st.cache_data(max_entries=32)
def surface_run(lr: float, beta1: float, steps: int) -> dict:
    return lesson.sign_run("quadratic", lr, steps, beta1=beta1, surface_params={"kappa": KAPPA})


@st.cache_data(max_entries=16)
def net_ratios(lr: float) -> dict:
    return lesson.net_step_ratios(lr, NET_STEPS)


@st.cache_data(max_entries=4)
def bowl() -> tuple:
    return get_surface("quadratic", kappa=KAPPA).grid(80)


st.title(t("Lion's sign update"))
controls = keep_in_link(13)
st.markdown(t(
    "Lion (Chen et al., *Symbolic Discovery of Optimization Algorithms*, 2023) keeps one momentum $m$ and steps "
    "along the **sign** of an interpolation between it and the new gradient $g$:"))
st.latex(r"c_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad \theta_t = \theta_{t-1} - \mathrm{lr}\cdot "
         r"\mathrm{sign}(c_t), \qquad m_t = \beta_2 m_{t-1} + (1 - \beta_2)\, g_t")
st.markdown(t(
    "The size of the gradient never enters the step: every coordinate moves by exactly $\\pm\\,\\mathrm{lr}$ "
    "(without weight decay), whether its gradient is huge or tiny."))

st.subheader(t("1. On a stretched bowl"))
c1, c2, c3 = st.columns(3)
lr = controls.widget(c1.select_slider,
                     t("learning rate"), [0.005, 0.01, 0.02, 0.05, 0.1], 0.05, key="lion_lr")
beta1 = controls.widget(c2.slider, t("β₁ (interpolation)"), 0.0, 0.99, 0.9, 0.01, key="lion_beta1")
steps = controls.widget(c3.slider, t("steps"), 10, 300, 120, 10, key="lion_steps")
run = surface_run(lr, beta1, steps)
left, right = st.columns(2)
left.plotly_chart(paths({t("Lion"): run["path"]}, t("Lion on the quadratic, κ = {kappa:g}", kappa=KAPPA),
                        contour=bowl(), minimum=(0.0, 0.0)), key="lion_path")
right.plotly_chart(curves({t("x"): run["ratios"][:, 0], t("y"): run["ratios"][:, 1]},
                          t("Each coordinate's step, divided by lr"), y_title=t("|Δθ| / lr"), y_range=(0.0, 1.2)),
                   key="lion_ratios")
m1, m2, m3 = st.columns(3)
m1.metric(t("smallest |Δθ| / lr"), f"{run['ratios'].min():.6f}")
m2.metric(t("largest |Δθ| / lr"), f"{run['ratios'].max():.6f}")
m3.metric(t("loss after {n} steps", n=steps), f"{run['losses'][-1]:.4g}")
st.markdown(t(
    "Every step is a diagonal move of length $\\sqrt{2}\\,\\mathrm{lr}$, so the path is a staircase at 45°. The "
    "steep direction y gets no longer step than the flat direction x; near the minimum Lion cannot settle and "
    "keeps hopping by lr: its loss stops at the size lr allows, which is why Lion is run with a smaller lr than "
    "Adam (and usually a schedule)."))
show_code(lesson.sign_run)

st.subheader(t("2. In a small network"))
net_lr = controls.widget(st.select_slider,
                         t("learning rate of both runs"), [1e-4, 1e-3, 1e-2], 1e-3, key="lion_net_lr")
ratios = net_ratios(net_lr)
share = lesson.share_at_exactly_lr(ratios["Lion"])
options = [N_("about a tenth"), N_("about half"), N_("all of them")]
answer = options[int(np.argmin([abs(share - v) for v in (0.1, 0.5, 1.0)]))]
if predict_then_reveal(
    "lion_net",
    t("A 4-16-16-1 network trains for {n} steps with Lion and, from the same weights, with Adam. In the last "
      "step, what share of the {count} weights did Lion move by exactly lr?", n=NET_STEPS,
      count=len(ratios["Lion"])),
    options, answer,
    t("The sign of every coordinate of c is ±1, so every weight moves by lr. Adam's steps spread out: "
      "m̂/(√v̂ + ε) is near ±1 only where the gradient keeps its sign and size."),
):
    st.plotly_chart(histogram({t("Lion"): ratios["Lion"], t("Adam"): ratios["Adam"]},
                              title=t("Every weight's step in step {n}, divided by lr", n=NET_STEPS),
                              x_title=t("|Δθ| / lr"), y_title=t("weights"), x_range=(0.0, 1.2)), key="lion_hist")
    h1, h2 = st.columns(2)
    h1.metric(t("Lion: weights moved by exactly lr"), f"{share:.1%}")
    h2.metric(t("Adam: weights moved by exactly lr"), f"{lesson.share_at_exactly_lr(ratios['Adam']):.1%}")
show_code(lesson.net_step_ratios, lesson.share_at_exactly_lr)
