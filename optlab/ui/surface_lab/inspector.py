"""The Surface Lab's step inspector: pick a run and a step t (torch's numbering: t = 1 is the first step), and see
its point, gradient, update, ``param_groups`` and ``state`` as PyTorch prints them, and the update equations with
the numbers of that step plugged in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st
import torch

from optlab.config.surface_lab import momentum_state_key
from optlab.i18n import N_, t
from optlab.optim.explain import term_lines
from optlab.registry import REGISTRY
from optlab.trace import Trace
from optlab.ui.surface_lab.state import current_view, remember_view

SS = st.session_state
STEP_DRAWN = "_sl_step_drawn"  # the inspector's step slider was drawn last run (else its state is stale or gone)


def _move_t(delta: int, last: int) -> None:
    SS.sl_insp_t = min(max(int(SS.get("sl_insp_t", 1)) + delta, 1), last)


def _vec(v: Any) -> str:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    return "(" + ", ".join(f"{x:.6g}" for x in a) + ")" if a.size > 1 else f"{a[0]:.6g}"


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(step: int) -> str:
    """A step number as a Unicode subscript: θ₃₇ reads like the equations' θ_t."""
    return str(step).translate(_SUBSCRIPTS)


def inspector_controls(traces: Sequence[Trace]) -> tuple[Trace, int] | None:
    """Pick a run and a step t, numbered as torch numbers them: t = 1 is the first step (slider and back/forward).

    Returns (trace, t), or None if the run took no step."""
    labels = list(range(len(traces)))
    view = current_view()
    if SS.get("sl_insp_run") not in labels:  # a run that was removed, or a slider that was not drawn last time
        SS.sl_insp_run = view.insp_run if view.insp_run in labels else 0
    names = [tr.label for tr in traces]
    if SS.get("sl_insp_names") != names:  # a run was renamed (new lr...): send the selection again so the closed
        SS.sl_insp_run = int(SS.sl_insp_run)  # picker shows the new name, not the one it showed before
        SS.sl_insp_names = names
    r = st.selectbox(t("run"), labels, format_func=lambda i: names[i], key="sl_insp_run")
    tr = traces[r]
    if tr.n_steps == 0:
        why = {0: t("{run} took no step: its start point is outside the function's domain.", run=tr.label),
               1: t("{run} took no step: its first step already diverged.", run=tr.label)}
        st.info(why.get(tr.diverged_at, t("{run} took no step.", run=tr.label)))
        SS[STEP_DRAWN] = False
        remember_view(insp_run=int(r), insp_t=1)
        return None
    last = tr.n_steps  # steps t = 1 .. n
    if not SS.get(STEP_DRAWN) or "sl_insp_t" not in SS:  # the slider was not drawn last run (or a run that
        SS.sl_insp_t = view.insp_t  # stopped early dropped its state): the step the view points at
    if not 1 <= int(SS.sl_insp_t) <= last:  # a shorter run (fewer steps, or diverged): its last step
        SS.sl_insp_t = min(max(int(SS.sl_insp_t), 1), last)
    c1, c2, c3 = st.columns([1.4, 5.2, 1.4], vertical_alignment="bottom")
    c1.button("‹", key="sl_insp_prev", on_click=_move_t, args=(-1, last), help=t("step back"),
              width="stretch")
    if last > 1:
        step = c2.slider(t("step t"), 1, last, key="sl_insp_t",
                      help=t("Numbered as torch counts steps: t = 1 is the first; θ₀ is the start. After step "
                                  "t, optimizer.state[p]['step'] is t."))
        SS[STEP_DRAWN] = True
    else:
        SS.sl_insp_t = step = 1
        SS[STEP_DRAWN] = False
        c2.caption(t("step t = 1 (the only step)"))
    c3.button("›", key="sl_insp_next", on_click=_move_t, args=(1, last),
              help=t("step forward"), width="stretch")
    remember_view(insp_run=int(r), insp_t=int(step))
    return tr, int(step)


