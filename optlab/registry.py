"""The optimizer presets the app offers: name, class, knobs with ranges and defaults, one-line description.

Pages build their widgets from it and the trace runner builds optimizers with it; no math or Streamlit here.
Registry defaults are chosen for 2D loss surfaces and may differ from torch's (Adam's lr is 0.05 here,
torch's 1e-3, which barely moves on a surface in a few hundred steps); ``kwargs()`` always gives valid
torch arguments.

Each preset names the class it equals number for number (``reference``): a torch.optim class, or, for an
optimizer torch does not have, a reference package's class as ``"module:Name"``, imported only when asked for
(those packages are test dependencies).
"""

import dataclasses
import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import torch

from optlab import optim
from optlab.i18n import N_  # labels, help and descriptions are message ids: pages show them with t()


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
        symbol: LaTeX symbol, e.g. r"\\gamma": filled in by ``OptimizerSpec`` from its class's ``SYMBOLS`` (the
            optimizer's docstring and pseudo-code use the same table), so it is never written here.
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
        reference: the class it matches number for number: a torch.optim class, or ``"module:Name"`` of a
            reference package's class (imported on first use by ``reference_cls``).
        hypers: the knobs, in display order.
        description: one line for the page.
        fixed: constructor arguments set by the preset itself (read-only), e.g. ``nesterov=True``.
        coordinatewise: each coordinate of a parameter is stepped on its own, so a batch of points stacked as
            the rows of one parameter moves like that many separate runs. False for Muon (it orthogonalises
            the whole matrix), Adafactor (it factors a matrix's second moment and scales by its RMS) and L-BFGS
            (one direction and one line search over all coordinates).
        needs_closure: ``step`` must be given a closure that re-evaluates the loss (L-BFGS evaluates it several
            times per step, and each call is at the point being evaluated, so a runner records every
            evaluation by recording inside its closure).
    """

    key: str
    label: str
    cls: type
    reference: type | str
    hypers: tuple[Hyper, ...]
    description: str
    fixed: Mapping = field(default_factory=lambda: MappingProxyType({}))
    coordinatewise: bool = True
    needs_closure: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))
        symbols = getattr(self.cls, "SYMBOLS", {})
        object.__setattr__(self, "hypers", tuple(dataclasses.replace(h, symbol=_symbol(symbols, h.name))
                                                 for h in self.hypers))

    @property
    def reference_cls(self) -> type:
        """The reference class; ValueError saying which package to install when it is not there."""
        if not isinstance(self.reference, str):
            return self.reference
        module, _, name = self.reference.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except ImportError:
            package = _PACKAGES.get(module, module)
            raise ValueError(
                f"{self.label}'s reference implementation is {module}.{name}, from the package {package}, which is "
                f"not installed; it is a test dependency: pip install {package} (or pip install -e '.[dev]')"
            ) from None

    @property
    def torch_cls(self) -> type:
        """The reference class (the name from when every reference was a torch.optim class)."""
        return self.reference_cls

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
        """Flat values (missing ones take the defaults) -> constructor kwargs: ``beta1``/``beta2`` -> ``betas``,
        ``eta_minus``/``eta_plus`` -> ``etas`` (Rprop).

        Raises:
            ValueError: an unknown name, a value of the wrong kind or outside its range.
        """
        unknown = sorted(set(flat) - set(self.names()))
        if unknown:
            raise ValueError(f"{self.label} has no setting(s) {unknown}; its settings are: {self.names()}")
        values = {h.name: h.check(flat.get(h.name, h.default)) for h in self.hypers}
        for pair, (first, second), fallback in _PAIRS:
            if first in values or second in values:
                values[pair] = (values.pop(first, fallback[0]), values.pop(second, fallback[1]))
        values.update(self.fixed)
        return values

    def build(self, params, impl: str = "optlab", **flat) -> torch.optim.Optimizer:
        """An optimizer over ``params`` with these settings; ``impl`` is "optlab" or "torch" (the reference
        class, a reference package's for an optimizer torch does not have)."""
        if impl not in ("optlab", "torch"):
            raise ValueError(f"impl must be 'optlab' or 'torch', got {impl!r}")
        cls = self.cls if impl == "optlab" else self.reference_cls
        return cls(params, **self.kwargs(**flat))


#: Constructor arguments that are pairs, the flat knobs that make them, and the pair's defaults.
_PAIRS = (
    ("betas", ("beta1", "beta2"), (0.9, 0.999)),
    ("etas", ("eta_minus", "eta_plus"), (0.5, 1.2)),
)

def _symbol(symbols: Mapping[str, str], name: str) -> str:
    """The LaTeX symbol of knob ``name`` in a class's ``SYMBOLS``; a flat half of a pair (``eta_minus``) takes its
    part of the pair's symbol (``(\\eta_-, \\eta_+)``); "" for a knob without one (a switch)."""
    if name in symbols:
        return symbols[name]
    for pair, flat, _ in _PAIRS:
        if name in flat and pair in symbols:
            return symbols[pair].strip("()").split(", ")[flat.index(name)]
    return ""


#: Module of a reference class -> the package that installs it.
_PACKAGES = {"lion_pytorch": "lion-pytorch", "pytorch_optimizer": "pytorch-optimizer", "schedulefree": "schedulefree"}


def _lr(default: float) -> Hyper:
    return Hyper("lr", N_("learning rate"), "float", default, 1e-5, 10.0, log=True,
                 help=N_("Step size: how far each update moves the parameters."))


def _momentum(default: float, low: float = 0.0) -> Hyper:
    return Hyper("momentum", N_("momentum"), "float", default, low, 0.999,
                 help=N_("Fraction of the previous velocity kept each step."))


def _weight_decay(default: float = 0.0) -> Hyper:
    return Hyper("weight_decay", N_("weight decay"), "float", default, 0.0, 1.0,
                 help=N_("Pulls the parameters towards zero."))


_BETA1 = Hyper("beta1", N_("β₁ (first moment)"), "float", 0.9, 0.0, 0.999,
               help=N_("Decay rate of the gradient's moving average m."))
_BETA2 = Hyper("beta2", N_("β₂ (second moment)"), "float", 0.999, 0.0, 0.9999,
               help=N_("Decay rate of the squared gradient's moving average v."))


def _eps(default: float = 1e-8) -> Hyper:
    return Hyper("eps", "ε", "float", default, 1e-12, 1.0, log=True,
                 help=N_("Added to the denominator so it never divides by zero."))


_MAXIMIZE = Hyper("maximize", N_("maximize"), "bool", False, help=N_("Climb the surface instead of descending."))
_DECOUPLED = Hyper("decoupled_weight_decay", N_("decoupled weight decay"), "bool", False,
                   help=N_("Shrink the weights directly (AdamW style) instead of adding λθ to the gradient."))
_ADAM_HYPERS = (_lr(0.05), _BETA1, _BETA2, _eps())

_SPECS = (
    OptimizerSpec(
        "sgd", "SGD", optim.SGD, torch.optim.SGD,
        (_lr(0.01), _weight_decay(), _MAXIMIZE),
        N_("Plain gradient descent: step against the gradient, scaled by the learning rate."),
    ),
    OptimizerSpec(
        "momentum", N_("SGD + momentum"), optim.SGD, torch.optim.SGD,
        (_lr(0.01), _momentum(0.9),
         Hyper("dampening", N_("dampening"), "float", 0.0, 0.0, 0.999,
               help=N_("Fraction of each new gradient left out of the velocity.")),
         _weight_decay(), _MAXIMIZE),
        N_("Heavy ball: a velocity accumulates past gradients, so steps speed up along consistent directions."),
    ),
    OptimizerSpec(
        "nesterov", "Nesterov", optim.SGD, torch.optim.SGD,
        (_lr(0.01), _momentum(0.9, low=0.01), _weight_decay(), _MAXIMIZE),
        N_("Momentum that steps along the gradient plus the velocity, a look-ahead that damps overshoot."),
        fixed={"nesterov": True, "dampening": 0.0},
    ),
    OptimizerSpec(
        "adam", "Adam", optim.Adam, torch.optim.Adam,
        (*_ADAM_HYPERS, _weight_decay(), _MAXIMIZE),
        N_("Momentum divided by a running root-mean-square of the gradient, both bias-corrected."),
    ),
    OptimizerSpec(
        "amsgrad", "AMSGrad", optim.Adam, torch.optim.Adam,
        (*_ADAM_HYPERS, _weight_decay(), _MAXIMIZE),
        N_("Adam that divides by the largest second moment seen so far, so its step never grows back."),
        fixed={"amsgrad": True},
    ),
    OptimizerSpec(
        "adamw", "AdamW", optim.AdamW, torch.optim.AdamW,
        (*_ADAM_HYPERS, _weight_decay(0.01),
         Hyper("amsgrad", "AMSGrad", "bool", False, help=N_("Divide by the largest second moment seen so far.")),
         _MAXIMIZE),
        N_("Adam with decoupled weight decay: the weights shrink directly, outside the adaptive step."),
    ),
    OptimizerSpec(
        "nadam", "NAdam", optim.NAdam, torch.optim.NAdam,
        (*_ADAM_HYPERS, _weight_decay(),
         Hyper("momentum_decay", N_("momentum decay"), "float", 4e-3, 0.0, 0.1,
               help=N_("How fast the momentum schedule warms up towards β₁.")),
         _DECOUPLED, _MAXIMIZE),
        N_("Adam with Nesterov momentum: the step looks ahead along the updated first moment."),
    ),
    OptimizerSpec(
        "radam", "RAdam", optim.RAdam, torch.optim.RAdam,
        (*_ADAM_HYPERS, _weight_decay(), _DECOUPLED, _MAXIMIZE),
        N_("Adam whose adaptive step is switched on gradually, once the variance estimate is reliable."),
    ),
    OptimizerSpec(
        "rmsprop", "RMSprop", optim.RMSprop, torch.optim.RMSprop,
        (_lr(0.01),
         Hyper("alpha", N_("α (smoothing)"), "float", 0.99, 0.0, 0.9999,
               help=N_("Decay rate of the squared gradient's moving average.")),
         _eps(), _momentum(0.0), _weight_decay(),
         Hyper("centered", N_("centered"), "bool", False, help=N_("Divide by the gradient's variance estimate.")),
         _MAXIMIZE),
        N_("Gradient divided by a running root-mean-square of recent gradients (no momentum by default)."),
    ),
    OptimizerSpec(
        "adagrad", "Adagrad", optim.Adagrad, torch.optim.Adagrad,
        (_lr(0.5),
         Hyper("lr_decay", N_("lr decay"), "float", 0.0, 0.0, 1.0,
               help=N_("Learning rate shrinks as γ / (1 + (t − 1)η).")),
         Hyper("initial_accumulator_value", N_("initial accumulator"), "float", 0.0, 0.0, 10.0,
               help=N_("Starting value of the sum of squared gradients.")),
         _eps(1e-10), _weight_decay(), _MAXIMIZE),
        N_("Gradient divided by the root of all squared gradients so far: steps shrink where it has moved a lot."),
    ),
    OptimizerSpec(
        "adamax", "Adamax", optim.Adamax, torch.optim.Adamax,
        (*_ADAM_HYPERS, _weight_decay(), _MAXIMIZE),
        N_("Adam with the largest recent gradient size (an infinity norm) in place of the root-mean-square."),
    ),
    OptimizerSpec(
        "adadelta", "Adadelta", optim.Adadelta, torch.optim.Adadelta,
        (_lr(1.0),
         Hyper("rho", N_("ρ (smoothing)"), "float", 0.9, 0.0, 0.9999,
               help=N_("Decay rate of the running averages of squared gradients and squared steps.")),
         _eps(1e-6), _weight_decay(), _MAXIMIZE),
        N_("Step = RMS of past steps / RMS of past gradients × gradient: it sets its own step size, which starts tiny."),
    ),
    OptimizerSpec(
        "rprop", "Rprop", optim.Rprop, torch.optim.Rprop,
        (_lr(0.01),
         Hyper("eta_minus", N_("η₋ (shrink)"), "float", 0.5, 0.01, 0.99,
               help=N_("Factor a coordinate's step size shrinks by when its gradient changes sign.")),
         Hyper("eta_plus", N_("η₊ (grow)"), "float", 1.2, 1.01, 5.0,
               help=N_("Factor a coordinate's step size grows by while its gradient keeps its sign.")),
         _MAXIMIZE),
        N_("Only the gradient's sign counts: each coordinate's own step grows while the sign holds, shrinks when it flips."),
    ),
    OptimizerSpec(
        "asgd", "ASGD", optim.ASGD, torch.optim.ASGD,
        (_lr(0.01),
         Hyper("lambd", N_("λ (decay)"), "float", 1e-4, 0.0, 1.0,
               help=N_("How fast the step size decays, and how much the weights shrink each step.")),
         Hyper("alpha", N_("α (decay power)"), "float", 0.75, 0.0, 1.0,
               help=N_("Power of the step-size decay: η_t = γ / (1 + λγt)^α.")),
         Hyper("t0", N_("t₀ (averaging starts)"), "float", 100.0, 0.0, 10_000.0,
               help=N_("Step after which the state's average of the iterates starts to lag behind the iterate.")),
         _weight_decay(), _MAXIMIZE),
        N_("SGD with a decaying step that also keeps, after step t₀, the running average of the points it visited."),
    ),
    OptimizerSpec(
        "adafactor", "Adafactor", optim.Adafactor, torch.optim.Adafactor,
        (_lr(0.1),
         Hyper("beta2_decay", N_("β₂ decay τ"), "float", -0.8, -1.0, 0.0,
               help=N_("The second moment forgets at rate 1 − β̂₂ = t^τ: fast at first, slower later.")),
         Hyper("d", N_("clipping threshold d"), "float", 1.0, 1.0, 10.0,
               help=N_("The update is shrunk whenever its root-mean-square exceeds d.")),
         _weight_decay(), _MAXIMIZE),
        N_("Steps relative to the size of the parameters, with a second moment stored per row and column of a matrix."),
        coordinatewise=False,
    ),
    OptimizerSpec(
        "muon", "Muon", optim.MatrixMuon, torch.optim.Muon,
        (_lr(0.05), _momentum(0.95),
         Hyper("nesterov", "Nesterov", "bool", True, help=N_("Orthogonalise the look-ahead momentum.")),
         _weight_decay(0.0)),
        N_("Momentum made orthogonal by a Newton–Schulz iteration; the point (x, y) is the 1×2 matrix [x y]."),
        coordinatewise=False,
    ),
    OptimizerSpec(
        "lion", "Lion", optim.Lion, "lion_pytorch:Lion",
        (_lr(0.02), _BETA1,
         Hyper("beta2", N_("β₂ (momentum)"), "float", 0.99, 0.0, 0.9999,
               help=N_("Decay rate of the momentum m, updated after the step.")),
         _weight_decay(),
         Hyper("decoupled_weight_decay", N_("decay relative to the initial lr"), "bool", False,
               help=N_("Divide λ by the starting learning rate (lion-pytorch's option).")),
         ),
        N_("The sign of an interpolated momentum: every coordinate moves by exactly ± the learning rate."),
    ),
    OptimizerSpec(
        "adabelief", "AdaBelief", optim.AdaBelief, "pytorch_optimizer:AdaBelief",
        (_lr(0.05), _BETA1, _BETA2,
         Hyper("eps", "ε", "float", 1e-16, 1e-20, 1.0, log=True,
               help=N_("Added to the belief s and to its root, so it never divides by zero.")),
         _weight_decay(),
         Hyper("weight_decouple", N_("decoupled weight decay"), "bool", True,
               help=N_("Shrink the weights directly (AdamW style) instead of adding λθ to the gradient.")),
         Hyper("rectify", N_("rectify (RAdam)"), "bool", False,
               help=N_("Switch the adaptive step on gradually, as RAdam does.")),
         Hyper("ams_bound", N_("AMS bound"), "bool", False, help=N_("Divide by the largest belief seen so far.")),
         _MAXIMIZE),
        N_("Adam divided by how far each gradient falls from its running mean: steps are long where it is predictable."),
    ),
    OptimizerSpec(
        "schedule_free", N_("Schedule-free AdamW"), optim.AdamWScheduleFreeTraining, "schedulefree:AdamWScheduleFree",
        (_lr(0.05),
         Hyper("beta1", N_("β₁ (interpolation)"), "float", 0.9, 0.01, 0.999,
               help=N_("Gradients are taken at (1 − β₁) z + β₁ x, between the SGD point z and the average x.")),
         _BETA2, _eps(), _weight_decay(),
         Hyper("warmup_steps", N_("warm-up steps"), "float", 0.0, 0.0, 1000.0,
               help=N_("The learning rate ramps up linearly over this many steps.")),
         ),
        N_("AdamW steps on z, an average x of them, and gradients taken in between: no schedule needed."),
    ),
)

_SPECS = (
    *_SPECS,
    OptimizerSpec(
        "lbfgs", "L-BFGS", optim.LBFGS, torch.optim.LBFGS,
        (_lr(1.0),),
        N_("A quasi-Newton step from the last few gradient changes, its length found by a strong-Wolfe line search."),
        # one iteration per step, so that every step of a run is one point of the path; the line search may
        # evaluate up to 25 points along it (torch's default max_eval would leave it one)
        fixed={"max_iter": 1, "max_eval": 25, "history_size": 10, "line_search_fn": "strong_wolfe"},
        coordinatewise=False,
        needs_closure=True,
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
