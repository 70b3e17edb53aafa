"""The narrated step against independent runs: each narrated number equals the reference optimizer's state after
that step (torch.optim, or the reference package), the update arrow ends at the next point, and bad input is refused.
"""

import math

import numpy as np
import pytest
import torch

from optlab.lessons import narrated_step as lesson
from optlab.plots.narration import step_figure
from optlab.registry import REGISTRY, get_spec
from optlab.surfaces import get_surface

STEPS = 12


def reference_run(opt: str, hparams: dict, surface: str, params: dict, steps: int, shape=(2,)):
    """The preset's reference class (torch.optim or the reference package) on the same surface: the point and a
    copy of the state after each step."""
    spec = get_spec(opt)
    f = get_surface(surface, **params)
    p = torch.tensor(f.start, dtype=torch.float64).reshape(shape).requires_grad_(True)
    ref = spec.reference_cls([p], **spec.kwargs(**hparams))
    if hasattr(ref, "train"):
        ref.train()  # schedule-free: gradients are taken at y, as in the labs
    points, states = [], []
    for _ in range(steps):
        ref.zero_grad()
        f(p.reshape(2)).backward()
        ref.step()
        points.append(p.detach().reshape(2).clone().numpy())
        states.append({k: (v.detach().clone().reshape(-1).numpy() if torch.is_tensor(v) else v)
                       for k, v in ref.state[p].items()})
    return np.array(points), states, ref.param_groups[0]


# (preset, the narrated role, the reference state key it must equal)
MOMENTUM_CASES = [
    ("momentum", "momentum", "momentum_buffer"),
    ("nesterov", "momentum", "momentum_buffer"),
    ("adam", "momentum", "exp_avg"),
    ("adamw", "momentum", "exp_avg"),
    ("nadam", "momentum", "exp_avg"),
    ("adamax", "momentum", "exp_avg"),
    ("rmsprop", None, None),
    ("adagrad", None, None),
    ("sgd", None, None),
    ("muon", "momentum", "momentum_buffer"),
    ("rprop", None, None),
    ("adabelief", "momentum", "exp_avg"),
    ("schedule_free", None, None),
]


@pytest.mark.parametrize(("opt", "role", "state_key"), MOMENTUM_CASES)
def test_narrated_points_and_momentum_equal_the_reference_run(opt, role, state_key):
    hparams = {"lr": 0.05}
    run = lesson.narrate(opt, hparams, "quadratic", STEPS, {"kappa": 10.0})
    shape = (1, 2) if opt == "muon" else (2,)  # torch's Muon takes matrices only
    points, states, _ = reference_run(opt, hparams, "quadratic", {"kappa": 10.0}, STEPS, shape)
    assert run.n_steps == STEPS
    np.testing.assert_allclose(run.points[1:], points, rtol=1e-10, atol=1e-12)
    for t in range(1, STEPS + 1):
        np.testing.assert_allclose(run.points[t - 1] + run.vector(t, "update"), run.points[t], rtol=1e-12,
                                   atol=1e-14)
        if role is not None:
            np.testing.assert_allclose(run.vector(t, role), states[t - 1][state_key], rtol=1e-10, atol=1e-14)
        else:
            assert "momentum" not in run.roles[t - 1]


def test_lion_narrates_its_interpolation_and_steps_by_exactly_lr():
    """Lion's step t: c_t = β1 m_{t-1} + (1 - β1) g_t, update = -lr sign(c_t) (Chen et al. 2023, Algorithm 2);
    m_{t-1} is the reference's exp_avg after step t - 1."""
    run = lesson.narrate("lion", {"lr": 0.02}, "rosenbrock", STEPS)
    points, states, group = reference_run("lion", {"lr": 0.02}, "rosenbrock", {}, STEPS)
    np.testing.assert_allclose(run.points[1:], points, rtol=1e-12)
    beta1 = group["betas"][0]
    m_prev = np.zeros(2)
    for t in range(1, STEPS + 1):
        g = run.vector(t, "gradient")
        np.testing.assert_allclose(run.vector(t, "momentum"), beta1 * m_prev + (1 - beta1) * g, rtol=1e-12)
        np.testing.assert_allclose(np.abs(run.vector(t, "update")), 0.02, rtol=1e-12)
        m_prev = states[t - 1]["exp_avg"]


