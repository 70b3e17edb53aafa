"""The quadratic's momentum views: the rate map, the error along each eigenvector and the phase portrait, each
checked against a computation that does not go through the code under test (NumPy's eigenvalues of the 2×2
iteration matrix, torch.optim.SGD run by hand, the sign pattern of a real trajectory)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optlab import theory as T
from optlab.lessons import momentum_theory as L
from optlab.plots import theory as P


def spectral_radius(alpha: float, beta: float, lam: float) -> float:
    """max |eigenvalue| of heavy ball's iteration matrix on (z, w), by NumPy (Polyak 1964; Goh 2017)."""
    return float(np.max(np.abs(np.linalg.eigvals([[beta, lam], [-alpha * beta, 1.0 - alpha * lam]]))))


def torch_sgd_path(fn, start, lr: float, momentum: float, steps: int) -> np.ndarray:
    """θ₀..θ_steps of torch.optim.SGD itself on fn, as a student would write the loop."""
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
    out = [w.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        fn(w).sum().backward()
        opt.step()
        out.append(w.detach().clone())
    return torch.stack(out).numpy()


# --- the rate map ---------------------------------------------------------------------------------------------


def test_rate_grid_is_the_spectral_radius_of_the_iteration_matrix():
    rng = np.random.default_rng(0)
    alphas, betas, lams = rng.uniform(0.01, 4.5, 23), rng.uniform(0.0, 0.999, 17), (0.001, 0.3, 1.0)
    grid = T.momentum_rate_grid(alphas, betas, lams)
    assert grid.shape == (17, 23)
    expected = [[max(spectral_radius(a, b, lam) for lam in lams) for a in alphas] for b in betas]
    np.testing.assert_allclose(grid, expected, rtol=1e-7)  # a double root is only known to ~√eps by any method
    assert grid[4, 7] == pytest.approx(T.momentum_rate(alphas[7], betas[4], lams), rel=1e-12)


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0, 1000.0])
def test_rate_map_diverges_exactly_beyond_the_closed_form_edge_and_is_best_at_the_optimum(kappa):
    m = L.rate_map(kappa)
    a, b = np.meshgrid(m["alphas"], m["betas"])
    lam_max = m["lams"][1]
    clear = np.abs(a * lam_max - (2 + 2 * b)) > 1e-9  # cells on the edge itself have rate 1 up to rounding
    assert np.array_equal((m["rates"] >= 1)[clear], (a * lam_max >= 2 + 2 * b)[clear])  # Goh 2017: αλ < 2 + 2β
    a_opt, b_opt, r_opt = m["optimum"]
    assert m["rates"].min() >= r_opt - 1e-9  # nothing on the grid beats the optimum
    assert spectral_radius(a_opt, b_opt, m["lams"][0]) == pytest.approx(r_opt, abs=1e-7)
    # and the grid nearly attains it: in the first row above β* both directions spiral at α*, with rate √β
    row_above = m["betas"][m["betas"] >= b_opt][0]
    assert m["rates"].min() <= math.sqrt(row_above) + 1e-12


# The tolerance for a real run against the map, in log terms: |ln(measured)/ln(map) − 1| ≤ 6 %.
# The fit sees the second half of the run before the error drops below 1e-11 of its largest, about 25 e-folds, so
# its window ends near T ≈ 30/|ln r| and its mean step is t̄ ≈ 0.75·T. Where a direction has a double root (the
# optimum) the error is (a + b·t)·rᵗ and log(1 + b·t/a) adds about 1/t̄ ≈ |ln r|/22 to the slope: 4.6 % at every κ.
# Near-double roots do the same while t·|σ₁ − σ₂| ≪ 1, and less beyond; distinct roots are read to < 0.1 %.
LOG_TOLERANCE = 0.06


