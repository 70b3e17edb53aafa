"""Adafactor's factored second moment: rows + columns instead of rows × columns, and how close the estimate is."""

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import adafactor_memory as lesson
from optlab.plots.heatmaps import matrices
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()
ROWS, COLS, STEPS = 12, 16, 30


@st.cache_data(max_entries=2)
def memory_rows() -> list[dict]:
    return lesson.state_memory()


@st.cache_data(max_entries=32)
def comparison(noise: float) -> dict:
    return lesson.factored_vs_full(ROWS, COLS, STEPS, noise)


st.title(t("Adafactor's factored second moment"))
controls = keep_in_link(14)
st.markdown(t(
    "Adam keeps two numbers per weight: the moving averages of $g$ and of $g^2$. For an $r \\times c$ weight "
    "matrix, Adafactor (Shazeer and Stern, 2018) keeps no first moment and stores the second one as a row "
    "average $R$ ($r$ numbers) and a column average $C$ ($c$ numbers) of $g^2$, and rebuilds the full matrix "
    "from them:"))
st.latex(r"R_t = \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\, \mathrm{mean}_{cols}(g_t^2), \quad "
         r"C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\, \mathrm{mean}_{rows}(g_t^2),")
st.latex(r"\hat V_t = \frac{R_t C_t}{\mathrm{mean}(R_t)}")  # two lines: one would be cut at 1280×720

st.subheader(t("1. Memory per parameter tensor"))
st.markdown(t("One step of each optimizer on a tensor of each shape, then the numbers in its `state` counted "
              "(the step counter left out). A tensor of more than two dimensions is factored over its last two."))
rows = memory_rows()
st.dataframe([{t("shape"): r["shape"], t("parameters"): r["parameters"],
               t("Adafactor state"): r["Adafactor state"], t("Adafactor keeps"): r["Adafactor keys"],
               t("Adam state"): r["Adam state"], t("Adam keeps"): r["Adam keys"],
               t("Adafactor state per parameter"): round(r["Adafactor / parameters"], 6)} for r in rows],
             hide_index=True)
big = max(rows, key=lambda r: r["parameters"])
st.markdown(t(
    "For the {shape} matrix Adafactor keeps **{factored:,}** numbers where Adam keeps **{adam:,}**: rows + "
    "columns instead of twice rows × columns. A vector (a bias) cannot be factored: Adafactor keeps its full "
    "$g^2$ average there.", shape=big["shape"], factored=big["Adafactor state"], adam=big["Adam state"]))
show_code(lesson.state_memory, lesson.state_numbers)

st.subheader(t("2. How good is the factored estimate?"))
st.markdown(t(
    "Feed Adafactor {steps} gradients of a {rows} × {cols} matrix, each $g_t = a b^\\top \\odot (1 + "
    "\\text{{noise}}\\cdot\\xi_t)$, and compare its estimate $\\hat V$ with the full moving average $v$ of $g^2$ "
    "it stands for, computed by hand with the same decay.", steps=STEPS, rows=ROWS, cols=COLS))
if predict_then_reveal(
    "af_exact",
    t("With noise 0 every $g_t^2$ is an outer product $a^2 (b^2)^\\top$. How close is the factored estimate to "
      "the full $v$?"),
    [N_("exactly equal"), N_("within about 10%"), N_("off by a factor of about 2")],
    N_("exactly equal") if comparison(0.0)["max_relative_error"] < 1e-9 else N_("within about 10%"),
    t("Row means times column means over the grand mean rebuild a rank-one matrix exactly. Noise makes $g^2$ "
      "a full-rank matrix and the estimate only approximate: raise the noise below and watch the error grow."),
):
    noise = controls.widget(st.slider, t("noise"), 0.0, 1.0, 0.0, 0.05, key="af_noise")
    out = comparison(noise)
    st.plotly_chart(matrices({t("full v (rows × columns numbers)"): out["full"],
                              t("factored estimate (rows + columns numbers)"): out["factored"]},
                             title=t("The second moment after {n} steps, noise {noise:g}", n=STEPS, noise=noise),
                             x_title=t("column"), y_title=t("row")), key="af_maps")
    e1, e2, e3 = st.columns(3)
    e1.metric(t("numbers stored"), f"{out['stored']} / {out['full_size']}")
    e2.metric(t("largest relative error"), f"{out['max_relative_error']:.3g}")
    e3.metric(t("mean relative error"), f"{out['mean_relative_error']:.3g}")
show_code(lesson.gradients, lesson.factored_vs_full)
