"""The lessons on momentum, EMA of weights and the failure gallery against the published numbers (Goh 2017, Kingma and Ba 2015) and hand computation."""

import math

import numpy as np
import pytest
import torch

from optlab.lessons import ema_weights, failures
from optlab.lessons import momentum as lesson
from optlab.surfaces import quadratic

# ---- momentum ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mu", "tau"), [(0.9, 0.0), (0.9, 0.5), (0.5, 0.9), (0.05, 0.0)])
def test_buffer_is_the_weighted_sum_and_the_first_step_is_undamped(mu, tau):
    grads = [1.0, 2.0, -1.0, 0.5, 3.0]
    out = lesson.buffer_vs_formula(grads, mu, tau)
    np.testing.assert_allclose(out["torch"], out["formula"], rtol=1e-6, atol=1e-6)
    assert out["torch"][0] == grads[0]  # b_1 = g_1, not (1 - tau) g_1
    w = torch.zeros(1, requires_grad=True)  # torch's own SGD as a third witness
    opt = torch.optim.SGD([w], lr=0.1, momentum=mu, dampening=tau)
    for t, g in enumerate(grads):
        w.grad = torch.tensor([g])
        opt.step()
        assert opt.state[w]["momentum_buffer"].item() == pytest.approx(out["torch"][t], rel=1e-6)


@pytest.mark.parametrize(("lr", "mu"), [(0.1, 0.9), (0.01, 0.5), (1.0, 0.0)])
def test_step_under_constant_gradient_tends_to_lr_over_one_minus_mu(lr, mu):
    lengths = lesson.steps_under_constant_gradient(lr, mu, 150)
    t = np.arange(1, 151)
    np.testing.assert_allclose(lengths, lr * (1 - mu**t) / (1 - mu), rtol=1e-4)  # geometric sum
    assert lengths[-1] == pytest.approx(lr / (1 - mu), rel=1e-4)


def test_run_on_quadratic_is_plain_torch_sgd():
    path = lesson.run_on_quadratic(10.0, 0.5, 0.9, 20, nesterov=True)
    surface = quadratic(10.0)
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5, momentum=0.9, nesterov=True)
    for _ in range(20):
        opt.zero_grad()
        surface(p).backward()
        opt.step()
    np.testing.assert_allclose(path[-1], p.detach().numpy(), rtol=1e-12)


def test_theory_rates_match_reference_and_the_measured_runs():
    rows = {r["method"]: r for r in lesson.theory_vs_measured(100.0, 300)}
    # Goh 2017, kappa = 100: GD 0.980198, heavy ball 0.818182 (alpha* 3.30579, beta* 0.669421), Nesterov 0.9
    assert rows["gradient descent"]["predicted rate"] == pytest.approx(0.980198, abs=1e-6)
    assert rows["heavy ball"]["lr"] == pytest.approx(3.30579, abs=1e-5)
    assert rows["heavy ball"]["momentum"] == pytest.approx(0.669421, abs=1e-6)
    assert rows["heavy ball"]["predicted rate"] == pytest.approx(0.818182, abs=1e-6)
    assert rows["Nesterov"]["predicted rate"] == pytest.approx(0.9, abs=1e-9)
    for r in rows.values():
        assert r["measured rate"] == pytest.approx(r["predicted rate"], abs=0.01)


# ---- EMA of the weights --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "d"), [(1.0, 0.99), (2.0, 0.9), (0.5, 0.5)])
def test_lag_on_a_ramp_is_c_d_over_one_minus_d(c, d):
    steps = 3000
    lag = ema_weights.lag_on_a_ramp(c, d, steps)
    t = np.arange(1, steps + 1)
    ema = ((1 - d) * d ** (steps - t) * c * t).sum()  # the EMA unrolled, started at 0
    assert lag == pytest.approx(c * steps - ema, rel=1e-9)
    assert lag == pytest.approx(c * d / (1 - d), rel=1e-6)  # d/(1 − d): 99 steps' worth at d = 0.99


