"""Benchmark: a fully recorded trace of 4 optimizers x 500 steps vs the same four torch.optim loops run bare; and
the two runs with extra sequences: L-BFGS traced through its closure (every line-search evaluation recorded) vs
torch.optim.LBFGS run bare with the registry's settings, and schedule-free AdamW with its averaged point read after
every step vs the same class run bare.

Run: .venv/bin/python bench/bench_trace.py
Prints medians over interleaved repeats, measured in this one run, and their ratios (target <= 1.2x).
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


LBFGS_ARGS = {"lr": 1.0, "max_iter": 1, "max_eval": 25, "history_size": 10, "line_search_fn": "strong_wolfe"}


def bare_lbfgs(surface, start) -> None:
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], **LBFGS_ARGS)

    def closure():
        opt.zero_grad()
        loss = surface.fn(p)
        loss.backward()
        return loss

    for _ in range(STEPS):
        opt.step(closure)


def traced_lbfgs(surface, start) -> None:
    run_traces(surface, [RunConfig.of("lbfgs", lr=1.0)], start, STEPS)


def bare_schedule_free(surface, start) -> None:
    from optlab.optim import AdamWScheduleFreeTraining

    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = AdamWScheduleFreeTraining([p], lr=0.05)
    for _ in range(STEPS):
        opt.zero_grad()
        surface.fn(p).backward()
        opt.step()


def traced_schedule_free(surface, start) -> None:
    run_traces(surface, [RunConfig.of("schedule_free", lr=0.05)], start, STEPS)


def compare(pairs, surface, start, repeats: int) -> dict[str, float]:
    """Median seconds of each function, the pairs interleaved so drift in machine load hits both alike."""
    times: dict[str, list[float]] = {name: [] for name, _ in pairs}
    for _ in range(repeats):
        for name, fn in pairs:
            t0 = time.perf_counter()
            fn(surface, start)
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


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
    extra = compare([("bare lbfgs", bare_lbfgs), ("lbfgs", traced_lbfgs), ("bare sf", bare_schedule_free),
                     ("sf", traced_schedule_free)], surface, start, repeats)
    print(f"L-BFGS x {STEPS} steps, every closure evaluation recorded, vs torch.optim.LBFGS bare")
    print(f"  {extra['lbfgs'] * 1e3:7.1f} ms vs {extra['bare lbfgs'] * 1e3:7.1f} ms: "
          f"{extra['lbfgs'] / extra['bare lbfgs']:5.2f}x")
    print(f"schedule-free AdamW x {STEPS} steps, its averaged point read after every step, vs the class bare")
    print(f"  {extra['sf'] * 1e3:7.1f} ms vs {extra['bare sf'] * 1e3:7.1f} ms: {extra['sf'] / extra['bare sf']:5.2f}x")


if __name__ == "__main__":
    main()
