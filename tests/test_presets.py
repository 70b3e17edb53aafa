"""Per-surface learning rates: each preset run gets somewhere on its surface without diverging or jumping."""

import numpy as np
import pytest

from optlab.presets import MAX_JUMP, RUN_ORDER, TUNED_LR, TUNING_STEPS, preset_lr, run_optimizer, tuned_lr
from optlab.registry import REGISTRY
from optlab.surfaces import SURFACES, get_surface
from optlab.trace import RunConfig, run_traces


@pytest.mark.parametrize("surface_key", sorted(TUNED_LR))
def test_every_preset_run_converges_visibly_without_jumps(surface_key):
    surface = get_surface(surface_key)
    row = TUNED_LR[surface_key]
    configs = [RunConfig.of(k, lr=lr) for k, lr in row.items()]
    traces = run_traces(surface, configs, surface.start, TUNING_STEPS)
    (x0, x1), (y0, y1) = surface.bounds
    for tr in traces:
        assert tr.diverged_at is None, tr.label
        jumps = np.abs(np.diff(tr.points, axis=0)) / [x1 - x0, y1 - y0]
        assert jumps.max() <= MAX_JUMP, tr.label
        assert tr.losses[-1] < tr.losses[0], tr.label


@pytest.mark.parametrize("surface_key, optimizer", [("rosenbrock", "sgd"), ("himmelblau", "adam"),
                                                    ("quadratic", "momentum")])
def test_the_table_is_what_the_tuning_gives(surface_key, optimizer):
    assert tuned_lr(surface_key, optimizer) == TUNED_LR[surface_key][optimizer]


def test_table_covers_the_catalog_and_falls_back_to_the_registry():
    assert set(TUNED_LR) == set(SURFACES)
    assert TUNED_LR["saddle"] == {}  # no minimum to measure progress against
    assert preset_lr("saddle", "adam") == REGISTRY["adam"].hyper("lr").default
    assert preset_lr("rosenbrock", "sgd") == TUNED_LR["rosenbrock"]["sgd"]
    for row in TUNED_LR.values():
        for k, lr in row.items():
            h = REGISTRY[k].hyper("lr")
            assert h.min <= lr <= h.max


def test_new_runs_take_different_optimizers():
    firsts = [run_optimizer(i) for i in range(1, len(RUN_ORDER) + 1)]
    assert len(set(firsts)) == len(firsts) and all(k in REGISTRY for k in firsts)
    assert run_optimizer(len(RUN_ORDER) + 1) == firsts[0]
