"""optlab home page."""

import streamlit as st

st.set_page_config(page_title="optlab", layout="wide")
st.title("optlab")
