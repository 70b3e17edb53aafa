"""optlab.trace: runs on a surface agree with plain torch loops, record copies of everything, and stop on divergence."""

import inspect
import json

import numpy as np
import pytest
import torch

from optlab.surfaces import get_surface
from optlab.trace import RunConfig, run_grid, run_trace, run_traces, traces_to_csv, traces_to_json

ROSEN = get_surface("rosenbrock")
START = (-1.2, 1.0)


def torch_loop(surface, cls, kwargs, start, steps, noise=None, groups=None, scheduler=None):
    """The plain PyTorch loop a student would write: the reference every trace must reproduce."""
    if groups is None:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        params, point = [p], lambda: p
        opt = cls(params, **kwargs)
    else:
        px = torch.tensor(start[:1], dtype=torch.float64, requires_grad=True)
        py = torch.tensor(start[1:], dtype=torch.float64, requires_grad=True)
        params, point = [px, py], lambda: torch.cat([px, py])
        opt = cls([{"params": [px], **groups[0]}, {"params": [py], **groups[1]}], **kwargs)
    sched = scheduler(opt) if scheduler else None
    points = [point().detach().clone()]
    for t in range(steps):
        opt.zero_grad()
        surface.fn(point()).backward()
        if noise is not None:
            for i, q in enumerate(params):
                q.grad.add_(noise[t, i] if len(params) == 2 else noise[t])
        opt.step()
        if sched:
            sched.step()
        points.append(point().detach().clone())
    return torch.stack(points).numpy(), opt