@pytest.mark.parametrize("kappa", [3.0, 10.0, 100.0, 1000.0])
def test_real_runs_agree_with_the_map(kappa):
    rows = L.measured_probes(kappa)
    assert len(rows) >= 4
    m = L.rate_map(kappa)
    for row in rows:
        assert row["rate on the map"] == pytest.approx(T.momentum_rate(row["α"], row["β"], m["lams"]), rel=1e-12)
        measured, predicted = row["measured rate"], row["rate on the map"]
        assert measured is not None, row
        assert abs(math.log(measured) / math.log(predicted) - 1) <= LOG_TOLERANCE, row
    no_momentum = next(r for r in rows if r["β"] == 0.0)  # two plain geometric modes of equal size: read exactly
    assert no_momentum["measured rate"] == pytest.approx(no_momentum["rate on the map"], rel=1e-6)


def test_a_run_that_lands_on_the_minimum_in_passing_still_has_a_rate():
    # κ = 1, α = 1: every direction is at 0 after step 1, then the buffer moves it away again (β > 0)
    rows = {r["run"]: r for r in L.measured_probes(1.0)}
    spiral = rows["α*, more momentum"]
    assert spiral["measured rate"] == pytest.approx(math.sqrt(spiral["β"]), rel=5e-3)
    assert rows["optimum α*, β*"]["measured rate"] is None  # at 0 for good after one step: nothing to fit


def test_fit_window_is_the_window_measured_rate_fits():
    run = L.eigen_run(100.0, *T.momentum_optimal(0.01, 1.0)[:2])
    start, end = L.fit_window(run["distance"])
    assert 0 < start < end <= len(run["distance"])
    assert T.measured_rate(run["distance"][start:end], skip=0.0, floor=0.0) == pytest.approx(run["measured"],
                                                                                             rel=1e-12)


# --- the error along each eigenvector -------------------------------------------------------------------------

# (κ, α, β), each direction well away from a double root, so its rate is read sharply. Tolerance: a spiral is
# sampled at whole steps, so the envelope catches a peak within a factor cos(π/P) of the true one (P the period)
# and which one drifts; over a window of tens of steps that tilts the slope by a few 1e-3 at P ≈ 4.
SHARP = [(100.0, 1.0, 0.9), (100.0, 0.5, 0.0), (10.0, 1.5, 0.6), (1000.0, 2.0, 0.95), (10.0, 0.3, 0.2),
         (100.0, 1.9, 0.0), (1000.0, 3.0, 0.85), (100.0, 1.0, 0.5)]


@pytest.mark.parametrize(("kappa", "alpha", "beta"), SHARP)
def test_each_component_is_its_own_1d_problem_and_contracts_at_its_spectral_radius(kappa, alpha, beta):
    run = L.eigen_run(kappa, alpha, beta)
    for comp in run["components"]:
        lam = comp["lam"]
        c0 = comp["position"][0]
        alone = torch_sgd_path(lambda c, lam=lam: 0.5 * lam * c * c, [c0], alpha, beta, run["steps"])[:, 0]
        np.testing.assert_allclose(comp["position"], alone, rtol=0, atol=1e-12 * abs(c0))
        assert comp["predicted"] == pytest.approx(spectral_radius(alpha, beta, lam), rel=1e-7)
        assert comp["measured"] == pytest.approx(spectral_radius(alpha, beta, lam), rel=5e-3), comp["name"]
    assert run["predicted"] == pytest.approx(max(c["predicted"] for c in run["components"]), rel=1e-12)


def test_eigenvectors_are_the_hessians():
    lams, vectors = L.eigenbasis(L.bowl(100.0))
    np.testing.assert_allclose(lams, [0.01, 1.0], rtol=1e-12)
    np.testing.assert_allclose(np.abs(vectors), np.eye(2), atol=1e-12)  # the bowl is not rotated


