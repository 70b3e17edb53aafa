"""Momentum and Nesterov: the buffer as a weighted sum, dampening, oscillation, and the quadratic theory checked live."""

import numpy as np
import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import momentum as lesson
from optlab.plots.lessons import curves, paths
from optlab.surfaces import quadratic
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code, translated_rows
from optlab.ui.pages import use_app_navigation

use_app_navigation()
# The names lesson functions give their rows and columns, shown in the reader's language.
NAMES = (N_("method"), N_("predicted rate"), N_("measured rate"), N_("gradient descent"), N_("heavy ball"))


@st.cache_data(max_entries=8)
def bowl_grid(kappa: float) -> tuple:
    return quadratic(kappa).grid(60)


@st.cache_data(max_entries=16)
def theory_rows(kappa: float, steps: int) -> list[dict]:
    return lesson.theory_vs_measured(kappa, steps)


st.title(t("Momentum and Nesterov"))
controls = keep_in_link(8)
st.markdown(t(r"PyTorch's SGD keeps a buffer $b$ of past gradients $g$, with $\mu$ = `momentum` and "
              r"$\tau$ = `dampening`:"))
st.latex(r"b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t")
st.markdown(t(r"and steps along the buffer (with `nesterov=True`, along the gradient plus $\mu$ times the new "
              r"buffer):"))
st.latex(r"w \leftarrow w - \mathrm{lr}\cdot b_t \qquad\text{" + t("or") + r"}\qquad "
         r"w \leftarrow w - \mathrm{lr}\cdot(g_t + \mu\, b_t)")

st.subheader(t("1. The buffer is a weighted sum of past gradients"))
c1, c2 = st.columns(2)
mu = controls.widget(c1.slider, t("momentum μ"), 0.05, 0.99, 0.9, 0.01, key="mom_mu")
tau = controls.widget(c2.slider, t("dampening τ"), 0.0, 0.9, 0.0, 0.1, key="mom_dampening")
grads = [1.0, 2.0, -1.0, 0.5, 3.0, 0.0]
buf = lesson.buffer_vs_formula(grads, mu, tau)
st.markdown(t("Unrolling the recursion gives the buffer as a sum by hand, computed next to torch's own:"))
st.latex(r"b_t = \mu^{t-1} g_1 + (1 - \tau) \sum_{k=2}^{t} \mu^{t-k} g_k")
st.dataframe({"t": list(range(1, len(grads) + 1)), t("gradient g"): grads, t("buffer from torch"): buf["torch"],
              t("weighted sum by hand"): buf["formula"]}, hide_index=True)
st.markdown(t(
    r"The first buffer is **{first}**, the first gradient itself, not $(1 - \tau)\, g_1$: PyTorch "
    "starts the buffer at $g_1$ rather than at 0, so the first step is not shrunk by the dampening.",
    first=f"{buf['torch'][0]:g}",
))
show_code(lesson.buffer_vs_formula)

st.subheader(t(r"2. Under a constant gradient the step grows to $\mathrm{lr}/(1 - \mu)$"))
lr = 0.1
n_steps = 200
lengths = lesson.steps_under_constant_gradient(lr, mu, n_steps)
st.plotly_chart(curves({t("step length"): lengths},
                       t("gradient = 1, lr = {lr}, μ = {mu} (μ from the slider above)", lr=lr, mu=f"{mu:g}"),
                       y_title=t("step length |Δw|"), hline=lr / (1 - mu)), key="mom_terminal")
m1, m2 = st.columns(2)
m1.metric(t("step length after {n} steps", n=n_steps), f"{lengths[-1]:.4f}")
m2.metric(t(r"$\mathrm{lr}/(1 - \mu)$ (dashed line)"), f"{lr / (1 - mu):.4f}")
show_code(lesson.steps_under_constant_gradient)

st.subheader(t("3. Too much momentum oscillates"))
KAPPA, LR, STEPS = 10.0, 0.5, 60
runs = {f"μ = {m:g}": lesson.run_on_quadratic(KAPPA, LR, m, STEPS) for m in (0.0, 0.5, 0.95)}
distances = {k: float(np.linalg.norm(v[-1])) for k, v in runs.items()}  # the minimum is the origin
if predict_then_reveal(
    "mom_osc",
    t(r"On a bowl with $\kappa = {kappa}$ and $\mathrm{{lr}} = {lr}$, which momentum ends closest to the minimum "
      "after {steps} steps?", kappa=f"{KAPPA:g}", lr=f"{LR:g}", steps=STEPS),
    list(runs),
    min(distances, key=distances.get),
    t("Too little momentum crawls along the flat direction; too much circles around the minimum, because its "
      r"complex roots have modulus $\sqrt{\mu}$."),
):
    st.plotly_chart(paths(runs, t("SGD, lr = {lr}, on the quadratic with κ = {kappa}", lr=f"{LR:g}",
                                  kappa=f"{KAPPA:g}"),
                          contour=bowl_grid(KAPPA), minimum=(0.0, 0.0)), key="mom_paths")
    st.dataframe([{t("momentum"): k, t("distance to the minimum after {steps} steps", steps=STEPS): d}
                  for k, d in distances.items()], hide_index=True)
show_code(lesson.run_on_quadratic)

st.subheader(t("4. The theory of the quadratic, checked live"))
st.markdown(t("Tuned step sizes from `optlab.theory` (Goh, *Why Momentum Really Works*); the measured rate is "
              "fitted to the distance to the minimum over the run."))
kappa = controls.widget(st.select_slider,
                        t("condition number κ"), [10.0, 30.0, 100.0, 300.0, 1000.0], 100.0, key="mom_kappa")
rows = theory_rows(kappa, 300)
st.dataframe(translated_rows(rows, values=True), hide_index=True)
show_code(lesson.theory_vs_measured)
