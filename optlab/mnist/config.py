"""What one MNIST lab run is: the model, data order, schedule and 1-4 optimizer configurations; no training here."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from optlab.i18n import N_, t
from optlab.mnist import jsontext
from optlab.mnist.groups import WD_MODES
from optlab.mnist.models import MODELS
from optlab.mnist.muon_recipe import check_recipe_hparams, split_recipe_hparams
from optlab.registry import get_spec
from optlab.schedules import SCHEDULES

MNIST_MAX_RUNS = 4
MAX_LABEL = 100  # characters of a run's label

# Learning rates that train the MNIST networks well in a few epochs (the registry's defaults suit 2D surfaces),
# checked on the default MLP and the CNN over 2 epochs of the 5,000 digits (126 steps). Muon's is the write-up's
# 0.02 (its AdamW part, for the biases and the output layer, is muon_recipe.ADAMW_LR). Lion's is the upper end
# of the Lion paper's advice (3-10x smaller than AdamW's): 89% after 2 epochs, where 1e-4 reached 77% in one.
MNIST_LR = {
    "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "amsgrad": 1e-3, "adamw": 1e-3,
    "nadam": 2e-3, "radam": 3e-3, "rmsprop": 1e-3, "adagrad": 0.05, "adamax": 2e-3, "adadelta": 1.0,
    "rprop": 1e-3, "asgd": 0.05, "adafactor": 3e-2, "muon": 0.02, "lion": 3e-4, "adabelief": 1e-3,
    "schedule_free": 2.5e-3,
}


#: The optimizers the MNIST Lab offers: every registry entry with an MNIST learning rate. L-BFGS is left out: its
#: step needs a closure that re-evaluates the loss up to 25 times, which the lab's loop of one batch per step has not.
MNIST_OPTIMIZERS = tuple(MNIST_LR)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


@dataclass(frozen=True)
class Setting:
    """One field of TrainConfig: its label and the values it may take. The page's widget for it is built from
    the same declaration, so the page, a checkpoint and the library accept exactly the same values.

    Attributes:
        name: the TrainConfig field.
        label: what the widget says.
        kind: int, float, str or bool (an int is accepted for a float; a bool is never a number).
        default: the TrainConfig default.
        options: the allowed values, in widget order (a select slider, a select box); empty for a range.
        min, max: the inclusive range when there are no options.
        optional: None is allowed too (the EMA decay: no EMA).
    """

    name: str
    label: str
    kind: type
    default: Any
    options: tuple = ()
    min: float | None = None
    max: float | None = None
    optional: bool = False

    def check(self, value: object) -> None:
        """ValueError saying what is wrong and what a valid value is; nothing when `value` is allowed."""
        if value is None and self.optional:
            return
        if self.kind is bool:
            ok = isinstance(value, bool)
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        else:
            ok = isinstance(value, self.kind)
        kinds = {bool: N_("true or false"), int: N_("a whole number"), float: N_("a finite number"), str: N_("text")}
        if not ok:
            raise ValueError(t("{label} must be {kind}, got {value}", label=t(self.label), kind=t(kinds[self.kind]),
                               value=_shown(value)))
        if self.options and value not in self.options:
            allowed = ", ".join(_number(o) if not isinstance(o, str) else o for o in self.options)
            raise ValueError(t("{label} must be one of {allowed}; got {value}", label=t(self.label), allowed=allowed,
                               value=_shown(value)))
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValueError(t("{label} must be between {low} and {high}; got {value}", label=t(self.label),
                               low=_number(self.min), high=_number(self.max), value=_shown(value)))


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("model", N_("Model"), str, "mlp", options=tuple(MODELS)),
        Setting("width", N_("Hidden width"), int, 128, options=(16, 32, 64, 128, 256, 512)),
        Setting("depth", N_("Hidden layers"), int, 1, options=(1, 2, 3)),
        Setting("channels", N_("Channels"), int, 8, options=(4, 8, 16, 32)),
        Setting("epochs", N_("Epochs"), int, 3, min=1, max=20),
        Setting("batch_size", N_("Batch size"), int, 64, options=(8, 16, 32, 64, 128, 256, 512)),
        Setting("accum_steps", N_("Accumulate k micro-batches (zero_grad every k)"), int, 1, options=(1, 2, 4, 8)),
        Setting("schedule", N_("LR schedule"), str, "constant", options=tuple(SCHEDULES)),
        Setting("weight_decay", N_("Weight decay λ"), float, 0.0, min=0.0, max=1.0),
        Setting("wd_mode", N_("Weight decay"), str, "optimizer", options=tuple(WD_MODES)),
        Setting("no_decay_bias", N_("No weight decay on biases"), bool, False),
        Setting("head_lr_mult", N_("Last-layer lr ×"), float, 1.0, options=(0.1, 0.3, 1.0, 3.0, 10.0)),
        Setting("ema_decay", N_("EMA decay"), float, None, options=(0.9, 0.95, 0.99, 0.995, 0.999), optional=True),
        Setting("ema_tau", N_("EMA warm-up τ"), float, 0.0, min=0.0, max=1e6),
        Setting("seed", N_("Seed"), int, 0, min=0, max=2**31 - 1),
        Setting("eval_every", N_("Steps between test evaluations (0: each epoch)"), int, 0, min=0, max=100_000),
        Setting("log_every", N_("Steps between live updates"), int, 10, min=1, max=100_000),
        Setting("lr_change_step", N_("Change the learning rate after step (0: never)"), int, 0, min=0, max=100_000),
        Setting("lr_change_factor", N_("Multiply the learning rate by"), float, 0.1, options=(0.1, 0.3, 3.0, 10.0)),
    )
}


@dataclass(frozen=True)
class RunSpec:
    """One optimizer configuration: a registry key (e.g. "adam") and its flat hyperparameters."""

    optimizer: str = "adam"
    hparams: tuple[tuple[str, Any], ...] = ()
    label: str = ""
    impl: str = "optlab"  # "optlab" (optlab.optim) or "torch" (torch.optim, same numbers)
    # how this run makes the configuration's mid-run lr change: "edit" its param_groups' lr (the optimizer keeps
    # its state), or "rebuild" a new optimizer at the new lr (momentum and moments start again from zero)
    lr_change: str = "edit"

    @classmethod
    def of(cls, optimizer: str, label: str = "", impl: str = "optlab", lr_change: str = "edit", **hparams) -> RunSpec:
        return cls(optimizer, tuple(sorted(hparams.items())), label, impl, lr_change)

    @property
    def name(self) -> str:
        return self.label or self.optimizer


def _d(name: str):
    return SETTINGS[name].default


@dataclass(frozen=True)
class TrainConfig:
    """Everything that fixes a run's numbers. All runs share the initial weights and the batch order.

    Each field's default and allowed values are its entry in SETTINGS.
    """

    runs: tuple[RunSpec, ...] = field(
        default_factory=lambda: (
            RunSpec.of("momentum", "SGD + momentum", lr=MNIST_LR["momentum"]),
            RunSpec.of("adam", "Adam", lr=MNIST_LR["adam"]),
        )
    )
    model: str = _d("model")
    width: int = _d("width")  # MLP hidden units
    depth: int = _d("depth")  # MLP hidden layers
    channels: int = _d("channels")  # CNN channels of the first convolution
    epochs: int = _d("epochs")
    batch_size: int = _d("batch_size")  # micro-batch size
    accum_steps: int = _d("accum_steps")  # micro-batches per optimizer step (zero_grad every k micro-batches)
    schedule: str = _d("schedule")
    schedule_params: tuple[tuple[str, float], ...] = ()
    weight_decay: float = _d("weight_decay")
    wd_mode: str = _d("wd_mode")  # "optimizer" | "l2" | "decoupled" (see groups.WD_MODES)
    no_decay_bias: bool = _d("no_decay_bias")
    head_lr_mult: float = _d("head_lr_mult")
    ema_decay: float | None = _d("ema_decay")
    ema_tau: float = _d("ema_tau")
    seed: int = _d("seed")
    eval_every: int = _d("eval_every")  # optimizer steps between test evaluations; 0 = at the end of each epoch
    log_every: int = _d("log_every")  # optimizer steps between live updates
    lr_change_step: int = _d("lr_change_step")  # after this many steps every lr is multiplied (0: never)
    lr_change_factor: float = _d("lr_change_factor")

    def validate(self) -> TrainConfig:
        """Raise ValueError with a clear message for any value of the wrong type or out of range; return self.

        The ranges are SETTINGS (this file), the registry's knobs (optimizer hyperparameters) and the schedule's
        knobs (optlab.schedules.SCHEDULES): the same declarations the page builds its widgets from.
        """
        if not isinstance(self.runs, tuple | list) or not 1 <= len(self.runs) <= MNIST_MAX_RUNS:
            n = len(self.runs) if isinstance(self.runs, tuple | list) else _shown(self.runs)
            raise ValueError(t("Between 1 and {most} optimizer configurations, got {n}", most=MNIST_MAX_RUNS, n=n))
        for setting in SETTINGS.values():
            setting.check(getattr(self, setting.name))
        for i, r in enumerate(self.runs):
            _check_run(i, r)
        _check_schedule(self.schedule, self.schedule_params)
        if self.lr_change_step and self.schedule != "constant":
            raise ValueError(t("A mid-run learning-rate change needs the constant schedule: a schedule sets the "
                               "learning rate itself at every step"))
        return self

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.accum_steps

    def steps_per_epoch(self, n_train: int) -> int:
        """Optimizer steps per epoch; the last batch of an epoch may be smaller (nothing is dropped)."""
        return math.ceil(n_train / self.effective_batch)

    def total_steps(self, n_train: int) -> int:
        return self.epochs * self.steps_per_epoch(n_train)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: object) -> TrainConfig:
        """Inverse of to_json; ValueError with a plain message for anything that is not a valid configuration.

        Values keep the type they have in the text: nothing is converted, so a `true` is never read as 1.
        """
        d = jsontext.loads(text, t("The training configuration"), MAX_CONFIG_CHARS, MAX_CONFIG_DEPTH)
        if not isinstance(d, dict):
            raise ValueError(t("The training configuration is not a JSON object of settings"))
        names = [f.name for f in fields(cls)]
        missing, unknown = sorted(set(names) - set(d)), sorted(set(d) - set(names))
        if missing:
            raise ValueError(t("The training configuration lacks: {names}", names=", ".join(missing)))
        if unknown:
            raise ValueError(t("The training configuration has unknown settings: {names}",
                               names=", ".join(map(_shown, unknown))))
        runs = d.pop("runs")
        if not isinstance(runs, list):
            raise ValueError(t("The training configuration's runs must be a list"))
        d["runs"] = tuple(_run_from_json(i, r) for i, r in enumerate(runs))
        d["schedule_params"] = _pairs(d["schedule_params"], t("The schedule's parameters"))
        return cls(**d).validate()


MAX_CONFIG_CHARS = 100_000
MAX_CONFIG_DEPTH = 6  # {"runs": [{"hparams": [["lr", 0.1]]}]} is 5 deep
_RUN_FIELDS = ("optimizer", "hparams", "label", "impl", "lr_change")
LR_CHANGES = ("edit", "rebuild")


def _pairs(value: object, what: str) -> tuple[tuple[str, Any], ...]:
    """[[name, value], ...] -> ((name, value), ...), names being text; ValueError otherwise."""
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in value
    ):
        raise ValueError(t("{what} must be a list of [name, value] pairs", what=what))
    return tuple((k, v) for k, v in value)


def _run_from_json(i: int, r: object) -> RunSpec:
    if isinstance(r, dict) and "lr_change" not in r:
        r = {**r, "lr_change": "edit"}  # written before runs could change their lr mid-run
    if not isinstance(r, dict) or set(r) != set(_RUN_FIELDS):
        raise ValueError(t("Optimizer {n} of the training configuration must have exactly: {fields}", n=i + 1,
                           fields=", ".join(_RUN_FIELDS)))
    for key in ("optimizer", "label", "impl", "lr_change"):
        if not isinstance(r[key], str):
            raise ValueError(t("Optimizer {n}: {key} must be text, got {value}", n=i + 1, key=key, value=_shown(r[key])))
    return RunSpec(r["optimizer"], _pairs(r["hparams"], t("Optimizer {n}'s settings", n=i + 1)), r["label"], r["impl"],
                   r["lr_change"])


def _check_run(i: int, r: object) -> None:
    """A run's optimizer and hyperparameters, checked against the registry's knobs (types and ranges)."""
    if not isinstance(r, RunSpec):
        raise ValueError(t("Optimizer {n} must be a RunSpec, got {value}", n=i + 1, value=_shown(r)))
    if not isinstance(r.label, str) or len(r.label) > MAX_LABEL:
        raise ValueError(t("Optimizer {n}: its label must be text of at most {most} characters", n=i + 1,
                           most=MAX_LABEL))
    if r.impl not in ("optlab", "torch"):
        raise ValueError(t("Optimizer {n}: unknown implementation {value} (optlab or torch)", n=i + 1,
                           value=_shown(r.impl)))
    if r.lr_change not in LR_CHANGES:
        raise ValueError(t("Optimizer {n}: the lr change is made by edit or rebuild, got {value}", n=i + 1,
                           value=_shown(r.lr_change)))
    spec = get_spec(r.optimizer)
    if r.optimizer not in MNIST_OPTIMIZERS:
        raise ValueError(t("Optimizer {n}: {label} is not offered in the MNIST Lab (its step needs a closure that "
                           "re-evaluates the loss; try it on the Surface Lab); the lab offers: {known}", n=i + 1,
                           label=spec.label, known=", ".join(MNIST_OPTIMIZERS)))
    names = [k for k, _ in r.hparams]
    if len(set(names)) != len(names):
        raise ValueError(t("Optimizer {n} ({optimizer}): a setting is given twice", n=i + 1, optimizer=spec.label))
    try:
        if r.optimizer == "muon":  # the MNIST recipe's AdamW knobs beside Muon's (see muon_recipe)
            flat, recipe = split_recipe_hparams(dict(r.hparams))
            spec.kwargs(**flat)
            check_recipe_hparams(recipe)
        else:
            spec.kwargs(**dict(r.hparams))
    except ValueError as e:
        raise ValueError(t("Optimizer {n} ({optimizer}): {problem}", n=i + 1, optimizer=spec.label, problem=e)) from None


def _check_schedule(key: object, params: object) -> None:
    """The schedule and its parameters, checked against the schedule's own knobs (optlab.schedules)."""
    spec = SCHEDULES[key]  # the key itself was checked against SETTINGS["schedule"]
    known = {p.name: p for p in spec.params}
    if not isinstance(params, tuple | list):
        raise ValueError(t("The schedule's parameters must be (name, value) pairs"))
    seen = set()
    for pair in params:
        if not isinstance(pair, tuple | list) or len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(t("The schedule's parameters must be (name, value) pairs"))
        name, v = pair
        if name not in known or name in seen:
            allowed = ", ".join(known) or t("none")
            raise ValueError(t("Schedule {schedule} has no parameter {name} (or it is given twice); its "
                               "parameters: {allowed}", schedule=t(spec.label), name=_shown(name), allowed=allowed))
        seen.add(name)
        p = known[name]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not p.min <= v <= p.max:
            raise ValueError(t("{label} must be a number between {low} and {high}; got {value}", label=t(p.label),
                               low=f"{p.min:g}", high=f"{p.max:g}", value=_shown(v)))
