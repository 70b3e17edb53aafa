"""The Surface Lab's setup as fields: the configuration it computes, the view it shows, and its link (no Streamlit).

A teacher's link must open the same experiment for every student, and a hand-edited or truncated link must
never break the page: :func:`decode` checks every value against its field, fits numbers into range, drops what it
cannot read and says so in plain sentences. Every setting is declared once below (``CONFIG_FIELDS``,
``VIEW_FIELDS``); the link's encode and decode, the known keys, the widgets' session keys
(``optlab.ui.surface_lab``), the cache key (:meth:`LabConfig.to_json`) and the table below come from those
declarations. What it leaves out: running anything, and drawing the widgets.

Query parameters (all optional; a missing one takes its default), from the declarations:

{table}

Run i's settings (``r<i>``) are its registry key, then the settings that differ from the registry's defaults,
each read against the registry's own range (``optlab.registry``); a schedule's parameters against the
schedule's (``optlab.schedules``). The view (``v``, ``t``, ``b``) is what the page points at, not what it
computes: it stays out of the cache key, so a new step or tab never recomputes a run.

Steps are numbered as torch numbers them: the start point is θ₀, step t (t = 1, 2, ...) computes the gradient at
θ_{{t−1}} and moves to θ_t, and after it ``optimizer.state[p]["step"]`` is t. Links made before this numbering wrote
the inspected step as ``i=<run>:<k>`` with k counting from 0 (k = 0 was the first step); ``i`` is still read,
as step t = k + 1, so an old link opens the very step it showed, and it is never written again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from optlab import theory
from optlab.config.app import APP_KEYS
from optlab.fields import (
    NO_CONSTRAINTS,
    Constraints,
    Field,
    Fields,
    clamped,
    number_text,
    read_number,
    read_query,
    shown,
)
from optlab.i18n import N_, t
from optlab.presets import preset_lr
from optlab.registry import REGISTRY
from optlab.schedules import SCHEDULES
from optlab.surfaces import SURFACES

MAX_RUNS = 6
MAX_STEPS = 2000
MAX_FORMULA = 500  # characters; a URL is no place for more
CUSTOM = "custom"
DEFAULT_SURFACE = "rosenbrock"
VIEWS = ("contour", "replay", "3d", "basins")  # the figure tabs, in the page's order
BASINS_SIDES = (11, 21, 31, 41)  # starts per side offered in the Basins tab
BASINS_SIDE = 31  # the default; equal to optlab.ui.cache.BASINS_N
WINDOW_LIMIT = 1e4  # |x|, |y| of a typed formula's window
DEFAULT_WINDOW = ((-3.0, 3.0), (-3.0, 3.0))
#: how a new run's optimizer knobs can be swept by the live figure, and which state holds a run's momentum
MOMENTUM_STATE = (("momentum_buffer", N_("−momentum b")), ("exp_avg", N_("−first moment m")))

Pairs = tuple[tuple[str, Any], ...]


def _is(surface: str):
    return lambda v: v.get("s") == surface


# --- the surface ------------------------------------------------------------------------------------------------

SURFACE = Field("s", "choice", DEFAULT_SURFACE, label=N_("surface"), choices=(*SURFACES, CUSTOM), always=True,
                what="surface", state="surface", widget="select", doc=("rosenbrock", "catalog surface key, or ``custom`` for a typed formula"))
FORMULA = Field("f", "text", "", label=N_("f(x, y) ="), max_len=MAX_FORMULA, widget="text", what="f (formula)", state="formula",
                applies=_is(CUSTOM), help=N_("+ − * / ** ^, sin cos tan exp log sqrt abs tanh min max, pi, e"),
                doc=("x**2 + 10*y**2", "the formula (with ``s=custom``)"))
XR = Field("xr", "pair", DEFAULT_WINDOW[0], label=N_("x range"), min=-WINDOW_LIMIT, max=WINDOW_LIMIT, ordered=True,
           always=True, applies=_is(CUSTOM), doc=("-3,3", "x range of a typed formula's window"))
YR = Field("yr", "pair", DEFAULT_WINDOW[1], label=N_("y range"), min=-WINDOW_LIMIT, max=WINDOW_LIMIT, ordered=True,
           always=True, applies=_is(CUSTOM), doc=("-3,3", "y range of a typed formula's window"))
def _surface_param_fields() -> tuple[Field, ...]:
    """One field per link key of the catalog surfaces' own parameters (``optlab.surfaces.SurfaceParam``): its
    range, default, scale and texts are the catalog's; it applies on the surfaces that declare it."""
    by_key: dict[str, tuple[Any, list[str]]] = {}
    for key, surface in SURFACES.items():
        for p in surface.params:
            if p.url_key is None:
                continue  # a parameter the pages do not offer
            if p.url_key in by_key and by_key[p.url_key][0] != p:
                raise ValueError(f"surfaces {by_key[p.url_key][1]} and {key!r} declare link key {p.url_key!r} "
                                 "differently: give one of them another url_key")
            by_key.setdefault(p.url_key, (p, []))[1].append(key)
    return tuple(
        Field(url_key, "float", p.default, label=p.label, help=p.help, min=p.min, max=p.max, log=p.log,
              step=p.step, widget="log" if p.log else "slider",
              applies=lambda v, keys=tuple(keys): v.get("s") in keys,
              doc=(number_text(p.default), f"{p.label} (with ``s={'``, ``s='.join(keys)}``)"))
        for url_key, (p, keys) in by_key.items())


