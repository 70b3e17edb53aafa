"""Benchmark: a fully recorded trace of 4 optimizers x 500 steps vs the same four torch.optim loops run bare.

Run: .venv/bin/python bench/bench_trace.py
Prints medians over interleaved repeats, measured in this one run, and their ratio (target <= 1.2x).
"""

from __future__ import annotations

import statistics
import time

import torch

from optlab.surfaces import get_surface
from optlab.trace import RunConfig, run_traces

STEPS = 500
RUNS = [
    ("sgd", torch.optim.SGD, {"lr": 1e-3}),
    ("momentum", torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("adam", torch.optim.Adam, {"lr": 0.05}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.01}),
]


def bare_loops(surface, start) -> None:
    """What a student would write: one plain loop per optimizer, nothing recorded."""
    for _, cls, kwargs in RUNS:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = cls([p], **kwargs)
        for _ in range(STEPS):
            opt.zero_grad()
            surface.fn(p).backward()
            opt.step()


def recorded(surface, start) -> None:
    configs = [RunConfig.of(key, **kwargs) for key, _, kwargs in RUNS]
    run_traces(surface, configs, start, STEPS)


def main(repeats: int = 7) -> None:
    torch.set_num_threads(1)
    surface = get_surface("rosenbrock")
    start = (-1.2, 1.0)
    times: dict[str, list[float]] = {"bare": [], "trace": []}
    for _ in range(repeats):  # interleaved, so drift in machine load hits both alike
        for name, fn in (("bare", bare_loops), ("trace", recorded)):
            t0 = time.perf_counter()
            fn(surface, start)
            times[name].append(time.perf_counter() - t0)
    bare, trace = statistics.median(times["bare"]), statistics.median(times["trace"])
    print(f"4 optimizers x {STEPS} steps on Rosenbrock (median of {repeats})")
    print(f"  four bare torch.optim loops : {bare * 1e3:7.1f} ms")
    print(f"  run_traces, full recording  : {trace * 1e3:7.1f} ms")
    print(f"  ratio trace / bare          : {trace / bare:7.2f}x   (target <= 1.2x)")


if __name__ == "__main__":
    main()