@pytest.mark.parametrize("opt", ["adam", "amsgrad", "adamw", "nadam"])
def test_adam_family_effective_step_is_lr_over_root_v_hat_of_the_reference_state(opt):
    run = lesson.narrate(opt, {"lr": 0.1}, "quadratic", STEPS, {"kappa": 100.0})
    _, states, group = reference_run(opt, {"lr": 0.1}, "quadratic", {"kappa": 100.0}, STEPS)
    sizes = lesson.effective_step_sizes(run)
    beta2, eps = group["betas"][1], group["eps"]
    for t in range(1, STEPS + 1):
        v = states[t - 1]["max_exp_avg_sq" if opt == "amsgrad" else "exp_avg_sq"]
        expected = 0.1 / (np.sqrt(v / (1 - beta2**t)) + eps)  # lr / (√v̂ + ε), Kingma and Ba 2015, Algorithm 1
        np.testing.assert_allclose(sizes[t - 1], expected, rtol=1e-10)
    assert sizes[-1, 0] > sizes[-1, 1]  # the flat x direction gets the longer step


@pytest.mark.parametrize(("opt", "expected"), [
    # RMSprop: lr / (√v + ε), v = square_avg (torch.optim.RMSprop docs)
    ("rmsprop", lambda s, g, t: g["lr"] / (np.sqrt(s["square_avg"]) + g["eps"])),
    # Adagrad: lr / (1 + (t - 1) η) / (√sum + ε) (torch.optim.Adagrad docs)
    ("adagrad", lambda s, g, t: g["lr"] / (1 + (t - 1) * g["lr_decay"]) / (np.sqrt(s["sum"]) + g["eps"])),
    # Adamax: lr / u, u = exp_inf (Kingma and Ba 2015, Algorithm 2)
    ("adamax", lambda s, g, t: g["lr"] / s["exp_inf"]),
    # Rprop: the state's own per-coordinate step size
    ("rprop", lambda s, g, t: s["step_size"]),
])
def test_other_adaptive_step_sizes_equal_the_reference_state(opt, expected):
    run = lesson.narrate(opt, {"lr": 0.05}, "booth", STEPS)
    _, states, group = reference_run(opt, {"lr": 0.05}, "booth", {}, STEPS)
    sizes = lesson.effective_step_sizes(run)
    for t in range(1, STEPS + 1):
        np.testing.assert_allclose(sizes[t - 1], expected(states[t - 1], group, t), rtol=1e-10)


def _adadelta_expected(states: list[dict], group: dict, t: int) -> np.ndarray:
    """γ·√(u_{t−1} + ε)/√(v_t + ε) from torch.optim.Adadelta's state: u = acc_delta (zero before step 1), v = square_avg."""
    u_prev = states[t - 2]["acc_delta"] if t > 1 else 0.0
    return group["lr"] * np.sqrt(u_prev + group["eps"]) / np.sqrt(states[t - 1]["square_avg"] + group["eps"])


@pytest.mark.parametrize("opt", ["adadelta", "adafactor"])
def test_adadelta_and_adafactor_step_sizes_times_the_gradient_give_the_reference_update(opt):
    """Without weight decay each coordinate moves by −(step size)·g_t: checked against torch.optim's own points,
    with g_t the surface's gradient at torch's previous point (computed here, not read from the narration)."""
    hparams = {"lr": 0.5} if opt == "adafactor" else {}
    run = lesson.narrate(opt, hparams, "booth", STEPS)
    points, states, group = reference_run(opt, hparams, "booth", {}, STEPS)
    sizes = lesson.effective_step_sizes(run)
    f = get_surface("booth")
    before = np.vstack([np.array(f.start), points[:-1]])
    for t in range(1, STEPS + 1):
        p = torch.tensor(before[t - 1], dtype=torch.float64, requires_grad=True)
        f(p).backward()
        np.testing.assert_allclose(-sizes[t - 1] * p.grad.numpy(), points[t - 1] - before[t - 1], rtol=1e-9,
                                   atol=1e-15)
        if opt == "adadelta":
            np.testing.assert_allclose(sizes[t - 1], _adadelta_expected(states, group, t), rtol=1e-10)


@pytest.mark.parametrize("opt", ["sgd", "momentum", "lion", "muon", "asgd"])
def test_optimizers_without_a_per_coordinate_step_draw_no_bars(opt):
    assert lesson.effective_step_sizes(lesson.narrate(opt, {}, "booth", 3)) is None


