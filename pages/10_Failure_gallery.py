"""Failure gallery: Adam's counterexample, divergence past 2/λ_max, Adam without bias correction, a saddle."""

import math

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import failures
from optlab.plots.lessons import curves
from optlab.surfaces import quadratic
from optlab.ui.lesson import dash_missing, keep_in_link, predict_then_reveal, show_code, translated_rows
from optlab.ui.pages import use_app_navigation

use_app_navigation()
# The names the lesson functions give their runs, shown in the reader's language.
RUN_NAMES = (N_("SGD + momentum 0.9"),)


@st.cache_data(max_entries=16)
def counterexample(C: float, alpha: float, steps: int) -> dict:
    return failures.amsgrad_counterexample(C, alpha, steps)


st.title(t("Failure gallery"))
controls = keep_in_link(10)
st.markdown(t("Each case puts the number theory expects next to the number the run produced."))

ALPHA = 0.1  # the step size alpha of the theorem

st.subheader(t("1. Adam on a sequence of linear losses, next to AMSGrad"))
st.markdown(t("Reddi, Kale and Kumar (ICLR 2018), Theorem 1: on $[-1, 1]$ the loss at step $t$ is"))
st.latex(r"f_t(x) = \begin{cases} C x & \text{" + t("if ") + r"} t \bmod 3 = 1, \\ -x & \text{"
         + t("otherwise.") + r"} \end{cases}")
st.markdown(t(
    r"On average the gradient is positive, so the best point is $x = -1$. With $\beta_1 = 0$, "
    r"$\beta_2 = 1/(1 + C^2)$ and step $\alpha/\sqrt{{t}}$ ($\alpha = {alpha}$), each $x$ is projected back "
    "into $[-1, 1]$ after its step.", alpha=f"{ALPHA:g}",
))
c1, c2 = st.columns(2)
C = controls.widget(c1.slider, "C", 2.5, 6.0, 3.0, 0.5, key="fail_C")
steps = controls.widget(c2.select_slider, t("steps"), [1000, 3000, 10000], 3000, key="fail_steps")
ams = counterexample(C, ALPHA, steps)
options = {N_("near −1, the best point"): -1.0, N_("near 0"): 0.0, N_("near +1, the worst point"): 1.0}
if predict_then_reveal(
    "fail_ams",
    t("$C = {C}$, {steps} steps. Where does Adam end?", C=f"{C:g}", steps=steps),
    options,
    min(options, key=lambda o: abs(options[o] - ams["adam"][-1])),
    t(r"With $\beta_2 = 1/(1 + C^2)$ Adam's $v$ forgets the rare large gradient within a step or two, so the two "
      r"small gradients the other way push harder. AMSGrad keeps the largest $v$ seen so far, so the large "
      "gradient keeps its weight and it heads for $-1$ (it ends at {end}).", end=f"{ams['amsgrad'][-1]:.4f}"),
):
    st.plotly_chart(curves({"Adam": ams["adam"], "AMSGrad": ams["amsgrad"]}, t("x after each step (dashed: the best point)"),
                           y_title="x", hline=ams["best"]), key="fail_ams_plot")
    a1, a2, a3 = st.columns(3)
    a1.metric(t("best point"), f"{ams['best']:g}")
    a2.metric(t("Adam ends at"), f"{ams['adam'][-1]:.4f}")
    a3.metric(t("AMSGrad ends at"), f"{ams['amsgrad'][-1]:.4f}")
show_code(failures.amsgrad_counterexample)

st.subheader(t(r"2. Divergence just past $\mathrm{lr} = 2/\lambda_{\max}$"))
factors = (0.9, 0.99, 1.01, 1.1)
KAPPA = 10.0
lam_min, lam_max = quadratic(KAPPA).hessian_eigs
rows = failures.divergence_past_two_over_lambda(factors, KAPPA)
st.markdown(t(r"Gradient descent on the quadratic with $\kappa = {kappa}$ (Hessian eigenvalues "
              r"$\lambda = {lam_min}$ and ${lam_max}$), at learning rates around "
              r"$2/\lambda_{{\max}} = {two_over}$:", kappa=f"{KAPPA:g}", lam_min=f"{lam_min:g}", lam_max=f"{lam_max:g}",
              two_over=f"{2 / lam_max:g}"))