#: The catalog surfaces' own parameters as fields (the quadratic's κ and rotation: ``kappa``, ``angle``).
PARAM_FIELDS = _surface_param_fields()
#: surface key -> its offered parameters: (field, the keyword of ``optlab.surfaces.get_surface``)
SURFACE_PARAMS: dict[str, tuple[tuple[Field, str], ...]] = {
    key: tuple((f, p.name) for p in surface.params for f in PARAM_FIELDS if f.key == p.url_key)
    for key, surface in SURFACES.items()}
KAPPA = next(f for f in PARAM_FIELDS if f.key == "kappa")
ANGLE = next(f for f in PARAM_FIELDS if f.key == "angle")

# --- start, budget, noise -----------------------------------------------------------------------------------------

START = Field("x0", "pair", None, label=N_("start"), what="x0 (start)",
              doc=("-1.5,2", "start point (default: the surface's own)"))
STEPS = Field("n", "int", 300, label=N_("steps"), min=1, max=MAX_STEPS, widget="slider", always=True,
              what="n (steps)", state="steps", doc=("500", "steps, 1 to 2000"))
NOISE = Field("noise", "float", 0.0, label=N_("gradient noise σ"), min=0.0, max=1000.0, step=0.1, widget="number",
              help=N_("Every run gets the same noise sequence: g ← ∇f + σ·N(0, I)"),
              doc=("0.5", "gradient-noise σ (0 = exact gradients)"))
SEED = Field("seed", "int", 0, label=N_("seed"), min=0, max=2**31 - 1, step=1, widget="number", always=True,
             applies=lambda v: bool(v.get("noise")), doc=("0", "seed of the noise sequence (with noise)"))
NRUNS = Field("nruns", "int", 3, label=N_("number of runs"), min=1, max=MAX_RUNS, step=1, widget="number",
              doc=("", "-"))  # drawn from the runs the link holds: never a link key of its own

# --- a run's extras ------------------------------------------------------------------------------------------------

EMA_DECAY = Field("ema", "float", 0.9, label=N_("decay d"), min=0.0, max=0.9999, step=0.01, widget="number")
EMA_TAU = Field("tau", "float", 0.0, label=N_("warm-up τ"), min=0.0, max=10_000.0, step=1.0, widget="number")
#: The y group's lr as a multiple of the run's lr (x and y as two param groups).
LR_Y = Field("lr_y", "float", 1.0, label=N_("lr_y / lr"), min=0.01, max=100.0, log=True, widget="log",
             help=N_("Param group 1 (y) gets this many times the learning rate of param group 0 (x): "
                     "a per-layer learning rate, in two dimensions"))
