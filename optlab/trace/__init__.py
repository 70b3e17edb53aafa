"""Run optimizers on a 2D surface and record every step: point, loss, gradient, state and explained terms.

What this package leaves out: drawing (``optlab.plots``) and widgets (``optlab.ui``). Its results are plain
NumPy arrays and dataclasses, cheap to cache and to export. One idea per module:

- ``config``: ``RunConfig``, the hashable description of one run.
- ``record``: ``Trace``, what one run did, and its print-outs (``param_groups`` as torch prints them, state).
- ``build``: the run's optimizer from its configuration.
- ``step``: ``Walk``, the one step every runner takes (shared noise, the far-away limit, optimizer then scheduler).
- ``runner``: ``run_traces`` / ``run_trace``, runs side by side, fully recorded.
- ``grid``: ``run_grid`` and its ``GridRun``, one configuration from many starts at once.
- ``export``: CSV and JSON.
"""

from optlab.trace.build import build_run_optimizer, constructor_kwargs, needs_closure
from optlab.trace.config import Items, RunConfig, as_items
from optlab.trace.export import CSV_COLUMNS, trace_to_dict, traces_to_csv, traces_to_json
from optlab.trace.grid import GridRun, run_grid
from optlab.trace.record import Trace
from optlab.trace.runner import has_average, run_trace, run_traces
from optlab.trace.step import FAR_AWAY, Probe, Walk, check_steps, far_limit, gradient_noise, why_diverged

__all__ = [
    "CSV_COLUMNS", "FAR_AWAY", "GridRun", "Items", "Probe", "RunConfig", "Trace", "Walk", "as_items",
    "build_run_optimizer", "check_steps", "constructor_kwargs", "far_limit", "gradient_noise", "has_average",
    "needs_closure", "run_grid", "run_trace", "run_traces", "trace_to_dict", "traces_to_csv", "traces_to_json",
    "why_diverged",
]
