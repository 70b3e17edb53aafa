"""Narrated step: one optimizer step at a time, its gradient, momentum, direction and update as arrows with their numbers."""

from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from optlab.config.lessons import NARRATED_KAPPAS
from optlab.i18n import N_, t, translator
from optlab.lessons import narrated_step as lesson
from optlab.optim.explain import format_value
from optlab.plots.narration import fit_window, step_figure, step_size_figure
from optlab.presets import preset_lr
from optlab.registry import REGISTRY
from optlab.surfaces import SURFACES, get_surface
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation
from optlab.ui.widgets import optimizer_controls

use_app_navigation()
SS = st.session_state
QUESTION = {"optimizer": "adam", "kappa": 100.0, "steps": 20}


@st.cache_data(max_entries=64)
def narration(opt: str, hparams: tuple, surface: str, params: tuple, steps: int) -> lesson.Narration:
    return lesson.narrate(opt, dict(hparams), surface, steps, dict(params))


@st.cache_data(max_entries=64)
def grid(surface: str, params: tuple, window: tuple) -> tuple:
    return replace(get_surface(surface, **dict(params)), bounds=window).grid(120)


def vec(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:.4g}" for x in np.asarray(v).reshape(-1)) + ")"


def row(m: np.ndarray) -> str:
    """A 1×n matrix in LaTeX."""
    return r"\begin{pmatrix} " + " & ".join(f"{x:.4g}" for x in np.asarray(m).reshape(-1)) + r" \end{pmatrix}"


def move(delta: int, n_stages: int, n_steps: int) -> None:
    """Next or back by one stage; past the last stage of a step, on to the next step's first."""
    index = (SS.nar_t - 1) * n_stages + SS.nar_stage + delta
    index = min(max(index, 0), n_steps * n_stages - 1)
    SS.nar_t, SS.nar_stage = index // n_stages + 1, index % n_stages


st.title(t("Narrated step"))
controls = keep_in_link(12)
st.markdown(t(
    "One step of an optimizer, played in turn: the gradient, the momentum (or first moment), the adjusted "
    "direction and the update. Every number below is a term the optimizer recorded itself during that step "
    "(`optimizer.explain = True`, then `optimizer.explanations()`), and each line shows the formula it comes from."
))

settings, c3 = st.columns([1.3, 3])
tr = translator()  # format_func may run after this script run, outside the session's language
with settings:
    surface = controls.widget(st.selectbox,
                              t("surface"), list(SURFACES), format_func=lambda k: tr(SURFACES[k].name),
                              index=list(SURFACES).index("quadratic"), key="nar_surface")
    params = ()
    if surface == "quadratic":
        params = (("kappa", float(controls.widget(st.select_slider,
                                                  t("condition number κ"), NARRATED_KAPPAS, 10.0,
                                                  key="nar_kappa"))),)
    steps = controls.widget(st.slider, t("steps to record"), 5, lesson.MAX_STEPS, 40, key="nar_steps")
    zoom = controls.widget(st.toggle, t("zoom in on this step"), key="nar_zoom",
                           help=t("A close-up around the step, so a short update is seen beside the other arrows."))
    opt, hparams = optimizer_controls("nar", default="adam", on_pick=lambda k: {"lr": preset_lr(surface, k)},
                                      how=controls.how)

run = narration(opt, tuple(sorted(hparams.items())), surface, params, steps)
if run.n_steps == 0:
    st.error(t("The first step already left the surface (the loss or the point is not finite). Lower the "
               "learning rate: {label} stays finite here with a smaller step.", label=REGISTRY[opt].label))
    st.stop()
roles = [r for r in lesson.ROLES if any(r in rs for rs in run.roles)]
SS.nar_t = min(SS.get("nar_t", 1), run.n_steps)
SS.nar_stage = min(SS.get("nar_stage", len(roles) - 1), len(roles) - 1)
with c3:
    s1, s2, s3 = st.columns([2, 2, 1])
    controls.widget(s1.slider, t("step t"), 1, max(run.n_steps, 2), key="nar_t", disabled=run.n_steps < 2)
    controls.widget(s2.radio,
                    t("show up to"), range(len(roles)), format_func=lambda i: tr(lesson.ROLE_LABELS[roles[i]]),
                    key="nar_stage", horizontal=True)
    s3.button(t("◀ Back"), key="nar_back", on_click=move, args=(-1, len(roles), run.n_steps),
              use_container_width=True)
    s3.button(t("Next ▶"), key="nar_next", on_click=move, args=(1, len(roles), run.n_steps),
              use_container_width=True, type="primary")

step, shown = SS.nar_t, roles[: SS.nar_stage + 1]
f = get_surface(surface, **dict(params))
width = max(hi - lo for lo, hi in f.bounds)
window = lesson.zoom_window(run, step, width) if zoom else f.bounds
drawn, scale = lesson.arrows(run, step, max(hi - lo for lo, hi in window))
point = run.points[step - 1]
window = fit_window(window, [point] + [point + v for r, v in drawn.items() if r in shown])
names = {"gradient": t("−gradient"), "momentum": t("−momentum"), "direction": t("direction"),
         "update": t("update")}
labels = {r: names[r] if run.roles[step - 1][r] in lesson.PARAMETER_TERMS
          else (names[r] if scale == 1 else t("{name} ×{scale:g}", name=names[r], scale=scale)) for r in drawn}
