"""The extra sequences some optimizers have: schedule-free's averaged point x beside the point y where it takes
its gradients, and (tests/test_trace_lbfgs.py) L-BFGS's closure evaluations."""

import copy
import json

import numpy as np
import pytest
import torch

from optlab.surfaces import get_surface
from optlab.trace import RunConfig, run_trace, run_traces, traces_to_json

schedulefree = pytest.importorskip("schedulefree")

ROSEN = get_surface("rosenbrock")
START = (-1.2, 1.0)


def reference_sequences(surface, start, steps, noise=None, **kwargs):
    """schedulefree's own AdamWScheduleFree by hand, float64: y_t (train mode, where gradients are taken) and x_t
    (what eval() puts in the parameters), read from a copy so the run itself never leaves train mode."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = schedulefree.AdamWScheduleFree([p], **kwargs)
    opt.train()
    ys, xs = [p.detach().clone()], [p.detach().clone()]
    for t in range(steps):
        opt.zero_grad()
        surface.fn(p).backward()
        if noise is not None:
            p.grad.add_(noise[t])
        opt.step()
        ys.append(p.detach().clone())
        shadow = copy.deepcopy(opt)
        shadow.eval()
        xs.append(shadow.param_groups[0]["params"][0].detach().clone())
    return torch.stack(ys).numpy(), torch.stack(xs).numpy()


@pytest.mark.parametrize(
    "hparams",
    [
        {"lr": 0.05},
        {"lr": 0.1, "beta1": 0.5, "warmup_steps": 10.0},
        {"lr": 0.02, "beta1": 0.95, "beta2": 0.99, "weight_decay": 0.01},
    ],
    ids=["defaults", "warm-up", "decay"],
)
def test_schedule_free_records_y_and_its_average_x_as_the_reference(hparams):
    steps = 60
    trace = run_trace(ROSEN, RunConfig.of("schedule_free", **hparams), START, steps)
    kwargs = {k: v for k, v in hparams.items() if k not in ("beta1", "beta2")}
    kwargs["betas"] = (hparams.get("beta1", 0.9), hparams.get("beta2", 0.999))
    kwargs["warmup_steps"] = int(kwargs.get("warmup_steps", 0))
    ys, xs = reference_sequences(ROSEN, START, steps, **kwargs)
    np.testing.assert_allclose(trace.points, ys, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(trace.average_points, xs, rtol=1e-12, atol=1e-14)
    assert not np.allclose(trace.average_points[1:], trace.points[1:])  # two sequences, not one drawn twice
    f = ROSEN.fn(torch.from_numpy(trace.average_points)).numpy()
    np.testing.assert_allclose(trace.average_losses, f, rtol=1e-12)


def test_reading_the_average_does_not_move_the_run():
    """The averaged point is read through the optimizer's own eval() and train(); the run must be exactly the run
    of an optimizer nobody looked at, here the same class run in a plain loop."""
    from optlab.optim import AdamWScheduleFreeTraining

    steps = 40
    trace = run_trace(ROSEN, RunConfig.of("schedule_free", lr=0.05), START, steps)
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = AdamWScheduleFreeTraining([p], lr=0.05, betas=(0.9, 0.999))
    ys = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        ROSEN.fn(p).backward()
        opt.step()
        ys.append(p.detach().clone())
    np.testing.assert_array_equal(trace.points, torch.stack(ys).numpy())


def test_schedule_free_under_noise_and_beside_other_runs():
    noise = 0.5 * torch.randn(30, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    sf, adam = run_traces(ROSEN, [RunConfig.of("schedule_free", lr=0.05), RunConfig.of("adam", lr=0.05)], START, 30,
                          noise_sigma=0.5, seed=4)
    ys, xs = reference_sequences(ROSEN, START, 30, noise=noise, lr=0.05)
    np.testing.assert_allclose(sf.points, ys, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sf.average_points, xs, rtol=1e-12, atol=1e-14)
    assert adam.average_points is None and adam.closure_points is None


def test_the_json_export_carries_the_average():
    trace = run_trace(ROSEN, RunConfig.of("schedule_free", lr=0.05), START, 10)
    run = json.loads(traces_to_json([trace]))["runs"][0]
    np.testing.assert_allclose(np.array(run["average_points"]), trace.average_points, rtol=1e-15)
    assert len(run["average_losses"]) == 11


def test_a_diverging_schedule_free_run_cuts_its_average_with_its_points():
    from types import SimpleNamespace

    log_bowl = SimpleNamespace(fn=lambda xy: torch.log(xy[..., 0] + 2) + xy[..., 1] ** 2, bounds=((-3, 3), (-3, 3)))
    trace = run_trace(log_bowl, RunConfig.of("schedule_free", lr=1.0), (0.0, 0.5), 50)
    assert trace.diverged_at is not None and trace.diverged_at > 0
    assert trace.average_points.shape == trace.points.shape == (trace.diverged_at, 2)
