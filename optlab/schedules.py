"""Learning-rate schedules for the pages: torch.optim.lr_scheduler classes with slider-friendly parameters.

Nothing here computes a schedule itself: :func:`make_scheduler` builds torch's scheduler, and :func:`lr_curve`
reads lr(t) by stepping that scheduler on a dummy optimizer. Parameters are expressed the way a slider wants
them: lengths as fractions of the run, floors as fractions of the base lr. What it leaves out: schedules that
react to the loss (ReduceLROnPlateau) and restarts.

Convention: ``scheduler.step()`` is called once after each ``optimizer.step()``, so step t (t = 0 .. total_steps−1)
uses lr(t) and the last step of a run uses lr(total_steps − 1). Cosine therefore uses T = total_steps − 1, so that
last step runs at its floor, the same end point OneCycleLR has.

Cosine is ``LambdaLR`` with the factor f + (1 − f)(1 + cos(πt/T))/2, which gives every param group its own floor
f·lr. ``CosineAnnealingLR`` takes one ``eta_min`` for all groups, so a floor written as a fraction of the lr could
be right for one group only; per group the two are the same schedule (SGDR, Loshchilov and Hutter 2017, eq. 5:
η_t = η_min + ½(η_max − η_min)(1 + cos(πt/T)); https://pytorch.org/docs/stable/generated/
torch.optim.lr_scheduler.CosineAnnealingLR.html).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.optim import lr_scheduler
from torch.optim.lr_scheduler import LRScheduler

from optlab.i18n import N_  # labels and descriptions are message ids: shown with t()

__all__ = ["ScheduleParam", "ScheduleSpec", "SCHEDULES", "make_scheduler", "lr_curve", "scheduler_code"]


@dataclass(frozen=True)
class ScheduleParam:
    """One knob of a schedule: its name in :func:`make_scheduler`, its label, default and slider range.

    Every knob is a float: lengths are fractions of the run, turned into whole steps by the schedule's builder.
    ``integer`` is always False; it stays only while the widgets and the link decoder still read it.
    """

    name: str
    label: str
    default: float
    min: float
    max: float
    log: bool = False
    integer: bool = False


Values = dict[str, float]


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule as the pages list it, with what builds it and what prints it.

    ``code`` is the torch call written with the knob names (for the lesson text); ``build(optimizer,
    total_steps, values)`` makes torch's scheduler (None: no scheduler); ``code_for(total_steps, values)`` is the
    same call with the numbers filled in. The three sit in one entry so they cannot drift apart.
    """

    key: str
    label: str
    params: tuple[ScheduleParam, ...]
    description: str
    code: str
    build: Callable[[torch.optim.Optimizer, int, Values], LRScheduler | None]
    code_for: Callable[[int, Values], str]


_WARMUP = ScheduleParam("warmup_fraction", N_("Warm-up length (fraction of the run)"), 0.1, 0.0, 0.9)
_START = ScheduleParam("start_factor", N_("Warm-up starts at (fraction of lr)"), 0.01, 0.001, 1.0, log=True)
_FLOOR = ScheduleParam("min_fraction", N_("Final lr (fraction of lr)"), 0.0, 0.0, 1.0)
_COSINE_NOTE = (
    "# each param group: lr(t) = f·lr + (1 − f)·lr·(1 + cos(πt/T))/2, its own lr down to f times it,\n"
    "# the same as CosineAnnealingLR(optimizer, T_max=T, eta_min=f * its lr)"
)

def _warmup_steps(v: Values, total_steps: int) -> int:
    return min(total_steps - 1, round(v["warmup_fraction"] * total_steps))


def cosine_factor(t_max: int, min_fraction: float):
    """The cosine's factor of the base lr at step t: f + (1 − f)(1 + cos(πt/T)) / 2 with f = ``min_fraction``.

    It is 1 at t = 0 and f at t = T. A plain function (not a callable object), so the scheduler's
    ``state_dict()`` stores nothing of it and a loaded state cannot change the schedule.
    """
    f, big_t = float(min_fraction), int(t_max)

    def factor(t: int) -> float:
        # f + (1 − f)(1 + cos(π t / T)) / 2
        return f + (1 - f) * (1 + math.cos(math.pi * t / big_t)) / 2

    return factor


