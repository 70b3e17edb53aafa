"""Why momentum works: the rate map over (α, β), the error along each eigenvector, and phase portraits."""

import streamlit as st

from optlab import theory
from optlab.i18n import N_, t
from optlab.lessons import momentum_theory as lesson
from optlab.plots.theory import component_error_figure, phase_figure, rate_map_figure
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code, translated_rows
from optlab.ui.pages import use_app_navigation

use_app_navigation()
SS = st.session_state
QUESTION_KAPPA = 100.0
ALPHA_LOW = 0.001
# The names the lesson and theory functions give directions, runs, kinds of motion and columns, shown translated.
NAMES = (N_("flat direction λ₁"), N_("steep direction λₙ"), N_("under-damped"), N_("critically damped"),
         N_("over-damped"), N_("run"), N_("rate on the map"), N_("measured rate"), N_("steps"),
         N_("optimum α*, β*"), N_("α*, more momentum"), N_("α*/2, β*"), N_("α*/2, more momentum"),
         N_("no momentum, best α"))


@st.cache_data(max_entries=32)
def rate_map(kappa: float) -> dict:
    return lesson.rate_map(kappa)


@st.cache_data(max_entries=32)
def probes(kappa: float) -> list[dict]:
    return lesson.measured_probes(kappa)


@st.cache_data(max_entries=64)
def eigen_run(kappa: float, alpha: float, beta: float) -> dict:
    return lesson.eigen_run(kappa, alpha, beta)


@st.cache_data(max_entries=32)
def optimum_reading(kappa: float) -> dict | None:
    return lesson.optimum_reading(kappa)


def _set(alpha: float, beta: float) -> None:
    """Run at (α, β): the map's sliders, and the phase portrait starts from the same β."""
    SS.wm_alpha = min(max(float(alpha), ALPHA_LOW), lesson.ALPHA_MAX)
    SS.wm_beta = SS.wm_phase_beta = min(max(float(beta), 0.0), lesson.BETA_MAX)


def _beta_moved() -> None:
    SS.wm_phase_beta = SS.wm_beta


def _clicked() -> None:
    """A click on the rate map's invisible grid: run there (rounded to the sliders' steps)."""
    event = SS.get("wm_map")
    points = (event or {}).get("selection", {}).get("points", []) if hasattr(event, "get") else []
    if points and "x" in points[-1] and "y" in points[-1]:
        _set(round(float(points[-1]["x"]), 3), round(float(points[-1]["y"]), 3))


def _set_phase_beta(beta: float) -> None:
    SS.wm_phase_beta = beta


a100, b100, _ = theory.momentum_optimal(*lesson.bowl(QUESTION_KAPPA).hessian_eigs)
SS.setdefault("wm_alpha", a100)
SS.setdefault("wm_beta", b100)
SS.setdefault("wm_phase_beta", b100)

st.title(t("Why momentum works"))
controls = keep_in_link(11)
st.markdown(t(
    r"On the quadratic $f(w) = \tfrac12 w^\top A w$ PyTorch's heavy ball, $z \leftarrow \beta z + \nabla f(w)$ and "
    r"$w \leftarrow w - \alpha z$ (`lr` = $\alpha$, `momentum` = $\beta$), acts on each eigenvector of $A$ "
    r"alone. Along an eigenvector with eigenvalue $\lambda$ the pair (buffer, position) is multiplied at every step "
    r"by one 2×2 matrix, and the error shrinks by its largest eigenvalue in modulus, the *rate* "
    "(Goh, *Why Momentum Really Works*, Distill 2017):"
))
st.latex(r"\begin{pmatrix} z_{t} \\ w_{t} \end{pmatrix} = \begin{pmatrix} \beta & \lambda \\ -\alpha\beta & "
         r"1 - \alpha\lambda \end{pmatrix} \begin{pmatrix} z_{t-1} \\ w_{t-1} \end{pmatrix}, \qquad "
         r"\sigma_{1,2} = \tfrac12\left(1 - \alpha\lambda + \beta \pm \sqrt{(1 - \alpha\lambda + \beta)^2 "
         r"- 4\beta}\right)")
st.markdown(t(r"The bowl here has $\lambda_1 = 1/\kappa$ along $x$ and $\lambda_n = 1$ along $y$; the slower of "
              "the two directions sets the rate of the whole run."))
kappa = controls.widget(st.select_slider,
                        t("condition number κ = λₙ/λ₁"), lesson.KAPPAS, QUESTION_KAPPA, key="wm_kappa",
                        format_func=lambda k: f"{k:g}")
m = rate_map(kappa)
a_opt, b_opt, r_opt = m["optimum"]
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
alpha = controls.widget(c1.slider,
                        t("learning rate α"), ALPHA_LOW, lesson.ALPHA_MAX, step=0.001, format="%.3f", key="wm_alpha")
beta = controls.widget(c2.slider,
                       t("momentum β"), 0.0, lesson.BETA_MAX, step=0.001, format="%.3f", key="wm_beta",
                       on_change=_beta_moved)
