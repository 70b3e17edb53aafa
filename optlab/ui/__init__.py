"""Streamlit helpers shared by the pages. The only part of optlab that imports Streamlit.

Importing this package sets torch to one intra-op thread: the app's tensors are tiny, one server process serves a
whole class, and on a small machine extra threads only contend with each other (a 2-thread op measured ~12x slower
than a 1-thread one under load).

It also imports the heavy modules the pages use lazily, once, before any page code runs. Plotly looks pandas up in
`sys.modules` without importing it (`_plotly_utils.optional_imports.get_module`), so a session building a figure
while another session's first `st.dataframe` was still importing pandas got "partially initialized module
'pandas' has no attribute 'Series'". Sessions importing this package at once wait for one another on the import
lock, so every page sees these modules complete.
"""

import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import plotly.subplots  # noqa: F401
import pyarrow  # noqa: F401
import torch

torch.set_num_threads(1)
