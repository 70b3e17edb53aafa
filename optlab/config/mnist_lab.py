"""The MNIST Lab's setup as fields: every setting of a run, the open view, and its link (no Streamlit).

A teacher's link opens the same experiment for every student; a hand-edited or forged link never breaks the
page: each value is read against its one declaration (the ranges and choices of ``optlab.mnist.config.SETTINGS``,
the registry's knobs for an optimizer, the schedule's own parameters), and what cannot be used falls back to its
default with a plain notice.

Query parameters (all optional; a missing one takes its default):

{table}

Optimizer i (``o<i>``) is its registry key, then ``name=value`` settings separated by commas, then optionally
``;rebuild`` when it makes the mid-run lr change in a new optimizer: ``o1=adam:lr=0.001,beta2=0.99``. Its lr is
always written (the page starts each optimizer at a learning rate that suits MNIST, not the registry's); the
other settings only where they differ from the registry's defaults. The view (``v``) is what the page shows, not
what it trains: it stays out of the cache key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from optlab.config.app import APP_KEYS
from optlab.fields import NO_CONSTRAINTS, Constraints, Field, Fields, number_text, shown
from optlab.i18n import N_, t
from optlab.mnist.config import MNIST_LR, MNIST_MAX_RUNS, MNIST_OPTIMIZERS, SETTINGS
from optlab.mnist.muon_recipe import RECIPE_HYPERS
from optlab.registry import REGISTRY
from optlab.schedules import SCHEDULES

VIEWS = ("curves", "layers", "confusion", "range", "landscape")
DEFAULT_RUNS = ("momentum", "adam", "rmsprop", "nesterov")
MAX_RUN_TEXT = 400

RunValue = tuple[str, tuple[tuple[str, Any], ...], str]  # (optimizer, sorted (name, value) pairs, lr change)


def default_run(i: int) -> RunValue:
    """Column i's optimizer at its MNIST learning rate, as the page starts it."""
    opt = DEFAULT_RUNS[i]
    return opt, (("lr", MNIST_LR[opt]),), "edit"


def _hypers(opt: str) -> dict:
    hypers = {h.name: h for h in REGISTRY[opt].hypers}
    if opt == "muon":
        hypers.update({h.name: h for h in RECIPE_HYPERS})
    return hypers


class RunCodec:
    """One optimizer's settings in a link: ``key:name=value,...[;rebuild]``; each value read against its knob."""

    def read(self, text: str, what: str, notes: list[str]) -> RunValue | None:
        if len(text) > MAX_RUN_TEXT:
            notes.append(t("{what} is longer than {n} characters; using the default.", what=what, n=MAX_RUN_TEXT))
            return None
        body, _, how = text.strip().partition(";")
        how = how.strip() or "edit"
        if how not in ("edit", "rebuild"):
            notes.append(t("{what}: the lr change is made by edit or rebuild, got {text}; using edit.", what=what,
                           text=shown(how)))
            how = "edit"
        opt, _, rest = body.partition(":")
        opt = opt.strip()
        if opt not in MNIST_OPTIMIZERS:
            notes.append(t("{what}: unknown optimizer {text} (known: {known}); using the default.", what=what,
                           text=shown(opt), known=", ".join(MNIST_OPTIMIZERS)))
            return None
        hypers = _hypers(opt)
        start_lr = MNIST_LR.get(opt, REGISTRY[opt].hyper("lr").default)
        values: dict[str, Any] = {"lr": start_lr}
        for item in filter(None, (p.strip() for p in rest.split(","))):
            name, eq, raw = item.partition("=")
            h = hypers.get(name.strip())
            if h is None or not eq:
                notes.append(t("{what}: {opt} has no setting {text}; it was left out.", what=what, opt=opt,
                               text=shown(name)))
                continue
            value = _read_value(h, raw.strip())
            try:
                values[h.name] = h.check(value) if value is not None else None
            except ValueError:
                values[h.name] = None
            if values[h.name] is None:
                values.pop(h.name)
                if h.name == "lr":
                    values["lr"] = start_lr
                notes.append(t("{what}: {name}={text} is not allowed (range {lo} to {hi}); using the default.",
                               what=what, name=h.name, text=shown(raw), lo=_bound(h.min), hi=_bound(h.max)))
        return opt, tuple(sorted(values.items())), how

    def write(self, value: RunValue) -> str:
        opt, pairs, how = value
        hypers = _hypers(opt)
        parts = []
        for name, v in pairs:
            h = hypers.get(name)
            if h is not None and (name == "lr" or v != h.default):
                parts.append(f"{name}={number_text(v)}")
        return f"{opt}:{','.join(parts)}" + (";rebuild" if how == "rebuild" else "")