c3.button(t("use α*, β*"), key="wm_use_opt", on_click=_set, args=(a_opt, b_opt))
rate_here = theory.momentum_rate(alpha, beta, m["lams"])

st.subheader(t("1. The rate map"))
rows = probes(kappa)
fig = rate_map_figure(m["alphas"], m["betas"], m["rates"], m["lams"][1], m["optimum"], (alpha, beta, rate_here),
                      rows)
st.plotly_chart(fig, key="wm_map", on_select=_clicked, selection_mode="points", config={"displayModeBar": False})
st.caption(t("Click anywhere on the map to run there. Grey: the run diverges (some |σ| ≥ 1); right of the dashed "
             "line the steep direction flips with growing amplitude."))
k1, k2, k3, k4 = st.columns(4)
k1.metric(t("rate on the map at this (α, β)"),
          f"{rate_here:.4f}" if rate_here < 1 else t("{rate} (diverges)", rate=f"{rate_here:.4f}"))
k2.metric(t(r"best rate, at $\alpha^*, \beta^*$"), f"{r_opt:.4f}")
k3.metric(t(r"optimal $\alpha^*$"), f"{a_opt:.4f}")
k4.metric(t(r"optimal $\beta^*$"), f"{b_opt:.4f}")
st.markdown(t("**Real runs against the map.** Each diamond is a real run of SGD with momentum (torch's update) "
              "from the bowl's start; its colour and label are the rate *measured* on its distance to the minimum, "
              "so a run that agrees with the map melts into it."))
st.dataframe(translated_rows([{**r, "measured rate": "—" if r["measured rate"] is None else f"{r['measured rate']:.4f}"}
                              for r in rows], values=True), hide_index=True,
             column_config={t(c): st.column_config.NumberColumn(format="%.4f") for c in ("α", "β", "rate on the map")})
st.caption(t("The measured rate is fitted to the second half of the run, before the error falls below 1e-11 of "
             "its largest. Where two roots of a direction coincide or nearly do (the optimum, and settings close "
             "to the critical line) the fit reads up to a few per cent off in log terms; section 2 shows why. A "
             "dash: the run lands exactly on the minimum at a step, so there is nothing to fit."))
show_code(lesson.rate_map, theory.momentum_rate_grid, lesson.probe_settings, lesson.measured_probes)

st.subheader(t("2. The error along each eigenvector"))
q = optimum_reading(QUESTION_KAPPA)
slower = q["measured"] > q["predicted"]
options = [t("exactly {rate}, as predicted", rate=f"{q['predicted']:.4f}"), N_("a little slower (a larger rate)"),
           N_("a little faster (a smaller rate)")]
answer = options[1] if slower else options[2] if q["measured"] < q["predicted"] else options[0]
if predict_then_reveal(
    "wm_opt",
    t(r"At the optimal $\alpha^*, \beta^*$ on $\kappa = {kappa}$ the theory predicts the rate "
      r"${rate}$. Fit the rate of a real run's distance to the minimum: what does it read?",
      kappa=f"{QUESTION_KAPPA:g}", rate=f"{q['predicted']:.4f}"),
    options,
    answer,
    t("Both directions are critically damped there: each 2×2 matrix has a double eigenvalue, and a double "
      r"eigenvalue makes the error $(a + b\,t)\,r^t$ rather than $a\,r^t$."),
):
    run_ = eigen_run(kappa, alpha, beta)
    if run_["diverged_at"] is not None:
        st.warning(t("This run diverges: at step {step} {reason}. The curves stop there.",
                     step=run_["diverged_at"], reason=t(run_["reason"])))
    st.plotly_chart(component_error_figure(run_), key="wm_components")
    st.dataframe([{t("direction"): t(c["name"]), "λ": c["lam"], t("motion"): t(c["damping"].kind),
                   t("predicted rate max|σ|"): c["predicted"],
                   t("measured rate"): f"{c['measured']:.4f}" if c["measured"] is not None
                   else t("grows") if c["predicted"] >= 1 else "—"}
                  for c in run_["components"]], hide_index=True,
                 column_config={t("predicted rate max|σ|"): st.column_config.NumberColumn(format="%.4f")})
    o = optimum_reading(kappa)
    if o is None:
        st.markdown(t(r"At $\kappa = 1$ the optimum $\alpha^* = 1$, $\beta^* = 0$ lands on the minimum in one "
                      "step: there is no rate to measure."))
    else:
        start, end = o["window"]
        later = t(", ").join(t("**{reading}** over steps {steps}", reading=f"{r['reading']:.5f}",
                                steps=r["fit over steps"]) for r in o["later"])
        st.markdown(t(
            r"**Why the optimum measures slow.** At $\alpha^* = {alpha}$, $\beta^* = {beta}$ on "
            r"$\kappa = {kappa}$ the theory predicts **{predicted}** and the run measures "
            r"**{measured}**. $\beta^*$ is exactly the critical momentum of both directions "
            r"({crit_1} for $\lambda_1$, {crit_n} for $\lambda_n$), so "
            r"each 2×2 matrix has a double eigenvalue: $\sigma = {root_1}$ along $x$ and "
            r"${root_n}$ along $y$. A double eigenvalue is a Jordan block, and the error "
            r"along each direction is then $w_t = w_0\,(1 + c\,t)\,\sigma^t$, with "
            r"$c = {c_1}$ along $x$ and ${c_n}$ along $y$. This closed form matches the torch "
            r"run to {gap} of its size.",
            alpha=f"{o['alpha']:.4f}", beta=f"{o['beta']:.4f}", kappa=f"{kappa:g}", predicted=f"{o['predicted']:.4f}",
            measured=f"{o['measured']:.4f}", crit_1=f"{o['critical_betas'][0]:.4f}",
            crit_n=f"{o['critical_betas'][1]:.4f}", root_1=f"{o['roots'][0].real:+.4f}",
            root_n=f"{o['roots'][1].real:+.4f}", c_1=f"{o['c'][0]:.4f}", c_n=f"{o['c'][1]:.4f}",
            gap=f"{o['closed_form_gap']:.0e}",
        ))
        st.markdown(t(
            r"The fit reads the slope of $\log(\text{{error}})$ over steps {start} to {end}, the second half of "
            r"the run before the error falls below $10^{{-11}}$ of its largest. There $\log r^t$ falls by "
            r"$\log r$ per step but $\log(1 + c\,t)$ still rises by about $1/t$, so the slope is less steep than "
            r"$\log r$: the closed form, fitted over the same steps, reads **{closed}**, "
            r"the measured number. The extra slope fades only like $1/t$: the closed form reads {later}, "
            r"closing in on {predicted} slowly.",
            start=start, end=end, closed=f"{o['closed_form_reading']:.4f}", later=later,
            predicted=f"{o['predicted']:.4f}",
        ))
