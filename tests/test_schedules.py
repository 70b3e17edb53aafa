"""Tests for optlab.schedules: curves against torch schedulers driven by hand, end points, and refused input."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from optlab.schedules import SCHEDULES, lr_curve, make_scheduler, scheduler_code

LR = 0.2
TOTAL = 40


def _hand_curve(build, lr=LR, total=TOTAL, momentum=0.9):
    """lr(t) from a torch scheduler built by ``build(optimizer)`` during a real little training run."""
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
    sched = build(opt)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
    return np.array(out)


# (key, params, the same scheduler written out directly with torch)
HAND_BUILT = [
    ("constant", {}, lambda o: None),
    ("step", {"step_fraction": 0.25, "gamma": 0.3}, lambda o: lr_scheduler.StepLR(o, step_size=10, gamma=0.3)),
    ("exponential", {"gamma": 0.95}, lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95)),
    ("cosine", {"min_fraction": 0.1}, lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=39, eta_min=0.02)),
    (
        "onecycle", {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=LR, total_steps=TOTAL, pct_start=0.25, div_factor=10.0,
                                          final_div_factor=100.0, cycle_momentum=False),
    ),
    (
        "warmup", {"warmup_fraction": 0.2, "start_factor": 0.1},
        lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=8),
    ),
    (
        "warmup_cosine", {"warmup_fraction": 0.2, "start_factor": 0.1, "min_fraction": 0.05},
        lambda o: lr_scheduler.SequentialLR(
            o,
            [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=8),
             lr_scheduler.CosineAnnealingLR(o, T_max=31, eta_min=0.01)],
            milestones=[8],
        ),
    ),
]


def test_every_schedule_is_covered_and_well_formed():
    assert set(SCHEDULES) == {key for key, _, _ in HAND_BUILT}
    assert next(iter(SCHEDULES)) == "constant"
    for key, spec in SCHEDULES.items():
        assert spec.key == key and spec.label and spec.description and spec.code
        for p in spec.params:
            assert p.min <= p.default <= p.max, (key, p.name)
            assert not (p.log and p.min <= 0), (key, p.name)


@pytest.mark.parametrize("key, params, build", HAND_BUILT, ids=[k for k, _, _ in HAND_BUILT])
def test_curve_matches_a_hand_driven_torch_scheduler(key, params, build):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "scheduler.step() before optimizer.step()" warning, nor others
        ours = lr_curve(key, LR, TOTAL, **params)
        theirs = _hand_curve(build)
    assert ours.shape == (TOTAL,) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("key, params, build", HAND_BUILT, ids=[k for k, _, _ in HAND_BUILT])
def test_make_scheduler_drives_a_real_optimizer_the_same_way(key, params, build):
    def ours(o):
        return make_scheduler(o, key, TOTAL, **params)

    np.testing.assert_allclose(_hand_curve(ours), _hand_curve(build), rtol=1e-12, atol=1e-15)


def test_constant_gives_no_scheduler():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    assert make_scheduler(opt, "constant", 10) is None


def test_step_is_a_staircase():
    curve = lr_curve("step", 1.0, 30, step_fraction=0.2, gamma=0.5)
    expected = [0.5 ** (t // 6) for t in range(30)]
    np.testing.assert_allclose(curve, expected)


def test_exponential_is_geometric():
    np.testing.assert_allclose(lr_curve("exponential", 0.3, 25, gamma=0.9), 0.3 * 0.9 ** np.arange(25))


@pytest.mark.parametrize("min_fraction", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("total", [2, 3, 50])
def test_cosine_starts_at_lr_and_ends_at_eta_min(min_fraction, total):
    curve = lr_curve("cosine", LR, total, min_fraction=min_fraction)
    assert curve[0] == pytest.approx(LR)
    assert curve[-1] == pytest.approx(min_fraction * LR, abs=1e-15)
    assert np.all(np.diff(curve) <= 1e-15)
    # half-way down at the middle: eta_min + (lr − eta_min)(1 + cos(π t/T))/2
    if total == 50:
        t = np.arange(50)
        expected = min_fraction * LR + (1 - min_fraction) * LR * (1 + np.cos(np.pi * t / 49)) / 2
        np.testing.assert_allclose(curve, expected, rtol=1e-9)


@pytest.mark.parametrize("pct_start", [0.1, 0.3, 0.6])
def test_onecycle_peaks_at_the_runs_lr(pct_start):
    total, div, final = 100, 25.0, 1e4
    curve = lr_curve("onecycle", LR, total, pct_start=pct_start, div_factor=div, final_div_factor=final)
    assert curve.max() == pytest.approx(LR, rel=1e-12)
    assert int(curve.argmax()) == round(pct_start * total) - 1  # torch's phase ends at pct_start·total − 1
    assert curve[0] == pytest.approx(LR / div)
    assert curve[-1] == pytest.approx(LR / div / final)


def test_onecycle_leaves_momentum_alone():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = make_scheduler(opt, "onecycle", 10)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["momentum"] == 0.9


def test_onecycle_uses_each_groups_lr_as_its_peak():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}])
    sched = make_scheduler(opt, "onecycle", 20, pct_start=0.5)
    peaks = [0.0, 0.0]
    for _ in range(20):
        peaks = [max(pk, g["lr"]) for pk, g in zip(peaks, opt.param_groups, strict=True)]
        opt.step()
        sched.step()
    assert peaks == pytest.approx([0.1, 0.01])


def test_warmup_cosine_shape():
    curve = lr_curve("warmup_cosine", 1.0, 100, warmup_fraction=0.1, start_factor=0.01, min_fraction=0.0)
    assert curve[0] == pytest.approx(0.01)
    t = np.arange(10)
    np.testing.assert_allclose(curve[:10], 0.01 + 0.99 * t / 10)  # LinearLR: start_factor → 1 over 10 steps
    assert curve[10] == pytest.approx(1.0) and curve.max() == pytest.approx(1.0)
    assert curve[-1] == pytest.approx(0.0, abs=1e-15)
    assert np.all(np.diff(curve[10:]) <= 1e-15)


def test_zero_warmup_is_plain_cosine_or_constant():
    np.testing.assert_allclose(lr_curve("warmup_cosine", 1.0, 30, warmup_fraction=0.0),
                               lr_curve("cosine", 1.0, 30))
    np.testing.assert_allclose(lr_curve("warmup", 1.0, 30, warmup_fraction=0.0), np.ones(30))


@pytest.mark.parametrize("key", list(SCHEDULES))
@pytest.mark.parametrize("total", [1, 2, 3, 7, 200])
def test_every_schedule_works_for_short_and_long_runs(key, total):
    if key == "onecycle" and total == 1:
        with pytest.raises(ValueError, match="at least 2"):
            lr_curve(key, LR, total)
        return
    curve = lr_curve(key, LR, total)
    assert curve.shape == (total,)
    assert np.all(np.isfinite(curve)) and np.all(curve >= 0) and np.all(curve <= LR * (1 + 1e-12))


@pytest.mark.parametrize(
    "key, total, params, fragment",
    [
        ("nope", 10, {}, "constant, step"),
        ("step", 10, {"gamma": 1.5}, "Invalid gamma"),
        ("step", 10, {"gamma": 0.0}, "Invalid gamma"),
        ("step", 10, {"gamma": math.nan}, "finite"),
        ("step", 10, {"gamma": True}, "finite"),
        ("step", 10, {"gamma": "0.5"}, "finite"),
        ("step", 10, {"step_size": 3}, "no parameter 'step_size'"),
        ("constant", 10, {"gamma": 0.5}, "parameters: none"),
        ("cosine", 10, {"min_fraction": -0.1}, "min_fraction"),
        ("onecycle", 10, {"pct_start": 1.0}, "pct_start"),
        ("onecycle", 1, {}, "at least 2"),
        ("warmup", 10, {"start_factor": 0.0}, "start_factor"),
        ("cosine", 0, {}, "total_steps"),
        ("cosine", 10.0, {}, "total_steps"),
        ("cosine", True, {}, "total_steps"),
    ],
)
def test_bad_settings_are_refused(key, total, params, fragment):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=fragment):
        make_scheduler(opt, key, total, **params)
    with pytest.raises(ValueError, match=fragment):
        lr_curve(key, 0.1, total, **params)


@pytest.mark.parametrize("lr", [0.0, -1.0, math.inf, math.nan])
def test_bad_lr_is_refused(lr):
    with pytest.raises(ValueError, match="learning rate"):
        lr_curve("cosine", lr, 10)


@pytest.mark.parametrize("key", list(SCHEDULES))
def test_code_text_names_the_torch_class_with_numbers(key):
    text = scheduler_code(key, 40)
    classes = {"step": "StepLR", "exponential": "ExponentialLR", "cosine": "CosineAnnealingLR",
               "onecycle": "OneCycleLR", "warmup": "LinearLR", "warmup_cosine": "SequentialLR"}
    if key in classes:
        assert classes[key] in text and classes[key] in SCHEDULES[key].code
    assert scheduler_code("step", 40, step_fraction=0.25) == (
        "torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)"
    )
    assert "milestones=[4]" in scheduler_code("warmup_cosine", 40)
