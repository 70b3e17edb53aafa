"""Tests for optlab.theory: the worked numbers of Goh (2017), then the predictions against real torch.optim runs."""

import math

import numpy as np
import pytest
import torch

from optlab import theory as T
from optlab.surfaces import SURFACES, quadratic


def test_gd_worked_example_kappa_100():
    alpha, rate = T.gd_optimal(0.01, 1.0)
    assert alpha == pytest.approx(1.9802, abs=5e-5)
    assert rate == pytest.approx(0.980198, abs=5e-7)
    assert T.gd_rate(alpha, [0.01, 1.0]) == pytest.approx(rate, rel=1e-12)
    assert T.iterations_to_reduce(rate) == 691


def test_momentum_worked_example_kappa_100():
    alpha, beta, rate = T.momentum_optimal(0.01, 1.0)
    assert alpha == pytest.approx(3.30579, abs=5e-6)
    assert beta == pytest.approx(0.669421, abs=5e-7)
    assert rate == pytest.approx(0.818182, abs=5e-7)
    assert T.momentum_rate(alpha, beta, [0.01, 0.1, 0.5, 1.0]) == pytest.approx(rate, rel=1e-9)
    assert T.iterations_to_reduce(rate) == 69


def test_kappa_1000_rates():
    assert T.gd_optimal(0.001, 1.0)[1] == pytest.approx(0.998002, abs=5e-7)
    assert T.momentum_optimal(0.001, 1.0)[2] == pytest.approx(0.938693, abs=5e-7)


def test_nesterov_rate_at_kappa_100():
    assert T.nesterov_rate(100) == pytest.approx(0.9, rel=1e-15)
    assert T.nesterov_rate(1) == 0.0


def test_gd_stability_limit_for_rosenbrock():
    lam_max = SURFACES["rosenbrock"].hessian_eigs[1]
    assert T.gd_stability_limit(lam_max) == pytest.approx(0.001997, abs=5e-7)


@pytest.mark.parametrize(
    "alpha, lams, expected",
    [(0.5, [1.0], 0.5), (1.0, [0.5, 1.5], 0.5), (2.0, [1.0], 1.0), (0.1, [0.01, 30.0], 2.0), (1.0, 1.0, 0.0)],
)
def test_gd_rate_and_convergence_table(alpha, lams, expected):
    assert T.gd_rate(alpha, lams) == pytest.approx(expected)
    assert T.gd_converges(alpha, lams) == (expected < 1)


def test_momentum_eigenvalues_are_those_of_the_iteration_matrix():
    for alpha, beta, lam in [(0.5, 0.9, 1.0), (0.1, 0.2, 3.0), (1.9, 0.0, 1.0), (3.0, 0.5, 0.01)]:
        m = np.array([[beta, lam], [-alpha * beta, 1 - alpha * lam]])
        expected = sorted(np.linalg.eigvals(m), key=lambda z: (z.real, z.imag))
        got = sorted(T.momentum_eigenvalues(alpha, beta, lam), key=lambda z: (z.real, z.imag))
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_complex_roots_have_modulus_sqrt_beta():
    s1, s2 = T.momentum_eigenvalues(1.0, 0.9, 1.0)
    assert s1.imag != 0
    assert abs(s1) == pytest.approx(math.sqrt(0.9)) and abs(s2) == pytest.approx(math.sqrt(0.9))


def test_critical_damping_gives_a_double_root_with_rate_one_minus_sqrt():
    alpha, lam = 0.04, 1.0
    beta = T.critical_damping_beta(alpha, lam)
    assert beta == pytest.approx(0.64)
    s1, s2 = T.momentum_eigenvalues(alpha, beta, lam)
    assert s1 == pytest.approx(s2, abs=1e-7)  # a double root (rounding splits it by about √eps)
    assert abs(s1) == pytest.approx(1 - math.sqrt(alpha * lam), rel=1e-7)
    with pytest.raises(ValueError, match="critical damping"):
        T.critical_damping_beta(2.0, 1.0)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9])
def test_momentum_convergence_condition_matches_the_rate(beta):
    # the closed form 0 < αλ < 2 + 2β agrees with max |σ| < 1 on a sweep of steps
    for alpha in np.linspace(0.05, 4.5, 90):
        assert T.momentum_converges(alpha, beta, [1.0]) == (T.momentum_rate(alpha, beta, [1.0]) < 1 - 1e-12)