NOISE_RANGE = (NOISE.min, NOISE.max)
SEED_RANGE = (SEED.min, SEED.max)
KAPPA_RANGE = (KAPPA.min, KAPPA.max)
ANGLE_RANGE = (ANGLE.min, ANGLE.max)
EMA_DECAY_RANGE = (EMA_DECAY.min, EMA_DECAY.max)
EMA_TAU_RANGE = (EMA_TAU.min, EMA_TAU.max)
LR_Y_FACTOR_RANGE = (LR_Y.min, LR_Y.max)


@dataclass(frozen=True)
class SurfaceRun:
    """One run as the Surface Lab shows it: an optimizer preset with all its values, a schedule, an optional EMA.

    (The MNIST Lab's run is ``optlab.mnist.config.RunSpec``: another thing, another name.)
    """

    optimizer: str = "adam"
    hparams: Pairs = ()  # every flat setting of the preset, sorted by name
    schedule: str = "constant"
    schedule_params: Pairs = ()
    ema_decay: float | None = None
    ema_tau: float = 0.0
    lr_y_factor: float | None = None  # None: one param group; else x and y are two groups, lr_y = factor × lr

    @classmethod
    def of(cls, optimizer: str, **hparams: Any) -> SurfaceRun:
        """A run of ``optimizer`` with the preset's defaults, overridden by ``hparams``."""
        return cls(optimizer, pairs({**REGISTRY[optimizer].defaults(), **hparams}))


def pairs(values: Mapping[str, Any]) -> Pairs:
    return tuple(sorted(values.items()))


def default_runs() -> tuple[SurfaceRun, ...]:
    """Three classics that tell different stories on Rosenbrock from its default start, each at the learning
    rate tuned for Rosenbrock (``optlab.presets``), so the three paths lie apart."""
    return tuple(SurfaceRun.of(k, lr=preset_lr(DEFAULT_SURFACE, k)) for k in ("sgd", "momentum", "adam"))


def momentum_state_key(state: Mapping[str, Any]) -> tuple[str, str] | None:
    """The state key holding a run's momentum (``momentum_buffer`` or ``exp_avg``) and its arrow's label, or None."""
    return next(((k, label) for k, label in MOMENTUM_STATE if k in state), None)


# --- codecs of a run's link values ---------------------------------------------------------------------------------


def _settings_of(text: str, what: str, notes: list[str]) -> tuple[str, dict[str, str]]:
    """``name,k:v,k:v`` -> (name, {k: v}); malformed items are dropped with a note."""
    head, *items = text.split(",")
    out: dict[str, str] = {}
    for item in items:
        k, sep, v = item.partition(":")
        if not sep or not k.strip():
            notes.append(t("{what}: cannot read {item} (expected name:value); ignored.", what=what, item=shown(item)))
            continue
        out[k.strip()] = v.strip()
    return head.strip(), out


def _settings(values: Pairs, defaults: Mapping[str, Any]) -> str:
    return "".join(f",{k}:{number_text(v)}" for k, v in values if k not in defaults or defaults[k] != v)


class OptimizerCodec:
    """``adam,lr:0.05,beta1:0.8`` <-> (registry key, every flat setting): each read against the registry's range."""

    def read(self, text: str, what: str, notes: list[str]) -> tuple[str, Pairs] | None:
        key, values = _settings_of(text, what, notes)
        if key not in REGISTRY:
            notes.append(t("{what}: unknown optimizer {key} (known: {known}); run dropped.", what=what,
                           key=shown(key), known=", ".join(REGISTRY)))
            return None
        spec = REGISTRY[key]
        flat = spec.defaults()
        for name, text_ in values.items():
            hyper = next((h for h in spec.hypers if h.name == name), None)
            if hyper is None:
                notes.append(t("{what}: {label} has no setting {name}; ignored.", what=what, label=spec.label,
                               name=shown(name)))
            elif hyper.kind == "bool":
                b = Field(name, "bool", hyper.default, what=f"{what}: {name}").read(text_, notes)
                if b is not None:
                    flat[name] = b
            else:
                v = read_number(text_, f"{what} {name}", notes)
                if v is not None:
                    flat[name] = clamped(v, hyper.min, hyper.max, f"{what} {name}", notes)
        return key, pairs(flat)

    def write(self, value: tuple[str, Pairs]) -> str:
        key, hparams = value
        return key + _settings(hparams, REGISTRY[key].defaults())