def test_the_optimum_on_kappa_100_measures_0_8258_against_0_8182():
    surface = L.bowl(100.0)
    lam_min, lam_max = surface.hessian_eigs
    alpha, beta, rate = T.momentum_optimal(lam_min, lam_max)
    predicted = max(spectral_radius(alpha, beta, lam) for lam in (lam_min, lam_max))
    by_hand = torch_sgd_path(surface.fn, surface.start, alpha, beta, 300)  # torch.optim.SGD, not optlab
    measured = T.measured_rate(np.linalg.norm(by_hand, axis=1))
    assert (f"{measured:.4f}", f"{predicted:.4f}") == ("0.8258", "0.8182")  # the numbers of issue 16
    o = L.optimum_reading(100.0)
    assert o["predicted"] == pytest.approx(predicted, abs=1e-7)
    assert o["measured"] == pytest.approx(measured, rel=1e-9)
    assert L.eigen_run(100.0, alpha, beta)["measured"] == pytest.approx(measured, rel=1e-9)
    assert o["kinds"] == ["critically damped", "critically damped"]
    assert o["critical_betas"] == pytest.approx([beta, beta], abs=1e-12)
    assert [r.real for r in o["roots"]] == pytest.approx([rate, -rate], abs=1e-7)


def test_the_double_root_closed_form_explains_the_measured_rate():
    o = L.optimum_reading(100.0)
    assert o["closed_form_gap"] < 1e-12  # (1 + c·t)·σᵗ is the torch run, step for step
    assert o["closed_form_reading"] == pytest.approx(o["measured"], rel=1e-9)
    readings = [o["closed_form_reading"]] + [r["reading"] for r in o["later"]]
    assert all(a > b > o["predicted"] for a, b in zip(readings, readings[1:], strict=False))
    # the excess slope is log(1 + c·t)'s, about 1/t: ten times the window, a tenth of the gap (within 20 %)
    gaps = [math.log(r["reading"] / o["predicted"]) for r in o["later"]]
    for g1, g2 in zip(gaps, gaps[1:], strict=False):
        assert g1 / g2 == pytest.approx(10.0, rel=0.2)
    assert o["later"][-1]["reading"] == pytest.approx(o["predicted"], abs=2e-4)


def test_double_root_path_refuses_settings_that_are_not_critical():
    with pytest.raises(ValueError, match="not critically damped"):
        L.double_root_path(1.0, 1.0, 0.5, 0.01, 10)
    assert L.optimum_reading(1.0) is None  # κ = 1: one step lands on the minimum


# --- the phase portrait: the discriminant's verdict against the trajectory's shape ----------------------------

# (α, β, λ, kind, flips): each case is a 1D problem on the bowl's flat (λ = 0.01) or steep (λ = 1) direction.
KINDS = [
    (1.0, 0.5, 0.01, "over-damped", False),
    (1.0, 0.81, 0.01, "critically damped", False),  # (1 − √0.01)² = 0.81
    (1.0, 0.9, 0.01, "under-damped", False),
    (3.0, 0.9, 0.01, "under-damped", False),
    (1.9, 0.0, 1.0, "over-damped", True),  # plain GD with αλ > 1: overshoots every step
    (3.0, 0.3, 1.0, "over-damped", True),  # beyond 2 + 2β: flips and grows
    (2.25, 0.25, 1.0, "critically damped", True),  # (√2.25 − 1)² = 0.25, a double root at −0.5
    (1.0, 0.3, 1.0, "under-damped", False),
    (0.2, 0.1, 1.0, "over-damped", False),
]