def _cosine(optimizer, t_max: int, min_fraction: float) -> LRScheduler:
    """Cosine from each group's own lr down to ``min_fraction`` of it over ``t_max`` steps (at least 1).

    LambdaLR multiplies every group's base lr by the same factor, so each group gets its own floor f·lr;
    CosineAnnealingLR's single ``eta_min`` would give all groups the floor of one.
    """
    return lr_scheduler.LambdaLR(optimizer, cosine_factor(max(1, t_max), min_fraction))


def _cosine_code(t_max: int, min_fraction: float) -> str:
    """The LambdaLR that :func:`_cosine` builds, with the numbers filled in, and what it equals per group."""
    f = f"{min_fraction:g}"
    return (f"torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: {f} + (1 - {f}) * "
            f"(1 + math.cos(math.pi * t / {t_max})) / 2)\n"
            f"# per param group, the same as CosineAnnealingLR(optimizer, T_max={t_max}, eta_min={f} * its lr)")


# --- each schedule: how it is built, and how its call reads with the numbers in -------------------------------


def _step_size(v: Values, total_steps: int) -> int:
    return max(1, round(v["step_fraction"] * total_steps))


def _build_step(optimizer, total_steps: int, v: Values) -> LRScheduler:
    return lr_scheduler.StepLR(optimizer, step_size=_step_size(v, total_steps), gamma=v["gamma"])


def _code_step(total_steps: int, v: Values) -> str:
    return f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={_step_size(v, total_steps)}, gamma={v['gamma']:g})"


def _build_onecycle(optimizer, total_steps: int, v: Values) -> LRScheduler:
    if total_steps < 2:
        raise ValueError("OneCycleLR needs a run of at least 2 steps")
    base_lrs = [group["lr"] for group in optimizer.param_groups]  # OneCycleLR's max_lr, one per group
    # OneCycleLR's first phase ends at pct_start·total_steps − 1 and its get_lr divides by that: a rise that ends
    # exactly at step 1 (0.05 × 20) divides by zero, so it ends one float later (the same schedule, step by step)
    pct_start = v["pct_start"] if v["pct_start"] * total_steps != 1 else math.nextafter(v["pct_start"], 1.0)
    return lr_scheduler.OneCycleLR(
        optimizer, max_lr=base_lrs, total_steps=total_steps, pct_start=pct_start,
        div_factor=v["div_factor"], final_div_factor=v["final_div_factor"], cycle_momentum=False,
    )


def _code_onecycle(total_steps: int, v: Values) -> str:
    return ("max_lr = [group['lr'] for group in optimizer.param_groups]  # each group peaks at its own lr\n"
            f"torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps={total_steps}, "
            f"pct_start={v['pct_start']:g}, div_factor={v['div_factor']:g}, "
            f"final_div_factor={v['final_div_factor']:g}, cycle_momentum=False)")


def _linear(optimizer, v: Values, warmup_steps: int) -> LRScheduler:
    return lr_scheduler.LinearLR(optimizer, start_factor=v["start_factor"], end_factor=1.0,
                                 total_iters=max(1, warmup_steps))


def _linear_code(v: Values, warmup_steps: int) -> str:
    return (f"torch.optim.lr_scheduler.LinearLR(optimizer, start_factor={v['start_factor']:g}, "
            f"end_factor=1.0, total_iters={max(1, warmup_steps)})")


def _build_warmup(optimizer, total_steps: int, v: Values) -> LRScheduler:
    w = _warmup_steps(v, total_steps)
    return _linear(optimizer, v, w) if w > 0 else lr_scheduler.LambdaLR(optimizer, lambda t: 1.0)


def _code_warmup(total_steps: int, v: Values) -> str:
    w = _warmup_steps(v, total_steps)
    return _linear_code(v, w) if w > 0 else "# a warm-up of 0 steps: lr stays constant (no scheduler)"


