"""Sweeps equal single runs: every member of a batched sweep walks the path its own run_trace walks."""

import numpy as np
import pytest

from optlab.registry import REGISTRY
from optlab.surfaces import get_surface
from optlab.sweep import (
    member_config,
    run_start_sweep,
    run_sweep,
    start_grid,
    sweep_values,
)
from optlab.trace import RunConfig, run_trace

STEPS = 60


def _same_path(sweep_points: np.ndarray, trace_points: np.ndarray) -> None:
    """The member's finite points are the trace's points; after a divergence both stop."""
    n = len(trace_points)
    np.testing.assert_allclose(sweep_points[:n], trace_points, rtol=1e-12, atol=1e-12)
    assert np.isnan(sweep_points[n:]).all()


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_lr_sweep_members_equal_single_runs(key):
    surface = get_surface("rosenbrock")
    config = RunConfig.of(key)
    values = sweep_values(key, "lr", 7)
    sweep = run_sweep(surface, config, "lr", values, surface.start, STEPS)
    for k, value in enumerate(values):
        single = run_trace(surface, member_config(config, "lr", value), surface.start, STEPS)
        _same_path(sweep.points[k], single.points)
        assert sweep.diverged_at[k] == (-1 if single.diverged_at is None else single.diverged_at)


@pytest.mark.parametrize("key, knob", [(k, knob) for k, spec in sorted(REGISTRY.items())
                                       for knob in ("momentum", "beta1") if knob in spec.names()])
def test_momentum_and_beta_sweeps_equal_single_runs(key, knob):
    surface = get_surface("beale")
    config = RunConfig.of(key)
    values = sweep_values(key, knob, 6)
    sweep = run_sweep(surface, config, knob, values, surface.start, STEPS, noise_sigma=0.3, seed=4)
    for k, value in enumerate(values):
        single = run_trace(surface, member_config(config, knob, value), surface.start, STEPS, 0.3, 4)
        _same_path(sweep.points[k], single.points)


def test_sweep_with_schedule_and_two_param_groups():
    """Each member's groups keep their own scheduler state and their own lr ratio."""
    surface = get_surface("quadratic", kappa=20.0)
    config = RunConfig(optimizer="momentum", hparams=(("lr", 0.02), ("momentum", 0.8)), schedule="cosine",
                       schedule_params=(("min_fraction", 0.2),),
                       axis_hparams=((("lr", 0.02),), (("lr", 0.2),)))
    values = [0.005, 0.02, 0.05]
    sweep = run_sweep(surface, config, "lr", values, (2.0, 1.5), STEPS)
    for k, value in enumerate(values):
        single = run_trace(surface, member_config(config, "lr", value), (2.0, 1.5), STEPS)
        _same_path(sweep.points[k], single.points)


def test_diverging_members_stop_and_the_others_go_on():
    surface = get_surface("rosenbrock")
    config = RunConfig.of("sgd", lr=1e-3)
    sweep = run_sweep(surface, config, "lr", [1e-4, 1e-3, 0.5], surface.start, STEPS)
    assert sweep.diverged_at[0] == -1 and sweep.diverged_at[1] == -1
    assert sweep.diverged_at[2] > 0
    single = run_trace(surface, member_config(config, "lr", 0.5), surface.start, STEPS)
    assert single.diverged_at == sweep.diverged_at[2]
    assert np.isfinite(sweep.points[1]).all()


@pytest.mark.parametrize("key", ["sgd", "nesterov", "adam", "rmsprop",
                                 *(k for k, spec in sorted(REGISTRY.items()) if not spec.coordinatewise)])
def test_start_sweep_members_equal_single_runs(key):
    """Muon and Adafactor treat a parameter as a whole, so their starts run as separate parameters; the others
    as rows of one (N, 2) parameter. Either way each member is its single run."""
    surface = get_surface("himmelblau")
    config = RunConfig.of(key)
    starts = start_grid(surface.bounds, 3)
    sweep = run_start_sweep(surface, config, starts, STEPS)
    for k, s in enumerate(starts):
        single = run_trace(surface, config, s, STEPS)
        _same_path(sweep.points[k], single.points)
    assert sweep.nearest(starts[4] + 0.01) == 4


def test_sweep_values_cover_the_range_the_same_for_any_run():
    h = REGISTRY["adam"].hyper("lr")
    lrs = sweep_values("adam", "lr")
    assert len(lrs) == 49 and np.isclose(lrs.min(), max(h.min, 1e-5)) and np.isclose(lrs.max(), h.max)
    assert np.allclose(np.diff(np.log(lrs)), np.log(lrs[1] / lrs[0]))  # evenly log-spaced
    betas = sweep_values("adam", "beta1")
    assert betas.max() <= 0.999 and betas.min() >= REGISTRY["adam"].hyper("beta1").min
    memory = np.log(1 - betas)
    assert np.allclose(np.diff(memory), memory[1] - memory[0])
    with pytest.raises(ValueError, match="no 'momentum'"):
        sweep_values("sgd", "momentum")
