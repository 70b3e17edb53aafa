"""Basins of attraction: the start grid, labelling final points by their minimum, and the batched grid run."""

from __future__ import annotations

import numpy as np
import pytest

from optlab.basins import DIVERGED, NO_MINIMUM, assign_basins, basins, default_tol, start_grid
from optlab.surfaces import get_surface
from optlab.trace import RunConfig, run_traces

HIMMELBLAU = get_surface("himmelblau")
MINIMA = np.array([(p.x, p.y) for p in HIMMELBLAU.minima])


# --- the grid of starts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bounds, n", [(((-5.0, 5.0), (-5.0, 5.0)), 11), (((-2.0, 2.0), (-1.0, 3.0)), 4),
                                       (((0.0, 1.0), (10.0, 30.0)), 2)])
def test_start_grid_covers_the_window_edges_included_x_fastest(bounds, n):
    (x0, x1), (y0, y1) = bounds
    g = start_grid(bounds, n)
    assert g.shape == (n * n, 2)
    np.testing.assert_array_equal(g[0], (x0, y0))
    np.testing.assert_array_equal(g[n - 1], (x1, y0))  # x varies fastest
    np.testing.assert_array_equal(g[-1], (x1, y1))
    assert len(np.unique(g[:, 0])) == len(np.unique(g[:, 1])) == n


@pytest.mark.parametrize("n", [0, 1, -3])
def test_start_grid_needs_two_starts_per_side(n):
    with pytest.raises(ValueError, match="Invalid grid size"):
        start_grid(((0, 1), (0, 1)), n)


# --- assign_basins ---------------------------------------------------------------------------------------------


def test_a_start_right_at_each_minimum_maps_to_it():
    np.testing.assert_array_equal(assign_basins(HIMMELBLAU, MINIMA), np.arange(len(MINIMA)))
    # and so does any point within the tolerance, in any direction
    tol = default_tol(HIMMELBLAU.bounds)
    assert tol == pytest.approx(0.5)
    for angle in np.linspace(0, 2 * np.pi, 7):
        near = MINIMA + 0.99 * tol * np.array([np.cos(angle), np.sin(angle)])
        np.testing.assert_array_equal(assign_basins(HIMMELBLAU, near), np.arange(len(MINIMA)))


@pytest.mark.parametrize("point, tol, expect", [
    ((3.0, 2.3), 0.2, NO_MINIMUM),  # 0.3 from (3, 2): too far for 0.2 ...
    ((3.0, 2.3), 0.4, 0),  # ... close enough for 0.4
    ((0.0, 0.0), None, NO_MINIMUM),  # the local maximum, far from all four
    ((np.nan, 1.0), None, DIVERGED),
    ((np.inf, 0.0), None, DIVERGED),
    ((-2.8, 3.1), 0.0, NO_MINIMUM),  # tol 0 needs the exact point
    ((-2.805118086952569, 3.1313125182504145), 0.0, 1),
])
def test_assign_basins_table(point, tol, expect):
    assert assign_basins(HIMMELBLAU, np.array([point]), tol).tolist() == [expect]


def test_a_diverged_row_is_diverged_whatever_the_others_are():
    pts = np.vstack([MINIMA[2], [np.nan, np.nan], MINIMA[3], [1e308 * 10, 0.0]])
    assert assign_basins(HIMMELBLAU, pts).tolist() == [2, DIVERGED, 3, DIVERGED]


def test_a_surface_without_minima_labels_every_finite_end_no_minimum():
    saddle = get_surface("saddle")
    assert not saddle.minima
    pts = np.array([[0.0, 0.0], [1.0, -1.0], [np.nan, 0.0]])
    assert assign_basins(saddle, pts).tolist() == [NO_MINIMUM, NO_MINIMUM, DIVERGED]


def test_a_negative_or_nan_tolerance_is_refused():
    for tol in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="Invalid tolerance"):
            assign_basins(HIMMELBLAU, MINIMA, tol)


# --- the grid run ----------------------------------------------------------------------------------------------


def test_grid_points_on_a_minimum_stay_there_and_are_labelled_with_it():
    # linspace(-5, 5, 11) holds the integers, so (3, 2) — minimum 0 — is a start; its gradient is zero
    b = basins(HIMMELBLAU, RunConfig.of("sgd", lr=0.01), 11, 50)
    k = int(np.flatnonzero((b.starts == (3.0, 2.0)).all(axis=1))[0])
    np.testing.assert_allclose(b.finals[k], (3.0, 2.0), atol=1e-12)
    assert b.labels[k] == 0
    assert b.final_losses[k] == pytest.approx(0.0, abs=1e-20)
    assert sum(b.counts(len(MINIMA)).values()) == 121


def test_each_start_ends_where_its_own_run_ends():
    cfg = RunConfig.of("momentum", lr=0.01, momentum=0.9)
    b = basins(HIMMELBLAU, cfg, 5, 120)
    for k in (0, 7, 18):
        (tr,) = run_traces(HIMMELBLAU, [cfg], tuple(b.starts[k]), 120)
        np.testing.assert_allclose(b.finals[k], tr.points[-1], rtol=1e-9, atol=1e-12)
        assert b.labels[k] == assign_basins(HIMMELBLAU, tr.points[-1:])[0]


def test_diverged_starts_are_labelled_diverged_and_end_as_nan():
    b = basins(HIMMELBLAU, RunConfig.of("sgd", lr=0.025), 9, 100)  # too large a step for the steep corners
    gone = b.diverged_at >= 0
    assert gone.any() and not gone.all()
    np.testing.assert_array_equal(b.labels == DIVERGED, gone)
    assert np.isnan(b.finals[gone]).all() and np.isnan(b.final_losses[gone]).all()
    assert np.isfinite(b.finals[~gone]).all()


def test_momentum_and_plain_descent_split_himmelblau_differently():
    gd = basins(HIMMELBLAU, RunConfig.of("sgd", lr=0.01), 21, 300)
    mom = basins(HIMMELBLAU, RunConfig.of("momentum", lr=0.01, momentum=0.9), 21, 300)
    # both settle nearly everywhere within the budget ...
    for b in (gd, mom):
        assert np.isin(b.labels, range(4)).mean() > 0.95
    # ... but not in the same minimum: momentum carries some starts over a ridge
    differ = (gd.labels != mom.labels).mean()
    assert differ > 0.05, differ