show_code(lesson.eigen_run, lesson.double_root_path, lesson.optimum_reading)

st.subheader(t("3. Phase portrait: under-, critically and over-damped"))
st.markdown(t(
    r"Plot each direction's velocity $c_t - c_{t-1}$ against its position $c_t$ (both in units of $w$, so one "
    r"scale). The discriminant $(1 - \alpha\lambda + \beta)^2 - 4\beta$ of the 2×2 matrix decides the shape: "
    "negative, complex roots of modulus √β and a spiral that crosses the minimum again and again "
    "(*under-damped*); zero, a double root (*critically damped*); positive, two real roots and a creep that never "
    "crosses (*over-damped*). When the real roots are negative ($\\alpha\\lambda$ beyond $(1 + \\sqrt\\beta)^2$) "
    "the position flips sign at every step instead."
))
crit = [theory.critical_beta(alpha, lam) for lam in m["lams"]]
row = st.container(horizontal=True)
for i, (name, b_c) in enumerate(zip(lesson.DIRECTIONS, crit, strict=True)):
    if b_c is not None and b_c <= lesson.BETA_MAX:
        row.button(t("β = {beta}: {direction} critically damped", beta=f"{b_c:.4f}", direction=t(name)), key=f"wm_phase_crit_{i}", on_click=_set_phase_beta,
                   args=(b_c,))
phase_beta = controls.widget(st.slider,
                             t("momentum β for this view (α = {alpha} from above)", alpha=f"{alpha:.3f}"), 0.0, lesson.BETA_MAX,
                             step=0.001, format="%.3f", key="wm_phase_beta")
phase = eigen_run(kappa, alpha, phase_beta)
if phase["diverged_at"] is not None or phase["predicted"] >= 1:
    st.warning(t("At α = {alpha}, β = {beta} the run diverges (rate {rate}): αλₙ is beyond 2 + 2β, so the steep "
                 "direction flips with growing amplitude.", alpha=f"{alpha:.3f}", beta=f"{phase_beta:.3f}",
                 rate=f"{phase['predicted']:.4f}"))
st.plotly_chart(phase_figure(phase), key="wm_phase")
lines = []
for comp in phase["components"]:
    d = comp["damping"]
    roots = t(" and ").join(f"{s.real:.4f}{s.imag:+.4f}i" if s.imag else f"{s.real:.4f}" for s in d.roots)
    how = (t("a turn every {period} steps", period=f"{comp['period']:.1f}") if d.kind == "under-damped"
           else t("sign flips every step") if d.flips else t("no turn"))
    lines.append(t("- **{direction}** (λ = {lam}): {kind}, discriminant {disc}, roots {roots}; {how}; the position "
                   "changed sign **{changes}** times in {steps} steps.", direction=t(comp["name"]),
                   lam=f"{comp['lam']:.4g}", kind=t(d.kind), disc=f"{d.discriminant:.3g}", roots=roots, how=how,
                   changes=comp["sign_changes"], steps=phase["steps"]))
st.markdown("\n".join(lines))
show_code(theory.damping, theory.critical_beta, lesson.sign_changes)
