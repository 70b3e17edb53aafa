"""Streamlit helpers shared by the pages. The only part of optlab that imports Streamlit."""
