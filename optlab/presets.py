"""Learning rates that work on the surface shown: one per surface and optimizer, found by a learning-rate sweep.

The registry's defaults are one number per optimizer, but a step size that suits Booth's gentle bowl makes SGD
fly off Rosenbrock's cliffs at step 4. So each catalog surface carries, per optimizer, a learning rate found by
running the real optimizer at 25 log-spaced rates from the surface's default start for ``TUNING_STEPS`` steps
(``optlab.sweep``), taking the rate whose loss falls fastest without wild jumps, and backing off to
``BACK_OFF`` × that rate, which keeps clear of the edge of divergence and still gets far. ``tuned_lr`` does this; ``TUNED_LR`` is its output,
written out so that links and tests see fixed numbers (``python -m optlab.presets`` prints it again).
"""

from __future__ import annotations

import numpy as np
import torch

from optlab.registry import REGISTRY
from optlab.surfaces import SURFACES, get_surface
from optlab.sweep import run_sweep
from optlab.trace import RunConfig

TUNING_STEPS = 300
BACK_OFF = 0.7
#: no step of a preset run may jump farther than this fraction of the window (a path should be followable)
MAX_JUMP = 0.1
#: the order in which new runs pick their optimizer, so that each new run differs visibly from the others
RUN_ORDER = ("sgd", "momentum", "adam", "rmsprop", "nesterov", "adagrad")


def tuned_lr(surface_key: str, optimizer: str, steps: int = TUNING_STEPS) -> float | None:
    """The learning rate of ``optimizer`` on a catalog surface (2 significant digits), or None for a surface
    with no minimum to measure progress against.

    Score of a rate: the mean over all steps of log10(f(θ_t) − f*), so reaching the floor fast counts and so
    does staying there. A run that diverged, or that ever jumped farther than ``MAX_JUMP`` of the window in one
    step, is out. The best rate, times ``BACK_OFF``, is the preset.
    """
    surface = get_surface(surface_key)
    if surface.min_value is None:
        return None
    h = REGISTRY[optimizer].hyper("lr")
    values = np.geomspace(max(h.min, 1e-5), min(h.max, 3.0), 25)
    sweep = run_sweep(surface, RunConfig.of(optimizer), "lr", values, surface.start, steps)
    with torch.no_grad():
        f = surface.fn(torch.as_tensor(np.nan_to_num(sweep.points))).numpy()
    gap = np.maximum(f - surface.min_value, 1e-12)
    (x0, x1), (y0, y1) = surface.bounds
    with np.errstate(invalid="ignore"):
        jump = np.nanmax(np.abs(np.diff(sweep.points, axis=1)) / [x1 - x0, y1 - y0], axis=(1, 2))
    ok = (sweep.diverged_at < 0) & (jump <= MAX_JUMP)
    score = np.where(ok, np.log10(gap).mean(axis=1), np.inf)
    if not np.isfinite(score).any():
        return None
    return float(f"{float(values[int(np.argmin(score))]) * BACK_OFF:.2g}")


