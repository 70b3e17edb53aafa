"""Anatomy of an optimizer: param_groups, the lazy state, add_param_group and state_dict, printed live."""

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import anatomy
from optlab.ui.lesson import (
    format_param_groups,
    format_state_dict,
    keep_in_link,
    predict_then_reveal,
    show_code,
    translated_rows,
)
from optlab.ui.pages import use_app_navigation

use_app_navigation()

st.title(t("Anatomy of an optimizer"))
controls = keep_in_link(3)
st.markdown(t(
    "An optimizer is two things: **param_groups**, a list of dicts that hold the tensors to update and the "
    "hyperparameters for them, and **state**, a dict from each tensor to whatever the algorithm remembers "
    "(for SGD with momentum, the `momentum_buffer`; plain SGD, with momentum 0, keeps nothing). Everything below "
    "is printed by running the code."
))
left, right = st.columns(2)
lr = controls.widget(left.number_input,
                     t("lr"), min_value=1e-4, max_value=1.0, value=0.1, step=0.01, format="%.4f", key="anat_lr")
momentum = controls.widget(right.slider, t("momentum"), 0.0, 0.99, 0.9, 0.01, key="anat_momentum")

st.subheader(t("1. param_groups, with the defaults filled in"))
st.markdown(t("We passed only `lr` and `momentum`; torch filled in every other hyperparameter."))
st.code(format_param_groups(anatomy.param_groups_filled_in(lr, momentum)), language="text")
show_code(anatomy.two_tensors, anatomy.param_groups_filled_in)

st.subheader(t("2. state is empty until the first step()"))
state = anatomy.state_before_and_after_step(lr, momentum)
st.markdown(t("The model has two tensors, a weight matrix `w` and a bias `b`."))
if predict_then_reveal(
    "anat_state",
    t("How many entries does `optimizer.state` have before the first `step()`?"),
    ["0", "1", "2"],
    str(state["entries_before"]),
    t("The state is created lazily, inside the first step(), one entry per parameter.")
    if state["entries_after"]
    else t("The state is created lazily, inside step(), and only for what the algorithm must remember: with "
           "momentum 0 that is nothing, so it is still empty after the step."),
):
    c1, c2 = st.columns(2)
    c1.metric(t("entries before step()"), state["entries_before"])
    c2.metric(t("entries after step()"), state["entries_after"])
    if state["keys_after"]:
        keys = ", ".join(f"`{k}`" for k in state["keys_after"])
        st.markdown(t("Each entry, after the step, holds: {keys}.", keys=keys))
        st.markdown(t("First buffer equals the gradient (no dampening on step 1): **{same}**",
                      same=state["buffer_equals_grad"]))
    else:
        st.markdown(t(
            "With momentum 0, SGD remembers nothing between steps: torch's `SGD` creates a `momentum_buffer` "
            "only when momentum is not 0, so `optimizer.state` stays empty after `step()`. Move the momentum "
            "slider above 0 to see one appear."
        ))
show_code(anatomy.state_before_and_after_step)

st.subheader(t("3. The tensors in param_groups are the model's own"))
own = anatomy.params_are_the_models_own()
st.markdown(t(
    "`param_groups[0]['params'][0] is w`: **{same_object}** · same memory: **{same_memory}** · "
    "`step()` changed the model's `w`: **{model_changed}**",
    same_object=own["same_object"], same_memory=own["same_memory"], model_changed=own["model_changed"],
))
show_code(anatomy.params_are_the_models_own)

st.subheader(t("4. add_param_group with its own lr"))
head_lr = controls.widget(st.number_input,
                          t("lr of the new group"), 1e-5, 1.0, 0.01, step=0.001, format="%.4f", key="anat_head_lr")
st.dataframe(translated_rows([{N_("group"): i, **row} for i, row in enumerate(anatomy.add_a_group(lr, head_lr))]),
             hide_index=True)
st.markdown(t("The new group keeps its own `lr`; `momentum` and the rest come from the optimizer's defaults."))
show_code(anatomy.add_a_group)

st.subheader(t("5. state_dict() before and after a step, and resuming"))
before, after = anatomy.state_dict_before_and_after(lr, momentum)
b_col, a_col = st.columns(2)
b_col.markdown(t("**before step()**"))
b_col.code(format_state_dict(before), language="text", wrap_lines=True)
a_col.markdown(t("**after step()**"))
a_col.code(format_state_dict(after), language="text", wrap_lines=True)
st.markdown(t("Parameters appear as positions `0, 1`: the dict can be saved and loaded into a new optimizer."))
resume = anatomy.resume_from_state_dict(lr, momentum)
st.markdown(t("Train {steps} steps straight through, or stop after {stopped_at}, save, load into fresh objects "
              "and finish. Largest difference in the final `w` from the run that never stopped:",
              steps=resume["steps"], stopped_at=resume["stopped_at"]))
r1, r2 = st.columns(2)
r1.metric(t("max |w| gap, resumed with load_state_dict"), f"{resume['gap_resumed']:.3g}")
r2.metric(t("max |w| gap, resumed with a fresh optimizer"), f"{resume['gap_fresh_optimizer']:.3g}")
if not after["state"] and resume["gap_fresh_optimizer"] == resume["gap_resumed"] == 0:
    st.markdown(t("With momentum 0 the state is empty, so there is nothing to lose: a fresh optimizer resumes "
                  "exactly too. Saving the optimizer matters as soon as it remembers something, such as a "
                  "momentum buffer."))
show_code(anatomy.state_dict_before_and_after, anatomy.resume_from_state_dict)
