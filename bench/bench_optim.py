"""Benchmark: optlab's step() against its reference on a 784-128-10 MLP's parameters.

The reference is torch's class at its default (single-tensor on CPU), or, for an optimizer torch does not have,
the reference package's class at its defaults (lion-pytorch, pytorch-optimizer, schedulefree: the last two run
their foreach kernels by default). Muon steps the two weight matrices only (torch's Muon takes matrices), the
other optimizers all four tensors. Prints, per optimizer, the median step time of each and their ratio, measured
interleaved in one run.
Run: .venv/bin/python bench/bench_optim.py [--repeats N] [--steps N] [--only NAME ...]
"""

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optlab.optim as oo  # noqa: E402

CONFIGS = {
    "SGD": {"lr": 0.01, "momentum": 0.9},
    "Adam": {"lr": 1e-3},
    "AdamW": {"lr": 1e-3},
    "RMSprop": {"lr": 1e-3},
    "Adagrad": {"lr": 1e-2},
    "NAdam": {"lr": 2e-3},
    "RAdam": {"lr": 1e-3},
    "Adamax": {"lr": 2e-3},
    "Adadelta": {"lr": 1.0},
    "Rprop": {"lr": 1e-2},
    "ASGD": {"lr": 1e-2},
    "Adafactor": {"lr": 1e-2},
    "Muon": {"lr": 0.02},
    "Lion": {"lr": 1e-4},
    "AdaBelief": {"lr": 1e-3},
    "AdamWScheduleFree": {"lr": 2.5e-3},
}

#: The reference of each optimizer torch does not have, as "module:Name".
REFERENCES = {
    "Lion": "lion_pytorch:Lion",
    "AdaBelief": "pytorch_optimizer:AdaBelief",
    "AdamWScheduleFree": "schedulefree:AdamWScheduleFree",
}


def reference_class(name: str) -> type:
    if name not in REFERENCES:
        return getattr(torch.optim, name)
    module, _, attr = REFERENCES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def make(cls: type, name: str, kwargs: dict) -> torch.optim.Optimizer:
    """The optimizer over the MLP's parameters (its matrices for Muon), in train mode for schedule-free."""
    params = mlp_params()
    if name == "Muon":
        params = [p for p in params if p.dim() == 2]
    opt = cls(params, **kwargs)
    if hasattr(opt, "train"):
        opt.train()
    return opt


def mlp_params() -> list[torch.Tensor]:
    """Parameters of a 784-128-10 MLP, each with a fixed random gradient."""
    g = torch.Generator().manual_seed(0)
    params = []
    for shape in [(128, 784), (128,), (10, 128), (10,)]:
        p = torch.randn(shape, generator=g).mul_(0.01).requires_grad_()
        p.grad = torch.randn(shape, generator=g).mul_(1e-3)
        params.append(p)
    return params


def time_steps(opt: torch.optim.Optimizer, steps: int) -> float:
    """Seconds per step, over ``steps`` consecutive steps."""
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=None, help="optimizer names (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(f"torch {torch.__version__}, 1 thread, {args.repeats} repeats x {args.steps} steps, median per step")
    print(f"{'optimizer':<18}{'optlab µs':>12}{'reference µs':>14}{'ratio':>8}  reference")
    worst = 0.0
    for name, kwargs in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        ours = make(getattr(oo, name), name, kwargs)
        theirs = make(reference_class(name), name, kwargs)
        time_steps(ours, 3)  # warm-up: lazy state
        time_steps(theirs, 3)
        t_ours, t_theirs = [], []
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both alike
            t_ours.append(time_steps(ours, args.steps))
            t_theirs.append(time_steps(theirs, args.steps))
        m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
        ratio = m_ours / m_theirs
        worst = max(worst, ratio)
        where = REFERENCES.get(name, f"torch.optim:{name}")
        print(f"{name:<18}{m_ours * 1e6:>12.1f}{m_theirs * 1e6:>14.1f}{ratio:>8.2f}  {where}", flush=True)
    print(f"worst ratio {worst:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