#: surface -> optimizer -> learning rate (``tuned_lr`` of each; regenerate with ``python -m optlab.presets``)
TUNED_LR: dict[str, dict[str, float]] = {
    'rosenbrock': {'sgd': 0.00047, 'momentum': 0.0013, 'nesterov': 0.00047, 'adam': 0.26, 'amsgrad': 0.26, 'adamw': 0.26, 'nadam': 0.15, 'radam': 0.0013, 'rmsprop': 0.011, 'adagrad': 0.09, 'adamax': 0.09, 'adadelta': 2.1, 'rprop': 0.019, 'asgd': 0.00047, 'adafactor': 0.09, 'muon': 0.031, 'lion': 0.011, 'adabelief': 0.09, 'schedule_free': 0.09},
    'beale': {'sgd': 0.0065, 'momentum': 0.0023, 'nesterov': 0.0023, 'adam': 0.26, 'amsgrad': 0.26, 'adamw': 0.43, 'nadam': 0.26, 'radam': 0.0065, 'rmsprop': 0.053, 'adagrad': 0.43, 'adamax': 0.43, 'adadelta': 2.1, 'rprop': 0.019, 'asgd': 0.0065, 'adafactor': 0.031, 'muon': 0.031, 'lion': 0.09, 'adabelief': 0.26, 'schedule_free': 0.43},
    'himmelblau': {'sgd': 0.011, 'momentum': 0.0038, 'nesterov': 0.0038, 'adam': 0.43, 'amsgrad': 0.43, 'adamw': 0.43, 'nadam': 0.15, 'radam': 0.019, 'rmsprop': 0.053, 'adagrad': 0.43, 'adamax': 0.43, 'adadelta': 2.1, 'rprop': 0.15, 'asgd': 0.011, 'adafactor': 0.73, 'muon': 0.09, 'lion': 0.053, 'adabelief': 0.43, 'schedule_free': 0.43},
    'six_hump_camel': {'sgd': 0.031, 'momentum': 0.0038, 'nesterov': 0.019, 'adam': 0.15, 'amsgrad': 0.15, 'adamw': 0.15, 'nadam': 0.031, 'radam': 0.019, 'rmsprop': 0.011, 'adagrad': 0.09, 'adamax': 0.053, 'adadelta': 2.1, 'rprop': 0.09, 'asgd': 0.031, 'adafactor': 0.019, 'muon': 0.09, 'lion': 0.15, 'adabelief': 0.031, 'schedule_free': 0.15},
    'three_hump_camel': {'sgd': 0.09, 'momentum': 0.053, 'nesterov': 0.053, 'adam': 0.26, 'amsgrad': 0.26, 'adamw': 0.26, 'nadam': 0.053, 'radam': 0.09, 'rmsprop': 0.019, 'adagrad': 0.26, 'adamax': 0.09, 'adadelta': 2.1, 'rprop': 0.09, 'asgd': 0.09, 'adafactor': 0.031, 'muon': 0.26, 'lion': 0.031, 'adabelief': 0.053, 'schedule_free': 0.26},
    'booth': {'sgd': 0.0065, 'momentum': 0.0023, 'nesterov': 0.0023, 'adam': 1.2, 'amsgrad': 1.2, 'adamw': 1.2, 'nadam': 1.2, 'radam': 0.0065, 'rmsprop': 0.09, 'adagrad': 1.2, 'adamax': 1.2, 'adadelta': 2.1, 'rprop': 0.15, 'asgd': 0.0065, 'adafactor': 0.15, 'muon': 0.26, 'lion': 0.43, 'adabelief': 0.73, 'schedule_free': 1.2},
    'goldstein_price': {'adam': 0.09, 'amsgrad': 0.09, 'adamw': 0.09, 'nadam': 0.26, 'rmsprop': 0.019, 'adagrad': 0.26, 'adamax': 0.26, 'adadelta': 2.1, 'rprop': 0.09, 'adafactor': 0.15, 'muon': 0.15, 'lion': 0.031, 'adabelief': 0.09, 'schedule_free': 0.26},
    'rastrigin': {'sgd': 0.0023, 'momentum': 0.00047, 'nesterov': 0.0013, 'adam': 0.053, 'amsgrad': 0.053, 'adamw': 0.43, 'nadam': 0.031, 'radam': 0.0065, 'rmsprop': 0.011, 'adagrad': 0.15, 'adamax': 0.43, 'adadelta': 2.1, 'rprop': 0.15, 'asgd': 0.0023, 'adafactor': 0.15, 'muon': 0.031, 'lion': 0.019, 'adabelief': 0.43, 'schedule_free': 0.09},
    'ackley': {'sgd': 0.019, 'momentum': 0.031, 'nesterov': 0.031, 'adam': 0.43, 'amsgrad': 0.43, 'adamw': 0.43, 'nadam': 0.053, 'radam': 0.26, 'rmsprop': 0.053, 'adagrad': 0.43, 'adamax': 0.43, 'adadelta': 2.1, 'rprop': 0.43, 'asgd': 0.019, 'adafactor': 0.15, 'muon': 0.26, 'lion': 0.43, 'adabelief': 0.26, 'schedule_free': 0.43},
    'banana': {'sgd': 0.00079, 'momentum': 0.00047, 'nesterov': 0.00028, 'adam': 0.15, 'amsgrad': 0.15, 'adamw': 0.15, 'nadam': 0.09, 'radam': 0.00028, 'rmsprop': 0.019, 'adagrad': 0.15, 'adamax': 0.15, 'adadelta': 2.1, 'rprop': 0.011, 'asgd': 0.00079, 'adafactor': 0.09, 'muon': 0.031, 'lion': 0.031, 'adabelief': 0.15, 'schedule_free': 0.15},
    'saddle': {},
    'quadratic': {'sgd': 0.15, 'momentum': 0.053, 'nesterov': 0.09, 'adam': 0.26, 'amsgrad': 0.26, 'adamw': 0.26, 'nadam': 0.26, 'radam': 0.15, 'rmsprop': 0.031, 'adagrad': 0.26, 'adamax': 0.26, 'adadelta': 2.1, 'rprop': 0.09, 'asgd': 0.15, 'adafactor': 0.15, 'muon': 0.09, 'lion': 0.053, 'adabelief': 0.26, 'schedule_free': 0.26},
}


def preset_lr(surface_key: str, optimizer: str) -> float:
    """The surface's learning rate for ``optimizer``, or the registry default where none is tuned."""
    lr = TUNED_LR.get(surface_key, {}).get(optimizer)
    return float(lr) if lr is not None else float(REGISTRY[optimizer].hyper("lr").default)


def run_optimizer(i: int) -> str:
    """The optimizer a new run number ``i`` (1-based) starts with."""
    return RUN_ORDER[(i - 1) % len(RUN_ORDER)]


if __name__ == "__main__":
    table = {s: {k: lr for k in REGISTRY if "lr" in REGISTRY[k].names() and (lr := tuned_lr(s, k)) is not None}
             for s in SURFACES}
    print("TUNED_LR: dict[str, dict[str, float]] = {")
    for s, row in table.items():
        print(f"    {s!r}: {row!r},")
    print("}")
