"""Failure gallery: Adam's counterexample, divergence past 2/λ_max, Adam without bias correction, a saddle."""

import math

import streamlit as st

from optlab.lessons import failures
from optlab.plots.lessons import curves
from optlab.surfaces import quadratic
from optlab.ui.lesson import dash_missing, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()


@st.cache_data(max_entries=16)
def counterexample(C: float, alpha: float, steps: int) -> dict:
    return failures.amsgrad_counterexample(C, alpha, steps)


st.title("Failure gallery")
st.markdown("Each case puts the number theory expects next to the number the run produced.")

ALPHA = 0.1  # the step size alpha of the theorem

st.subheader("1. Adam on a sequence of linear losses, next to AMSGrad")
st.markdown("Reddi, Kale and Kumar (ICLR 2018), Theorem 1: on $[-1, 1]$ the loss at step $t$ is")
st.latex(r"f_t(x) = \begin{cases} C x & \text{if } t \bmod 3 = 1, \\ -x & \text{otherwise.} \end{cases}")
st.markdown(
    r"On average the gradient is positive, so the best point is $x = -1$. With $\beta_1 = 0$, "
    rf"$\beta_2 = 1/(1 + C^2)$ and step $\alpha/\sqrt{{t}}$ ($\alpha = {ALPHA:g}$), each $x$ is projected back "
    "into $[-1, 1]$ after its step."
)
c1, c2 = st.columns(2)
C = c1.slider("C", 2.5, 6.0, 3.0, 0.5, key="fail_C")
steps = c2.select_slider("steps", [1000, 3000, 10000], 3000, key="fail_steps")
ams = counterexample(C, ALPHA, steps)
options = {"near −1, the best point": -1.0, "near 0": 0.0, "near +1, the worst point": 1.0}
if predict_then_reveal(
    "fail_ams",
    f"$C = {C:g}$, {steps} steps. Where does Adam end?",
    options,
    min(options, key=lambda o: abs(options[o] - ams["adam"][-1])),
    r"With $\beta_2 = 1/(1 + C^2)$ Adam's $v$ forgets the rare large gradient within a step or two, so the two "
    r"small gradients the other way push harder. AMSGrad keeps the largest $v$ seen so far, so the large gradient "
    f"keeps its weight and it heads for $-1$ (it ends at {ams['amsgrad'][-1]:.2f}).",
):
    st.plotly_chart(curves({"Adam": ams["adam"], "AMSGrad": ams["amsgrad"]}, "xₜ (dashed: the best point)",
                           y_title="x", hline=ams["best"]), key="fail_ams_plot")
    a1, a2, a3 = st.columns(3)
    a1.metric("best point", f"{ams['best']:g}")
    a2.metric("Adam ends at", f"{ams['adam'][-1]:.4f}")
    a3.metric("AMSGrad ends at", f"{ams['amsgrad'][-1]:.4f}")
show_code(failures.amsgrad_counterexample)

st.subheader(r"2. Divergence just past $\mathrm{lr} = 2/\lambda_{\max}$")
factors = (0.9, 0.99, 1.01, 1.1)
KAPPA = 10.0
lam_min, lam_max = quadratic(KAPPA).hessian_eigs
rows = failures.divergence_past_two_over_lambda(factors, KAPPA)
st.markdown(rf"Gradient descent on the quadratic with $\kappa = {KAPPA:g}$ (Hessian eigenvalues "
            rf"$\lambda = {lam_min:g}$ and ${lam_max:g}$), at learning rates around "
            rf"$2/\lambda_{{\max}} = {2 / lam_max:g}$:")
st.dataframe(rows, hide_index=True, column_config={
    "lr / (2 / lambda_max)": st.column_config.NumberColumn("lr ÷ (2/λₘₐₓ)"),
    "predicted rate": st.column_config.NumberColumn("predicted rate maxᵢ |1 − lr·λᵢ|", format="%.4f"),
    "measured rate": st.column_config.NumberColumn("measured rate per step", format="%.4f"),
    "final distance": st.column_config.NumberColumn("final distance to the minimum", format="%.4g"),
})
st.markdown(r"Rate below 1: the distance shrinks every step; above 1: it grows. The boundary is exactly "
            r"$\mathrm{lr} = 2/\lambda_{\max}$, where $|1 - \mathrm{lr}\cdot\lambda_{\max}| = 1$.")
show_code(failures.divergence_past_two_over_lambda)

st.subheader("3. Adam without bias correction")
lr = st.select_slider("lr", [0.001, 0.01, 0.1], 0.01, key="fail_lr")
grad, betas = (3.0, -0.002), (0.9, 0.999)  # one large and one tiny gradient coordinate; torch's default betas
first = failures.adam_first_step(grad, lr, betas)
st.markdown(rf"Adam's first step on a gradient $g = ({grad[0]:g}, {grad[1]:g})$, with $\beta_1 = {betas[0]:g}$, "
            rf"$\beta_2 = {betas[1]:g}$:")
st.dataframe(
    [{"Adam": "with bias correction (torch)", "step in x": first["with correction"][0],
      "step in y": first["with correction"][1]},
     {"Adam": "without bias correction", "step in x": first["without correction"][0],
      "step in y": first["without correction"][1]}],
    hide_index=True,
)
b1, b2 = st.columns(2)
b1.metric(r"expected ratio $(1 - \beta_1)/\sqrt{1 - \beta_2}$", f"{first['expected ratio']:.4f}")
b2.metric("measured ratio, x coordinate", f"{first['without correction'][0] / first['with correction'][0]:.4f}")
st.markdown(r"With the correction the first step is $\pm\mathrm{lr}$ in every coordinate, whatever the "
            "gradient's scale.")
show_code(failures.adam_first_step)

st.subheader("4. Escaping a saddle")
y0 = st.select_slider("start y (x = 1)", [0.0, 1e-6, 1e-3, 0.1], 1e-3, key="fail_y0")
saddle_lr, max_steps = 0.01, 500
escape = failures.saddle_escape(saddle_lr, y0, max_steps)
never = f"never (in {max_steps} steps)"
st.dataframe(dash_missing([
    {"optimizer": r["optimizer"],
     "steps to escape": never if r["steps to escape"] is None else r["steps to escape"],
     "expected, ln(1/|y₀|) / ln(1 + 2·lr)": "never" if r.get("expected") == math.inf else r.get("expected")}
    for r in escape]), hide_index=True)
st.markdown(rf"Steps until $|y| > 1$, $\mathrm{{lr}} = {saddle_lr:g}$. The formula holds for plain SGD only, "
            r"whose $y$ grows by the factor $(1 + 2\,\mathrm{lr})$ each step.")
st.markdown(r"$f = x^2 - y^2$: along $y$ the gradient is $-2y$, so from $y = 0$ exactly no gradient method ever "
            "leaves.")
show_code(failures.saddle_escape)
