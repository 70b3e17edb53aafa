"""The optimizer presets the app offers: name, class, knobs with ranges and defaults, one-line description.

Pages build their widgets from it and the trace runner builds optimizers with it; no math or Streamlit here.
Registry defaults are chosen for 2D loss surfaces and may differ from torch's (Adam's lr is 0.05 here,
torch's 1e-3, which barely moves on a surface in a few hundred steps); ``kwargs()`` always gives valid
torch arguments.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import torch

from optlab import optim


@dataclass(frozen=True)
class Hyper:
    """One knob of an optimizer, as a widget shows it.

    Attributes:
        name: flat name ("lr", "beta1", "momentum", ...); ``beta1``/``beta2`` become torch's ``betas``.
        label: text next to the widget.
        kind: "float" or "bool".
        default: the preset's value.
        min, max: allowed range (inclusive) for floats.
        log: whether a slider should be log-scaled (lr, eps).
        symbol: LaTeX symbol, e.g. r"\\gamma".
        help: one sentence for the widget's tooltip.
    """

    name: str
    label: str
    kind: str
    default: float | bool
    min: float | None = None
    max: float | None = None
    log: bool = False
    symbol: str = ""
    help: str = ""

    def check(self, value) -> float | bool:
        """The value as the constructor wants it (float or bool); ValueError with a clear message otherwise."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be True or False, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.name} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{self.name} must be a finite number, got {value}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValueError(f"{self.name}={value:g} is outside the allowed range [{self.min:g}, {self.max:g}]")
        return value


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer preset: what the app calls it, which class runs it and which knobs it exposes.

    Attributes:
        key: registry key ("sgd", "momentum", "adam", ...).
        label: display name ("SGD + momentum").
        cls: the optlab class.
        torch_cls: the torch.optim class it matches number for number.
        hypers: the knobs, in display order.
        description: one line for the page.
        fixed: constructor arguments set by the preset itself (read-only), e.g. ``nesterov=True``.
    """

    key: str
    label: str
    cls: type
    torch_cls: type
    hypers: tuple[Hyper, ...]
    description: str
    fixed: Mapping = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))

    def hyper(self, name: str) -> Hyper:
        """The knob called ``name``; ValueError listing the knobs when there is none."""
        for h in self.hypers:
            if h.name == name:
                return h
        raise ValueError(f"{self.label} has no setting {name!r}; its settings are: {self.names()}")

    def names(self) -> list[str]:
        """Flat names of the knobs, in display order."""
        return [h.name for h in self.hypers]

    def defaults(self) -> dict:
        """Flat name -> the preset's default value."""
        return {h.name: h.default for h in self.hypers}

    def kwargs(self, **flat) -> dict:
        """Flat values (missing ones take the defaults) -> constructor kwargs, ``beta1``/``beta2`` -> ``betas``.

        Raises:
            ValueError: an unknown name, a value of the wrong kind or outside its range.
        """
        unknown = sorted(set(flat) - set(self.names()))
        if unknown:
            raise ValueError(f"{self.label} has no setting(s) {unknown}; its settings are: {self.names()}")
        values = {h.name: h.check(flat.get(h.name, h.default)) for h in self.hypers}
        if "beta1" in values or "beta2" in values:
            betas = (values.pop("beta1", 0.9), values.pop("beta2", 0.999))
            values["betas"] = betas
        values.update(self.fixed)
        return values

    def build(self, params, impl: str = "optlab", **flat) -> torch.optim.Optimizer:
        """An optimizer over ``params`` with these settings; ``impl`` is "optlab" or "torch"."""
        if impl not in ("optlab", "torch"):
            raise ValueError(f"impl must be 'optlab' or 'torch', got {impl!r}")
        cls = self.cls if impl == "optlab" else self.torch_cls
        return cls(params, **self.kwargs(**flat))


def _lr(default: float) -> Hyper:
    return Hyper("lr", "learning rate", "float", default, 1e-5, 10.0, log=True, symbol=r"\gamma",
                 help="Step size: how far each update moves the parameters.")


def _momentum(default: float, low: float = 0.0) -> Hyper:
    return Hyper("momentum", "momentum", "float", default, low, 0.999, symbol=r"\mu",
                 help="Fraction of the previous velocity kept each step.")


def _weight_decay(default: float = 0.0) -> Hyper:
    return Hyper("weight_decay", "weight decay", "float", default, 0.0, 1.0, symbol=r"\lambda",
                 help="Pulls the parameters towards zero.")


_BETA1 = Hyper("beta1", "β₁ (first moment)", "float", 0.9, 0.0, 0.999, symbol=r"\beta_1",
               help="Decay rate of the gradient's moving average m.")
_BETA2 = Hyper("beta2", "β₂ (second moment)", "float", 0.999, 0.0, 0.9999, symbol=r"\beta_2",
               help="Decay rate of the squared gradient's moving average v.")


def _eps(default: float = 1e-8) -> Hyper:
    return Hyper("eps", "ε", "float", default, 1e-12, 1.0, log=True, symbol=r"\epsilon",
                 help="Added to the denominator so it never divides by zero.")


