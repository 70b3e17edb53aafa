"""Class board: open a class, let students join with a code, and watch every result arrive live."""

import streamlit as st

from optlab.i18n import t
from optlab.ui.classroom.board import page
from optlab.ui.pages import use_app_navigation

use_app_navigation()
st.set_page_config(page_title=t("Class board"), layout="wide")
page()