def _bound(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def _read_value(h, raw: str):
    if h.kind == "bool":
        low = raw.lower()
        return True if low in ("1", "true") else False if low in ("0", "false") else None
    try:
        v = float(raw)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


class ScheduleParamsCodec:
    """A schedule's parameters: ``name=value,...`` read as numbers here; :func:`decode` then checks each against
    the schedule the link names (its own ranges, ``optlab.schedules``)."""

    def read(self, text: str, what: str, notes: list[str]) -> tuple | None:
        out = {}
        for item in filter(None, (p.strip() for p in text.split(",")[:20])):
            name, _, raw = item.partition("=")
            try:
                v = float(raw)
            except ValueError:
                v = math.nan
            if not name.strip() or not math.isfinite(v):
                notes.append(t("{what}: {text} is not name=number; it was left out.", what=what, text=shown(item)))
                continue
            out[name.strip()[:40]] = v
        return tuple(sorted(out.items()))

    def write(self, value: tuple) -> str:
        return ",".join(f"{k}={number_text(v)}" for k, v in value)


def _check_schedule_params(values: dict, notes: list[str]) -> None:
    """Keep the parameters the chosen schedule has, within their ranges; say what was left out."""
    known = {p.name: p for p in SCHEDULES[values["sch"]].params}
    kept = []
    for name, v in values.get("schp", ()):
        p = known.get(name)
        if p is None or not p.min <= v <= p.max:
            notes.append(t("The schedule's parameter {name}={value} is not one it takes in its range; it was left "
                           "out.", name=shown(name), value=number_text(v)))
            continue
        kept.append((name, int(round(v)) if p.integer else v))
    values["schp"] = tuple(kept)


def _setting(key: str, name: str, state: str, **kw) -> Field:
    """A field from a TrainConfig setting's one declaration (its range or its options, its default)."""
    s = SETTINGS[name]
    kind = "bool" if s.kind is bool else "choice" if s.options else "int" if s.kind is int else "float"
    extra = {"choices": s.options} if s.options else {"min": s.min, "max": s.max}
    default = s.default if s.default is not None else (s.options[2] if s.options else 0.0)
    return Field(key, kind, default, label=s.label, what=s.label, state=state, **extra, **kw)


def _is_mlp(v: Mapping) -> bool:
    return v.get("m") == "mlp"


def _schedule_params_apply(v: Mapping) -> bool:
    return bool(SCHEDULES[v.get("sch", "constant")].params)


FIELDS = Fields(
    (
        _setting("m", "model", "model", doc=("cnn", "mlp or cnn")),
        _setting("w", "width", "width", applies=_is_mlp),
        _setting("d", "depth", "depth", applies=_is_mlp),
        _setting("c", "channels", "channels", applies=lambda v: v.get("m") == "cnn"),
        _setting("seed", "seed", "seed"),
        _setting("ep", "epochs", "epochs"),
        _setting("b", "batch_size", "batch"),
        _setting("acc", "accum_steps", "accum"),
        _setting("sch", "schedule", "sched"),
        Field("schp", "custom", (), what=N_("schedule parameters"), codec=ScheduleParamsCodec(),
              applies=_schedule_params_apply, doc=("warmup=0.1", "the schedule's parameters")),
        _setting("wdm", "wd_mode", "wd_mode"),
        Field("wd", "float", 0.01, min=SETTINGS["weight_decay"].min, max=SETTINGS["weight_decay"].max,
              what=SETTINGS["weight_decay"].label, state="wd", applies=lambda v: v.get("wdm") != "optimizer"),
        _setting("nb", "no_decay_bias", "no_decay_bias"),
        _setting("head", "head_lr_mult", "head"),
        Field("ema", "bool", False, what=N_("EMA of the weights"), state="ema"),
        Field("emad", "choice", 0.99, choices=SETTINGS["ema_decay"].options, what=SETTINGS["ema_decay"].label,
              state="ema_decay", applies=lambda v: bool(v.get("ema"))),
        _setting("lrs", "lr_change_step", "lr_change_step"),
        _setting("lrf", "lr_change_factor", "lr_change_factor", applies=lambda v: bool(v.get("lrs"))),
        Field("n", "int", 2, min=1, max=MNIST_MAX_RUNS, what=N_("Optimizers side by side"), state="n_runs"),
        *(Field(f"o{i + 1}", "custom", default_run(i), what=f"o{i + 1}", codec=RunCodec(),
                applies=lambda v, i=i: v.get("n", 2) > i, doc=("adam:lr=0.001", "optimizer i and its settings"))
          for i in range(MNIST_MAX_RUNS)),
        Field("v", "choice", "curves", choices=VIEWS, view=True, what=N_("view"), state="view",
              doc=("layers", "the open view: curves, layers, confusion, range, landscape")),
        Field("lp", "choice", "pca", choices=("pca", "random"), what=N_("landscape plane"), state="land_plane",
              applies=lambda v: v.get("v") == "landscape"),
    ),
    prefix="mnist_",
    app_keys=APP_KEYS,
)

__doc__ = __doc__.format(table=FIELDS.doc_table())


def decode(params, constraints: Constraints = NO_CONSTRAINTS) -> tuple[dict[str, Any], list[str]]:
    """The values a link describes and the notices on what was put back; never raises."""
    values, notes = FIELDS.decode(params, constraints)
    _check_schedule_params(values, notes)
    return values, notes


def encode(values: Mapping[str, Any]) -> dict[str, str]:
    """The link of a page's values (what differs from the defaults, the open view among them)."""
    return FIELDS.encode(values)
