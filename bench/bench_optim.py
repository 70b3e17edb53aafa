"""Benchmark: optlab's step() against its reference on a 784-128-10 MLP's parameters.

Every optimizer of the test table (tests/optim_db.py), with its reference and its ``bench`` arguments: torch's
class at its default (single-tensor on CPU), or, for an optimizer torch does not have, the reference package's
class at its defaults (lion-pytorch, pytorch-optimizer, schedulefree: the last two run their foreach kernels by
default). Muon steps the two weight matrices only (torch's Muon takes matrices), the other optimizers all four
tensors; L-BFGS gets a closure of constant loss (the fixed gradients), so each of its steps is one iteration. Prints, per optimizer, the median step time of each and their ratio, measured
interleaved in one run.
Run: .venv/bin/python bench/bench_optim.py [--repeats N] [--steps N] [--only NAME ...]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.optim_db import INFOS, OptimizerInfo  # noqa: E402  (the one table of optimizers and references)

#: A constant loss for L-BFGS's closure: the gradients are the fixed ones set on the parameters.
_LOSS = torch.tensor(1.0)


def make(info: OptimizerInfo, cls: type) -> torch.optim.Optimizer:
    """The optimizer over the MLP's parameters (its matrices for an optimizer of matrices, Muon), prepared as the
    table says (schedule-free: train mode)."""
    params = mlp_params()
    if info.params_kind == "matrices":
        params = [p for p in params if p.dim() == 2]
    opt = cls(params, **info.bench)
    if info.prepare is not None:
        info.prepare(opt)
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


def time_steps(opt: torch.optim.Optimizer, steps: int, closure=None) -> float:
    """Seconds per step, over ``steps`` consecutive steps (with ``closure`` for an optimizer that needs one)."""
    start = time.perf_counter()
    for _ in range(steps):
        opt.step(closure)
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
    for info in INFOS:
        name = info.name
        if args.only and name not in args.only:
            continue
        ours, theirs = make(info, info.cls), make(info, info.reference_cls())
        # L-BFGS: a closure that returns a constant loss, so each step is its first evaluation, one iteration
        # along -g and one more evaluation, the same in both
        closure = (lambda: _LOSS) if info.needs_closure else None
        time_steps(ours, 3, closure)  # warm-up: lazy state
        time_steps(theirs, 3, closure)
        t_ours, t_theirs = [], []
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both alike
            t_ours.append(time_steps(ours, args.steps, closure))
            t_theirs.append(time_steps(theirs, args.steps, closure))
        m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
        ratio = m_ours / m_theirs
        worst = max(worst, ratio)
        print(f"{name:<18}{m_ours * 1e6:>12.1f}{m_theirs * 1e6:>14.1f}{ratio:>8.2f}  {info.reference}", flush=True)
    print(f"worst ratio {worst:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