@pytest.mark.parametrize("opt", list(REGISTRY))
def test_every_optimizer_narrates_each_recorded_term_once_in_its_order(opt):
    run = lesson.narrate(opt, {}, "himmelblau", 4)
    assert run.n_steps == 4
    for t in range(1, 5):
        grouped = run.stage_terms(t)
        assert list(grouped) == [r for r in lesson.ROLES if r in run.roles[t - 1]]
        assert [n for names in grouped.values() for n in names] == list(run.terms[t - 1])
        assert "update" in run.roles[t - 1]
        if {"grad", "grad_maximize"} & set(run.terms[t - 1]):
            assert "gradient" in run.roles[t - 1]
        for role, name in run.roles[t - 1].items():
            assert name in run.formulas, f"{opt}: the {role} term {name} has no formula"


@pytest.mark.parametrize("opt", ["adam", "momentum", "muon", "lion", "adagrad", "lbfgs"])
def test_the_update_arrow_ends_at_the_next_point_in_the_figure(opt):
    run = lesson.narrate(opt, {}, "rosenbrock", 6)
    f = get_surface("rosenbrock")
    width = max(hi - lo for lo, hi in f.bounds)
    for t in (1, 3, 6):
        drawn, scale = lesson.arrows(run, t, width)
        np.testing.assert_allclose(run.points[t - 1] + drawn["update"], run.points[t], rtol=1e-12)
        if "gradient" in drawn:
            gradient = run.vector(t, "gradient")
            np.testing.assert_allclose(drawn["gradient"], -scale * gradient, rtol=1e-12)  # downhill, stated scale
            assert np.linalg.norm(drawn["gradient"]) <= 0.35 * width + 1e-12
        if "direction" in drawn and opt in ("momentum", "lbfgs"):
            assert float(np.dot(drawn["direction"], drawn["update"])) > 0  # the direction drawn points where it goes
        fig = step_figure(f.grid(20), bounds=f.bounds, path=run.points[:t], arrows=drawn,
                          labels={r: r for r in drawn})
        arrow = next(a for a in fig.layout.annotations if a.name == "update")
        assert (arrow.ax, arrow.ay) == pytest.approx(tuple(run.points[t - 1]), rel=1e-12)
        assert (arrow.x, arrow.y) == pytest.approx(tuple(run.points[t]), rel=1e-12)


def _newton_schulz_singular_value(steps: int = 5, a: float = 3.4445, b: float = -4.7750, c: float = 2.0315) -> float:
    """For a 1×n matrix G = σ u vᵀ, X₀ = G/‖G‖ has σ = 1, and each quintic step maps σ to aσ + bσ³ + cσ⁵
    (Jordan 2024, https://kellerjordan.github.io/posts/muon/), whatever G was."""
    s = 1.0
    for _ in range(steps):
        s = a * s + b * s**3 + c * s**5
    return s


def test_muon_shows_the_matrix_before_and_after_newton_schulz():
    run = lesson.narrate("muon", {}, "rosenbrock", 5)
    for t in range(1, 6):
        out = lesson.muon_matrices(run, t)
        assert out["point"].shape == out["before"].shape == out["after"].shape == (1, 2)
        assert out["sigma_before"] == pytest.approx(float(np.linalg.norm(out["before"])), rel=1e-12)
        # bfloat16 arithmetic: about three significant digits
        assert out["sigma_after"] == pytest.approx(_newton_schulz_singular_value(), abs=2e-2)
        direction = out["before"] / np.linalg.norm(out["before"])
        np.testing.assert_allclose(out["after"] / out["sigma_after"], direction, atol=1e-2)
    assert lesson.muon_matrices(lesson.narrate("adam", {}, "rosenbrock", 2), 1) is None


def test_a_diverging_run_stops_at_its_last_finite_step():
    run = lesson.narrate("sgd", {"lr": 10.0}, "rosenbrock", 50)
    assert 0 < run.n_steps < 50
    assert np.isfinite(run.points).all() and np.isfinite(run.losses).all()
    assert len(run.losses) == len(run.points) == run.n_steps + 1


