"""The Surface Lab's whole configuration, and its codec to and from URL query parameters (pure: no Streamlit).

A teacher's link must open the same experiment for every student, and a hand-edited or truncated link must
never break the page: ``decode`` checks every value, clamps numbers into range, drops what it cannot read and
says so in plain sentences. What it leaves out: running anything, and the widgets (``optlab.ui.surface_lab``).

Query parameters (all optional; a missing one takes its default):

======  ==============================  =================================================================
key     example                         meaning
======  ==============================  =================================================================
s       ``rosenbrock``                  catalog surface key, or ``custom`` for a typed formula
f       ``x**2 + 10*y**2``              the formula (with ``s=custom``)
xr, yr  ``-3,3``                        plot window of a typed formula
kappa   ``100``                         condition number of the quadratic (with ``s=quadratic``)
angle   ``30``                          rotation of the quadratic, degrees
x0      ``-1.5,2``                      start point (default: the surface's own)
n       ``500``                         steps, 1 to 2000
noise   ``0.5``                         gradient-noise σ (0 = exact gradients)
seed    ``0``                           seed of the noise sequence
r1..r6  ``adam,lr:0.05,beta1:0.8``      run i: registry key, then the settings that differ from the preset
r1s     ``cosine,min_fraction:0.1``     run i's LR schedule and its parameters
r1e     ``0.99,tau:10``                 run i's EMA shadow: decay and warm-up τ
r1g     ``10``                          run i with x and y as two param groups; the y group's lr is this
                                        many times the run's lr (x keeps the run's lr)
v       ``basins``                      the open figure tab: contour (default), replay, 3d or basins
t       ``2:37``                        the step inspector at run 2, step t = 37 (default ``1:1``)
b       ``1:21``                        the Basins tab's run and starts per side (default ``1:31``)
======  ==============================  =================================================================

The last three are the *view* (:class:`LabView`): what the page points at, not what it computes, so they stay
out of :meth:`LabConfig.to_json` and a new step or tab never recomputes a run.

Steps are numbered as torch numbers them: the start point is θ₀, step t (t = 1, 2, ...) computes the gradient at
θ_{t−1} and moves to θ_t, and after it ``optimizer.state[p]["step"]`` is t. Links made before this numbering wrote
the inspected step as ``i=<run>:<k>`` with k counting from 0 (k = 0 was the first step); ``i`` is still read,
as step t = k + 1, so an old link opens the very step it showed, and it is never written again.

Every range below is declared once (``KAPPA``, ``ANGLE_RANGE``, ...): the decoder clamps to it, the widgets
are drawn with it, and :func:`check` refuses a configuration outside it before anything runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from optlab.presets import preset_lr
from optlab.registry import REGISTRY, Hyper
from optlab.schedules import SCHEDULES
from optlab.surfaces import SURFACES

MAX_RUNS = 6
MAX_STEPS = 2000
MAX_FORMULA = 500  # characters; a URL is no place for more
NOISE_RANGE = (0.0, 1000.0)
SEED_RANGE = (0, 2**31 - 1)
#: The quadratic's condition number: a log-scale knob (1 to 10⁴ spans what a student can see converge at all).
KAPPA = Hyper("kappa", "condition number κ", "float", 10.0, 1.0, 10_000.0, log=True,
              help="λ_max / λ_min of the Hessian: how much more the bowl curves across than along")
KAPPA_RANGE = (KAPPA.min, KAPPA.max)
ANGLE_RANGE = (-90.0, 90.0)
WINDOW_LIMIT = 1e4  # |x|, |y| of a typed formula's window
EMA_DECAY_RANGE = (0.0, 0.9999)
EMA_TAU_RANGE = (0.0, 10_000.0)
#: The y group's lr as a multiple of the run's lr (x and y as two param groups).
LR_Y = Hyper("lr_y_factor", "lr_y / lr", "float", 1.0, 0.01, 100.0, log=True,
             help="Param group 1 (y) gets this many times the learning rate of param group 0 (x): "
                  "a per-layer learning rate, in two dimensions")
LR_Y_FACTOR_RANGE = (LR_Y.min, LR_Y.max)
CUSTOM = "custom"
VIEWS = ("contour", "replay", "3d", "basins")  # the figure tabs, in the page's order
BASINS_SIDES = (11, 21, 31, 41)  # starts per side offered in the Basins tab
BASINS_SIDE = 31  # the default; equal to optlab.ui.cache.BASINS_N

Pairs = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class RunSpec:
    """One run as the page shows it: an optimizer preset with all its values, a schedule, an optional EMA."""

    optimizer: str = "adam"
    hparams: Pairs = ()  # every flat setting of the preset, sorted by name
    schedule: str = "constant"
    schedule_params: Pairs = ()
    ema_decay: float | None = None
    ema_tau: float = 0.0
    lr_y_factor: float | None = None  # None: one param group; else x and y are two groups, lr_y = factor × lr

    @classmethod
    def of(cls, optimizer: str, **hparams: Any) -> RunSpec:
        """A run of ``optimizer`` with the preset's defaults, overridden by ``hparams``."""
        return cls(optimizer, _pairs({**REGISTRY[optimizer].defaults(), **hparams}))