class ScheduleCodec:
    """``cosine,min_fraction:0.1`` <-> (schedule key, its parameters), each read against the schedule's range."""

    def read(self, text: str, what: str, notes: list[str]) -> tuple[str, Pairs] | None:
        sched, svalues = _settings_of(text, what, notes)
        if sched not in SCHEDULES:
            notes.append(t("{what}: unknown schedule {key} (known: {known}); none used.", what=what, key=shown(sched),
                           known=", ".join(SCHEDULES)))
            return None
        params = {p.name: p.default for p in SCHEDULES[sched].params}
        for name, text_ in svalues.items():
            p = next((p for p in SCHEDULES[sched].params if p.name == name), None)
            if p is None:
                notes.append(t("{what}: schedule {key} has no parameter {name}; ignored.", what=what, key=sched,
                               name=shown(name)))
                continue
            v = read_number(text_, f"{what} {name}", notes)
            if v is not None:
                v = clamped(v, p.min, p.max, f"{what} {name}", notes)
                params[name] = int(round(v)) if p.integer else v
        return sched, pairs(params)

    def write(self, value: tuple[str, Pairs]) -> str:
        sched, params = value
        return sched + _settings(params, {p.name: p.default for p in SCHEDULES[sched].params})


class EmaCodec:
    """``0.99,tau:10`` <-> (decay d, warm-up τ), in the ranges of ``EMA_DECAY`` and ``EMA_TAU``."""

    def read(self, text: str, what: str, notes: list[str]) -> tuple[float, float] | None:
        head, values = _settings_of(text, what, notes)
        decay = read_number(head, f"{what} decay", notes)
        if decay is None:
            return None
        tau = 0.0
        if "tau" in values:
            tau_ = read_number(values["tau"], f"{what} tau", notes)
            tau = 0.0 if tau_ is None else clamped(tau_, EMA_TAU.min, EMA_TAU.max, f"{what} tau", notes)
        return clamped(decay, EMA_DECAY.min, EMA_DECAY.max, f"{what} decay", notes), tau

    def write(self, value: tuple[float, float]) -> str:
        decay, tau = value
        return number_text(decay) + (f",tau:{number_text(tau)}" if tau else "")


class GroupsCodec:
    """``10`` <-> the y group's lr factor. The link asked for two param groups, so an unusable factor keeps them,
    at 1×."""

    def read(self, text: str, what: str, notes: list[str]) -> float:
        v = read_number(text.strip(), what, notes)
        return 1.0 if v is None else clamped(v, LR_Y.min, LR_Y.max, what, notes)

    def write(self, value: float) -> str:
        return number_text(value)


def _has_run(i: int):
    return lambda v: v.get(f"r{i}") is not None


def _run_fields(i: int) -> tuple[Field, ...]:
    doc = i == 1
    return (
        Field(f"r{i}", "custom", None, codec=OptimizerCodec(), what=f"run {i}",
              doc=("adam,lr:0.05,beta1:0.8", "run i (1 to 6): registry key, then the settings that differ")
              if doc else ("", "-")),
        Field(f"r{i}s", "custom", None, codec=ScheduleCodec(), what=f"run {i} schedule", applies=_has_run(i),
              doc=("cosine,min_fraction:0.1", "run i's LR schedule and its parameters") if doc else ("", "-")),
        Field(f"r{i}e", "custom", None, codec=EmaCodec(), what=f"run {i} EMA", applies=_has_run(i),
              doc=("0.99,tau:10", "run i's EMA shadow: decay and warm-up τ") if doc else ("", "-")),
        Field(f"r{i}g", "custom", None, codec=GroupsCodec(), what=f"run {i} y-group lr factor", applies=_has_run(i),
              doc=("10", "run i with x and y as two param groups; the y group's lr is this many times the run's lr")
              if doc else ("", "-")),
    )


