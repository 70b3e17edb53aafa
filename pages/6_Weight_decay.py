"""Weight decay: L2 in the gradient vs decoupled (AdamW) vs none, and one SGD step worked out."""

import streamlit as st

from optlab.lessons import weight_decay
from optlab.plots.lessons import bars
from optlab.ui.lesson import predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()

st.title("Weight decay")
st.markdown(
    r"`weight_decay=λ` in SGD adds $\lambda w$ to the gradient (an L2 penalty "
    r"$\tfrac{\lambda}{2}\lVert w\rVert^2$). For SGD that is the same as shrinking $w$ by "
    r"$\mathrm{lr}\cdot\lambda w$ each step. For Adam it is not: the added $\lambda w$ is divided by $\sqrt{v}$ "
    r"like the rest of the gradient. AdamW *decouples* the decay: it shrinks $w$ by $\mathrm{lr}\cdot\lambda w$ "
    "outside Adam's normalisation."
)

st.subheader("1. One SGD step on `loss = (x @ w).sum()`")
rows = {wd: weight_decay.one_sgd_step(wd) for wd in (0.0, 1.0)}
first = rows[0.0]
st.markdown(f"`x = {first['x']}`, `w = {first['w_before']}`, `lr = {first['lr']}`. The gradient of the loss is "
            "the column sums of `x`.")
st.dataframe(
    [{"weight_decay": wd, "loss": r["loss"], "w before": str(r["w_before"]), "grad (without decay)": str(r["grad"]),
      "w after": str([round(v, 6) for v in r["w_after"]])} for wd, r in rows.items()],
    hide_index=True,
)
st.markdown(r"With $\lambda > 0$ the decay adds $\lambda w$ to the gradient, so the step is")
st.latex(r"w \leftarrow w - \mathrm{lr}\,\bigl(\nabla_w L + \lambda w\bigr)")
show_code(weight_decay.one_sgd_step)

st.subheader("2. Why L2 and decoupled decay differ under Adam")
c1, c2, c3 = st.columns(3)
lr = c1.select_slider("lr", [0.001, 0.003, 0.01, 0.03], 0.01, key="wd_lr")
wd = c2.select_slider("weight_decay", [0.01, 0.03, 0.1, 0.3, 1.0], 0.1, key="wd_wd")
steps = c3.slider("steps", 50, 500, 200, 50, key="wd_steps")
scales = (1.0, 0.001)  # gradient noise σ of the loud and the quiet weight
out = weight_decay.decay_under_adam(lr, wd, steps, scales)
loud, quiet = out["shrink"]["Adam + L2"]
options = ["the loud one", "the quiet one", "both the same"]
answer = options[2] if abs(loud - quiet) <= 0.1 * max(abs(loud), abs(quiet)) else options[int(quiet > loud)]
explanation = (r"Adam divides the decay term $\lambda w$ by $\sqrt{v}$; the loud weight has a large $v$, so its "
               "decay is divided away.")
quiet_l2, quiet_free = out["final"]["Adam + L2"][1], out["final"]["no decay"][1]
if answer != options[1] and abs(quiet_l2) < 0.05:
    explanation += (f" At these settings decay took the quiet weight all the way to {quiet_l2:.2g}; its bar only "
                    f"shows how far it had drifted without decay (to {quiet_free:.2g}). Try a smaller lr or decay.")
if predict_then_reveal(
    "wd_adam",
    rf"Two weights start at 1 and see zero-mean gradient noise, one loud ($\sigma = {scales[0]:g}$), one quiet "
    rf"($\sigma = {scales[1]:g}$). With Adam + L2, which weight does decay shrink more?",
    options,
    answer,
    explanation,
):
    shrink = {f"{name}, {which}": out["shrink"][name][i]
              for name in ("Adam + L2", "AdamW") for i, which in enumerate(("loud", "quiet"))}
    st.plotly_chart(bars(shrink, f"How much decay lowered each weight after {steps} steps",
                         "w(no decay) − w(with decay)"), key="wd_bars")
    st.markdown(f"Each weight's value after {steps} steps (both start at 1):")
    st.dataframe([{"run": name, "loud weight": v[0], "quiet weight": v[1]} for name, v in out["final"].items()],
                 hide_index=True)
show_code(weight_decay.noisy_gradients, weight_decay.decay_under_adam)
