"""Figure builders of the Surface Lab: trace arrays in, Plotly figure out (sizes, log levels, frames, arrows, basins)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import plotly.io as pio
import pytest
import torch

from optlab.basins import DIVERGED, NO_MINIMUM, start_grid
from optlab.plots.animation import MAX_FRAMES, frame_steps, replay_figure
from optlab.plots.basins import BASIN_COLORS, basin_name, basins_figure, count_rows, marker_size
from optlab.plots.curves import distance_figure, loss_figure
from optlab.plots.surface import (
    CLICK_GRID_INDEX,
    FONT,
    IMAGE_SIZE,
    add_arrows,
    contour_figure,
    image_config,
    levels,
    surface3d_figure,
)
from optlab.surfaces import get_surface

BOUNDS = ((-2.0, 2.0), (-1.0, 3.0))


def fake_trace(n: int, label: str = "run", diverged_at: int | None = None, ema: bool = False, seed: int = 0):
    """A trace-shaped object: a random walk of n steps inside BOUNDS."""
    rng = np.random.default_rng(seed)
    pts = np.cumsum(rng.normal(0, 0.01, size=(n + 1, 2)), axis=0) + np.array([-1.5, 2.0])
    return SimpleNamespace(label=label, points=pts, losses=np.abs(rng.normal(1, 0.1, n + 1)) + 1e-3,
                           diverged_at=diverged_at, ema_points=pts * 0.9 if ema else None)


@pytest.fixture(scope="module")
def rosen():
    s = get_surface("rosenbrock")
    xs, ys, Z = s.grid(120)
    return s, xs, ys, Z


def payload(fig) -> int:
    return len(pio.to_json(fig, validate=False))


# --- log levels ----------------------------------------------------------------------------------------------


def test_log_levels_are_log10_of_the_gap_above_the_minimum(rosen):
    _, _, _, Z = rosen
    lev = levels(Z, log=True, f_min=0.0)
    assert lev.log
    # z = log10(f − offset) and back: f = 10^z + offset
    np.testing.assert_allclose(10.0**lev.z + lev.offset, Z, rtol=1e-9, atol=1e-9)
    # the colour bar ticks sit where f − f₀ is a whole decade and are labelled with f (here f₀ = 0)
    values = [float(t) for t in lev.ticktext]
    assert values == [10.0**k for k in range(-2, 4)]
    np.testing.assert_allclose(lev.tickvals, np.log10(np.asarray(values) - lev.offset))
    # about six decades between the finest contour and the span
    assert 5 <= lev.z.max() - lev.z.min() <= 8


def test_linear_levels_leave_values_alone(rosen):
    _, _, _, Z = rosen
    lev = levels(Z, log=False)
    assert not lev.log and lev.z is not None
    np.testing.assert_array_equal(lev.z, Z)
    np.testing.assert_array_equal(lev.to_plot([1.0, 2.0]), [1.0, 2.0])


# --- contour ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_runs, ema, diverged", [(0, False, None), (1, False, None), (4, True, None), (6, False, 3)])
def test_contour_has_surface_grid_paths_minima_and_start(rosen, n_runs, ema, diverged):
    s, xs, ys, Z = rosen
    traces = [fake_trace(50, f"r{i}", diverged_at=diverged, ema=ema, seed=i) for i in range(n_runs)]
    fig = contour_figure(xs, ys, Z, bounds=s.bounds, traces=traces, minima=s.minima, start=s.start,
                         log_levels=True, f_min=0.0)
    kinds = [t.type for t in fig.data]
    assert kinds[0] == "contour"
    assert fig.data[CLICK_GRID_INDEX].name == "click grid"
    per_run = 3 if ema else 2  # path, (EMA,) end marker
    assert len(fig.data) == 2 + per_run * n_runs + 2  # contour, grid, runs, minima, start
    names = [t.name for t in fig.data]
    assert "minimum" in names and "start" in names
    # the axes are pinned to the surface's window
    assert tuple(fig.layout.xaxis.range) == s.bounds[0] and tuple(fig.layout.yaxis.range) == s.bounds[1]
    # a diverged run ends with a cross saying where
    ends = [t for t in fig.data if t.name and t.name.startswith(("diverged", "end"))]
    assert len(ends) == n_runs
    for t in ends:
        assert (t.marker.symbol == "x") == (diverged is not None)
        if diverged is not None:
            assert t.name == f"diverged at step {diverged}"


def test_contour_data_is_float32_and_log_scaled(rosen):
    s, xs, ys, Z = rosen
    fig = contour_figure(xs, ys, Z, bounds=s.bounds, log_levels=True, f_min=0.0)
    z = np.asarray(fig.data[0].z)
    assert z.dtype == np.float32 and z.shape == (120, 120)
    assert z.max() < 5  # log10 of at most a few thousand, not the raw values
    assert list(fig.data[0].colorbar.tickvals)  # f-valued ticks on the log scale


def test_click_grid_covers_the_window_invisibly(rosen):
    s, xs, ys, Z = rosen
    fig = contour_figure(xs, ys, Z, bounds=s.bounds, click_grid=30)
    grid = fig.data[CLICK_GRID_INDEX]
    x, y, f = np.asarray(grid.x), np.asarray(grid.y), np.asarray(grid.customdata)
    assert len(x) == len(y) == len(f) == 900
    assert x.min() == pytest.approx(-2) and x.max() == pytest.approx(2)
    assert y.min() == pytest.approx(-1) and y.max() == pytest.approx(3)
    assert "rgba(0,0,0,0)" in grid.marker.color.replace(" ", "")
    # customdata holds f at each grid point (shown on hover)
    i = 123
    assert f[i] == pytest.approx((1 - x[i]) ** 2 + 100 * (y[i] - x[i] ** 2) ** 2, rel=1e-5, abs=1e-5)
    assert len(contour_figure(xs, ys, Z, bounds=s.bounds, click_grid=0).data) == 1


def test_contour_payload_stays_small_with_six_long_runs(rosen):
    s, xs, ys, Z = rosen
    traces = [fake_trace(2000, f"r{i}", ema=True, seed=i) for i in range(6)]
    fig = contour_figure(xs, ys, Z, bounds=s.bounds, traces=traces, minima=s.minima, start=s.start,
                         log_levels=True, f_min=0.0)
    assert payload(fig) < 2_000_000


@pytest.mark.parametrize("vec, expect_dx_sign, expect_dy_sign", [((3.0, 0.0), 1, 0), ((0.0, -2.0), 0, -1),
                                                                    ((-1e-6, 1e-6), -1, 1)])
def test_arrows_point_along_their_vectors_with_fixed_length(rosen, vec, expect_dx_sign, expect_dy_sign):
    s, xs, ys, Z = rosen
    fig = contour_figure(xs, ys, Z, bounds=s.bounds, click_grid=0)
    add_arrows(fig, (0.5, 1.0), {"g": vec, "zero": (0.0, 0.0), "nan": (np.nan, 1.0)}, s.bounds, length=0.1)
    assert len(fig.layout.annotations) == 1  # zero and non-finite vectors are skipped
    a = fig.layout.annotations[0]
    dx, dy = a.x - a.ax, a.y - a.ay
    assert np.sign(round(dx, 9)) == expect_dx_sign and np.sign(round(dy, 9)) == expect_dy_sign
    assert np.hypot(dx, dy) == pytest.approx(0.1 * 4.0)
    assert f"{np.hypot(*vec):.3g}" in a.text  # the true length is in the label
    assert fig.data[-1].name == "inspected point"


# --- replay ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, max_frames", [(0, 120), (5, 120), (119, 120), (500, 120), (2000, 50)])
def test_frame_steps_include_both_ends_and_respect_the_cap(n, max_frames):
    steps = frame_steps(n, max_frames)
    assert steps[0] == 0 and steps[-1] == n
    assert len(steps) <= max_frames and len(steps) == min(n + 1, max_frames)
    assert np.all(np.diff(steps) > 0)


def test_replay_frames_redraw_and_keep_the_contour(rosen):
    s, xs, ys, Z = rosen
    traces = [fake_trace(500, "a", seed=1), fake_trace(200, "b", diverged_at=200, seed=2)]
    fig = replay_figure(xs, ys, Z, bounds=s.bounds, traces=traces, minima=s.minima, log_levels=True, f_min=0.0)
    assert fig.data[0].type == "contour"
    assert 1 < len(fig.frames) <= MAX_FRAMES
    moving = set(fig.frames[0].traces)
    assert 0 not in moving  # frames never replace the contour
    for fr in fig.frames:
        assert set(fr.traces) == moving and len(fr.data) == len(moving)
    # every animate command redraws (otherwise Plotly drops the contour on Play)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["▶ Play", "❚❚ Pause"]
    commands = [b.args[1] for b in buttons] + [st.args[1] for st in fig.layout.sliders[0].steps]
    assert all(c["frame"]["redraw"] is True for c in commands)
    assert [st.label for st in fig.layout.sliders[0].steps] == [fr.name for fr in fig.frames]
    # the last frame puts each head at its run's final point (the diverged run stays where it stopped)
    heads = fig.frames[-1].data[1]
    np.testing.assert_allclose(heads.x, [traces[0].points[-1, 0], traces[1].points[-1, 0]], rtol=1e-6)
    np.testing.assert_allclose(heads.y, [traces[0].points[-1, 1], traces[1].points[-1, 1]], rtol=1e-6)


def test_replay_over_the_picture_moves_only_the_paths_and_never_redraws(rosen):
    """With the contour as a picture behind the axes, frames restyle the two moving traces and nothing else."""
    s, xs, ys, Z = rosen
    traces = [fake_trace(300, "a", seed=1), fake_trace(100, "b", seed=2)]
    fig = replay_figure(xs, ys, Z, bounds=s.bounds, traces=traces, minima=s.minima, log_levels=True, f_min=0.0,
                        picture="data:image/png;base64,AAAA")
    assert "contour" not in {t.type for t in fig.data}
    (image,) = fig.layout.images
    (x0, x1), (y0, y1) = s.bounds
    assert (image.x, image.y, image.sizex, image.sizey, image.layer) == (x0, y1, x1 - x0, y1 - y0, "below")
    moving = set(fig.frames[0].traces)
    assert moving == {len(fig.data) - 2, len(fig.data) - 1}  # trail and heads, named by every frame
    commands = [b.args[1] for b in fig.layout.updatemenus[0].buttons] + [st.args[1] for st in fig.layout.sliders[0].steps]
    assert all(c["frame"]["redraw"] is False for c in commands)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1  # equal axes


def test_replay_payload_under_2mb_for_six_runs_of_2000_steps(rosen):
    s, xs, ys, Z = rosen
    traces = [fake_trace(2000, f"r{i}", seed=i) for i in range(6)]
    fig = replay_figure(xs, ys, Z, bounds=s.bounds, traces=traces, log_levels=True, f_min=0.0)
    assert len(fig.frames) == MAX_FRAMES
    assert payload(fig) < 2_000_000
    json.loads(pio.to_json(fig, validate=False))  # valid JSON


# --- 3D and curves ---------------------------------------------------------------------------------------------


def test_surface3d_is_thinned_and_paths_lie_on_the_log_surface(rosen):
    s, xs, ys, Z = rosen
    tr = fake_trace(30)
    fig = surface3d_figure(xs, ys, Z, traces=[tr], log_levels=True, f_min=0.0, max_side=40)
    surf = fig.data[0]
    assert surf.type == "surface" and np.asarray(surf.z).shape[0] <= 40
    path = fig.data[1]
    lev = levels(Z, True, 0.0)
    np.testing.assert_allclose(path.z, lev.to_plot(tr.losses), rtol=1e-5)


def test_loss_curve_is_the_gap_on_a_log_axis():
    traces = [fake_trace(40, "a"), fake_trace(10, "b", diverged_at=10)]
    fig = loss_figure(traces, f_min=0.5)
    assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[0].y, np.where(traces[0].losses - 0.5 > 0, traces[0].losses - 0.5, np.nan),
                               rtol=1e-6)
    assert any(t.text and "diverged at step 10" in t.text[0] for t in fig.data)


def test_loss_curve_without_known_minimum_is_linear_when_values_go_negative():
    tr = fake_trace(10)
    tr.losses = tr.losses - 5
    assert loss_figure([tr], f_min=None).layout.yaxis.type == "linear"


def test_distance_curve_is_log_and_per_run():
    traces = [fake_trace(20, "a"), fake_trace(20, "b")]
    d = [np.linspace(1, 1e-3, 21), np.linspace(2, 1, 21)]
    fig = distance_figure(traces, d)
    assert fig.layout.yaxis.type == "log" and [t.name for t in fig.data] == ["a", "b"]
    np.testing.assert_allclose(fig.data[1].y, d[1], rtol=1e-6)


# --- basins ----------------------------------------------------------------------------------------------------


def fake_basins(surface, n: int, seed: int = 0):
    """Grid starts with random labels over every minimum, "no minimum" and "diverged" (NaN ends for those)."""
    rng = np.random.default_rng(seed)
    starts = start_grid(surface.bounds, n)
    labels = rng.integers(-2, len(surface.minima), size=len(starts))
    mins = np.array([(p.x, p.y) for p in surface.minima] or [(0.0, 0.0)])
    finals = np.where((labels >= 0)[:, None], mins[np.maximum(labels, 0)], starts * 0.5)
    finals[labels == DIVERGED] = np.nan
    losses = np.where(labels == DIVERGED, np.nan, rng.uniform(0, 10, len(starts)))
    return starts, finals, losses, labels


@pytest.mark.parametrize("key, n", [("himmelblau", 31), ("six_hump_camel", 11), ("rosenbrock", 5)])
def test_basins_figure_has_one_coloured_group_per_label_named_by_its_minimum(key, n):
    s = get_surface(key)
    xs, ys, Z = s.grid(40)
    starts, finals, losses, labels = fake_basins(s, n)
    fig = basins_figure(xs, ys, Z, bounds=s.bounds, starts=starts, finals=finals, final_losses=losses, labels=labels,
                        minima=s.minima, start=s.start, log_levels=s.log_levels, f_min=s.min_value)
    assert fig.data[0].type == "contour" and fig.data[0].showscale is False
    groups = {t.name: t for t in fig.data[1:] if t.name not in ("minimum", "start")}
    present = sorted(set(labels.tolist()), key=lambda k: (k < 0, k if k >= 0 else -k))
    assert list(groups) == [basin_name(k, s.minima) for k in present]
    for k in present:
        t = groups[basin_name(k, s.minima)]
        mask = labels == k
        # every start of that label, and only those, at the start's place
        np.testing.assert_allclose(t.x, starts[mask, 0], rtol=1e-6)
        np.testing.assert_allclose(t.y, starts[mask, 1], rtol=1e-6)
        assert t.marker.symbol == ("x" if k == DIVERGED else "square")
        if k >= 0:
            assert t.marker.color == BASIN_COLORS[k]
            np.testing.assert_allclose(np.asarray(t.customdata)[:, :2], finals[mask], rtol=1e-6)
    assert sum(len(t.x) for t in groups.values()) == n * n
    assert [t.name for t in fig.data[-2:]] == ["minimum", "start"]
    assert tuple(fig.layout.xaxis.range) == s.bounds[0] and tuple(fig.layout.yaxis.range) == s.bounds[1]


def test_basin_names_give_the_minimum_and_its_kind():
    camel = get_surface("six_hump_camel")
    assert basin_name(0, camel.minima) == "→ (0.0898, -0.713), f = -1.03"
    assert basin_name(2, camel.minima).endswith("(local)")
    assert basin_name(NO_MINIMUM, camel.minima) == "no minimum within reach"
    assert basin_name(DIVERGED, camel.minima) == "diverged"
    assert basin_name(NO_MINIMUM, ()) != "no minimum within reach"  # nothing listed: nothing was out of reach


def test_without_minima_starts_are_coloured_by_their_final_loss():
    s = get_surface("saddle")
    xs, ys, Z = s.grid(40)
    starts, finals, losses, labels = fake_basins(s, 9, seed=3)
    assert (labels == DIVERGED).any() and not s.minima
    fig = basins_figure(xs, ys, Z, bounds=s.bounds, starts=starts, finals=finals, final_losses=losses, labels=labels)
    by_name = {t.name: t for t in fig.data[1:]}
    assert set(by_name) == {"final loss", "diverged"}
    alive = labels != DIVERGED
    colour = by_name["final loss"].marker
    assert colour.showscale and len(colour.color) == alive.sum()
    np.testing.assert_allclose(colour.color, losses[alive], rtol=1e-6)  # linear levels: the loss itself
    assert len(by_name["diverged"].x) == (~alive).sum()


def test_count_rows_cover_every_start_once():
    s = get_surface("himmelblau")
    _, _, _, labels = fake_basins(s, 11, seed=5)
    rows = count_rows(labels, s.minima)
    assert [r["ends at"] for r in rows] == [basin_name(k, s.minima) for k in (0, 1, 2, 3, NO_MINIMUM, DIVERGED)]
    assert [r["starts"] for r in rows] == [int((labels == k).sum()) for k in (0, 1, 2, 3, NO_MINIMUM, DIVERGED)]
    assert sum(r["starts"] for r in rows) == 121
    assert sum(float(r["share"].rstrip(" %")) for r in rows) == pytest.approx(100, abs=0.5)


def test_basin_markers_shrink_with_the_grid_and_the_payload_stays_small():
    assert marker_size(11) > marker_size(31) > marker_size(41) >= 3
    s = get_surface("himmelblau")
    xs, ys, Z = s.grid(120)
    starts, finals, losses, labels = fake_basins(s, 41)
    fig = basins_figure(xs, ys, Z, bounds=s.bounds, starts=starts, finals=finals, final_losses=losses, labels=labels,
                        minima=s.minima)
    assert payload(fig) < 400_000


def test_a_diverged_run_does_not_squash_the_other_curves():
    from optlab.plots.curves import loss_figure, y_range

    calm = fake_trace(50, "calm", seed=1)
    wild = fake_trace(50, "wild", diverged_at=50, seed=2)
    wild.losses = np.geomspace(1.0, 1e6, len(wild.losses))
    fig = loss_figure([calm, wild], 0.0)
    lo, hi = fig.layout.yaxis.range
    calm_log = np.log10(calm.losses[calm.losses > 0])
    assert lo <= calm_log.min() and hi >= calm_log.max()  # the calm run is wholly in view
    assert hi < 6  # the diverged run's 10⁶ is above the top, not setting it
    cross = fig.data[-1]
    assert cross.text[0].startswith("diverged at step") and cross.y[0] <= 10**hi
    assert y_range([wild.losses], [wild], True) is None  # only diverged runs: Plotly's own range


# --- EMA shadows in every view, and the PNG the camera button saves --------------------------------------------


def test_the_replay_moves_each_ema_shadow_with_its_run(rosen):
    s, xs, ys, Z = rosen
    traces = [fake_trace(80, "a", ema=True, seed=1), fake_trace(80, "b", seed=2)]
    fig = replay_figure(xs, ys, Z, bounds=s.bounds, traces=traces, picture="data:image/png;base64,AAAA")
    (ghost,) = [t for t in fig.data if t.name == "EMA shadow of run 1"]
    assert ghost.line.dash == "dot"
    np.testing.assert_allclose(ghost.x, traces[0].ema_points[:, 0], rtol=1e-6)
    moving = fig.frames[0].traces
    assert len(moving) == 3 and fig.data[moving[-1]].name == "EMA now"
    last = fig.frames[-1].data[2]  # the shadow's head at the last step, run a only
    np.testing.assert_allclose([last.x[0], last.y[0]], traces[0].ema_points[-1], rtol=1e-6)
    assert len(last.x) == 1


def test_the_3d_view_lays_each_ema_shadow_on_the_surface_at_its_own_height(rosen):
    s, xs, ys, Z = rosen
    tr = fake_trace(30, "a", ema=True)
    tr.ema_losses = s.fn(torch.from_numpy(tr.ema_points)).numpy()
    fig = surface3d_figure(xs, ys, Z, traces=[tr], log_levels=False)
    (shadow,) = [t for t in fig.data if t.name == "EMA shadow of run 1"]
    assert shadow.type == "scatter3d" and shadow.line.dash == "dot"
    np.testing.assert_allclose(shadow.z, tr.ema_losses, rtol=1e-6)
    no_losses = fake_trace(30, "b", ema=True)  # a trace from before f was recorded along the shadow
    assert not any(t.name == "EMA shadow of run 1" for t in surface3d_figure(xs, ys, Z, traces=[no_losses]).data)


@pytest.mark.parametrize("name", ["loss", "3d", "replay"])
def test_the_camera_button_saves_a_named_png_at_slide_size(name):
    config = image_config(name, scrollZoom=False)
    options = config["toImageButtonOptions"]
    assert options["filename"] == f"optlab_{name}" and options["format"] == "png"
    assert (options["width"], options["height"]) == IMAGE_SIZE and config["scrollZoom"] is False


def test_figures_name_a_font_a_saved_png_can_draw(rosen):
    s, xs, ys, Z = rosen
    traces = [fake_trace(20, "a")]
    figs = [loss_figure(traces), contour_figure(xs, ys, Z, bounds=s.bounds, traces=traces),
            surface3d_figure(xs, ys, Z, traces=traces)]
    for fig in figs:
        assert fig.layout.font.family == FONT["family"] and "Source Sans" not in FONT["family"]


# --- extra sequences: schedule-free's average, L-BFGS's line-search evaluations ---------------------------------


def _with_evaluations():
    """A run of 3 steps whose closure was called 3, 3 and 1 times (the first call of each at the step's origin;
    step 1's last trial is the point it accepted)."""
    tr = fake_trace(3)
    tr.closure_points = np.array([tr.points[0], [0.5, 0.5], tr.points[1], tr.points[1], [0.1, 0.2], [0.3, np.inf],
                                  tr.points[2]])
    tr.closure_steps = np.array([1, 1, 1, 2, 2, 2, 3])
    return tr


def test_trial_evaluations_start_where_their_step_began_and_skip_the_first_call():
    from optlab.plots.surface import trial_evaluations

    tr = _with_evaluations()
    origins, ends, steps = trial_evaluations(tr)
    assert steps.tolist() == [1, 2]  # every first call, the accepted trial and the non-finite point are left out
    np.testing.assert_array_equal(ends, [[0.5, 0.5], [0.1, 0.2]])
    np.testing.assert_array_equal(origins, [tr.points[0], tr.points[1]])
    assert [len(a) for a in trial_evaluations(fake_trace(3))] == [0, 0, 0]


def test_the_contour_draws_evaluations_as_markers_joined_faintly_and_the_average_as_a_second_line():
    from optlab.plots.surface import average_name, color, evaluations_name, path_traces

    tr = _with_evaluations()
    tr.average_points = tr.points * 0.5
    parts = path_traces(tr, 2)
    names = [p.name for p in parts]
    avg = parts[names.index(average_name(2))]
    np.testing.assert_allclose(np.asarray(avg.x, dtype=float), tr.average_points[:, 0], rtol=1e-6)
    assert avg.line.color == color(2) and avg.line.dash == "dash" and avg.showlegend is not False
    faint, marks = [p for p in parts if p.name == evaluations_name(2)]
    assert faint.mode == "lines" and faint.opacity < 0.5 and faint.showlegend is False
    assert marks.mode == "markers" and marks.marker.size < parts[0].marker.size * 3
    np.testing.assert_allclose(np.asarray(marks.x, dtype=float), [0.5, 0.1], rtol=1e-6)
    # segment k runs from θ_{s−1} to the trial point, NaN between segments
    x = np.asarray(faint.x, dtype=float)
    np.testing.assert_allclose(x[[0, 1, 3, 4]], [tr.points[0, 0], 0.5, tr.points[1, 0], 0.1], rtol=1e-6)
    assert np.isnan(x[[2, 5]]).all()
    plain = path_traces(fake_trace(3), 2)
    assert average_name(2) not in [p.name for p in plain] and evaluations_name(2) not in [p.name for p in plain]