CASES = [
    ("sgd", torch.optim.SGD, {"lr": 1e-3}),
    ("momentum", torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("nesterov", torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("adam", torch.optim.Adam, {"lr": 0.05}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.01}),
]


@pytest.mark.parametrize("impl", ["optlab", "torch"])
def test_shared_backward_matches_separate_torch_loops(impl):
    configs = [RunConfig(optimizer=key, hparams=kw, impl=impl) for key, _, kw in CASES]
    traces = run_traces(ROSEN, configs, START, 200)
    for (_, cls, kw), trace in zip(CASES, traces, strict=True):
        used = trace_kwargs(trace)
        assert {k: used[k] for k in kw} == kw and trace.optimizer_class == cls.__name__
        expected, _ = torch_loop(ROSEN, cls, used, START, 200)
        assert trace.points.shape == (201, 2)
        np.testing.assert_allclose(trace.points, expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(trace.losses, ROSEN.fn(torch.as_tensor(expected)).numpy(), rtol=1e-12)
        np.testing.assert_allclose(trace.updates, np.diff(expected, axis=0), rtol=1e-12, atol=1e-15)


def trace_kwargs(trace):
    """The constructor arguments the run really used, read back from its param_groups."""
    group = dict(trace.groups[0])
    cls = getattr(torch.optim, trace.optimizer_class)
    names = set(inspect.signature(cls).parameters) - {"params"}
    return {k: v for k, v in group.items() if k in names}


def test_any_torch_optim_class_by_name():
    trace = run_trace(ROSEN, RunConfig("Adamax", hparams={"lr": 0.02}, impl="torch"), START, 50)
    expected, _ = torch_loop(ROSEN, torch.optim.Adamax, {"lr": 0.02}, START, 50)
    np.testing.assert_allclose(trace.points, expected, rtol=1e-12)
    assert trace.optimizer_class == "Adamax"
    assert set(trace.state) == {"step", "exp_avg", "exp_inf"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (RunConfig("SparseAdam", impl="torch"), "sparse gradients"),
        (RunConfig("NoSuchThing", impl="torch"), "unknown optimizer"),
        (RunConfig("nosuch"), "nosuch"),
        (RunConfig.of("sgd", lr=-1.0), "lr"),
    ],
)
def test_bad_configurations_are_refused_clearly(config, message):
    with pytest.raises(ValueError, match=message):
        run_trace(ROSEN, config, START, 5)


def test_noise_is_shared_seeded_and_matches_torch():
    cfg = RunConfig.of("momentum", lr=1e-3, momentum=0.9)
    a, b = run_traces(ROSEN, [cfg, cfg], START, 100, noise_sigma=0.5, seed=7)
    np.testing.assert_array_equal(a.points, b.points)
    again = run_trace(ROSEN, cfg, START, 100, noise_sigma=0.5, seed=7)
    np.testing.assert_array_equal(a.points, again.points)
    other = run_trace(ROSEN, cfg, START, 100, noise_sigma=0.5, seed=8)
    assert not np.allclose(a.points, other.points)
    noise = 0.5 * torch.randn(100, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    expected, _ = torch_loop(ROSEN, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}, START, 100, noise=noise)
    np.testing.assert_allclose(a.points, expected, rtol=1e-12)
    clean = run_trace(ROSEN, cfg, START, 1)
    np.testing.assert_allclose(a.grads[0] - clean.grads[0], noise[0].numpy(), rtol=1e-12)


def test_divergence_is_a_result_and_other_runs_go_on():
    wild = RunConfig.of("sgd", lr=0.5)
    calm = RunConfig.of("sgd", lr=1e-4)
    w, c = run_traces(ROSEN, [wild, calm], START, 300)
    assert w.diverged_at is not None and 1 <= w.diverged_at <= 300
    assert w.reason
    assert len(w.points) == w.diverged_at and np.isfinite(w.points).all()
    assert len(w.losses) == len(w.points) and len(w.grads) == len(w.updates) == w.n_steps
    assert all(len(v) == w.n_steps for v in w.state.values())
    assert c.diverged_at is None and c.n_steps == 300


def test_overflowing_surface_diverges_at_the_first_step():
    class Exploding:
        bounds = ((-1.0, 1.0), (-1.0, 1.0))

        @staticmethod
        def fn(xy):
            return torch.exp(1000 * xy[..., 0])

    trace = run_trace(Exploding(), RunConfig.of("sgd", lr=0.1), (0.9, 0.0), 10)
    assert trace.diverged_at == 0
    assert len(trace.points) == len(trace.losses) == 1 and trace.n_steps == 0
    assert "infinite" in trace.reason


def test_state_is_recorded_by_value_and_matches_torch():
    trace = run_trace(ROSEN, RunConfig.of("adam", lr=0.05), START, 30)
    _, opt = torch_loop(ROSEN, torch.optim.Adam, {"lr": 0.05}, START, 30)
    final = opt.state[opt.param_groups[0]["params"][0]]
    assert trace.state["step"].shape == (30,)
    np.testing.assert_array_equal(trace.state["step"], np.arange(1, 31))
    for key in ("exp_avg", "exp_avg_sq"):
        assert trace.state[key].shape == (30, 2)
        np.testing.assert_allclose(trace.state[key][-1], final[key].numpy(), rtol=1e-12)
        assert not np.allclose(trace.state[key][0], trace.state[key][-1])
    assert trace.state_at(1)["step"] == 1.0 and trace.state_at(30)["step"] == 30.0  # torch's t after step t


def test_explained_terms_are_recorded_and_consistent():
    trace = run_trace(ROSEN, RunConfig.of("adam", lr=0.05), START, 20)
    assert trace.explain, "optlab's Adam explains its steps"
    assert "update" in trace.explain and trace.explain["update"].shape == (20, 2)
    np.testing.assert_allclose(trace.explain["update"], trace.updates, rtol=1e-9, atol=1e-15)
    assert set(trace.explain) <= set(trace.formulas)
    torch_trace = run_trace(ROSEN, RunConfig("adam", hparams={"lr": 0.05}, impl="torch"), START, 20)
    assert torch_trace.explain == {}
    np.testing.assert_allclose(torch_trace.points, trace.points, rtol=1e-12)


def test_scheduler_lr_is_recorded_per_step_and_printed_like_torch():
    cfg = RunConfig(optimizer="momentum", hparams={"lr": 1e-3, "momentum": 0.9}, schedule="exponential",
                    schedule_params={"gamma": 0.9})
    trace = run_trace(ROSEN, cfg, START, 20)
    np.testing.assert_allclose(trace.lrs[:, 0], 1e-3 * 0.9 ** np.arange(20), rtol=1e-12)
    _, opt = torch_loop(ROSEN, torch.optim.SGD, trace_kwargs(trace), START, 19,
                        scheduler=lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9))
    printed = trace.param_groups_repr(20)  # what step t = 20 used: torch's lr after 19 scheduler steps
    assert printed.splitlines()[0] == "SGD ("
    assert f"lr: {opt.param_groups[0]['lr']}" in printed
    torch_lines = [ln for ln in repr(opt).splitlines() if not ln.strip().startswith("lr:")]
    ours = [ln for ln in printed.splitlines() if not ln.strip().startswith("lr:")]
    assert ours == torch_lines


