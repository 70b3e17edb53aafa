"""Per-layer learning rates: features and classifier as two param groups, and choosing parameters by identity."""

import streamlit as st

from optlab.lessons import per_layer
from optlab.ui.lesson import predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()

st.title("Per-layer learning rates")
st.markdown(
    "When fine-tuning a pretrained network, the new classifier should learn fast and the pretrained features "
    "should move gently. Each param group carries its own `lr`; a group that sets none uses the default."
)

st.subheader("1. Features vs classifier")
c1, c2 = st.columns(2)
features_lr = c1.select_slider("features lr", [0.0, 1e-4, 1e-3, 1e-2, 0.1], 1e-3, key="pl_features_lr")
classifier_lr = c2.select_slider("classifier lr (the default)", [1e-3, 1e-2, 0.1, 0.5], 0.1, key="pl_head_lr")
st.markdown(r"Group 0 is the features (`0.*`), group 1 the classifier (`1.*`). After one `step()`, each tensor's "
            r"step length over its gradient's, $\lVert \Delta w \rVert / \lVert \nabla_w L \rVert$, is the lr its "
            "group used:")
st.dataframe(per_layer.fine_tune_step(features_lr, classifier_lr), hide_index=True)
show_code(per_layer.small_net, per_layer.fine_tune_step)

st.subheader("2. Choosing parameters by identity")
st.markdown("A common recipe: weight decay on weight matrices, none on biases (and norm layers).")
wd = st.select_slider("weight_decay for matrices", [0.0, 1e-4, 1e-2, 0.1], 1e-2, key="pl_wd")
chosen = per_layer.no_decay_for_biases(wd)
st.dataframe([{"group": i, **g} for i, g in enumerate(chosen["groups"])], hide_index=True)
st.markdown(f"Every parameter in exactly one group: **{chosen['every_parameter_once']}**")
show_code(per_layer.no_decay_for_biases)

st.subheader("3. The same parameter in two groups")
refusal = per_layer.same_parameter_twice()  # torch's message, or "" had it accepted the groups
options = ["the second group wins", "it is updated twice", "torch refuses"]
if predict_then_reveal(
    "pl_twice",
    "What happens if a parameter is put in two groups?",
    options,
    options[2] if refusal else options[0],
    "torch checks identities when the optimizer is built.",
):
    st.code(f"ValueError: {refusal}", language="text")
show_code(per_layer.same_parameter_twice)