def _pairs(values: Mapping[str, Any]) -> Pairs:
    return tuple(sorted(values.items()))


def default_runs() -> tuple[RunSpec, ...]:
    """Three classics that tell different stories on Rosenbrock from its default start, each at the learning
    rate tuned for Rosenbrock (``optlab.presets``), so the three paths lie apart."""
    return tuple(RunSpec.of(k, lr=preset_lr("rosenbrock", k)) for k in ("sgd", "momentum", "adam"))


@dataclass(frozen=True)
class LabConfig:
    """Everything that decides what the Surface Lab computes and shows."""

    surface: str = "rosenbrock"  # a key of SURFACES, or "custom"
    formula: str = ""
    window: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (-3.0, 3.0))
    kappa: float = 10.0
    angle: float = 0.0
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = 300
    noise: float = 0.0
    seed: int = 0
    runs: tuple[RunSpec, ...] = field(default_factory=default_runs)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): equal configurations give equal strings, so it can key a cache."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LabConfig:
        """Inverse of :meth:`to_json` (for text this module wrote; use :func:`decode` for anything typed)."""
        d = json.loads(text)
        runs = tuple(
            RunSpec(r["optimizer"], _tuples(r["hparams"]), r["schedule"], _tuples(r["schedule_params"]),
                    r["ema_decay"], r["ema_tau"], r.get("lr_y_factor"))
            for r in d.pop("runs")
        )
        window = tuple(tuple(w) for w in d.pop("window"))
        start = d.pop("start")
        return cls(runs=runs, window=window, start=None if start is None else tuple(start), **d)


def _tuples(pairs: Sequence[Sequence[Any]]) -> Pairs:
    return tuple((str(k), v) for k, v in pairs)


@dataclass(frozen=True)
class LabView:
    """What the page points at: the open tab, the inspected run and step, the Basins tab's run and grid.

    Run indices count from 0 here (the link writes them from 1, as the page labels its runs).
    """

    tab: str = "contour"  # one of VIEWS
    insp_run: int = 0
    insp_t: int = 1  # torch's step number: 1 is the first step
    basins_run: int = 0
    basins_n: int = BASINS_SIDE  # one of BASINS_SIDES


# --------------------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------------------


def _num(v: float) -> str:
    """Shortest text that reads back as the same float (repr), without a trailing ``.0``."""
    if isinstance(v, bool):
        return "1" if v else "0"
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _settings(values: Pairs, defaults: Mapping[str, Any]) -> str:
    return "".join(f",{k}:{_num(v)}" for k, v in values if k not in defaults or defaults[k] != v)


def encode_view(view: LabView) -> dict[str, str]:
    """The query parameters for ``view``; each is left out while it holds its default, so default links stay short."""
    base, q = LabView(), {}
    if view.tab != base.tab:
        q["v"] = view.tab
    if (view.insp_run, view.insp_t) != (base.insp_run, base.insp_t):
        q["t"] = f"{view.insp_run + 1}:{view.insp_t}"
    if (view.basins_run, view.basins_n) != (base.basins_run, base.basins_n):
        q["b"] = f"{view.basins_run + 1}:{view.basins_n}"
    return q


