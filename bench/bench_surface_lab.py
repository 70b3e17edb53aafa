"""Surface Lab benchmark: server cost of a new and of a cached configuration, the sweeps, and the payloads.

    .venv/bin/python bench/bench_surface_lab.py [--repeats 5]

Everything is measured in this one run and compared with the four bare ``torch.optim`` loops of the default
comparison (4 runs x 500 steps on Rosenbrock, nothing recorded):

1. trace: the four runs, fully recorded (a new page computes its missing runs together);
2. sweeps: the inspected run along its learning rate (49 members) and from the 9 x 9 grid of starts, and the
   cost per member;
3. figures: the live figure's data and the curves, serialised as the page sends them;
4. a configuration nobody computed yet (trace + sweeps + figures; target <= 0.5x the bare loops) and the same
   configuration again from the shared cache (target <= 0.1x);
5. the whole page in AppTest: its first run, then a rerun of the cached configuration (Streamlit's work included),
   and a typed learning rate off the sweep (one run computed on the server, the others from the cache).

Times are this process's CPU time (``--clock cpu``, the default): on a machine shared with other jobs the wall
time of the same work swings by 2-3x from one repeat to the next, the CPU time far less. ``--clock wall`` measures
wall time instead.

Also prints the payload of each figure (target: each under 2 MB). The browser side (redraw while dragging) is
``bench_browser_surface.py``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import json  # noqa: E402

import plotly.io as pio  # noqa: E402
from bench_trace import bare_loops  # noqa: E402  (this folder: the same four optimizers as plain torch loops)

from optlab.plots.curves import distance_figure, loss_figure  # noqa: E402
from optlab.plots.live import arrows_entry, live_payload, starts_entry, sweep_entry  # noqa: E402
from optlab.sweep import sweep_values  # noqa: E402
from optlab.ui import ahead  # noqa: E402
from optlab.ui.cache import (  # noqa: E402
    RUNS,
    build_surface,
    cached_picture,
    cached_starts,
    cached_sweep,
    cached_traces,
    compute_picture,
    compute_runs,
    compute_starts,
    compute_sweep,
    run_json,
    starts_json,
    surface_json,
    sweep_json,
)
from optlab.ui.surface_lab import inspector_arrows  # noqa: E402
from optlab.ui.urlstate import LabConfig, SurfaceRun, encode  # noqa: E402

CONFIG = LabConfig(
    surface="rosenbrock",
    steps=500,
    runs=(
        SurfaceRun.of("sgd", lr=0.001),
        SurfaceRun.of("momentum", lr=0.001, momentum=0.9),
        SurfaceRun.of("adam", lr=0.05),
        SurfaceRun.of("rmsprop", lr=0.01),
    ),
)


CLOCK = {"cpu": time.process_time, "wall": time.perf_counter}
now = time.process_time  # set by --clock


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median time in ms over ``repeats`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t = now()
        out = fn()
        times.append((now() - t) * 1e3)
    return statistics.median(times), out


def new_configuration(cfg: LabConfig) -> tuple[dict, dict]:
    """What the page computes for a configuration nobody asked for yet; returns times (ms) and the results."""
    surface = build_surface(cfg)
    t = {}
    keys = [run_json(cfg, i) for i in range(len(cfg.runs))]
    t0 = now()
    traces = compute_runs(keys, full=keys[:1])  # the inspected run records its state and terms, the others not
    t["trace"] = now() - t0
    t0 = now()
    sweep = compute_sweep(sweep_json(cfg, 0, "lr"))
    t["lr sweep"] = now() - t0
    t0 = now()
    starts = {0: compute_starts(starts_json(cfg, 0))}
    t["start grid"] = now() - t0
    t0 = now()
    picture = compute_picture(surface_json(cfg))
    t["picture"] = now() - t0
    t0 = now()
    out = figures(surface, cfg, traces, sweep, starts, picture)
    t["figures"] = now() - t0
    return {k: v * 1e3 for k, v in t.items()}, {"sweep": sweep, "starts": starts, **out}


def figures(surface, cfg, traces, sweep, starts, picture) -> dict:
    arrows = inspector_arrows(traces[0], 1 if traces[0].n_steps >= 1 else 0)
    live = live_payload(image=picture, bounds=surface.bounds, traces=traces, minima=surface.minima,
                        start=surface.start, starts=starts_entry(starts, surface.bounds),
                        sweep=sweep_entry(sweep, 0, "run 1 · learning rate", "lr",
                                          float(dict(cfg.runs[0].hparams)["lr"]), True, surface.bounds),
                        arrows=arrows_entry(arrows["point"], arrows["vectors"], "#0072B2"))
    return {
        "live figure": json.dumps(live),
        "loss": pio.to_json(loss_figure(traces, surface.min_value), validate=False),
        "distance": pio.to_json(distance_figure(traces, [surface.nearest_minimum_distance(t.points)
                                                         for t in traces]), validate=False),
    }


def cached_configuration(cfg: LabConfig) -> None:
    """The same configuration again: every piece from the shared cache, the figures rebuilt."""
    surface = build_surface(cfg)
    traces = cached_traces(cfg.to_json())
    sweep = cached_sweep(sweep_json(cfg, 0, "lr"))
    starts = {0: cached_starts(starts_json(cfg, 0))}
    figures(surface, cfg, traces, sweep, starts, cached_picture(surface_json(cfg)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clock", choices=sorted(CLOCK), default="cpu")
    args = parser.parse_args()
    global now
    now = CLOCK[args.clock]
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" warnings of cache_data outside a server
    import torch

    torch.set_num_threads(1)
    surface = build_surface(CONFIG)
    new_configuration(CONFIG)  # warm-up: imports, torch kernels
    runs = []
    bare = []
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
        t0 = now()
        bare_loops(surface, surface.start)
        bare.append((now() - t0) * 1e3)
        runs.append(new_configuration(CONFIG))
    t_bare = statistics.median(bare)
    parts = {k: statistics.median(r[0][k] for r in runs) for k in runs[0][0]}
    out = runs[-1][1]
    total = sum(parts.values())
    print(f"Surface Lab: {len(CONFIG.runs)} runs x {CONFIG.steps} steps on {surface.name}, median of {args.repeats}"
          f", {args.clock} time")
    print(f"  four bare torch.optim loops          {t_bare:8.1f} ms   (the reference)")
    for k, v in parts.items():
        print(f"  {k:<36} {v:8.1f} ms   {v / t_bare:5.2f}x")
    n_sweep = len(out["sweep"])
    n_starts = sum(len(s) for s in out["starts"].values())
    print(f"  lr sweep: {n_sweep} members, {parts['lr sweep'] / n_sweep:.2f} ms per member; start grid: "
          f"{n_starts} members, {parts['start grid'] / n_starts:.2f} ms per member")
    first = parts["trace"] + parts["picture"] + parts["figures"]
    print(f"  new configuration, first answer     {first:8.1f} ms   {first / t_bare:5.2f}x   "
          "(exact paths; the sweeps follow from the background)")
    print(f"  new configuration, sweeps included  {total:8.1f} ms   {total / t_bare:5.2f}x   (target <= 0.5x)")
    cached_configuration(CONFIG)
    t_cached, _ = timed(lambda: cached_configuration(CONFIG), args.repeats)
    print(f"  the same configuration from cache   {t_cached:8.1f} ms   {t_cached / t_bare:5.2f}x   (target <= 0.1x)")
    for k in ("live figure", "loss", "distance"):
        print(f"  payload {k:<28} {len(out[k]) / 1e6:8.3f} MB")

    from streamlit.testing.v1 import AppTest

    page = str(ROOT / "pages" / "1_Surface_Lab.py")
    RUNS.clear()
    for fn in (cached_sweep, cached_starts, cached_picture):
        fn.clear()
    at = AppTest.from_file(page, default_timeout=120)
    for k, v in encode(CONFIG).items():
        at.query_params[k] = v
    t = now()
    at.run()
    ms = (now() - t) * 1e3
    print(f"  whole page in AppTest, first run, empty cache {ms:8.1f} ms   {ms / t_bare:5.2f}x"
          f"{'  EXCEPTION' if at.exception else ''}   (AppTest itself scans the installed packages first)")
    ahead.wait(120)  # the sweeps, then the page with them: what a student sees once they are in
    at.run()
    reruns = []
    for _ in range(args.repeats):
        t = now()
        at.run()
        reruns.append((now() - t) * 1e3)
    ms = statistics.median(reruns)
    print(f"  whole page in AppTest, rerun, cached        {ms:8.1f} ms   {ms / t_bare:5.2f}x   (target <= 0.1x)")
    typed = []
    for k in range(args.repeats):  # learning rates between the sweep's members: each one a new exact run
        lr = float(sweep_values("sgd", "lr")[20 + k] * 1.15)
        t, w = now(), time.perf_counter()
        at.number_input(key="sl_r1_sgd_lr").set_value(lr).run()
        typed.append(((now() - t) * 1e3, (time.perf_counter() - w) * 1e3))
        if at.exception:
            print("  EXCEPTION", at.exception)
        ahead.wait(120)  # its new start grid, in the background, not part of the answer
    print(f"  a typed lr off the sweep, whole page        {statistics.median(x for x, _ in typed):8.1f} ms "
          f"{args.clock} time p50, {statistics.median(w for _, w in typed):.1f} ms wall p50 (target <= 300 ms)")
    print(f"  (machine load: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