@pytest.mark.parametrize(("decay", "tau"), [(0.999, 100.0), (0.9, 5.0), (0.99, 0.0)])
def test_decay_warmup_follows_the_yolo_ramp(decay, tau):
    d = ema_weights.decay_warmup(decay, tau, 50)
    t = np.arange(1, 51)
    expected = np.full(50, decay) if tau == 0 else decay * (1 - np.exp(-t / tau))
    np.testing.assert_allclose(d, expected, rtol=1e-12)


def test_ema_sits_closer_to_the_minimum_under_noise_and_lags_without_it():
    noisy = ema_weights.shadow_path(0.1, 1.0, 0.95, 0.0, 300)
    assert noisy["ema_distance"] < 0.8 * noisy["raw_distance"]
    assert noisy["raw"].shape == noisy["ema"].shape == (301, 2)
    calm = ema_weights.shadow_path(0.1, 0.0, 0.95, 0.0, 40)
    assert np.linalg.norm(calm["ema"][-1]) > np.linalg.norm(calm["raw"][-1])  # behind on the way down


# ---- failures ------------------------------------------------------------------------------------------------


def test_amsgrad_counterexample_adam_at_worst_point_amsgrad_at_best():
    out = failures.amsgrad_counterexample(C=3.0, alpha=0.1, steps=3000)
    assert out["adam"][-1] > 0.99  # Kingma and Ba 2015: the corrected first step is ±lr, so Adam ends at +1
    assert out["amsgrad"][-1] < -0.99  # AMSGrad near -1 (about -0.9997 after 30 000 steps)
    assert np.all(np.abs(out["adam"]) <= 1) and np.all(np.abs(out["amsgrad"]) <= 1)


def test_divergence_starts_just_past_two_over_lambda_max():
    rows = failures.divergence_past_two_over_lambda((0.9, 0.99, 1.01, 1.1), kappa=10.0, steps=40)
    for r in rows:
        expected = max(abs(1 - r["lr"] * 0.1), abs(1 - r["lr"] * 1.0))  # lambda = (0.1, 1)
        assert r["predicted rate"] == pytest.approx(expected)
        assert r["measured rate"] == pytest.approx(expected, abs=5e-3)
        assert (r["measured rate"] > 1) == (r["lr / (2 / lambda_max)"] > 1)
    assert rows[-1]["final distance"] > 100 * rows[0]["final distance"]


@pytest.mark.parametrize("lr", [0.001, 0.01, 0.1])
def test_adam_first_step_is_lr_with_correction_and_3_16_lr_without(lr):
    out = failures.adam_first_step((3.0, -0.002), lr)
    np.testing.assert_allclose(out["with correction"], [lr, -lr], rtol=1e-4)  # Kingma and Ba 2015: +-lr up to eps
    assert out["expected ratio"] == pytest.approx(0.1 / math.sqrt(0.001))
    assert out["expected ratio"] == pytest.approx(3.162, abs=1e-3)
    np.testing.assert_allclose(out["without correction"] / out["with correction"], out["expected ratio"], rtol=1e-3)


def test_saddle_escape_counts_match_the_growth_law():
    rows = {r["optimizer"]: r for r in failures.saddle_escape(0.01, 1e-3)}
    sgd = rows["SGD"]
    assert sgd["steps to escape"] == sgd["expected"] == math.ceil(math.log(1e3) / math.log(1.02))
    assert rows["SGD + momentum 0.9"]["steps to escape"] < sgd["steps to escape"]
    assert rows["Adam"]["steps to escape"] < sgd["steps to escape"]
    stuck = failures.saddle_escape(0.01, 0.0, max_steps=50)
    assert all(r["steps to escape"] is None for r in stuck)
    assert stuck[0]["expected"] == math.inf  # ln(1 / 0): the formula says never, too
