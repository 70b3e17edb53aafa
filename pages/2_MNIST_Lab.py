"""Train a small network on real MNIST digits and watch 1-4 optimizers compete live, from the same start."""

import streamlit as st

from optlab.i18n import t
from optlab.ui import mnist_lab as lab
from optlab.ui.classroom.panel import class_panel
from optlab.ui.pages import use_app_navigation

use_app_navigation()

st.set_page_config(page_title=t("MNIST Lab") + " · optlab", layout="wide")
st.title(t("MNIST Lab"))
st.caption(t(
    "Every optimizer starts from the same initial weights and sees the same batches in the same order, "
    "so the curves differ only because the optimizers do."
))

lab.link.load_once()  # a shared link's settings, once per session, before the widgets are drawn
for note in lab.link.notices():
    st.warning(note)

with st.sidebar:
    digits = lab.data_controls()

config = lab.config_controls()
if config is not None and digits is not None:
    lab.param_groups_panel(config)
    lab.accumulation_panel(config, digits)
    st.caption(lab.loss_gap_note(digits))

class_panel("MNIST_Lab")
lab.controls_row(config, digits)
lab.live_panel(config, digits)
lab.inspect_panel()
lab.checkpoint_panel(digits)
lab.link.write(config)  # the address bar holds the whole setup and the open view
