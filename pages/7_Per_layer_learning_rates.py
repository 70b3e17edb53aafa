"""Per-layer learning rates: features and classifier as two param groups, and choosing parameters by identity."""

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import per_layer
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code, translated_rows
from optlab.ui.pages import use_app_navigation

use_app_navigation()
# The column names lesson functions give their tables, shown in the reader's language.
COLUMNS = (N_("tensor"), N_("group"), N_("measured lr"))

st.title(t("Per-layer learning rates"))
controls = keep_in_link(7)
st.markdown(t(
    "When fine-tuning a pretrained network, the new classifier should learn fast and the pretrained features "
    "should move gently. Each param group carries its own `lr`; a group that sets none uses the default."
))

st.subheader(t("1. Features vs classifier"))
c1, c2 = st.columns(2)
features_lr = controls.widget(c1.select_slider,
                              t("features lr"), [0.0, 1e-4, 1e-3, 1e-2, 0.1], 1e-3, key="pl_features_lr")
classifier_lr = controls.widget(c2.select_slider,
                                t("classifier lr (the default)"), [1e-3, 1e-2, 0.1, 0.5], 0.1, key="pl_head_lr")
st.markdown(t(r"Group 0 is the features (`0.*`), group 1 the classifier (`1.*`). After one `step()`, each "
              r"tensor's step length over its gradient's, $\lVert \Delta w \rVert / \lVert \nabla_w L \rVert$, "
              "is the lr its group used:"))
st.dataframe(translated_rows(per_layer.fine_tune_step(features_lr, classifier_lr)), hide_index=True)
show_code(per_layer.small_net, per_layer.fine_tune_step)

st.subheader(t("2. Choosing parameters by identity"))
st.markdown(t("A common recipe: weight decay on weight matrices, none on biases (and norm layers)."))
wd = controls.widget(st.select_slider,
                     t("weight_decay for matrices"), [0.0, 1e-4, 1e-2, 0.1], 1e-2, key="pl_wd")
chosen = per_layer.no_decay_for_biases(wd)
st.dataframe(translated_rows([{"group": i, **g} for i, g in enumerate(chosen["groups"])]), hide_index=True)
st.markdown(t("Every parameter in exactly one group: **{once}**", once=chosen["every_parameter_once"]))
show_code(per_layer.no_decay_for_biases)

st.subheader(t("3. The same parameter in two groups"))
refusal = per_layer.same_parameter_twice()  # torch's message, or "" had it accepted the groups
options = [N_("the second group wins"), N_("it is updated twice"), N_("torch refuses")]
if predict_then_reveal(
    "pl_twice",
    t("What happens if a parameter is put in two groups?"),
    options,
    options[2] if refusal else options[0],
    t("torch checks identities when the optimizer is built."),
):
    st.code(f"ValueError: {refusal}", language="text")
show_code(per_layer.same_parameter_twice)