def test_per_axis_groups_have_their_own_learning_rates():
    cfg = RunConfig(optimizer="sgd", hparams={"lr": 1e-3}, axis_hparams=({"lr": 1e-3}, {"lr": 3e-3}))
    trace = run_trace(ROSEN, cfg, START, 50)
    assert trace.lrs.shape == (50, 2)
    np.testing.assert_allclose(trace.lrs[0], [1e-3, 3e-3])
    expected, _ = torch_loop(ROSEN, torch.optim.SGD, {"lr": 1e-3}, START, 50, groups=({"lr": 1e-3}, {"lr": 3e-3}))
    np.testing.assert_allclose(trace.points, expected, rtol=1e-12)
    assert "Parameter Group 1" in trace.param_groups_repr(10)
    rows = traces_to_csv([trace]).splitlines()
    header, first = rows[0].split(","), dict(zip(rows[0].split(","), rows[2].split(","), strict=True))  # step 1
    assert "lr_y" in header and float(first["lr"]) == 1e-3 and float(first["lr_y"]) == 3e-3
    assert json.loads(traces_to_json([trace]))["runs"][0]["axis_hparams"] == [{"lr": 1e-3}, {"lr": 3e-3}]


def test_ema_shadow_follows_the_lerp_formula():
    d = 0.9
    trace = run_trace(ROSEN, RunConfig(optimizer="sgd", hparams={"lr": 1e-3}, ema_decay=d), START, 40)
    shadow = trace.points[0].copy()
    for t in range(1, 41):
        shadow = d * shadow + (1 - d) * trace.points[t]
        np.testing.assert_allclose(trace.ema_points[t], shadow, rtol=1e-12)
    # f along the shadow, for the 3D view: the surface's own value at each shadow point
    expected = ROSEN.fn(torch.from_numpy(trace.ema_points)).numpy()
    np.testing.assert_allclose(trace.ema_losses, expected, rtol=1e-12)
    assert run_trace(ROSEN, RunConfig.of("sgd"), START, 5).ema_losses is None


def test_grid_of_starts_equals_separate_runs():
    starts = np.array([[-1.2, 1.0], [0.5, -0.5], [2.0, 2.0]])
    cfg = RunConfig.of("adam", lr=0.05)
    grid = run_grid(ROSEN, cfg, starts, 60)
    assert grid.points.shape == (61, 3, 2)
    for r, s in enumerate(starts):
        single = run_trace(ROSEN, cfg, s, 60)
        np.testing.assert_allclose(grid.points[:, r], single.points, rtol=1e-12)
    assert (grid.diverged_at == -1).all()


def test_grid_with_two_param_groups_equals_separate_per_axis_runs():
    starts = np.array([[-1.2, 1.0], [0.5, -0.5]])
    cfg = RunConfig(optimizer="momentum", hparams={"lr": 1e-3, "momentum": 0.9},
                    axis_hparams=({"lr": 1e-3}, {"lr": 3e-3}))
    grid = run_grid(ROSEN, cfg, starts, 40, noise_sigma=0.3, seed=2)
    assert grid.lrs.shape == (40, 2)
    np.testing.assert_allclose(grid.lrs[0], [1e-3, 3e-3])
    for r, s in enumerate(starts):
        single = run_trace(ROSEN, cfg, s, 40, noise_sigma=0.3, seed=2)
        np.testing.assert_allclose(grid.points[:, r], single.points, rtol=1e-12)


def test_grid_marks_diverging_starts_without_spoiling_the_others():
    starts = np.array([[-1.2, 1.0], [1.0, 1.0]])
    grid = run_grid(ROSEN, RunConfig.of("sgd", lr=0.01), starts, 50)
    assert grid.diverged_at[0] > 0 and grid.diverged_at[1] == -1
    assert np.isnan(grid.points[-1, 0]).all()
    np.testing.assert_allclose(grid.points[-1, 1], [1.0, 1.0])


