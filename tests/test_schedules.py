"""Tests for optlab.schedules: curves against torch schedulers driven by hand, end points, and refused input."""

import ast
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
    classes = {"step": "StepLR", "exponential": "ExponentialLR", "cosine": "LambdaLR",
               "onecycle": "OneCycleLR", "warmup": "LinearLR", "warmup_cosine": "SequentialLR"}
    if key in classes:
        assert classes[key] in text and classes[key] in SCHEDULES[key].code
    assert scheduler_code("step", 40, step_fraction=0.25) == (
        "torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)"
    )
    assert "milestones=[4]" in scheduler_code("warmup_cosine", 40)


# ---- several param groups ---------------------------------------------------------------------------------------

GROUP_LRS = (0.01, 0.1)


def _group_curves(build, lrs=GROUP_LRS, total=TOTAL) -> np.ndarray:
    """lr(t) of every group (shape groups × steps) of an SGD whose groups start at ``lrs``."""
    params = [torch.tensor([1.0, -2.0], requires_grad=True) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)], momentum=0.9)
    sched = build(opt)
    out = np.empty((len(lrs), total))
    for t in range(total):
        out[:, t] = [g["lr"] for g in opt.param_groups]
        opt.zero_grad()
        sum((p**2).sum() for p in params).backward()
        opt.step()
        if sched is not None:
            sched.step()
    return out


# (key, params, the same schedule for ONE group with that lr, written with torch's CosineAnnealingLR)
COSINE_PER_GROUP = [
    ("cosine", {"min_fraction": 0.5},
     lambda o, lr: lr_scheduler.CosineAnnealingLR(o, T_max=TOTAL - 1, eta_min=0.5 * lr)),
    ("cosine", {"min_fraction": 0.1},
     lambda o, lr: lr_scheduler.CosineAnnealingLR(o, T_max=TOTAL - 1, eta_min=0.1 * lr)),
    ("warmup_cosine", {"warmup_fraction": 0.2, "start_factor": 0.1, "min_fraction": 0.5},
     lambda o, lr: lr_scheduler.SequentialLR(
         o, [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=8),
             lr_scheduler.CosineAnnealingLR(o, T_max=TOTAL - 1 - 8, eta_min=0.5 * lr)], milestones=[8])),
    ("warmup_cosine", {"warmup_fraction": 0.0, "min_fraction": 0.25},
     lambda o, lr: lr_scheduler.CosineAnnealingLR(o, T_max=TOTAL - 1, eta_min=0.25 * lr)),
]


@pytest.mark.parametrize("key, params, single", COSINE_PER_GROUP, ids=[f"{k}-{i}" for i, (k, *_) in
                                                                      enumerate(COSINE_PER_GROUP)])
def test_cosine_floor_is_each_groups_own_fraction(key, params, single):
    """Groups at lr 0.01 and 0.1: each follows CosineAnnealingLR with eta_min = f × its own lr, run alone."""
    ours = _group_curves(lambda o: make_scheduler(o, key, TOTAL, **params))
    for i, lr in enumerate(GROUP_LRS):
        alone = _group_curves(lambda o, lr=lr: single(o, lr), lrs=(lr,))[0]
        np.testing.assert_allclose(ours[i], alone, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[:, -1], [params["min_fraction"] * lr for lr in GROUP_LRS], rtol=1e-12)


def test_cosine_of_two_groups_ends_at_half_of_each():
    """The reported case: groups at 0.01 and 0.1 with min_fraction 0.5 end at 0.005 and 0.05."""
    for key in ("cosine", "warmup_cosine"):
        curves = _group_curves(lambda o, key=key: make_scheduler(o, key, 100, min_fraction=0.5), total=100)
        assert curves[:, 0] == pytest.approx([0.01, 0.1] if key == "cosine" else [0.01 * 0.01, 0.1 * 0.01])
        assert curves[:, -1] == pytest.approx([0.005, 0.05], rel=1e-12)
        # every group is the same shape, scaled by its lr
        np.testing.assert_allclose(curves[1], 10 * curves[0], rtol=1e-12)


@pytest.mark.parametrize("key", ["cosine", "warmup_cosine"])
def test_cosine_state_dict_resumes_the_same_and_stores_no_function(key):
    """Stop half way, save the scheduler, load it into a fresh one: the rest of the curve is the same; the
    factor is a plain function, so the saved state holds nothing of it that a file could change."""
    def fresh():
        opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in GROUP_LRS])
        return opt, make_scheduler(opt, key, TOTAL, min_fraction=0.3)

    opt, sched = fresh()
    straight = []
    for _ in range(TOTAL):
        straight.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    opt, sched = fresh()
    for _ in range(TOTAL // 2):
        opt.step()
        sched.step()
    saved, saved_lrs = sched.state_dict(), [g["lr"] for g in opt.param_groups]
    lambdas = saved["lr_lambdas"] if key == "cosine" else saved["_schedulers"][1]["lr_lambdas"]
    assert lambdas == [None, None]
    opt, sched = fresh()
    sched.load_state_dict(saved)
    for g, lr in zip(opt.param_groups, saved_lrs, strict=True):
        g["lr"] = lr  # the optimizer's own state_dict carries the lr; here it is set by hand
    resumed = []
    for _ in range(TOTAL - TOTAL // 2):
        resumed.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    np.testing.assert_allclose(resumed, straight[TOTAL // 2:], rtol=1e-12)


def _scheduler_from_code(text: str, optimizer):
    """Run the code the page shows, with ``optimizer`` defined; the value of its last line is the scheduler."""
    tree = ast.parse(text)
    if not tree.body:  # only comments: no scheduler
        return None
    namespace = {"torch": torch, "optimizer": optimizer}
    *body, last = tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<scheduler_code>", "exec"), namespace)
    assert isinstance(last, ast.Expr), text
    return eval(compile(ast.Expression(last.value), "<scheduler_code>", "eval"), namespace)


CODE_CASES = [(key, {}) for key in SCHEDULES] + [
    ("cosine", {"min_fraction": 0.5}),
    ("warmup_cosine", {"warmup_fraction": 0.25, "start_factor": 0.1, "min_fraction": 0.2}),
    ("warmup_cosine", {"warmup_fraction": 0.0, "min_fraction": 0.5}),
    ("warmup", {"warmup_fraction": 0.0}),
    ("step", {"step_fraction": 0.25, "gamma": 0.3}),
    ("onecycle", {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0}),
]


@pytest.mark.parametrize("key, params", CODE_CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CODE_CASES)])
def test_the_code_shown_builds_the_same_schedule(key, params):
    """The text of scheduler_code, run as it is on a two-group optimizer, gives the lr curves make_scheduler
    gives: what the page shows is what runs."""
    shown = _group_curves(lambda o: _scheduler_from_code(scheduler_code(key, TOTAL, **params), o))
    built = _group_curves(lambda o: make_scheduler(o, key, TOTAL, **params))
    np.testing.assert_allclose(shown, built, rtol=1e-12, atol=1e-15)


def test_every_schedule_entry_carries_its_builder_and_its_code_and_float_knobs():
    from optlab.schedules import SCHEDULES

    for spec in SCHEDULES.values():
        assert callable(spec.build) and callable(spec.code_for) and spec.code
        assert all(not p.integer for p in spec.params), "lengths are fractions of the run, never whole numbers"