# --- the view --------------------------------------------------------------------------------------------------------


class IndexPairCodec:
    """``a:b`` (or just ``a``) -> two whole numbers or None each; an unreadable part is None, with a note."""

    def __init__(self, names: tuple[str, str]) -> None:
        self.names = names

    def read(self, text: str, what: str, notes: list[str]) -> tuple[int | None, int | None] | None:
        parts = text.split(":")
        if len(parts) > 2:
            notes.append(t("{what}: expected {a}:{b} like '2:37', got {text}; using the default.", what=what,
                           a=self.names[0], b=self.names[1], text=shown(text)))
            return None
        out: list[int | None] = []
        for name, part in zip(self.names, (*parts, "")[:2], strict=True):
            if not part.strip():
                out.append(None)
                continue
            v = read_number(part.strip(), f"{what} {name}", notes)
            if v is not None and v != int(v):
                notes.append(t("{what}={value} is not a whole number; using {used}.", what=f"{what} {name}",
                               value=f"{v:g}", used=round(v)))
            out.append(None if v is None else int(round(v)))
        return out[0], out[1]

    def write(self, value: tuple[int, int]) -> str:
        return f"{value[0]}:{value[1]}"


TAB = Field("v", "choice", VIEWS[0], label=N_("view"), choices=VIEWS, view=True, what="v",
            doc=("basins", "the open figure tab: contour (default), replay, 3d or basins"))
INSPECT = Field("t", "custom", None, codec=IndexPairCodec(("run", "step")), view=True, what="t (inspector)",
                doc=("2:37", "the step inspector at run 2, step t = 37 (default ``1:1``)"))
INSPECT_OLD = Field("i", "custom", None, codec=IndexPairCodec(("run", "step")), view=True, what="i (inspector)",
                    doc=("", "-"))  # read, never written: see the module's docstring
BASINS = Field("b", "custom", None, codec=IndexPairCodec(("run", "starts per side")), view=True, what="b (basins)",
               doc=("1:21", "the Basins tab's run and starts per side (default ``1:31``)"))

CONFIG_KEYS_ORDER = (SURFACE, FORMULA, XR, YR, *PARAM_FIELDS, START, STEPS, NOISE, SEED)
VIEW_FIELDS = Fields((TAB, INSPECT, INSPECT_OLD, BASINS), prefix="sl_")
CONFIG_FIELDS = Fields((*CONFIG_KEYS_ORDER, *(f for i in range(1, MAX_RUNS + 1) for f in _run_fields(i))),
                       prefix="sl_", app_keys=APP_KEYS | VIEW_FIELDS.keys)
#: every key a Surface Lab link may hold
KNOWN_KEYS = CONFIG_FIELDS.keys | VIEW_FIELDS.keys
__doc__ = __doc__.format(table=CONFIG_FIELDS.doc_table() + "\n\nand the view:\n\n" + VIEW_FIELDS.doc_table())