left, right = c3.container(), c3.container()  # the figure full width, the narration under it
with left:
    fig = step_figure(grid(surface, params, window), bounds=window, path=run.points[:step],
                      arrows={r: v for r, v in drawn.items() if r in shown}, labels=labels,
                      log_levels=f.log_levels, minima=f.minima, path_name=t("path so far"),
                      point_name=t("point before step {t}", t=step),
                      title=t("{label}, step {t} of {n}", label=REGISTRY[opt].label, t=step, n=run.n_steps))
    st.plotly_chart(fig, key="nar_figure")
    st.caption(t("Arrows start at the point before the step. The update is drawn at its true length, so it ends "
                 "at the next point; so is any term that already carries the learning rate. The gradient, the "
                 "momentum and a direction without the learning rate point downhill (minus the term) and are "
                 "drawn at {scale:g} × their true length.", scale=scale))
with right:
    point, after = run.points[step - 1], run.points[step]
    stage_terms = run.stage_terms(step)
    def sentence(role: str) -> str:
        v = run.vector(step, role)
        if role == "gradient":
            return t("At θ = {p}, where f = {f:.4g}, the gradient is {g}, of length {n:.4g}.", p=vec(point),
                     f=run.losses[step - 1], g=vec(v), n=float(np.linalg.norm(v)))
        if role == "momentum":
            return t("The momentum term becomes {m}.", m=vec(v))
        if role == "direction":
            return t("The step follows the adjusted direction {d}.", d=vec(v))
        return t("The update {u} moves the point to {q}, where f = {f:.4g}.", u=vec(v), q=vec(after),
                 f=run.losses[step])

    for i, role in enumerate(shown, start=1):
        if role not in stage_terms:
            continue
        st.markdown(f"**{i}. {t(lesson.ROLE_LABELS[role]).capitalize()}.** {sentence(role)}")
        for name in stage_terms[role]:
            value = run.terms[step - 1][name]
            st.latex(f"{run.formulas.get(name, name)} = {format_value(torch.from_numpy(value))}")
show_code(lesson.narrate, lesson.role_terms, lesson.arrows)

sizes = lesson.effective_step_sizes(run)
if sizes is not None:
    rule = lesson.ADAPTIVE[opt]
    st.subheader(t("Each coordinate's own step size"))
    st.markdown(t(
        "An adaptive method divides by a running size of each coordinate's gradients, so each coordinate gets "
        "its own step size, {formula}. Where the gradients are large the step shrinks, where they are small it "
        "grows: that is why Adam moves about evenly in x and y on a stretched bowl. Step through the run and "
        "watch the bars.", formula=rule.formula))
    st.plotly_chart(step_size_figure(sizes, step, title=t("Effective step size {formula} at step {t}",
                                                          formula=rule.formula, t=step),
                                     y_title=t("step size"), x_title=t("step")), key="nar_sizes")
    show_code(lesson.effective_step_sizes)

muon = lesson.muon_matrices(run, step) if opt == "muon" else None
if muon is not None:
    st.subheader(t("Muon: the point as a 1×2 matrix"))
    st.markdown(t(
        "Muon treats the parameter as a matrix, here the 1×2 matrix of the point, and replaces its momentum by "
        "the nearest orthogonal matrix, computed by a few Newton–Schulz iterations in bfloat16. A 1×2 matrix "
        "has one singular value, its length: the iteration sets it to the same value, {sigma:.3g}, whatever the "
        "momentum's length (Muon's coefficients trade an exact 1 for speed), so only the direction of the "
        "momentum is left.", sigma=muon["sigma_after"]))
    st.latex(rf"\theta_{{t-1}} = {row(muon['point'])}, \quad g_t = {row(muon['gradient'])}")
    st.latex(rf"\tilde B_t = {row(muon['before'])}, \quad \sigma = {muon['sigma_before']:.4g}")
    st.latex(rf"O_t = \mathrm{{NS}}(\tilde B_t) = {row(muon['after'])}, \quad \sigma = {muon['sigma_after']:.4g}")
    show_code(lesson.muon_matrices)

st.subheader(t("Where does Adam step further?"))
question = narration(QUESTION["optimizer"], tuple(sorted(REGISTRY["adam"].defaults().items())), "quadratic",
                     (("kappa", QUESTION["kappa"]),), QUESTION["steps"])
question_sizes = lesson.effective_step_sizes(question)[-1]
options = [N_("x, the flat direction"), N_("y, the steep direction"), N_("the same in both")]
answer = options[0] if question_sizes[0] > question_sizes[1] else options[1]
if predict_then_reveal(
    "nar_adam",
    t("On the quadratic with κ = {kappa:g} the bowl is flat along x and steep along y. After {n} steps of Adam "
      "(its registry settings), which coordinate has the larger effective step size?",
      kappa=QUESTION["kappa"], n=QUESTION["steps"]),
    options, answer,
    t("The gradient along x is small, so v̂ along x stays small and lr / (√v̂ + ε) stays large: Adam takes longer "
      "steps where the surface is flat, which evens out its progress in x and y."),
):
    st.plotly_chart(step_size_figure(lesson.effective_step_sizes(question), QUESTION["steps"],
                                     title=t("Adam on the quadratic, κ = {kappa:g}", kappa=QUESTION["kappa"]),
                                     y_title=t("step size"), x_title=t("step")), key="nar_question")
    q1, q2 = st.columns(2)
    q1.metric(t("x: lr / (√v̂ + ε) at step {n}", n=QUESTION["steps"]), f"{question_sizes[0]:.4g}")
    q2.metric(t("y: lr / (√v̂ + ε) at step {n}", n=QUESTION["steps"]), f"{question_sizes[1]:.4g}")