def test_exports_hold_every_step_and_no_nan_tokens():
    wild, calm = run_traces(ROSEN, [RunConfig.of("sgd", lr=0.5), RunConfig.of("adam", lr=0.05)], START, 100)
    text = traces_to_csv([wild, calm])
    lines = text.strip().splitlines()
    assert lines[0].startswith("run,label,step,x,y,loss")
    assert len(lines) == 1 + len(wild.points) + len(calm.points)
    data = json.loads(traces_to_json([wild, calm]))
    assert data["runs"][0]["diverged_at"] == wild.diverged_at
    assert len(data["runs"][1]["points"]) == 101
    assert "NaN" not in traces_to_json([wild, calm])


@pytest.mark.parametrize("start", [(float("nan"), 0.0), (float("inf"), 1.0)])
def test_non_finite_start_is_refused(start):
    with pytest.raises(ValueError, match="finite"):
        run_trace(ROSEN, RunConfig.of("sgd"), start, 5)


def test_step_budget_is_checked():
    with pytest.raises(ValueError, match="steps"):
        run_trace(ROSEN, RunConfig.of("sgd"), START, -1)


def test_explained_terms_that_run_on_some_steps_or_axes_only_are_nan_elsewhere():
    booth = get_surface("booth")
    radam = run_trace(booth, RunConfig("radam"), (0.0, 0.0), 10)
    assert radam.n_steps == 10
    # ρ_t ≤ 5 on steps 1..5 (index 0..4): the unrectified branch; then the rectified one
    unrectified, rect = radam.explain["step_unrectified"], radam.explain["rect"]
    assert np.isfinite(unrectified[:5]).all() and np.isnan(unrectified[5:]).all()
    assert np.isnan(rect[:5]).all() and np.isfinite(rect[5:]).all()
    per_axis = run_trace(booth, RunConfig("sgd", axis_hparams=({"weight_decay": 0.1}, {})), (0.0, 0.0), 5)
    grad_l2 = per_axis.explain["grad_l2"]
    assert np.isfinite(grad_l2[:, 0]).all() and np.isnan(grad_l2[:, 1]).all()  # λ only on x
    np.testing.assert_allclose(per_axis.explain["update"], per_axis.updates, rtol=1e-9, atol=1e-15)


# --- torch's step numbers in the exports, and the experiment they came from -----------------------------------


def _csv_rows(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]


def test_csv_row_t_is_theta_t_and_what_step_t_did():
    trace = run_trace(ROSEN, RunConfig.of("adam", lr=0.05), START, 12)
    rows = _csv_rows(traces_to_csv([trace]))
    assert [int(r["step"]) for r in rows] == list(range(13))
    assert all(rows[0][k] == "" for k in ("grad_x", "grad_y", "update_x", "update_y", "lr"))  # θ₀: no step yet
    for t in (1, 7, 12):
        r = rows[t]
        np.testing.assert_allclose([float(r["x"]), float(r["y"])], trace.points[t], rtol=1e-15)
        np.testing.assert_allclose([float(r["update_x"]), float(r["update_y"])],
                                   trace.points[t] - trace.points[t - 1], rtol=1e-12)
        # g_t is the gradient at θ_{t-1}, the point step t started from
        g = torch.tensor(trace.points[t - 1], requires_grad=True)
        ROSEN.fn(g).backward()
        np.testing.assert_allclose([float(r["grad_x"]), float(r["grad_y"])], g.grad.numpy(), rtol=1e-12)


def test_json_lists_are_indexed_by_step_t_with_nothing_at_step_0():
    trace = run_trace(ROSEN, RunConfig.of("momentum", lr=1e-3, momentum=0.9), START, 8)
    run = json.loads(traces_to_json([trace]))["runs"][0]
    assert len(run["points"]) == len(run["grads"]) == len(run["updates"]) == len(run["lrs"]) == 9
    assert run["grads"][0] is None and run["updates"][0] is None and run["state"]["momentum_buffer"][0] is None
    np.testing.assert_allclose(run["updates"][3], trace.points[3] - trace.points[2], rtol=1e-12)
    np.testing.assert_allclose(run["state"]["momentum_buffer"][8], trace.state["momentum_buffer"][7])


def test_exports_start_with_the_experiment_they_were_given():
    trace = run_trace(ROSEN, RunConfig.of("sgd", lr=1e-3), START, 3)
    experiment = {"link": "s=rosenbrock&n=3", "start": [-1.2, 1.0], "configuration": {"noise": 0.5, "seed": 7}}
    text = traces_to_csv([trace], experiment)
    assert text.splitlines()[:3] == ["# link: s=rosenbrock&n=3", "# start: [-1.2, 1.0]",
                                     '# configuration: {"noise": 0.5, "seed": 7}']
    assert len(_csv_rows(text)) == 4
    assert json.loads(traces_to_json([trace], experiment))["experiment"] == experiment