st.dataframe(rows, hide_index=True, column_config={
    "lr / (2 / lambda_max)": st.column_config.NumberColumn("lr ÷ (2/λₘₐₓ)"),
    "lr": st.column_config.NumberColumn(t("lr")),
    "predicted rate": st.column_config.NumberColumn(t("predicted rate maxᵢ |1 − lr·λᵢ|"), format="%.4f"),
    "measured rate": st.column_config.NumberColumn(t("measured rate per step"), format="%.4f"),
    "final distance": st.column_config.NumberColumn(t("final distance to the minimum"), format="%.4g"),
})
st.markdown(t(r"Rate below 1: the distance shrinks every step; above 1: it grows. The boundary is exactly "
              r"$\mathrm{lr} = 2/\lambda_{\max}$, where $|1 - \mathrm{lr}\cdot\lambda_{\max}| = 1$."))
show_code(failures.divergence_past_two_over_lambda)

st.subheader(t("3. Adam without bias correction"))
lr = controls.widget(st.select_slider, t("lr"), [0.001, 0.01, 0.1], 0.01, key="fail_lr")
grad, betas = (3.0, -0.002), (0.9, 0.999)  # one large and one tiny gradient coordinate; torch's default betas
first = failures.adam_first_step(grad, lr, betas)
st.markdown(t(r"Adam's first step on a gradient $g = ({gx}, {gy})$, with $\beta_1 = {b1}$, $\beta_2 = {b2}$:",
              gx=f"{grad[0]:g}", gy=f"{grad[1]:g}", b1=f"{betas[0]:g}", b2=f"{betas[1]:g}"))
st.dataframe(translated_rows(
    [{"Adam": N_("with bias correction (torch)"), N_("step in x"): first["with correction"][0],
      N_("step in y"): first["with correction"][1]},
     {"Adam": N_("without bias correction"), N_("step in x"): first["without correction"][0],
      N_("step in y"): first["without correction"][1]}], values=True),
    hide_index=True,
)
b1, b2 = st.columns(2)
b1.metric(t(r"expected ratio $(1 - \beta_1)/\sqrt{1 - \beta_2}$"), f"{first['expected ratio']:.4f}")
b2.metric(t("measured ratio, x coordinate"), f"{first['without correction'][0] / first['with correction'][0]:.4f}")
st.markdown(t(r"With the correction the first step is $\pm\mathrm{lr}$ in every coordinate, whatever the "
              "gradient's scale."))
show_code(failures.adam_first_step)

st.subheader(t("4. Escaping a saddle"))
y0 = controls.widget(st.select_slider, t("start y (x = 1)"), [0.0, 1e-6, 1e-3, 0.1], 1e-3, key="fail_y0")
saddle_lr, max_steps = 0.01, 500
escape = failures.saddle_escape(saddle_lr, y0, max_steps)
never = t("never (in {steps} steps)", steps=max_steps)
st.dataframe(dash_missing([
    {t("optimizer"): t(r["optimizer"]),
     t("steps to escape"): never if r["steps to escape"] is None else r["steps to escape"],
     t("expected, ln(1/|y₀|) / ln(1 + 2·lr)"): t("never") if r.get("expected") == math.inf else r.get("expected")}
    for r in escape]), hide_index=True)
st.markdown(t(r"Steps until $|y| > 1$, $\mathrm{{lr}} = {lr}$. The formula holds for plain SGD only, "
              r"whose $y$ grows by the factor $(1 + 2\,\mathrm{{lr}})$ each step.", lr=f"{saddle_lr:g}"))
st.markdown(t(r"$f = x^2 - y^2$: along $y$ the gradient is $-2y$, so from $y = 0$ exactly no gradient method ever "
              "leaves."))
show_code(failures.saddle_escape)
