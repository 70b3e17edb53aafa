"""L-BFGS on the surface, traced through its closure: each step's accepted point, and every closure evaluation
(the line search's trial points), equal to torch.optim.LBFGS run by hand."""

import json

import numpy as np
import pytest
import torch

from optlab.registry import REGISTRY
from optlab.surfaces import get_surface
from optlab.sweep import run_start_sweep, run_sweep
from optlab.trace import RunConfig, needs_closure, run_grid, run_trace, run_traces, traces_to_json

ROSEN = get_surface("rosenbrock")
START = (-1.2, 1.0)

#: (configuration, torch.optim.LBFGS's arguments for the same run)
CASES = [
    pytest.param(RunConfig("LBFGS", impl="torch", hparams={"lr": 1.0, "max_iter": 4}), {"lr": 1.0, "max_iter": 4},
                 id="torch-plain"),
    pytest.param(RunConfig("LBFGS", impl="torch", hparams={"lr": 1.0, "max_iter": 5, "line_search_fn": "strong_wolfe"}),
                 {"lr": 1.0, "max_iter": 5, "line_search_fn": "strong_wolfe"}, id="torch-strong-wolfe"),
    pytest.param(RunConfig("LBFGS", impl="torch", hparams={"lr": 0.5, "max_iter": 1, "history_size": 3}),
                 {"lr": 0.5, "max_iter": 1, "history_size": 3}, id="torch-one-iteration"),
]


def by_hand(surface, start, steps, noise=None, **kwargs):
    """torch.optim.LBFGS the way its documentation runs it: a closure that zeroes, evaluates and backpropagates."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], **kwargs)
    points, evaluations, losses, owners = [p.detach().clone()], [], [], []
    for t in range(steps):
        def closure(t=t):
            opt.zero_grad()
            loss = surface.fn(p)
            loss.backward()
            if noise is not None:
                p.grad.add_(noise[t])
            evaluations.append(p.detach().clone())
            losses.append(loss.item())
            owners.append(t + 1)
            return loss

        opt.step(closure)
        points.append(p.detach().clone())
    return (torch.stack(points).numpy(), torch.stack(evaluations).numpy(), np.array(losses), np.array(owners),
            opt.state[p]["func_evals"])


@pytest.mark.parametrize("config, kwargs", CASES)
def test_steps_and_every_closure_evaluation_equal_torch_by_hand(config, kwargs):
    steps = 12
    trace = run_trace(ROSEN, config, START, steps)
    points, evaluations, losses, owners, func_evals = by_hand(ROSEN, START, steps, **kwargs)
    assert needs_closure(config)
    assert trace.diverged_at is None
    np.testing.assert_allclose(trace.points, points, rtol=1e-12, atol=1e-12)
    assert len(trace.closure_points) == func_evals == len(evaluations)
    np.testing.assert_allclose(trace.closure_points, evaluations, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.closure_losses, losses, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(trace.closure_steps, owners)
    # the first evaluation of step t is at θ_{t−1}; its gradient is the step's recorded gradient
    firsts = [np.flatnonzero(trace.closure_steps == t)[0] for t in range(1, steps + 1)]
    np.testing.assert_array_equal(trace.closure_points[firsts], trace.points[:-1])
    grad = torch.func.grad(lambda w: ROSEN.fn(w))(torch.tensor(trace.points[0]))
    np.testing.assert_allclose(trace.grads[0], grad.numpy(), rtol=1e-12)
    assert trace.state["func_evals"][-1] == func_evals
    for t in (1, steps):  # what the inspector shows for one step: its own evaluations, in order
        np.testing.assert_array_equal(trace.closure_evaluations_of(t), evaluations[owners == t])
    assert trace.closure_evaluations_of(steps + 1).shape == (0, 2)


def test_a_noisy_comparison_adds_each_steps_noise_to_every_evaluation_of_that_step():
    steps, sigma, seed = 8, 0.3, 5
    config = RunConfig("LBFGS", impl="torch", hparams={"lr": 1.0, "max_iter": 3})
    lbfgs, sgd = run_traces(ROSEN, [config, RunConfig.of("sgd", lr=1e-3)], START, steps, sigma, seed)
    noise = sigma * torch.randn(steps, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    points, evaluations, *_ , func_evals = by_hand(ROSEN, START, steps, noise=noise, lr=1.0, max_iter=3)
    np.testing.assert_allclose(lbfgs.points, points, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lbfgs.closure_points, evaluations, rtol=1e-12, atol=1e-12)
    assert sgd.closure_points is None and len(lbfgs.closure_points) == func_evals


def test_the_json_export_lists_every_evaluation():
    trace = run_trace(ROSEN, CASES[0].values[0], START, 5)
    run = json.loads(traces_to_json([trace]))["runs"][0]
    assert [e["step"] for e in run["closure_evaluations"]] == trace.closure_steps.tolist()
    np.testing.assert_allclose([e["point"] for e in run["closure_evaluations"]], trace.closure_points, rtol=1e-15)


def test_a_grid_of_starts_refuses_a_closure_optimizer_with_the_reason():
    with pytest.raises(ValueError, match="line search") as info:
        run_grid(ROSEN, CASES[0].values[0], np.array([[0.0, 0.0], [1.0, 0.5]]), 5)
    assert "run_traces" in str(info.value)


def test_x_and_y_as_two_groups_are_refused_for_lbfgs():
    config = RunConfig("LBFGS", impl="torch", hparams={"lr": 1.0}, axis_hparams=({"lr": 1.0}, {"lr": 0.5}))
    with pytest.raises(ValueError, match="single param group"):
        run_trace(ROSEN, config, START, 3)


def test_sweeps_of_a_closure_optimizer_are_runs_of_their_own_and_exact():
    config = RunConfig("LBFGS", impl="torch", hparams={"lr": 1.0, "max_iter": 3})
    sweep = run_sweep(ROSEN, config, "lr", [0.25, 1.0], START, 6)
    for k, lr in enumerate([0.25, 1.0]):
        single = run_trace(ROSEN, RunConfig("LBFGS", impl="torch", hparams={"lr": lr, "max_iter": 3}), START, 6)
        np.testing.assert_array_equal(sweep.points[k], single.points)
    starts = np.array([[-1.0, 2.0], [0.5, -0.5], [1.5, 2.5]])
    grid = run_start_sweep(ROSEN, config, starts, 6)
    for k, s in enumerate(starts):
        np.testing.assert_array_equal(grid.points[k], run_trace(ROSEN, config, s, 6).points)


@pytest.mark.skipif(not any(getattr(s, "needs_closure", False) for s in REGISTRY.values()),
                    reason="no registry optimizer needs a closure yet")
def test_the_registry_lbfgs_traces_as_torch_by_hand():
    key = next(k for k, s in REGISTRY.items() if getattr(s, "needs_closure", False))
    config = RunConfig.of(key, lr=1.0)
    trace = run_trace(ROSEN, config, START, 10)
    kwargs = REGISTRY[key].kwargs(**{**REGISTRY[key].defaults(), "lr": 1.0})
    points, evaluations, _, _, func_evals = by_hand(ROSEN, START, 10, **kwargs)
    np.testing.assert_allclose(trace.points, points, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.closure_points, evaluations, rtol=1e-12, atol=1e-12)
    assert len(trace.closure_points) == func_evals