class _Surface:
    """A surface built from a function, for starts and steps that go wrong on purpose."""

    bounds = ((-3.0, 3.0), (-3.0, 3.0))

    def __init__(self, fn):
        self.fn = fn


def _log_x(p):
    return torch.log(p[..., 0]) + p[..., 1] ** 2


def _sqrt_x(p):  # finite at x = 0 but its gradient is not
    return torch.sqrt(p[..., 0].abs()) + p[..., 1] ** 2


def _pit(p):  # a well a step of lr 1 overshoots into ever larger values
    return 10.0 * (p ** 2).sum(-1)


# (surface, start, optimizer, step it diverges at, a piece of the reason)
DIVERGENCES = [
    (_Surface(_log_x), (0.0, 0.0), RunConfig.of("sgd"), 0, "f is infinite or NaN at the start point"),
    (_Surface(_log_x), (-1.0, 0.0), RunConfig.of("sgd"), 0, "f is infinite or NaN at the start point"),
    (_Surface(_sqrt_x), (0.0, 1.0), RunConfig.of("sgd"), 0, "the gradient of f is infinite or NaN at the start"),
    (_Surface(_log_x), (1.0, 0.0), RunConfig.of("sgd", lr=2.0), 1, "f is infinite or NaN at the point it reached"),
    (_Surface(_pit), (1.0, 1.0), RunConfig.of("sgd", lr=1.0), None, "more than 1000 plot widths"),
]


@pytest.mark.parametrize("surface, start, cfg, at, reason", DIVERGENCES, ids=range(len(DIVERGENCES)))
def test_divergence_names_torch_step_and_what_went_wrong(surface, start, cfg, at, reason):
    trace = run_trace(surface, cfg, start, 50)
    assert trace.diverged_at is not None and reason in trace.reason, trace.reason
    if at is not None:
        assert trace.diverged_at == at
    # the path ends at θ_{t-1}: every recorded step was taken, the one that broke is not recorded
    assert trace.n_steps == max(trace.diverged_at - 1, 0) and len(trace.grads) == trace.n_steps


def test_every_runner_calls_the_same_point_unusable_at_the_same_step():
    """f = log(x + 2) + y² is NaN left of x = −2 although the point itself is finite: the single runner, the grid
    and a sweep all go through one step (optlab.trace.step.Walk) and stop at the same step."""
    from types import SimpleNamespace

    from optlab.sweep import run_sweep
    from optlab.trace import GridRun

    log_bowl = SimpleNamespace(fn=lambda xy: torch.log(xy[..., 0] + 2) + xy[..., 1] ** 2, bounds=((-3, 3), (-3, 3)))
    cfg = RunConfig.of("sgd", lr=1.0)
    # x₁ = 0 − 1/2, x₂ = −0.5 − 1/1.5, x₃ = x₂ − 1/(x₂ + 2) ≈ −2.37: f(θ₃) is NaN
    x = [0.0]
    for _ in range(3):
        x.append(x[-1] - 1 / (x[-1] + 2))
    assert x[3] < -2 < x[2]
    single = run_trace(log_bowl, cfg, (0.0, 0.0), 10)
    grid = run_grid(log_bowl, cfg, np.array([[0.0, 0.0], [-2.5, 0.0]]), 10)
    sweep = run_sweep(log_bowl, cfg, "lr", [1.0], (0.0, 0.0), 10)
    assert isinstance(grid, GridRun) and grid.points.shape == (11, 2, 2) and grid.n_steps == 10
    assert single.diverged_at == 3 and "NaN" in single.reason
    np.testing.assert_allclose(single.points[:, 0], x[:3], rtol=1e-15)
    assert grid.diverged_at.tolist() == [3, 0]  # the second start lies outside where log is defined
    assert np.isnan(grid.points[3:, 0]).all() and np.isnan(grid.losses[3:, 0]).all()
    np.testing.assert_allclose(grid.points[:3, 0], single.points, rtol=1e-15)
    assert sweep.diverged_at.tolist() == [3]
    np.testing.assert_allclose(sweep.points[0, :3], single.points, rtol=1e-15)