# --- the model ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabConfig:
    """Everything that decides what the Surface Lab computes and shows (the typed form of ``CONFIG_FIELDS``)."""

    surface: str = DEFAULT_SURFACE  # a key of SURFACES, or "custom"
    formula: str = ""
    window: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_WINDOW
    params: Pairs = ()  # the surface's own parameters that differ from the catalog's: (link key, value), sorted
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = STEPS.default
    noise: float = NOISE.default
    seed: int = SEED.default
    runs: tuple[SurfaceRun, ...] = field(default_factory=default_runs)

    def __post_init__(self) -> None:  # one spelling per configuration: defaults and other surfaces' parameters left out, sorted
        given = dict(self.params)
        own = {f.key: f.default for f, _ in SURFACE_PARAMS.get(self.surface, ())}
        object.__setattr__(self, "params", tuple(sorted(
            (k, float(v)) for k, v in given.items() if k in own and float(v) != own[k])))

    def param(self, key: str) -> float:
        """The value of the surface's parameter ``key`` (link key, e.g. ``kappa``): given, or the catalog's."""
        given = dict(self.params)
        if key in given:
            return given[key]
        return next(f.default for f in PARAM_FIELDS if f.key == key)

    def values(self) -> dict[str, Any]:
        """The field values (link key -> value) of this configuration."""
        v: dict[str, Any] = {"s": self.surface, "f": self.formula, "xr": self.window[0], "yr": self.window[1],
                             **{f.key: self.param(f.key) for f in PARAM_FIELDS}, "x0": self.start,
                             "n": self.steps, "noise": self.noise, "seed": self.seed}
        for i, run in enumerate(self.runs, start=1):
            v[f"r{i}"] = (run.optimizer, run.hparams)
            v[f"r{i}s"] = None if run.schedule == "constant" else (run.schedule, run.schedule_params)
            v[f"r{i}e"] = None if run.ema_decay is None else (run.ema_decay, run.ema_tau)
            v[f"r{i}g"] = run.lr_y_factor
        return v

    @classmethod
    def from_values(cls, v: Mapping[str, Any]) -> LabConfig:
        """The configuration of field values (missing ones take their defaults; runs without ``r<i>`` are none)."""
        runs = []
        for i in range(1, MAX_RUNS + 1):
            if v.get(f"r{i}") is None:
                continue
            opt, hparams = v[f"r{i}"]
            run = SurfaceRun(opt, _tuples(hparams))
            if v.get(f"r{i}s") is not None:
                run = replace(run, schedule=v[f"r{i}s"][0], schedule_params=_tuples(v[f"r{i}s"][1]))
            if v.get(f"r{i}e") is not None:
                run = replace(run, ema_decay=float(v[f"r{i}e"][0]), ema_tau=float(v[f"r{i}e"][1]))
            if v.get(f"r{i}g") is not None:
                run = replace(run, lr_y_factor=float(v[f"r{i}g"]))
            runs.append(run)
        d = {**CONFIG_FIELDS.defaults(), **v}
        start = d["x0"]
        params = tuple((f.key, d[f.key]) for f, _ in SURFACE_PARAMS.get(d["s"], ()))
        return cls(surface=d["s"], formula=d["f"], window=(tuple(d["xr"]), tuple(d["yr"])), params=params,
                   start=None if start is None else (start[0], start[1]), steps=d["n"],
                   noise=d["noise"], seed=d["seed"], runs=tuple(runs) if runs else default_runs())

    def to_json(self) -> str:
        """The cache key: canonical JSON of the fields that decide the computation (``Fields.cache_key``), so equal
        configurations give equal strings and the view never enters."""
        return CONFIG_FIELDS.cache_key(self.values())

    @classmethod
    def from_json(cls, text: str) -> LabConfig:
        """Inverse of :meth:`to_json` (for text this module wrote; use :func:`decode` for anything typed)."""
        return cls.from_values(json.loads(text))

    def surface_values(self) -> dict[str, Any]:
        """The fields that decide the surface alone (its key, formula and window, or its own parameters)."""
        keys = {"s", "f", "xr", "yr", *(f.key for f, _ in SURFACE_PARAMS.get(self.surface, ()))}
        return {k: v for k, v in self.values().items() if k in keys}

    def surface_params(self) -> dict[str, float]:
        """The catalog surface's own parameters that differ from its defaults, as ``get_surface`` takes them."""
        given = dict(self.params)
        return {name: given[f.key] for f, name in SURFACE_PARAMS.get(self.surface, ()) if f.key in given}


def _tuples(items: Sequence[Sequence[Any]]) -> Pairs:
    return tuple((str(k), v) for k, v in items)


@dataclass(frozen=True)
class LabView:
    """What the page points at: the open tab, the inspected run and step, the Basins tab's run and grid.

    Run indices count from 0 here (the link writes them from 1, as the page labels its runs).
    """

    tab: str = TAB.default  # one of VIEWS
    insp_run: int = 0
    insp_t: int = 1  # torch's step number: 1 is the first step
    basins_run: int = 0
    basins_n: int = BASINS_SIDE  # one of BASINS_SIDES

    def values(self) -> dict[str, Any]:
        base = LabView()
        return {"v": self.tab,
                "t": None if (self.insp_run, self.insp_t) == (base.insp_run, base.insp_t)
                else (self.insp_run + 1, self.insp_t),
                "i": None,
                "b": None if (self.basins_run, self.basins_n) == (base.basins_run, base.basins_n)
                else (self.basins_run + 1, self.basins_n)}