@pytest.mark.parametrize(("alpha", "beta", "lam", "kind", "flips"), KINDS)
def test_damping_from_the_discriminant_matches_the_trajectory(alpha, beta, lam, kind, flips):
    d = T.damping(alpha, beta, lam)
    assert (d.kind, d.flips) == (kind, flips)
    eig = np.linalg.eigvals([[beta, lam], [-alpha * beta, 1.0 - alpha * lam]])
    assert (np.abs(eig.imag).max() > 1e-6) == (kind == "under-damped")  # complex roots by NumPy
    run = L.eigen_run(1.0 / 0.01, alpha, beta)
    comp = next(c for c in run["components"] if c["lam"] == pytest.approx(lam))
    x = comp["position"][np.abs(comp["position"]) > 1e-250]  # leave out values ground down to 0
    changes = L.sign_changes(x)
    if kind == "under-damped":
        assert comp["period"] < len(x)
        assert changes >= 2 * math.floor(len(x) / comp["period"]) - 1  # two crossings per turn of the spiral
    elif flips:
        assert changes >= len(x) - 3  # c₁σ₁ᵗ + c₂σ₂ᵗ with σ < 0: the bracket changes sign at most once
    else:
        assert changes == 0  # from rest, real positive roots never cross the minimum
    assert comp["damping"] == d


def test_moving_beta_turns_a_creep_into_a_spiral_at_the_critical_momentum():
    alpha, lam = 2.0, 0.01
    b_c = T.critical_beta(alpha, lam)
    assert T.damping(alpha, b_c, lam).kind == "critically damped"
    for beta in np.linspace(0.0, 0.98, 15):
        comp = L.eigen_run(100.0, alpha, float(beta))["components"][0]
        assert comp["damping"].kind == ("over-damped" if beta < b_c else "under-damped")
        assert (comp["sign_changes"] == 0) == (beta < b_c), beta


@pytest.mark.parametrize(("alpha", "lam", "expected"), [(0.04, 1.0, 0.64), (2.25, 1.0, 0.25), (4.0, 1.0, None),
                                                        (1.0, 1.0, 0.0)])
def test_critical_beta_on_both_sides(alpha, lam, expected):
    got = T.critical_beta(alpha, lam)
    assert got == (None if expected is None else pytest.approx(expected))
    if got is not None:
        assert abs(T.momentum_discriminant(alpha, got, lam)) <= T.DOUBLE_ROOT_TOL


def test_oscillation_period_is_the_spacing_of_the_crossings():
    alpha, beta, lam = 1.0, 0.95, 0.01
    period = T.oscillation_period(alpha, beta, lam)
    omega = math.atan2(math.sqrt(4 * beta - (1 - alpha * lam + beta) ** 2), 1 - alpha * lam + beta)
    assert period == pytest.approx(2 * math.pi / omega)
    x = L.eigen_run(100.0, alpha, beta, steps=600)["components"][0]["position"]
    crossings = np.flatnonzero(np.diff(np.sign(x)) != 0)
    assert np.mean(np.diff(crossings)) == pytest.approx(period / 2, rel=0.05)
    assert T.oscillation_period(1.0, 0.1, 0.01) == math.inf


# --- refusals -----------------------------------------------------------------------------------------------