def _build_warmup_cosine(optimizer, total_steps: int, v: Values) -> LRScheduler:
    w = _warmup_steps(v, total_steps)
    if w == 0:
        return _cosine(optimizer, total_steps - 1, v["min_fraction"])
    warmup = _linear(optimizer, v, w)
    cosine = _cosine(optimizer, total_steps - 1 - w, v["min_fraction"])
    return lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[w])


def _code_warmup_cosine(total_steps: int, v: Values) -> str:
    w = _warmup_steps(v, total_steps)
    if w == 0:
        return f"import math\n{_cosine_code(max(1, total_steps - 1), v['min_fraction'])}"
    cos = _cosine_code(max(1, total_steps - 1 - w), v["min_fraction"]).split("\n")
    return "\n".join(["import math", f"warmup = {_linear_code(v, w)}", f"cosine = {cos[0]}", *cos[1:],
                      f"torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[{w}])"])


SCHEDULES: dict[str, ScheduleSpec] = {
    s.key: s
    for s in (
        ScheduleSpec(
            "constant", N_("Constant"), (),
            N_("The same lr at every step."),
            "# no scheduler: lr stays as given to the optimizer",
            lambda optimizer, total_steps, v: None,
            lambda total_steps, v: "# no scheduler: lr stays as given to the optimizer",
        ),
        ScheduleSpec(
            "step", N_("Step decay (StepLR)"),
            (
                ScheduleParam("step_fraction", N_("Drop every (fraction of the run)"), 0.3, 0.01, 1.0),
                ScheduleParam("gamma", N_("Multiply lr by"), 0.5, 0.01, 1.0),
            ),
            N_("lr is multiplied by gamma at regular intervals: the classic staircase."),
            "torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)\n"
            "# step_size = max(1, round(step_fraction * total_steps))",
            _build_step, _code_step,
        ),
        ScheduleSpec(
            "exponential", N_("Exponential decay (ExponentialLR)"),
            (ScheduleParam("gamma", N_("Multiply lr every step by"), 0.99, 0.9, 1.0),),
            N_("lr is multiplied by gamma after every step: lr(t) = lr·gammaᵗ."),
            "torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)",
            lambda optimizer, total_steps, v: lr_scheduler.ExponentialLR(optimizer, gamma=v["gamma"]),
            lambda total_steps, v: f"torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={v['gamma']:g})",
        ),
        ScheduleSpec(
            "cosine", N_("Cosine annealing"),
            (_FLOOR,),
            N_("lr follows half a cosine from its start value down to min_fraction·lr at the last step; each "
               "param group ends at that fraction of its own lr."),
            "f, T = min_fraction, max(1, total_steps - 1)\n"
            "torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: f + (1 - f) * (1 + math.cos(math.pi * t / T)) / 2)\n"
            + _COSINE_NOTE,
            lambda optimizer, total_steps, v: _cosine(optimizer, total_steps - 1, v["min_fraction"]),
            lambda total_steps, v: f"import math\n{_cosine_code(max(1, total_steps - 1), v['min_fraction'])}",
        ),
        ScheduleSpec(
            "onecycle", N_("One cycle (OneCycleLR)"),
            (
                ScheduleParam("pct_start", N_("Rising part (fraction of the run)"), 0.3, 0.05, 0.95),
                ScheduleParam("div_factor", N_("Start at lr divided by"), 25.0, 1.0, 1000.0, log=True),
                ScheduleParam("final_div_factor", N_("End at start lr divided by"), 1e4, 1.0, 1e6, log=True),
            ),
            N_("lr rises from lr/div_factor to the run's lr (max_lr), then anneals far below the start. "
               "Momentum is left alone here (cycle_momentum=False) so only the lr changes."),
            "max_lr = [group['lr'] for group in optimizer.param_groups]  # each group peaks at its own lr\n"
            "torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps,\n"
            "    pct_start=pct_start, div_factor=div_factor, final_div_factor=final_div_factor,\n"
            "    cycle_momentum=False)",
            _build_onecycle, _code_onecycle,
        ),
        ScheduleSpec(
            "warmup_cosine", N_("Linear warm-up, then cosine"),
            (_WARMUP, _START, _FLOOR),
            N_("lr ramps up linearly from start_factor·lr, then follows a cosine down to min_fraction·lr (of "
               "each param group's own lr): the usual recipe for transformers."),
            "warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_factor,\n"
            "    end_factor=1.0, total_iters=warmup_steps)\n"
            "f, T = min_fraction, max(1, total_steps - 1 - warmup_steps)\n"
            "cosine = torch.optim.lr_scheduler.LambdaLR(optimizer,\n"
            "    lambda t: f + (1 - f) * (1 + math.cos(math.pi * t / T)) / 2)\n"
            "torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])\n"
            "# warmup_steps = round(warmup_fraction * total_steps)\n" + _COSINE_NOTE,
            _build_warmup_cosine, _code_warmup_cosine,
        ),
        ScheduleSpec(
            "warmup", N_("Linear warm-up (LinearLR)"),
            (_WARMUP, _START),
            N_("lr ramps up linearly from start_factor·lr to lr, then stays there."),
            "torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_factor, end_factor=1.0,\n"
            "    total_iters=warmup_steps)\n"
            "# warmup_steps = round(warmup_fraction * total_steps)",
            _build_warmup, _code_warmup,
        ),
    )
}


