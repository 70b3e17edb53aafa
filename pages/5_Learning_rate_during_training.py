"""Learning rate during training: edit param_groups in place vs rebuild the optimizer; torch's schedulers applied."""

import streamlit as st

from optlab.i18n import N_, t, translator
from optlab.lessons import lr_schedule
from optlab.plots.lessons import curves, paths
from optlab.schedules import SCHEDULES, scheduler_code
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()
# The names lesson functions give their runs, shown in the reader's language.
RUN_NAMES = (N_("edit in place"), N_("new optimizer"))

st.title(t("Learning rate during training"))
controls = keep_in_link(5)
st.markdown(t(
    "The learning rate lives in `optimizer.param_groups[i]['lr']`. Changing it there keeps everything the "
    "optimizer remembers. Building a new optimizer with the new lr starts from an empty state: the momentum "
    "built up so far is thrown away."
))

MOMENTUM, RUN_STEPS, PEAK_LR = 0.9, 60, 0.05

st.subheader(t("1. Edit in place vs build a new optimizer"))
c1, c2, c3 = st.columns(3)
lr = controls.widget(c1.select_slider, t("lr at the start"), [0.01, 0.02, 0.05, 0.1], 0.05, key="lr_start")
new_lr = controls.widget(c2.select_slider,
                         t("lr after the switch"), [0.005, 0.01, 0.02, 0.05], 0.01, key="lr_new")
switch_at = controls.widget(c3.slider, t("switch at step"), 1, 40, 10, key="lr_switch")
runs = lr_schedule.change_lr_midway(lr, new_lr, MOMENTUM, switch_at, RUN_STEPS)
step_sizes = {k: float(((v[switch_at + 1] - v[switch_at]) ** 2).sum() ** 0.5) for k, v in runs.items()}
if predict_then_reveal(
    "lr_rebuild",
    t(r"Both runs switch from $\mathrm{{lr}} = {lr}$ to $\mathrm{{lr}} = {new_lr}$ at step {switch_at}. "
      "Right after the switch, which run takes the larger step?", lr=f"{lr:g}", new_lr=f"{new_lr:g}",
      switch_at=switch_at),
    list(RUN_NAMES),
    max(step_sizes, key=step_sizes.get),
    t("Editing in place keeps the momentum buffer, so the run keeps its speed; the new optimizer starts again at "
      "$b = g$."),
):
    st.plotly_chart(paths({t(k): v for k, v in runs.items()},
                          t("SGD (momentum {momentum}), {steps} steps, on L = (x² + 10y²)/2",
                            momentum=f"{MOMENTUM:g}", steps=RUN_STEPS),
                          minimum=(0.0, 0.0)), key="lr_paths")
    m1, m2 = st.columns(2)
    m1.metric(t("step length right after the switch, edit in place"), f"{step_sizes['edit in place']:.4f}")
    m2.metric(t("step length right after the switch, new optimizer"), f"{step_sizes['new optimizer']:.4f}")
show_code(lr_schedule.change_lr_midway)

st.subheader(t("2. torch's schedulers"))
steps = controls.widget(st.slider, t("total steps"), 20, 200, 100, 10, key="lr_total")
curves_by_key = lr_schedule.schedule_curves(PEAK_LR, steps)
st.plotly_chart(curves({t(SCHEDULES[k].label): v for k, v in curves_by_key.items()},
                       t("lr(t), peak lr = {peak}", peak=f"{PEAK_LR:g}"), y_title="lr", x_title=t("step t")),
                key="lr_curves")
labels = {SCHEDULES[k].label: k for k in SCHEDULES}
chosen = labels[controls.widget(st.selectbox,
                                t("apply a schedule to the run"), list(labels), index=len(labels) - 1,
                                key="lr_schedule", format_func=translator())]
st.markdown(t(SCHEDULES[chosen].description))
st.code(scheduler_code(chosen, steps), language="python", wrap_lines=True)
scheduled = lr_schedule.scheduled_run(chosen, PEAK_LR, MOMENTUM, steps)
constant = lr_schedule.scheduled_run("constant", PEAK_LR, MOMENTUM, steps)
st.plotly_chart(curves({t(SCHEDULES[chosen].label): scheduled["losses"], t("constant"): constant["losses"]},
                       t("loss during the run (SGD, momentum {momentum}, peak lr {peak})", momentum=f"{MOMENTUM:g}",
                         peak=f"{PEAK_LR:g}"), y_title=t("loss"), log_y=True), key="lr_losses")
s1, s2 = st.columns(2)
s1.metric(t("final loss, {schedule}", schedule=t(SCHEDULES[chosen].label)), f"{scheduled['losses'][-1]:.3g}")
s2.metric(t("final loss, constant lr"), f"{constant['losses'][-1]:.3g}")
show_code(lr_schedule.scheduled_run)