# --- the link -----------------------------------------------------------------------------------------------------


def encode_view(view: LabView) -> dict[str, str]:
    """The query parameters for ``view``; each is left out while it holds its default, so default links stay short."""
    return VIEW_FIELDS.encode(view.values())


def encode(cfg: LabConfig, view: LabView | None = None) -> dict[str, str]:
    """The query parameters for ``cfg`` (and ``view``, if given); settings equal to their defaults are left out."""
    q = CONFIG_FIELDS.encode(cfg.values())
    return q if view is None else {**q, **encode_view(view)}


def decode(params: Mapping[str, str | Sequence[str]], constraints: Constraints = NO_CONSTRAINTS,
           ) -> tuple[LabConfig, list[str]]:
    """The configuration a link describes, and the notes on what had to be fixed (empty when all was fine).

    Never raises on any input: unreadable values take their defaults, numbers are fitted into range, and a
    locked field (``constraints``) keeps its locked value.
    """
    base = LabConfig()
    values, notes = CONFIG_FIELDS.decode(params, constraints)
    q = read_query(params) or {}
    if values["s"] == CUSTOM and not values["f"]:
        if "f" not in q or not q["f"].strip():
            notes.append(t("s=custom needs a formula f=...; using the default surface."))
        values["s"] = base.surface
    if values["x0"] is not None:  # a start must lie in the plot window
        (x0, x1), (y0, y1) = (values["xr"], values["yr"]) if values["s"] == CUSTOM else SURFACES[values["s"]].bounds
        sx, sy = values["x0"]
        values["x0"] = (clamped(sx, x0, x1, "start x", notes), clamped(sy, y0, y1, "start y", notes))
    if values["s"] != CUSTOM:  # a formula and its window mean nothing on a catalog surface
        values.update(f="", xr=DEFAULT_WINDOW[0], yr=DEFAULT_WINDOW[1])
    if not any(values.get(f"r{i}") is not None for i in range(1, MAX_RUNS + 1)):
        if any(k.startswith("r") for k in q):
            notes.append(t("No run could be read from the link; using the default runs."))
    return LabConfig.from_values(values), notes


def _run_index(run: int | None, n_runs: int, what: str, notes: list[str]) -> int:
    """A run number from the link (1 = the first run) -> an index into the runs; one that is not there -> 0."""
    if run is None:
        return 0
    if not 1 <= run <= n_runs:
        notes.append(t("{what}: there is no run {run} (runs 1 to {n}); using run 1.", what=what, run=run, n=n_runs))
        return 0
    return run - 1


def decode_view(params: Mapping[str, str | Sequence[str]], cfg: LabConfig) -> tuple[LabView, list[str]]:
    """The view a link asks for, fitted to ``cfg`` (its runs and steps), and notes on what had to be fixed.

    Never raises: an unknown tab opens the contour, a run that is not there becomes run 1, a step past the end
    becomes the last step, a grid size that is not offered becomes the nearest one that is. The step is ``t``
    (torch's number, 1 the first step); without ``t``, an old link's ``i`` (0 the first step) is read as ``t - 1``.
    """
    base = LabView()
    if read_query(params) is None:
        return base, []  # decode() already said the link could not be read
    notes: list[str] = []
    q = read_query(params)
    if "v" in q:  # the tab's case does not matter
        q["v"] = q["v"].strip().lower()
    values, notes = VIEW_FIELDS.decode(q, unknown_note=False)
    tab = values["v"]

    if values["t"] is not None or values["i"] is None:
        what = INSPECT.name
        run, step = values["t"] or (None, None)
        insp_t = base.insp_t if step is None else int(clamped(step, 1, cfg.steps, f"{what} step", notes))
    else:  # a link from before torch's numbering: i=<run>:<k>, k = 0 the first step, so t = k + 1
        what = INSPECT_OLD.name
        run, k = values["i"]
        insp_t = base.insp_t if k is None else int(clamped(k, 0, cfg.steps - 1, f"{what} step", notes)) + 1
    insp_run = _run_index(run, len(cfg.runs), what, notes)

    run, n = values["b"] or (None, None)
    basins_run = _run_index(run, len(cfg.runs), BASINS.name, notes)
    basins_n = base.basins_n
    if n is not None:
        basins_n = min(BASINS_SIDES, key=lambda side: (abs(side - n), side))
        if basins_n != n:
            notes.append(t("b (basins): {n} starts per side is not offered ({offered}); using {used}.", n=n,
                           offered=", ".join(map(str, BASINS_SIDES)), used=basins_n))
    return LabView(tab, insp_run, insp_t, basins_run, basins_n), notes