_MAXIMIZE = Hyper("maximize", "maximize", "bool", False, symbol="", help="Climb the surface instead of descending.")
_DECOUPLED = Hyper("decoupled_weight_decay", "decoupled weight decay", "bool", False,
                   help="Shrink the weights directly (AdamW style) instead of adding λθ to the gradient.")
_ADAM_HYPERS = (_lr(0.05), _BETA1, _BETA2, _eps())

_SPECS = (
    OptimizerSpec(
        "sgd", "SGD", optim.SGD, torch.optim.SGD,
        (_lr(0.01), _weight_decay(), _MAXIMIZE),
        "Plain gradient descent: step against the gradient, scaled by the learning rate.",
    ),
    OptimizerSpec(
        "momentum", "SGD + momentum", optim.SGD, torch.optim.SGD,
        (_lr(0.01), _momentum(0.9),
         Hyper("dampening", "dampening", "float", 0.0, 0.0, 0.999, symbol=r"\tau",
               help="Fraction of each new gradient left out of the velocity."),
         _weight_decay(), _MAXIMIZE),
        "Heavy ball: a velocity accumulates past gradients, so steps speed up along consistent directions.",
    ),
    OptimizerSpec(
        "nesterov", "Nesterov", optim.SGD, torch.optim.SGD,
        (_lr(0.01), _momentum(0.9, low=0.01), _weight_decay(), _MAXIMIZE),
        "Momentum that steps along the gradient plus the velocity, a look-ahead that damps overshoot.",
        fixed={"nesterov": True, "dampening": 0.0},
    ),
    OptimizerSpec(
        "adam", "Adam", optim.Adam, torch.optim.Adam,
        (*_ADAM_HYPERS, _weight_decay(), _MAXIMIZE),
        "Momentum divided by a running root-mean-square of the gradient, both bias-corrected.",
    ),
    OptimizerSpec(
        "amsgrad", "AMSGrad", optim.Adam, torch.optim.Adam,
        (*_ADAM_HYPERS, _weight_decay(), _MAXIMIZE),
        "Adam that divides by the largest second moment seen so far, so its step never grows back.",
        fixed={"amsgrad": True},
    ),
    OptimizerSpec(
        "adamw", "AdamW", optim.AdamW, torch.optim.AdamW,
        (*_ADAM_HYPERS, _weight_decay(0.01),
         Hyper("amsgrad", "AMSGrad", "bool", False, help="Divide by the largest second moment seen so far."),
         _MAXIMIZE),
        "Adam with decoupled weight decay: the weights shrink directly, outside the adaptive step.",
    ),
    OptimizerSpec(
        "nadam", "NAdam", optim.NAdam, torch.optim.NAdam,
        (*_ADAM_HYPERS, _weight_decay(),
         Hyper("momentum_decay", "momentum decay", "float", 4e-3, 0.0, 0.1, symbol=r"\psi",
               help="How fast the momentum schedule warms up towards β₁."),
         _DECOUPLED, _MAXIMIZE),
        "Adam with Nesterov momentum: the step looks ahead along the updated first moment.",
    ),
    OptimizerSpec(
        "radam", "RAdam", optim.RAdam, torch.optim.RAdam,
        (*_ADAM_HYPERS, _weight_decay(), _DECOUPLED, _MAXIMIZE),
        "Adam whose adaptive step is switched on gradually, once the variance estimate is reliable.",
    ),
    OptimizerSpec(
        "rmsprop", "RMSprop", optim.RMSprop, torch.optim.RMSprop,
        (_lr(0.01),
         Hyper("alpha", "α (smoothing)", "float", 0.99, 0.0, 0.9999, symbol=r"\alpha",
               help="Decay rate of the squared gradient's moving average."),
         _eps(), _momentum(0.0), _weight_decay(),
         Hyper("centered", "centered", "bool", False, help="Divide by the gradient's variance estimate."),
         _MAXIMIZE),
        "Gradient divided by a running root-mean-square of recent gradients (no momentum by default).",
    ),
    OptimizerSpec(
        "adagrad", "Adagrad", optim.Adagrad, torch.optim.Adagrad,
        (_lr(0.5),
         Hyper("lr_decay", "lr decay", "float", 0.0, 0.0, 1.0, symbol=r"\eta",
               help="Learning rate shrinks as γ / (1 + (t − 1)η)."),
         Hyper("initial_accumulator_value", "initial accumulator", "float", 0.0, 0.0, 10.0, symbol=r"\tau",
               help="Starting value of the sum of squared gradients."),
         _eps(1e-10), _weight_decay(), _MAXIMIZE),
        "Gradient divided by the root of all squared gradients so far: steps shrink where it has moved a lot.",
    ),
)

#: Preset key -> spec, in display order.
REGISTRY: dict[str, OptimizerSpec] = {spec.key: spec for spec in _SPECS}


def get_spec(key: str) -> OptimizerSpec:
    """The preset called ``key``; ValueError listing the known keys otherwise."""
    try:
        return REGISTRY[key]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown optimizer {key!r}; known optimizers: {', '.join(REGISTRY)}") from None