@pytest.mark.parametrize(
    "rate, factor, expected",
    [(0.5, 1e-3, 10), (0.1, 1e-6, 6), (0.0, 1e-6, 1), (1.0, 1e-6, math.inf), (1.2, 1e-6, math.inf)],
)
def test_iterations_to_reduce(rate, factor, expected):
    n = T.iterations_to_reduce(rate, factor)
    assert n == expected
    if math.isfinite(n) and rate > 0:
        assert rate**n <= factor * (1 + 1e-12) and rate ** (n - 1) > factor


def test_other_reference_facts():
    assert T.adam_first_step_without_bias_correction(0.9, 0.999) == pytest.approx(3.162, abs=5e-4)
    assert T.adam_first_step_without_bias_correction(0.9, 0.999) == pytest.approx(math.sqrt(10), rel=1e-12)
    assert T.momentum_terminal_step(0.01, 0.9) == pytest.approx(0.1)
    assert T.ema_lag(1.0, 0.99) == pytest.approx(99.0)
    assert T.ema_lag(2.0, 0.5) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: T.gd_rate(-1, [1.0]), "learning rate"),
        (lambda: T.gd_rate(0.1, []), "none given"),
        (lambda: T.gd_rate(0.1, [0.0]), "eigenvalue"),
        (lambda: T.gd_optimal(2.0, 1.0), "lam_min"),
        (lambda: T.momentum_rate(0.1, 1.0, [1.0]), "momentum"),
        (lambda: T.nesterov_rate(0.5), "condition number"),
        (lambda: T.iterations_to_reduce(0.5, 2.0), "factor"),
        (lambda: T.measured_rate([1.0, 0.5]), "at least 3"),
        (lambda: T.measured_rate([1.0, math.inf, 0.5]), "diverge"),
        (lambda: T.measured_rate([1.0, -0.5, 0.2]), "non-negative"),
        (lambda: T.adam_first_step_without_bias_correction(0.9, 1.0), "beta2"),
        (lambda: T.ema_lag(1.0, 1.0), "decay"),
    ],
)
def test_bad_arguments_are_refused(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


@pytest.mark.parametrize("rate", [0.7, 0.9, 0.99])
def test_measured_rate_recovers_a_geometric_sequence_after_a_transient(rate):
    t = np.arange(400)
    errors = 5.0 * rate**t + 3.0 * 0.1**t  # a fast transient on top of the slow mode
    errors[::7] *= 0.5  # and some dips, deeper than one step's contraction
    assert T.measured_rate(errors) == pytest.approx(rate, rel=2e-3)  # the dips leave a small step bias


def test_measured_rate_follows_the_envelope_of_an_oscillation():
    t = np.arange(600)
    errors = 0.95**t * np.abs(np.cos(0.3 * t))  # passes near zero again and again
    assert T.measured_rate(errors) == pytest.approx(0.95, rel=2e-3)


# --- the predictions against torch.optim.SGD on surfaces.quadratic ----------------------------------------


def _distances(surface, lr, momentum=0.0, nesterov=False, steps=300, start=None):
    """‖w_t − w*‖ for t = 0..steps−1 while torch.optim.SGD runs on ``surface`` (minimum at the origin here)."""
    w = torch.tensor(start if start is not None else surface.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum, nesterov=nesterov)
    out = []
    for _ in range(steps):
        out.append(w.detach().norm().item())
        opt.zero_grad()
        surface(w).backward()
        opt.step()
    return np.array(out)


@pytest.mark.parametrize("angle", [0.0, 30.0])
def test_heavy_ball_at_the_optimum_converges_at_the_predicted_rate(angle):
    alpha, beta, rate = T.momentum_optimal(0.01, 1.0)
    errors = _distances(quadratic(100, angle), alpha, beta, steps=300)
    # both extreme directions have a double root, so the error is (a + b·t)·rateᵗ: within 1.5% on a short run
    assert T.measured_rate(errors) == pytest.approx(rate, rel=0.015)
    assert errors[T.iterations_to_reduce(rate) + 30] < 1e-6 * errors[0]
    # on a long run (no rounding floor for a linear map with its fixed point at 0) the t factor fades
    long = _distances(quadratic(100, angle), alpha, beta, steps=1200)
    assert T.measured_rate(long, floor=1e-300) == pytest.approx(rate, rel=2e-3)


def test_gradient_descent_at_the_optimum_converges_at_the_predicted_rate():
    alpha, rate = T.gd_optimal(0.01, 1.0)
    errors = _distances(quadratic(100), alpha, steps=1500)
    assert T.measured_rate(errors) == pytest.approx(rate, rel=1e-6)
    n = T.iterations_to_reduce(rate)
    assert errors[n] / errors[0] <= 1e-6 * 1.01


def test_momentum_in_the_complex_regime_contracts_at_sqrt_beta():
    errors = _distances(quadratic(100), 1.0, 0.9, steps=600)
    predicted = T.momentum_rate(1.0, 0.9, [0.01, 1.0])
    assert predicted == pytest.approx(math.sqrt(0.9))
    assert T.measured_rate(errors) == pytest.approx(predicted, rel=2e-3)


def test_momentum_beats_gd_at_kappa_100():
    gd = T.measured_rate(_distances(quadratic(100), T.gd_optimal(0.01, 1.0)[0], steps=400))
    hb = T.measured_rate(_distances(quadratic(100), *T.momentum_optimal(0.01, 1.0)[:2], steps=300))
    assert hb < gd - 0.1


def test_nesterov_rate_in_torch_form():
    kappa = 100.0
    beta = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    errors = _distances(quadratic(kappa), 1.0, beta, nesterov=True, steps=600)
    assert T.measured_rate(errors) == pytest.approx(T.nesterov_rate(kappa), rel=1e-2)


@pytest.mark.parametrize("fraction, converges", [(0.9, True), (1.1, False)])
def test_rosenbrock_gd_stability_limit_in_a_real_run(fraction, converges):
    s = SURFACES["rosenbrock"]
    lr = fraction * T.gd_stability_limit(s.hessian_eigs[1])
    w = torch.tensor([1.001, 1.0005], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    for _ in range(300):
        opt.zero_grad()
        s(w).backward()
        opt.step()
    distance = float(s.nearest_minimum_distance(w.detach().numpy()))
    start = math.hypot(0.001, 0.0005)
    if converges:
        assert distance < start
    else:
        assert not distance < 10 * start  # grew (or overflowed to nan)


@pytest.mark.parametrize("lr, momentum", [(0.1, 0.9), (0.02, 0.5)])
def test_terminal_step_under_a_constant_gradient(lr, momentum):
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
    for _ in range(400):
        before = w.detach().clone()
        opt.zero_grad()
        w.sum().backward()  # gradient 1
        opt.step()
    step = (before - w.detach()).item()
    assert step == pytest.approx(T.momentum_terminal_step(lr, momentum), rel=1e-9)


def test_adam_first_step_without_bias_correction_against_a_hand_rolled_update():
    # one Adam update without bias correction: m = (1 − β₁)g, v = (1 − β₂)g², step = lr·m/√v
    lr, b1, b2 = 0.01, 0.9, 0.999
    for g in (3.0, -0.002):
        m, v = (1 - b1) * g, (1 - b2) * g * g
        assert abs(lr * m / math.sqrt(v)) == pytest.approx(lr * T.adam_first_step_without_bias_correction(b1, b2))
    # torch's Adam (with correction) moves by lr in the first step: the ratio is what the correction removes
    w = torch.tensor([0.0, 0.0], requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr, betas=(b1, b2))
    w.grad = torch.tensor([3.0, -0.002])
    opt.step()
    torch.testing.assert_close(w.detach().abs(), torch.full((2,), lr), atol=1e-6, rtol=1e-5)


def test_ema_lag_against_the_ema_module():
    from optlab.ema import TensorEMA

    c, d = 0.5, 0.99
    ema = TensorEMA(torch.tensor(0.0, dtype=torch.float64), decay=d)
    for t in range(1, 5001):
        avg = ema.update(torch.tensor(c * t, dtype=torch.float64)).item()
    assert c * 5000 - avg == pytest.approx(T.ema_lag(c, d), rel=1e-9)
