"""Surface Lab benchmark: server time to recompute and redraw 4 runs x 500 steps, the cached path, and payloads.

    .venv/bin/python bench/bench_surface_lab.py [--repeats 5]

Times (medians over repeats, all measured in this one run):

1. trace: the four runs, fully recorded (``optlab.ui.cache.compute_traces``, no cache);
2. figures: building each figure the page shows and serialising it to JSON, as ``st.plotly_chart`` does;
3. total of the default view (trace + contour + loss + distance), the target being at most 200 ms;
4. cached path: the same configuration again through ``st.cache_data`` (what every later session pays);
5. whole page in AppTest, cold then warm (includes Streamlit's own work).

Also prints the JSON payload of each figure (target: each under 2 MB).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import plotly.io as pio  # noqa: E402
from bench_trace import bare_loops  # noqa: E402  (this folder: the same four optimizers as plain torch loops)

from optlab.plots.animation import replay_figure  # noqa: E402
from optlab.plots.curves import distance_figure, loss_figure  # noqa: E402
from optlab.plots.surface import add_arrows, contour_figure, surface3d_figure  # noqa: E402
from optlab.ui.cache import (  # noqa: E402
    GRID_N,
    build_surface,
    cached_grid,
    cached_traces,
    compute_grid,
    compute_traces,
    surface_json,
)
from optlab.ui.surface_lab import inspector_arrows  # noqa: E402
from optlab.ui.urlstate import LabConfig, RunSpec, encode  # noqa: E402

CONFIG = LabConfig(
    surface="rosenbrock",
    steps=500,
    runs=(
        RunSpec.of("sgd", lr=0.001),
        RunSpec.of("momentum", lr=0.001, momentum=0.9),
        RunSpec.of("adam", lr=0.05),
        RunSpec.of("rmsprop", lr=0.01),
    ),
)


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time in ms over ``repeats`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" warnings of cache_data outside a server

    key = CONFIG.to_json()
    surface = build_surface(CONFIG)
    xs, ys, Z = compute_grid(surface_json(CONFIG), GRID_N)
    compute_traces(key)  # warm-up: imports, torch kernels
    t_trace, traces = timed(lambda: compute_traces(key), args.repeats)
    common = dict(bounds=surface.bounds, log_levels=surface.log_levels, f_min=surface.min_value)
    start = surface.start

    def contour():
        fig = contour_figure(xs, ys, Z, traces=traces, minima=surface.minima, start=start, **common)
        arrows = inspector_arrows(traces[0], 0)
        return add_arrows(fig, arrows["point"], arrows["vectors"], surface.bounds)

    builders = {
        "contour (+ arrows)": contour,
        "loss": lambda: loss_figure(traces, surface.min_value),
        "distance": lambda: distance_figure(traces, [surface.nearest_minimum_distance(t.points) for t in traces]),
        "replay (tab)": lambda: replay_figure(xs, ys, Z, traces=traces, minima=surface.minima, **common),
        "3D (tab)": lambda: surface3d_figure(xs, ys, Z, traces=traces, log_levels=surface.log_levels,
                                             f_min=surface.min_value),
    }
    print(f"Surface Lab: {len(CONFIG.runs)} runs x {CONFIG.steps} steps on {surface.name}, "
          f"grid {GRID_N}x{GRID_N}, median of {args.repeats}")
    print(f"  trace (fully recorded, uncached)   {t_trace:8.1f} ms")
    fig_ms = {}
    for name, build in builders.items():
        ms, fig = timed(lambda b=build: pio.to_json(b(), validate=False), args.repeats)
        fig_ms[name] = ms
        print(f"  figure {name:<27} {ms:8.1f} ms   payload {len(fig) / 1e6:6.3f} MB")
    default_view = t_trace + fig_ms["contour (+ arrows)"] + fig_ms["loss"] + fig_ms["distance"]
    print(f"  total, default view (uncached)     {default_view:8.1f} ms   (target <= 200 ms)")
    t_bare, _ = timed(lambda: bare_loops(surface, start), args.repeats)
    print(f"  four bare torch.optim loops        {t_bare:8.1f} ms   (the same runs, nothing recorded)")
    print(f"  default view / bare loops          {default_view / t_bare:8.2f}x   "
          "(the target, 200 ms where bare loops take 170 ms, is 1.18x)")

    cached_traces(key)
    cached_grid(surface_json(CONFIG), GRID_N)
    t_cached, _ = timed(lambda: (cached_traces(key), cached_grid(surface_json(CONFIG), GRID_N)), args.repeats)
    figs = fig_ms["contour (+ arrows)"] + fig_ms["loss"] + fig_ms["distance"]
    print(f"  cached path: runs + grid from cache {t_cached:7.1f} ms; with the default figures {t_cached + figs:.1f} ms")

    from streamlit.testing.v1 import AppTest

    page = str(ROOT / "pages" / "1_Surface_Lab.py")
    cached_traces.clear()
    cached_grid.clear()
    for label in ("cold (empty cache)", "warm (cache shared)"):
        at = AppTest.from_file(page, default_timeout=120)
        for k, v in encode(CONFIG).items():
            at.query_params[k] = v
        t = time.perf_counter()
        at.run()
        print(f"  whole page in AppTest, {label:<22} {(time.perf_counter() - t) * 1e3:8.1f} ms"
              f"{'  EXCEPTION' if at.exception else ''}")


if __name__ == "__main__":
    main()