def inspector_arrows(tr: Trace, step: int) -> dict:
    """The arrows of step t, drawn from θ_{t−1}, where it starts: downhill gradient, momentum and the update."""
    vectors = {"−g": -np.asarray(tr.grads[step - 1])}
    momentum = momentum_state_key(tr.state)
    if momentum is not None and np.asarray(tr.state[momentum[0]]).ndim == 2:
        vectors[momentum[1]] = -np.asarray(tr.state[momentum[0]][step - 1])
    vectors[N_("update Δθ")] = np.asarray(tr.updates[step - 1])  # names shown translated by the figure
    return {"point": tr.points[step - 1], "vectors": vectors}


def _symbol(tr: Trace, name: str) -> str:
    """The LaTeX symbol of hyperparameter ``name`` in the run's optimizer (γ for lr), or its name as text."""
    spec = REGISTRY.get(tr.config.optimizer)
    h = next((h for h in spec.hypers if h.name == name), None) if spec is not None else None
    return h.symbol if h is not None and h.symbol else rf"\text{{{name}}}"


def group_hyper_lines(tr: Trace, step: int) -> list[str]:
    """LaTeX for each hyperparameter whose value differs between the x and y param groups at step t (from 1).

    The equations below show one symbol (γ) for both coordinates; where the groups use different values,
    this says which value went into which coordinate: ``γ_x = 0.01, γ_y = 0.1``.
    """
    lines = []
    for name, values in tr.hyper.items():
        row = np.asarray(values[step - 1], dtype=np.float64)
        if row.size == 2 and row[0] != row[1]:
            sym = _symbol(tr, name)
            lines.append(rf"{sym}_x = {row[0]:.6g},\quad {sym}_y = {row[1]:.6g}")
    return lines


def inspector_panel(tr: Trace, step: int) -> None:
    """Numbers of step t (torch's t, from 1): point, gradient, update, param_groups and state as PyTorch prints
    them, and the equations. Step t takes the gradient at θ_{t−1} and moves to θ_t (row t − 1 of the trace)."""
    two_groups = tr.lrs.ndim == 2 and tr.lrs.shape[1] == 2
    lr = _vec(tr.lrs[step - 1]) if tr.lrs.size else "—"
    st.markdown(
        t("**Step {t}** moves θ from θ{a} = `{start}` to θ{b} = `{end}`  \nf(θ{a}) = `{f}` · gradient g{b} = "
               "`{g}`  \nupdate Δθ = `{update}` · lr = `{lr}`", t=step, a=_sub(step - 1), b=_sub(step),
               start=_vec(tr.points[step - 1]), end=_vec(tr.points[step]), f=f"{tr.losses[step - 1]:.6g}",
               g=_vec(tr.grads[step - 1]), update=_vec(tr.updates[step - 1]), lr=lr)
        + (t(" (group 0: x, group 1: y)") if two_groups else "")
    )
    st.caption(t("Arrows on the contour show directions only (fixed length); their true lengths are in the "
                      "labels."))
    with st.expander("optimizer.param_groups", expanded=two_groups):
        st.code(tr.param_groups_repr(step), language="text", wrap_lines=True)
        if two_groups:
            st.caption(t("Two param groups, one parameter each: group 0 holds x, group 1 holds y."))
    with st.expander(t("optimizer.state after the step"), expanded=True):
        st.code("\n".join(f"{k}: {_vec(v)}" for k, v in tr.state_at(step).items()) or t("(empty)"), language="text",
                wrap_lines=True)
        if two_groups and tr.state:
            st.caption(t("Each pair is (state of x, state of y): torch keeps one state per parameter."))
    st.markdown(t("**The update, with the numbers of this step**"))
    if two_groups:  # one column per coordinate, each computed with its own group's settings
        for line in group_hyper_lines(tr, step):
            st.latex(line)
    # only the equations of what ran at step t, in the order the algorithm computed them
    terms = {term: torch.as_tensor(np.asarray(values[step - 1], dtype=np.float64)) for term, values in tr.explain.items()}
    lines = term_lines(terms, tr.formulas, digits=5)
    for line in lines:
        st.latex(line)
    if not lines:
        st.caption(t("This optimizer records no intermediate terms."))