def encode(cfg: LabConfig, view: LabView | None = None) -> dict[str, str]:
    """The query parameters for ``cfg`` (and ``view``, if given); settings equal to their defaults are left out."""
    q: dict[str, str] = {"s": cfg.surface}
    if cfg.surface == CUSTOM:
        q["f"] = cfg.formula
        q["xr"] = f"{_num(cfg.window[0][0])},{_num(cfg.window[0][1])}"
        q["yr"] = f"{_num(cfg.window[1][0])},{_num(cfg.window[1][1])}"
    if cfg.surface == "quadratic":
        q["kappa"] = _num(cfg.kappa)
        if cfg.angle:
            q["angle"] = _num(cfg.angle)
    if cfg.start is not None:
        q["x0"] = f"{_num(cfg.start[0])},{_num(cfg.start[1])}"
    q["n"] = str(cfg.steps)
    if cfg.noise:
        q["noise"] = _num(cfg.noise)
        q["seed"] = str(cfg.seed)
    for i, run in enumerate(cfg.runs, start=1):
        q[f"r{i}"] = run.optimizer + _settings(run.hparams, REGISTRY[run.optimizer].defaults())
        if run.schedule != "constant":
            sched_defaults = {p.name: p.default for p in SCHEDULES[run.schedule].params}
            q[f"r{i}s"] = run.schedule + _settings(run.schedule_params, sched_defaults)
        if run.ema_decay is not None:
            q[f"r{i}e"] = _num(run.ema_decay) + (f",tau:{_num(run.ema_tau)}" if run.ema_tau else "")
        if run.lr_y_factor is not None:
            q[f"r{i}g"] = _num(run.lr_y_factor)
    return q if view is None else {**q, **encode_view(view)}


# --------------------------------------------------------------------------------------------------------------
# Decoding: every value checked, clamped or dropped with a sentence that says why
# --------------------------------------------------------------------------------------------------------------