# --- one range for the library too, and exported files that reproduce the experiment --------------------------------


def check(cfg: LabConfig) -> list[str]:
    """What in ``cfg`` lies outside the ranges a link and the widgets allow (empty when it all fits).

    It asks the link's own decoder: a configuration is in range exactly when its link reads back unchanged.
    """
    try:
        return [note.split("; using")[0].rstrip(".") + "." for note in decode(encode(cfg))[1]]
    except (KeyError, TypeError, ValueError) as e:  # an optimizer or schedule that is not offered
        return [t("the configuration cannot be written as a link: {error}", error=e)]


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
        return LabConfig(), [t("This file holds no Surface Lab experiment (no link in it); showing the default one.")]
    return decode(parse_qs(link, keep_blank_values=True))



# --- what a run means: its param groups, and whether theory predicts its rate -----------------------------------------


def group_lrs(run: SurfaceRun) -> tuple[float, float] | None:
    """The (x, y) learning rates of a run with two param groups, or None for one group.

    The y group's lr is ``lr_y_factor`` × the run's lr, kept inside the optimizer's allowed lr range (the
    product of two in-range numbers can leave it); :func:`lr_y_capped` says when that happened.
    """
    if run.lr_y_factor is None:
        return None
    lr = float(dict(run.hparams)["lr"])
    h = REGISTRY[run.optimizer].hyper("lr")
    return lr, min(max(lr * run.lr_y_factor, h.min), h.max)


def lr_y_capped(run: SurfaceRun) -> bool:
    """True when the y group's lr had to be moved into the allowed range (so it is not factor × lr)."""
    lrs = group_lrs(run)
    return lrs is not None and not math.isclose(lrs[1], lrs[0] * run.lr_y_factor, rel_tol=1e-12)


#: The presets whose rate on the quadratic theory predicts (``optlab.theory``): registry key -> the name of its
#: momentum setting (None: plain gradient descent). Their damping-free, decay-free, constant-lr runs only.
THEORY_PRESETS: dict[str, str | None] = {"sgd": None, "momentum": "momentum"}


def predicted_rate(run: SurfaceRun, lams: tuple[float, float], axis_aligned: bool = True) -> float | None:
    """Theory's rate for plain GD or heavy-ball momentum (no dampening, no decay, constant lr); else None.

    ``lams`` are the Hessian's eigenvalues; ``axis_aligned`` says the first lies along x and the second along y
    (the unrotated quadratic). With two param groups each axis then is its own 1D problem with its own lr, and
    the slower of the two sets the rate; on a rotated bowl the groups mix, so there is no prediction here.
    """
    h = dict(run.hparams)
    if run.optimizer not in THEORY_PRESETS or run.schedule != "constant" or run.ema_decay is not None:
        return None
    if h.get("weight_decay", 0.0) or h.get("dampening", 0.0):
        return None
    lrs = group_lrs(run)
    if lrs is not None and not axis_aligned:
        return None
    key = THEORY_PRESETS[run.optimizer]
    return theory.predicted_rate(lams, h["lr"], None if key is None else h[key], lrs)
