"""Schedule-free averaging: the point where gradients are taken, the averaged point you evaluate, and no schedule."""

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import schedule_free_avg as lesson
from optlab.plots.lessons import curves, paths
from optlab.registry import REGISTRY
from optlab.surfaces import get_surface
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()
KAPPA = 10.0
BETA1 = REGISTRY["schedule_free"].hyper("beta1")  # β1 > 0: eval() divides by it
NAMES = {"z": N_("z (the SGD steps)"), "y": N_("y (gradients taken here)"), "x": N_("x (the average: evaluate here)")}


@st.cache_data(max_entries=32)
def sequences(lr: float, beta1: float, steps: int, noise: float) -> dict:
    return lesson.three_sequences(lr, beta1, steps, noise, kappa=KAPPA)


@st.cache_data(max_entries=4)
def bowl() -> tuple:
    return get_surface("quadratic", kappa=KAPPA).grid(80)


st.title(t("Schedule-free averaging"))
controls = keep_in_link(15)
st.markdown(t(
    "A learning-rate schedule that decays to zero needs the length of training in advance. Schedule-free AdamW "
    "(Defazio et al., *The Road Less Scheduled*, 2024) needs none: it keeps three points. $z$ takes plain "
    "(Adam-normalised) gradient steps, $x$ is a running average of the $z$'s, and the gradient is taken at $y$, "
    "between them:"))
st.latex(r"y_t = (1-\beta_1)\, z_t + \beta_1 x_t, \qquad z_{t+1} = z_t - \gamma_t\, \hat g(y_t), \qquad "
         r"x_{t+1} = (1 - c_{t+1})\, x_t + c_{t+1} z_{t+1}")
st.markdown(t(
    "With $c_t = 1/t$ (no warm-up), $x$ is the plain mean of every $z$ so far. In PyTorch the parameters hold $y$ "
    "while training (`optimizer.train()`) and $x$ after `optimizer.eval()`: evaluate and save in eval mode."))

c1, c2, c3, c4 = st.columns(4)
lr = controls.widget(c1.select_slider, t("learning rate"), [0.02, 0.05, 0.1, 0.2, 0.5], 0.2, key="sf_lr")
beta1 = controls.widget(c2.slider,
                        t("β₁ (interpolation)"), BETA1.min, 0.99, 0.9, 0.01, key="sf_beta1", help=t(BETA1.help))
noise = controls.widget(c3.slider, t("gradient noise"), 0.0, 2.0, 1.0, 0.1, key="sf_noise")
steps = controls.widget(c4.slider, t("steps"), 50, 500, 300, 50, key="sf_steps")
run = sequences(lr, beta1, steps, noise)
names = {k: t(v) for k, v in NAMES.items()}
settled = lesson.final_losses(run)
best = min(settled, key=settled.get)
if predict_then_reveal(
    "sf_best",
    t("On a noisy bowl (noise {noise:g}), which of the three points ends with the lowest loss, averaged over the "
      "last 20 steps?", noise=noise),
    [NAMES[k] for k in lesson.SEQUENCES], NAMES[best],
    t("z jumps with every noisy gradient; the average x cancels the noise out, as an averaged SGD does; y sits "
      "between them, weighted by β₁. That is why x is the point to evaluate."),
):
    left, right = st.columns(2)
    left.plotly_chart(paths({names[k]: run["paths"][k] for k in lesson.SEQUENCES},
                            t("The three sequences on the quadratic, κ = {kappa:g}", kappa=KAPPA),
                            contour=bowl(), minimum=(0.0, 0.0)), key="sf_paths")
    right.plotly_chart(curves({names[k]: run["losses"][k] for k in lesson.SEQUENCES}, t("Loss at each point"),
                              y_title=t("loss"), log_y=True), key="sf_losses")
    cols = st.columns(3)
    for col, k in zip(cols, lesson.SEQUENCES, strict=True):
        col.metric(t("{name}: mean loss, last 20 steps", name=k), f"{settled[k]:.4g}", help=names[k])
show_code(lesson.three_sequences, lesson.final_losses)
