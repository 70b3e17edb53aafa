"""Failure gallery: Adam's counterexample, divergence past 2/λ_max, Adam without bias correction, a saddle."""

import streamlit as st

from optlab.lessons import failures
from optlab.plots.lessons import curves
from optlab.ui.lesson import predict_then_reveal, show_code


@st.cache_data(max_entries=16)
def counterexample(C: float, alpha: float, steps: int) -> dict:
    return failures.amsgrad_counterexample(C, alpha, steps)


st.title("Failure gallery")
st.markdown("Each case puts the number theory expects next to the number the run produced.")

st.subheader("1. Adam converges to the worst point; AMSGrad does not")
st.markdown(
    "Reddi, Kale and Kumar (ICLR 2018), Theorem 1: on [−1, 1], f_t(x) = C·x when t mod 3 = 1, else −x. "
    "On average the gradient is positive, so the best point is x = −1. With β₁ = 0, β₂ = 1/(1 + C²) and "
    "step α/√t, Adam's rare large gradient is forgotten too fast and it drifts to +1."
)
c1, c2 = st.columns(2)
C = c1.slider("C", 2.5, 6.0, 3.0, 0.5, key="fail_C")
steps = c2.select_slider("steps", [1000, 3000, 10000], 3000, key="fail_steps")
ams = counterexample(C, 0.1, steps)
options = {"near −1, the best point": -1.0, "near 0": 0.0, "near +1, the worst point": 1.0}
predict_then_reveal(
    "fail_ams",
    "Where does Adam end?",
    options,
    min(options, key=lambda o: abs(options[o] - ams["adam"][-1])),
    "AMSGrad keeps the largest v seen so far, so the rare large gradient keeps its weight and it reaches −1.",
)
st.plotly_chart(curves({"Adam": ams["adam"], "AMSGrad": ams["amsgrad"]}, "x_t", y_title="x", hline=ams["best"]),
                key="fail_ams_plot")
a1, a2, a3 = st.columns(3)
a1.metric("best point", f"{ams['best']:g}")
a2.metric("Adam ends at", f"{ams['adam'][-1]:.4f}")
a3.metric("AMSGrad ends at", f"{ams['amsgrad'][-1]:.4f}")
show_code(failures.amsgrad_counterexample)

st.subheader("2. Divergence just past lr = 2/λ_max")
factors = (0.9, 0.99, 1.01, 1.1)
rows = failures.divergence_past_two_over_lambda(factors)
st.dataframe(rows, hide_index=True)
st.markdown("Rate below 1: the distance shrinks every step; above 1: it grows. The boundary is exactly 2/λ_max.")
show_code(failures.divergence_past_two_over_lambda)

st.subheader("3. Adam without bias correction")
lr = st.select_slider("lr", [0.001, 0.01, 0.1], 0.01, key="fail_lr")
first = failures.adam_first_step((3.0, -0.002), lr)
st.dataframe(
    [{"": "with correction (torch)", "step x": first["with correction"][0], "step y": first["with correction"][1]},
     {"": "without correction", "step x": first["without correction"][0], "step y": first["without correction"][1]}],
    hide_index=True,
)
b1, b2 = st.columns(2)
b1.metric("expected ratio (1 − β₁)/√(1 − β₂)", f"{first['expected ratio']:.4f}")
b2.metric("measured ratio, x coordinate", f"{first['without correction'][0] / first['with correction'][0]:.4f}")
st.markdown("With the correction the first step is ±lr in every coordinate, whatever the gradient's scale.")
show_code(failures.adam_first_step)

st.subheader("4. Escaping a saddle")
y0 = st.select_slider("start y (x = 1)", [0.0, 1e-6, 1e-3, 0.1], 1e-3, key="fail_y0")
escape = failures.saddle_escape(0.01, y0)
st.dataframe([{k: ("never (in 500 steps)" if v is None else v) for k, v in r.items()} for r in escape],
             hide_index=True)
st.markdown("f = x² − y²: along y the gradient is −2y, so from y = 0 exactly no gradient method ever leaves.")
show_code(failures.saddle_escape)
