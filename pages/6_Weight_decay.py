"""Weight decay: L2 in the gradient vs decoupled (AdamW) vs none, and one SGD step worked out."""

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import weight_decay
from optlab.plots.lessons import bars
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code, translated_rows
from optlab.ui.pages import use_app_navigation

use_app_navigation()
# The names lesson functions give their runs, shown in the reader's language.
RUN_NAMES = (N_("no decay"), N_("Adam + L2"), N_("AdamW"))

st.title(t("Weight decay"))
controls = keep_in_link(6)
st.markdown(t(
    r"`weight_decay=λ` in SGD adds $\lambda w$ to the gradient (an L2 penalty "
    r"$\tfrac{\lambda}{2}\lVert w\rVert^2$). For SGD that is the same as shrinking $w$ by "
    r"$\mathrm{lr}\cdot\lambda w$ each step. For Adam it is not: the added $\lambda w$ is divided by $\sqrt{v}$ "
    r"like the rest of the gradient. AdamW *decouples* the decay: it shrinks $w$ by $\mathrm{lr}\cdot\lambda w$ "
    "outside Adam's normalisation."
))

st.subheader(t("1. One SGD step on `loss = (x @ w).sum()`"))
rows = {wd: weight_decay.one_sgd_step(wd) for wd in (0.0, 1.0)}
first = rows[0.0]
st.markdown(t("`x = {x}`, `w = {w}`, `lr = {lr}`. The gradient of the loss is the column sums of `x`.",
              x=first["x"], w=first["w_before"], lr=first["lr"]))
st.dataframe(translated_rows(
    [{"weight_decay": wd, N_("loss"): r["loss"], N_("w before"): str(r["w_before"]),
      N_("grad (without decay)"): str(r["grad"]), N_("w after"): str([round(v, 6) for v in r["w_after"]])}
     for wd, r in rows.items()]),
    hide_index=True,
)
st.markdown(t(r"With $\lambda > 0$ the decay adds $\lambda w$ to the gradient, so the step is"))
st.latex(r"w \leftarrow w - \mathrm{lr}\,\bigl(\nabla_w L + \lambda w\bigr)")
show_code(weight_decay.one_sgd_step)

st.subheader(t("2. Why L2 and decoupled decay differ under Adam"))
c1, c2, c3 = st.columns(3)
lr = controls.widget(c1.select_slider, t("lr"), [0.001, 0.003, 0.01, 0.03], 0.01, key="wd_lr")
wd = controls.widget(c2.select_slider, t("weight_decay"), [0.01, 0.03, 0.1, 0.3, 1.0], 0.1, key="wd_wd")
steps = controls.widget(c3.slider, t("steps"), 50, 500, 200, 50, key="wd_steps")
scales = (1.0, 0.001)  # gradient noise σ of the loud and the quiet weight
out = weight_decay.decay_under_adam(lr, wd, steps, scales)
loud, quiet = out["shrink"]["Adam + L2"]
options = [N_("the loud one"), N_("the quiet one"), N_("both the same")]
answer = options[2] if abs(loud - quiet) <= 0.1 * max(abs(loud), abs(quiet)) else options[int(quiet > loud)]
explanation = t(r"Adam divides the decay term $\lambda w$ by $\sqrt{v}$; the loud weight has a large $v$, so its "
                 "decay is divided away.")
quiet_l2, quiet_free = out["final"]["Adam + L2"][1], out["final"]["no decay"][1]
if answer != options[1] and abs(quiet_l2) < 0.05:
    explanation += t(" At these settings decay took the quiet weight all the way to {quiet}; its bar only shows how "
                     "far it had drifted without decay (to {free}). Try a smaller lr or decay.",
                     quiet=f"{quiet_l2:.2g}", free=f"{quiet_free:.2g}")
if predict_then_reveal(
    "wd_adam",
    t(r"Two weights start at 1 and see zero-mean gradient noise, one loud ($\sigma = {loud}$), one quiet "
      r"($\sigma = {quiet}$). With Adam + L2, which weight does decay shrink more?", loud=f"{scales[0]:g}",
      quiet=f"{scales[1]:g}"),
    options,
    answer,
    explanation,
):
    shrink = {t("{run}, {which}", run=t(name), which=which): out["shrink"][name][i]
              for name in ("Adam + L2", "AdamW") for i, which in enumerate((t("loud"), t("quiet")))}
    st.plotly_chart(bars(shrink, t("How much decay lowered each weight after {steps} steps", steps=steps),
                         t("w(no decay) − w(with decay)")), key="wd_bars")
    st.markdown(t("Each weight's value after {steps} steps (both start at 1):", steps=steps))
    st.dataframe(translated_rows([{N_("run"): name, N_("loud weight"): v[0], N_("quiet weight"): v[1]}
                                  for name, v in out["final"].items()], values=True),
                 hide_index=True)
show_code(weight_decay.noisy_gradients, weight_decay.decay_under_adam)