def _values(key: str, params: dict[str, float]) -> dict[str, float]:
    """The knob values with defaults filled in, each checked against its range."""
    if key not in SCHEDULES:
        raise ValueError(f"Unknown schedule {key!r}; choose one of: {', '.join(SCHEDULES)}")
    spec = SCHEDULES[key]
    known = {p.name: p for p in spec.params}
    for name in params:
        if name not in known:
            allowed = ", ".join(known) or "none"
            raise ValueError(f"Schedule {key!r} has no parameter {name!r} (parameters: {allowed})")
    values: dict[str, float] = {}
    for p in spec.params:
        v = params.get(p.name, p.default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"Invalid {p.name}: {v!r} (must be a finite number)")
        if not p.min <= v <= p.max:
            raise ValueError(f"Invalid {p.name}: {v} (must be between {p.min:g} and {p.max:g})")
        values[p.name] = float(v)
    return values


def _check_steps(total_steps: int) -> None:
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"Invalid total_steps: {total_steps!r} (must be a whole number >= 1)")


def make_scheduler(
    optimizer: torch.optim.Optimizer, key: str, total_steps: int, **params: float
) -> LRScheduler | None:
    """torch's scheduler for schedule ``key`` over a run of ``total_steps`` steps (None for "constant").

    Call ``scheduler.step()`` once after each ``optimizer.step()``. Fractions of the run are turned into whole
    steps here; the lr the optimizer was built with is the base (and OneCycleLR's max_lr).

    Raises:
        ValueError: unknown key or parameter, a value outside its range, or too short a run.
    """
    v = _values(key, params)
    _check_steps(total_steps)
    return SCHEDULES[key].build(optimizer, total_steps, v)


def lr_curve(key: str, lr: float, total_steps: int, **params: float) -> np.ndarray:
    """lr(t) for t = 0 .. total_steps − 1, read from torch's own scheduler stepped on a dummy optimizer."""
    if not (isinstance(lr, int | float) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"Invalid learning rate: {lr}")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=float(lr))
    scheduler = make_scheduler(opt, key, total_steps, **params)
    out = np.empty(total_steps, dtype=np.float64)
    for t in range(total_steps):
        out[t] = opt.param_groups[0]["lr"]
        opt.step()  # p has no gradient, so nothing moves; it keeps the step-order check satisfied
        if scheduler is not None:
            scheduler.step()
    return out


def scheduler_code(key: str, total_steps: int, **params: float) -> str:
    """The torch call for these settings, with the numbers filled in (for showing next to a figure)."""
    v = _values(key, params)
    _check_steps(total_steps)
    return SCHEDULES[key].code_for(total_steps, v)
