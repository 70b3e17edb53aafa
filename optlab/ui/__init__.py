"""Streamlit helpers shared by the pages. The only part of optlab that imports Streamlit.

Importing it sets nothing: the server's one-time work (torch's thread count, the heavy imports that must not
race between first sessions, freezing the collector's view of them) is ``optlab.ui.startup.prepare()``, which
app.py calls where the app starts.
"""