@pytest.mark.parametrize("vectors, width, expected", [
    ([np.array([3.0, 4.0])], 6.0, 0.1),  # length 5 > 0.35·6 = 2.1; 0.5 fits
    ([np.array([300.0, 400.0])], 6.0, 0.001),
    ([np.array([0.1, 0.0])], 6.0, 1.0),
    ([np.zeros(2)], 6.0, 1.0),
    ([np.array([np.nan, 1.0]), np.array([1.0, 0.0])], 6.0, 1.0),
])
def test_arrow_scale_is_a_power_of_ten_that_fits(vectors, width, expected):
    scale = lesson.arrow_scale(vectors, width)
    assert scale == pytest.approx(expected, rel=1e-12)
    longest = max((np.linalg.norm(v) for v in vectors if np.isfinite(v).all()), default=0.0)
    assert scale * longest <= 0.35 * width + 1e-12
    assert math.log10(scale) == round(math.log10(scale))
    if longest > 0.35 * width:
        assert 10 * scale * longest > 0.35 * width  # the largest power of ten that fits
    else:
        assert scale == 1.0


@pytest.mark.parametrize(("args", "message"), [
    (("adam", {}, "rosenbrock", 0), "steps must be a whole number from 1 to 200, got 0"),
    (("adam", {}, "rosenbrock", 201), "steps must be a whole number from 1 to 200, got 201"),
    (("adam", {}, "rosenbrock", 2.5), "steps must be a whole number from 1 to 200, got 2.5"),
    (("adamm", {}, "rosenbrock", 5), "Unknown optimizer 'adamm'; known optimizers: sgd"),
    (("adam", {}, "rosenbrok", 5), "rosenbrok"),
    (("adam", {"lr": -1.0}, "rosenbrock", 5), "lr=-1 is outside the allowed range"),
    (("adam", {"momentum": 0.9}, "rosenbrock", 5), "Adam has no setting(s) ['momentum']"),
])
def test_bad_input_is_refused_with_a_clear_message(args, message):
    with pytest.raises(ValueError) as info:
        lesson.narrate(*args)
    assert message in str(info.value)


def _label_box(place: dict, text: str, window) -> tuple[float, float, float, float]:
    """The data box a label takes, by the same character and line sizes the figure places them with."""
    from optlab.plots import narration

    (x0, x1), (y0, y1) = window
    per_px = max(x1 - x0, y1 - y0) / narration.PLOT_PX
    w = narration.LABEL_PX[0] * per_px * len(text) + 4 * per_px
    h = narration.LABEL_PX[1] * per_px
    cy = place["y"] + place["yshift"] * per_px
    left = place["x"] + 3 * per_px if place["xanchor"] == "left" else place["x"] - 3 * per_px - w
    return left, left + w, cy - h / 2, cy + h / 2


@pytest.mark.parametrize(("arrows", "minima"), [
    # momentum and direction equal (SGD + momentum), the gradient a shorter arrow the same way
    ({"gradient": np.array([0.0, -0.2]), "momentum": np.array([0.0, -0.5]), "direction": np.array([0.0, -0.5]),
      "update": np.array([0.0, -0.05])}, [(0.0, 0.0)]),
    # an arrow ending on the minimum
    ({"gradient": np.array([2.4, -1.9]), "update": np.array([2.4, -1.9])}, [(0.0, 0.0)]),
    # arrows towards the window's right edge
    ({"gradient": np.array([0.5, 0.0]), "momentum": np.array([0.52, 0.01])}, []),
])
def test_arrow_labels_cover_no_other_label_nor_the_minimum_and_arrows_stay_in_the_window(arrows, minima):
    from optlab.plots.narration import fit_window, place_labels

    point, bounds = (-2.4, 1.9), ((-3.0, 3.0), (-3.0, 3.0))
    heads = [np.add(point, v) for v in arrows.values()]
    window = fit_window(bounds, [point, *heads])
    (x0, x1), (y0, y1) = window
    assert all(x0 < hx < x1 and y0 < hy < y1 for hx, hy in heads)
    labels = {r: f"−{r} ×0.1" for r in arrows}
    places = place_labels(point, arrows, labels, window, minima)
    boxes = [_label_box(places[r], labels[r], window) for r in arrows]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]), (a, b)
        for mx, my in minima:
            assert not (a[0] < mx < a[1] and a[2] < my < a[3]), "a label covers the minimum"


def test_zoom_window_shows_the_update_at_a_third_of_its_side():
    run = lesson.narrate("muon", {}, "quadratic", 5, {"kappa": 10.0})
    (x0, x1), (y0, y1) = lesson.zoom_window(run, 5, 6.0)
    update = run.points[5] - run.points[4]
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert np.linalg.norm(update) == pytest.approx(0.3 * (x1 - x0), rel=1e-12)
    assert x0 < run.points[4][0] < x1 and y0 < run.points[5][1] < y1