BAD = [
    (lambda: T.momentum_rate_grid([], [0.5], [1.0]), "Invalid learning rate: none given"),
    (lambda: T.momentum_rate_grid([0.1, -1.0], [0.5], [1.0]), r"Invalid learning rate: -1.0 \(must be positive\)"),
    (lambda: T.momentum_rate_grid([0.1], [1.0], [1.0]), r"Invalid momentum value: 1.0 \(must be in \[0, 1\)\)"),
    (lambda: T.momentum_rate_grid([np.nan], [0.5], [1.0]), r"Invalid learning rate: nan \(must be finite\)"),
    (lambda: T.momentum_rate_grid([0.1], [0.5], [0.0]), "positive curvature"),
    (lambda: T.momentum_discriminant(0.1, 1.5, 1.0), "Invalid momentum value"),
    (lambda: T.critical_beta(-0.1, 1.0), "Invalid learning rate"),
    (lambda: L.check_kappa(0.5), r"Invalid condition number: 0.5 \(must be from 1 to 1000\)"),
    (lambda: L.check_kappa(5000), r"Invalid condition number: 5000 \(must be from 1 to 1000\)"),
    (lambda: L.check_kappa(float("nan")), r"Invalid condition number: nan \(a number from 1 to 1000\)"),
    (lambda: L.check_kappa("100"), r"Invalid condition number: '100' \(a number from 1 to 1000\)"),
    (lambda: L.check_kappa(True), r"Invalid condition number: True"),
    (lambda: L.check_settings(0.0, 0.5), r"Invalid learning rate α: 0 \(must be in \(0, 4\]\)"),
    (lambda: L.check_settings(4.5, 0.5), r"Invalid learning rate α: 4.5 \(must be in \(0, 4\]\)"),
    (lambda: L.check_settings(1.0, 1.0), r"Invalid momentum β: 1 \(must be in \[0, 0.99\]\)"),
    (lambda: L.check_settings(1.0, -0.1), r"Invalid momentum β: -0.1"),
    (lambda: L.check_settings(float("inf"), 0.5), r"Invalid learning rate α: inf \(must be a finite number\)"),
    (lambda: L.eigen_run(0.0, 1.0, 0.5), "Invalid condition number: 0"),
    (lambda: L.rate_map(2000.0), "Invalid condition number: 2000"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_inputs_are_refused_with_a_plain_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the figures ------------------------------------------------------------------------------------------------


def _fonts_at_least_14(fig) -> None:
    layout = fig.to_plotly_json()["layout"]
    assert layout["font"]["size"] >= 14 and layout["title"]["font"]["size"] >= 14
    assert layout["hoverlabel"]["font"]["size"] >= 14 and layout["legend"]["font"]["size"] >= 14
    axes = [axis for key, axis in layout.items() if key.startswith(("xaxis", "yaxis"))]
    assert axes
    for axis in axes:
        assert axis["tickfont"]["size"] >= 14 and axis["title"]["font"]["size"] >= 14
    for note in layout.get("annotations", []):
        assert note["font"]["size"] >= 14


def test_rate_map_figure_click_grid_carries_alpha_beta_and_the_rate():
    m = L.rate_map(100.0)
    rows = L.measured_probes(100.0)
    fig = P.rate_map_figure(m["alphas"], m["betas"], m["rates"], 1.0, m["optimum"], (1.0, 0.5, 0.7), rows)
    grid = fig.data[P.CLICK_GRID_INDEX]
    assert grid.name == "click grid" and grid.mode == "markers"
    ga, gb = np.meshgrid(m["alphas"][::2], m["betas"][::2])  # every second cell, row by row
    np.testing.assert_allclose(grid.x, ga.ravel(), rtol=1e-7)
    np.testing.assert_allclose(grid.y, gb.ravel(), rtol=1e-7)
    np.testing.assert_allclose(grid.customdata, m["rates"][::2, ::2].ravel(), rtol=1e-7)
    probes = next(t for t in fig.data if t.name and t.name.startswith("real runs"))
    assert list(probes.text) == [f"{r['measured rate']:.4f}" for r in rows]
    current = next(t for t in fig.data if t.name and t.name.startswith("this run"))
    assert (current.x[0], current.y[0]) == (1.0, 0.5)
    assert fig.layout.clickmode == "event+select"
    _fonts_at_least_14(fig)


def test_component_and_phase_figures_are_readable_and_phase_axes_are_equal():
    run = L.eigen_run(100.0, 1.0, 0.9)
    fig = P.component_error_figure(run)
    assert fig.layout.yaxis.type == "log"
    dashed = [t for t in fig.data if t.line.dash == "dash"]
    assert len(dashed) == 2
    assert [t.name for t in dashed] == [f"predicted |c₀|·rᵗ, r = {c['predicted']:.4f}" for c in run["components"]]
    _fonts_at_least_14(fig)
    phase = P.phase_figure(run)
    assert phase.layout.yaxis.scaleanchor == "x" and phase.layout.yaxis2.scaleanchor == "x2"
    assert tuple(phase.layout.xaxis.range) == tuple(phase.layout.yaxis.range)
    assert [a.text for a in phase.layout.annotations][:2] == [f"{c['name']}: under-damped" for c in run["components"]]
    _fonts_at_least_14(phase)
