"""What the app does once, when the server starts, before any page code runs: ``prepare()`` (called by app.py).

Torch gets one intra-op thread: the app's tensors are tiny, one server process serves a whole class, and on a
small machine extra threads only contend with each other (a 2-thread op measured ~12x slower than a 1-thread one
under load).

The heavy modules the pages use lazily are imported once, up front. Plotly looks pandas up in `sys.modules`
without importing it (`_plotly_utils.optional_imports.get_module`), so a session building a figure while another
session's first `st.dataframe` was still importing pandas got "partially initialized module 'pandas' has no
attribute 'Series'". Sessions importing this module at once wait for one another on the import lock, so every
page sees these modules complete (tests/test_concurrent_sessions.py).

Then the garbage collector's view of everything imported so far is frozen (`gc.freeze()`,
https://docs.python.org/3/library/gc.html#gc.freeze). Streamlit runs a full `gc.collect(2)` after every script run
(option runner.postScriptGC); with torch, pandas, Plotly and Streamlit loaded that walked some 250,000 objects and
took 150-220 ms of CPU per click. Frozen, those module-level objects are never walked again, and a collection only
looks at what sessions created since. That was still a third of a click's CPU once the shared caches held a class's
traces and figures, so .streamlit/config.toml also turns the forced collection off (``runner.postScriptGC``) and
leaves collecting to Python's own thresholds.
"""

import gc

import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import plotly.subplots  # noqa: F401
import pyarrow  # noqa: F401
import torch
import torch._dynamo  # noqa: F401 - what the first torch.optim.Optimizer would import (torch._compile), up front

_PREPARED = False


def prepare() -> None:
    """Set torch's thread count and freeze the collector's view of the imports, once per server process."""
    global _PREPARED
    if _PREPARED:
        return
    torch.set_num_threads(1)
    gc.freeze()
    _PREPARED = True