def _one(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    return str(value[-1]) if len(value) else ""


def _float(text: str, what: str, notes: list[str]) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        notes.append(f"{what}: {text[:40]!r} is not a number; using the default.")
        return None
    if not math.isfinite(v):
        notes.append(f"{what}: {text[:40]!r} is not a finite number; using the default.")
        return None
    return v


def _clamped(v: float, lo: float, hi: float, what: str, notes: list[str]) -> float:
    if v < lo or v > hi:
        c = min(max(v, lo), hi)
        notes.append(f"{what}={v:g} is outside [{lo:g}, {hi:g}]; using {c:g}.")
        return c
    return v


def _number(q: Mapping[str, str], key: str, default: float, rng: tuple[float, float], what: str,
            notes: list[str], integer: bool = False) -> float:
    if key not in q:
        return default
    v = _float(q[key], what, notes)
    if v is None:
        return default
    if integer and v != int(v):
        notes.append(f"{what}={v:g} is not a whole number; using {round(v)}.")
        v = float(round(v))
    v = _clamped(v, rng[0], rng[1], what, notes)
    return int(v) if integer else v


def _pair(text: str, what: str, notes: list[str]) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2:
        notes.append(f"{what}: expected two numbers like '-1.5,2', got {text[:40]!r}; using the default.")
        return None
    a, b = (_float(p.strip(), what, notes) for p in parts)
    return None if a is None or b is None else (a, b)


def _settings_of(text: str, what: str, notes: list[str]) -> tuple[str, dict[str, str]]:
    """``name,k:v,k:v`` -> (name, {k: v}); malformed items are dropped with a note."""
    head, *items = text.split(",")
    out: dict[str, str] = {}
    for item in items:
        k, sep, v = item.partition(":")
        if not sep or not k.strip():
            notes.append(f"{what}: cannot read {item[:40]!r} (expected name:value); ignored.")
            continue
        out[k.strip()] = v.strip()
    return head.strip(), out


def _parse_bool(text: str) -> bool | None:
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(text.lower())


def _decode_run(i: int, q: Mapping[str, str], notes: list[str]) -> RunSpec | None:
    what = f"run {i}"
    key, values = _settings_of(q[f"r{i}"], what, notes)
    if key not in REGISTRY:
        notes.append(f"{what}: unknown optimizer {key[:40]!r} (known: {', '.join(REGISTRY)}); run dropped.")
        return None
    spec = REGISTRY[key]
    flat = spec.defaults()
    for name, text in values.items():
        hyper = next((h for h in spec.hypers if h.name == name), None)
        if hyper is None:
            notes.append(f"{what}: {spec.label} has no setting {name[:40]!r}; ignored.")
        elif hyper.kind == "bool":
            b = _parse_bool(text)
            if b is None:
                notes.append(f"{what}: {name} must be 1 or 0, got {text[:40]!r}; using the default.")
            else:
                flat[name] = b
        else:
            v = _float(text, f"{what} {name}", notes)
            if v is not None:
                lo = -math.inf if hyper.min is None else hyper.min
                hi = math.inf if hyper.max is None else hyper.max
                flat[name] = _clamped(v, lo, hi, f"{what} {name}", notes)
    run = RunSpec(key, _pairs(flat))

    if f"r{i}s" in q:
        sched, svalues = _settings_of(q[f"r{i}s"], f"{what} schedule", notes)
        if sched not in SCHEDULES:
            notes.append(f"{what}: unknown schedule {sched[:40]!r} (known: {', '.join(SCHEDULES)}); none used.")
        else:
            params = {p.name: p.default for p in SCHEDULES[sched].params}
            for name, text in svalues.items():
                p = next((p for p in SCHEDULES[sched].params if p.name == name), None)
                if p is None:
                    notes.append(f"{what}: schedule {sched} has no parameter {name[:40]!r}; ignored.")
                    continue
                v = _float(text, f"{what} {name}", notes)
                if v is not None:
                    v = _clamped(v, p.min, p.max, f"{what} {name}", notes)
                    params[name] = int(round(v)) if p.integer else v
            run = replace(run, schedule=sched, schedule_params=_pairs(params))

    if f"r{i}e" in q:
        head, evalues = _settings_of(q[f"r{i}e"], f"{what} EMA", notes)
        decay = _float(head, f"{what} EMA decay", notes)
        if decay is not None:
            decay = _clamped(decay, *EMA_DECAY_RANGE, f"{what} EMA decay", notes)
            tau = 0.0
            if "tau" in evalues:
                t = _float(evalues["tau"], f"{what} EMA tau", notes)
                tau = 0.0 if t is None else _clamped(t, *EMA_TAU_RANGE, f"{what} EMA tau", notes)
            run = replace(run, ema_decay=decay, ema_tau=tau)

    if f"r{i}g" in q:  # two param groups: the link asked for them, so a bad factor keeps them at 1×
        factor = _float(q[f"r{i}g"].strip(), f"{what} y-group lr factor", notes)
        factor = 1.0 if factor is None else _clamped(factor, *LR_Y_FACTOR_RANGE, f"{what} y-group lr factor", notes)
        run = replace(run, lr_y_factor=factor)
    return run


KNOWN_KEYS = {"s", "f", "xr", "yr", "kappa", "angle", "x0", "n", "noise", "seed", "v", "t", "i", "b"} | {
    f"r{i}{suffix}" for i in range(1, MAX_RUNS + 1) for suffix in ("", "s", "e", "g")
}


def _read(params: Mapping[str, str | Sequence[str]]) -> dict[str, str] | None:
    """One text per key (the last, if a key was repeated), or None for a mapping that cannot be read."""
    try:
        return {str(k): _one(v) for k, v in params.items()}
    except Exception:
        return None


def decode(params: Mapping[str, str | Sequence[str]]) -> tuple[LabConfig, list[str]]:
    """The configuration a link describes, and the notes on what had to be fixed (empty when all was fine).

    Never raises on any input: unreadable values take their defaults, numbers are clamped into range.
    """
    notes: list[str] = []
    base = LabConfig()
    q = _read(params)
    if q is None:  # a mapping that cannot even be read: start over
        return base, ["The link could not be read; showing the default experiment."]
    unknown = sorted(k for k in q if k not in KNOWN_KEYS)
    if unknown:
        notes.append(f"Ignored unknown link parameter(s): {', '.join(k[:20] for k in unknown[:5])}.")

    surface = q.get("s", base.surface)
    formula, window = base.formula, base.window
    if surface == CUSTOM:
        formula = q.get("f", "").strip()
        if not formula:
            notes.append("s=custom needs a formula f=...; using the default surface.")
            surface = base.surface
        elif len(formula) > MAX_FORMULA:
            notes.append(f"The formula is longer than {MAX_FORMULA} characters; using the default surface.")
            surface, formula = base.surface, ""
        wins = []
        for key, default in (("xr", window[0]), ("yr", window[1])):
            pair = _pair(q[key], key, notes) if key in q else None
            if pair is not None:
                pair = tuple(_clamped(v, -WINDOW_LIMIT, WINDOW_LIMIT, key, notes) for v in pair)
                if not pair[0] < pair[1]:
                    notes.append(f"{key}: the minimum must be below the maximum; using the default.")
                    pair = None
            wins.append(pair or default)
        window = (wins[0], wins[1])
    elif surface not in SURFACES:
        notes.append(f"Unknown surface {surface[:40]!r}; using {base.surface}.")
        surface = base.surface

    kappa, angle = base.kappa, base.angle
    if surface == "quadratic":  # κ and the angle mean nothing on another surface: left alone there, unremarked
        kappa = _number(q, "kappa", base.kappa, KAPPA_RANGE, "kappa", notes)
        angle = _number(q, "angle", base.angle, ANGLE_RANGE, "angle", notes)
    steps = _number(q, "n", base.steps, (1, MAX_STEPS), "n (steps)", notes, integer=True)
    noise = _number(q, "noise", base.noise, NOISE_RANGE, "noise", notes)
    seed = _number(q, "seed", base.seed, SEED_RANGE, "seed", notes, integer=True)

    start = None
    if "x0" in q:
        start = _pair(q["x0"], "x0 (start)", notes)
        if start is not None:
            (x0, x1), (y0, y1) = window if surface == CUSTOM else SURFACES[surface].bounds
            start = (_clamped(start[0], x0, x1, "start x", notes), _clamped(start[1], y0, y1, "start y", notes))

    runs = [run for i in range(1, MAX_RUNS + 1) if f"r{i}" in q and (run := _decode_run(i, q, notes))]
    if not runs:
        if any(k.startswith("r") for k in q):
            notes.append("No run could be read from the link; using the default runs.")
        runs = list(base.runs)

    cfg = LabConfig(surface=surface, formula=formula, window=window, kappa=kappa, angle=angle, start=start,
                    steps=steps, noise=noise, seed=seed, runs=tuple(runs))
    return cfg, notes


def _index_pair(text: str, what: str, names: tuple[str, str], notes: list[str]) -> tuple[int | None, int | None]:
    """``a:b`` (or just ``a``) -> two whole numbers; an unreadable part is None, with a note."""
    parts = text.split(":")
    if len(parts) > 2:
        notes.append(f"{what}: expected {names[0]}:{names[1]} like '2:37', got {text[:40]!r}; using the default.")
        return None, None
    out: list[int | None] = []
    for name, part in zip(names, (*parts, "")[:2], strict=True):
        if not part.strip():
            out.append(None)
            continue
        v = _float(part.strip(), f"{what} {name}", notes)
        if v is not None and v != int(v):
            notes.append(f"{what} {name}={v:g} is not a whole number; using {round(v)}.")
        out.append(None if v is None else int(round(v)))
    return out[0], out[1]


def _run_index(run: int | None, n_runs: int, what: str, notes: list[str]) -> int:
    """A run number from the link (1 = the first run) -> an index into the runs; one that is not there -> 0."""
    if run is None:
        return 0
    if not 1 <= run <= n_runs:
        notes.append(f"{what}: there is no run {run} (runs 1 to {n_runs}); using run 1.")
        return 0
    return run - 1


def decode_view(params: Mapping[str, str | Sequence[str]], cfg: LabConfig) -> tuple[LabView, list[str]]:
    """The view a link asks for, fitted to ``cfg`` (its runs and steps), and notes on what had to be fixed.

    Never raises: an unknown tab opens the contour, a run that is not there becomes run 1, a step past the end
    becomes the last step, a grid size that is not offered becomes the nearest one that is. The step is ``t``
    (torch's number, 1 the first step); without ``t``, an old link's ``i`` (0 the first step) is read as ``t - 1``.
    """
    notes: list[str] = []
    base = LabView()
    q = _read(params)
    if q is None:
        return base, notes  # decode() already said the link could not be read

    tab = q.get("v", base.tab).strip().lower()
    if tab not in VIEWS:
        notes.append(f"v: unknown view {tab[:40]!r} (known: {', '.join(VIEWS)}); showing the contour.")
        tab = base.tab

    if "t" in q or "i" not in q:
        what = "t (inspector)"
        run, t = _index_pair(q.get("t", ""), what, ("run", "step"), notes)
        insp_t = base.insp_t if t is None else int(_clamped(t, 1, cfg.steps, f"{what} step", notes))
    else:  # a link from before torch's numbering: i=<run>:<k>, k = 0 the first step, so t = k + 1
        what = "i (inspector)"
        run, k = _index_pair(q["i"], what, ("run", "step"), notes)
        insp_t = base.insp_t if k is None else int(_clamped(k, 0, cfg.steps - 1, f"{what} step", notes)) + 1
    insp_run = _run_index(run, len(cfg.runs), what, notes)

    run, n = _index_pair(q.get("b", ""), "b (basins)", ("run", "starts per side"), notes)
    basins_run = _run_index(run, len(cfg.runs), "b (basins)", notes)
    basins_n = base.basins_n
    if n is not None:
        basins_n = min(BASINS_SIDES, key=lambda side: (abs(side - n), side))
        if basins_n != n:
            notes.append(f"b (basins): {n} starts per side is not offered ({', '.join(map(str, BASINS_SIDES))}); "
                         f"using {basins_n}.")
    return LabView(tab, insp_run, insp_t, basins_run, basins_n), notes


# --------------------------------------------------------------------------------------------------------------
# One range for the library too, and exported files that reproduce the experiment
# --------------------------------------------------------------------------------------------------------------


def check(cfg: LabConfig) -> list[str]:
    """What in ``cfg`` lies outside the ranges a link and the widgets allow (empty when it all fits).

    It asks the link's own decoder: a configuration is in range exactly when its link reads back unchanged.
    """
    try:
        return [note.split("; using")[0].rstrip(".") + "." for note in decode(encode(cfg))[1]]
    except (KeyError, TypeError, ValueError) as e:  # an optimizer or schedule that is not offered
        return [f"the configuration cannot be written as a link: {e}"]


EXPORT_FORMAT = "optlab Surface Lab experiment, v1"


def export_header(cfg: LabConfig, start: Sequence[float]) -> dict[str, Any]:
    """What an exported CSV or JSON file carries so that the file alone reproduces the experiment.

    ``link`` is the query string of the page's link (it holds the surface, formula and window, start, steps,
    noise and seed, and every run); ``start`` is the start point actually used (the surface's own when the
    link names none); ``configuration`` is the same setup spelled out field by field.
    """
    return {"format": EXPORT_FORMAT, "link": urlencode(encode(cfg)),
            "start": [float(start[0]), float(start[1])], "configuration": asdict(cfg)}


def read_export(text: str) -> tuple[LabConfig, list[str]]:
    """The experiment an exported CSV or JSON file describes, checked like a link; never raises.

    A CSV carries it in its ``# link: ...`` comment line, a JSON file in ``experiment.link``.
    """
    link = None
    try:
        if text.lstrip().startswith("{"):
            link = json.loads(text)["experiment"]["link"]
        else:
            link = next((line[len("# link: "):] for line in text.splitlines() if line.startswith("# link: ")), None)
    except (ValueError, KeyError, TypeError):
        link = None
    if not isinstance(link, str):
        return LabConfig(), ["This file holds no Surface Lab experiment (no link in it); showing the default one."]
    return decode(parse_qs(link, keep_blank_values=True))
