"""Streamlit helpers shared by the pages. The only part of optlab that imports Streamlit.

Importing this package sets torch to one intra-op thread: the app's tensors are tiny, one server process serves a
whole class, and on a small machine extra threads only contend with each other (a 2-thread op measured ~12x slower
than a 1-thread one under load).
"""

import torch

torch.set_num_threads(1)
