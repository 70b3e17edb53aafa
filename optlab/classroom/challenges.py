"""Challenges a lesson can set, and the check that runs on a student's own result: passed, or how far off.

A challenge is declarative: a kind and a few parameters (``Challenge("reach", (("surface", "rosenbrock"),
("target", 1e-4), ("max_steps", 200), ("optimizers", "momentum")))``), so a lesson stores it as JSON and a
forged one is refused like any other bad input. The kinds:

- ``reach``: f below ``target`` on ``surface`` at some step t ≤ ``max_steps``, with one of ``optimizers``;
- ``diverge``: make a run of one of ``optimizers`` on ``surface`` diverge: it is stopped as diverged, or it ends
  higher than it started (f_T > f_0);
- ``critical_lr``: find the learning rate at which gradient descent on the quadratic of condition number
  ``kappa`` stops converging. Theory: on f(w) = ½ wᵀAw the error along eigenvector i is multiplied by
  1 − αλᵢ per step, so gradient descent converges iff α < 2/λ_max (``optlab.theory.gd_stability_limit``;
  Goh, "Why Momentum Really Works", Distill 2017). Passed when the student's lr is within ``tolerance``
  (relative) of 2/λ_max;
- ``accuracy``: test accuracy at least ``target`` within ``max_epochs`` epochs (MNIST Lab).

What it leaves out: running anything. The result is the student's own (:class:`RunResult`, built by the page
from its runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optlab.i18n import N_, t
from optlab.surfaces import quadratic
from optlab.theory import gd_stability_limit

from .errors import ClassroomError


@dataclass(frozen=True)
class RunResult:
    """A student's result as a check reads it.

    ``losses[t]`` is f at θ_t (``losses[0]`` at the start) on a surface, or the training loss after step t+1 in
    the MNIST Lab; ``accuracy`` is the final test accuracy in [0, 1] and ``epochs`` how many were trained.
    """

    page: str
    optimizer: str
    hparams: Mapping[str, Any] = field(default_factory=dict)
    surface: str | None = None
    kappa: float | None = None
    losses: Sequence[float] = ()
    diverged: bool = False
    accuracy: float | None = None
    epochs: float | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    note: str  # "Passed: f = 9.7e-05 at step 163." or how far off


@dataclass(frozen=True)
class Kind:
    key: str
    page: str  # the page whose results it reads
    title: str  # catalog message
    params: tuple[tuple[str, type, Any, Any], ...]  # (name, type, low, high) for numbers; (name, str, None, None)


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("reach", "Surface_Lab", N_("Reach a low loss within a step budget"),
         (("surface", str, None, None), ("target", float, 1e-12, 1e6), ("max_steps", int, 1, 2000),
          ("optimizers", str, None, None))),
    Kind("diverge", "Surface_Lab", N_("Make an optimizer diverge"),
         (("surface", str, None, None), ("optimizers", str, None, None))),
    Kind("critical_lr", "Surface_Lab", N_("Find the learning rate where gradient descent stops converging"),
         (("kappa", float, 1.0, 1e4), ("tolerance", float, 1e-4, 0.5))),
    Kind("accuracy", "MNIST_Lab", N_("Reach a test accuracy within an epoch budget"),
         (("target", float, 0.0, 1.0), ("max_epochs", int, 1, 50))),
)}


@dataclass(frozen=True)
class Challenge:
    kind: str
    params: tuple[tuple[str, Any], ...]

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.values}

    @classmethod
    def of(cls, kind: str, **params: Any) -> Challenge:
        return parse({"kind": kind, **params})


def parse(data: object) -> Challenge:
    """A challenge from its JSON form, every parameter checked; a refusal names what is wrong."""
    if not isinstance(data, Mapping) or data.get("kind") not in KINDS:
        raise ClassroomError(t("A challenge is one of: {kinds}.", kinds=", ".join(KINDS)))
    kind = KINDS[data["kind"]]
    extra = set(data) - {"kind"} - {p[0] for p in kind.params}
    if extra:
        raise ClassroomError(t("A {kind} challenge has no setting {name}.", kind=kind.key, name=sorted(extra)[0]))
    values = []
    for name, typ, low, high in kind.params:
        value = data.get(name)
        if typ is str:
            if not isinstance(value, str) or not 0 < len(value) <= 80:
                raise ClassroomError(t("The challenge's {name} must be a short text.", name=name))
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if ok and typ is int:
                ok = float(value).is_integer()
            if not ok or not low <= value <= high:
                raise ClassroomError(t("The challenge's {name} must be a number from {low:g} to {high:g}.",
                                       name=name, low=low, high=high))
            value = typ(value)
        values.append((name, value))
    return Challenge(kind.key, tuple(values))


def _optimizers(text: str) -> list[str]:
    return [o.strip() for o in text.split("|") if o.strip()]


def describe(challenge: Challenge) -> str:
    """The challenge in one sentence for the student."""
    v = challenge.values
    if challenge.kind == "reach":
        return t("Reach f < {target:g} on {surface} within {n} steps with {opt}.", target=v["target"],
                 surface=v["surface"], n=v["max_steps"], opt=t(" or ").join(_optimizers(v["optimizers"])))
    if challenge.kind == "diverge":
        return t("Make {opt} diverge on {surface}.", opt=t(" or ").join(_optimizers(v["optimizers"])),
                 surface=v["surface"])
    if challenge.kind == "critical_lr":
        return t("Find the learning rate at which gradient descent on the κ = {kappa:g} quadratic stops "
                 "converging (within {tol:g}%).", kappa=v["kappa"], tol=100 * v["tolerance"])
    return t("Get {acc:g}% test accuracy within {n} epochs.", acc=100 * v["target"], n=v["max_epochs"])


def critical_lr(kappa: float) -> float:
    """2/λ_max of ``optlab.surfaces.quadratic(kappa)``: the largest learning rate at which GD converges."""
    return gd_stability_limit(max(quadratic(kappa).hessian_eigs))


def _wrong_setup(challenge: Challenge, result: RunResult) -> str | None:
    v = challenge.values
    if result.page != KINDS[challenge.kind].page:
        return t("This challenge is checked on the {page} page.", page=KINDS[challenge.kind].page.replace("_", " "))
    if "surface" in v and result.surface != v["surface"]:
        return t("This challenge is on the {want} surface; your run is on {got}.", want=v["surface"],
                 got=result.surface or "?")
    if "optimizers" in v and result.optimizer not in _optimizers(v["optimizers"]):
        return t("This challenge asks for {want}; your run uses {got}.",
                 want=t(" or ").join(_optimizers(v["optimizers"])), got=result.optimizer)
    return None


def check(challenge: Challenge, result: RunResult) -> Verdict:
    """Whether ``result`` meets ``challenge``; if not, how far off it is, in one sentence."""
    wrong = _wrong_setup(challenge, result)
    if wrong:
        return Verdict(False, wrong)
    v = challenge.values
    losses = [float(x) for x in result.losses]
    if challenge.kind == "reach":
        budget = [(x, i) for i, x in enumerate(losses[: v["max_steps"] + 1]) if math.isfinite(x)]
        if not budget:
            return Verdict(False, t("Your run has no finite loss to check."))
        best, t_best = min(budget)
        if best < v["target"]:
            f, first = next((x, i) for x, i in budget if x < v["target"])
            return Verdict(True, t("Passed: f = {f:.3g} < {target:g} at step {t}.", f=f, target=v["target"],
                                   t=first))
        return Verdict(False, t("Not yet: the lowest f within {n} steps is {f:.3g} (step {t}), {x:.3g}× the target "
                                "{target:g}.", n=v["max_steps"], f=best, t=t_best, x=best / v["target"],
                                target=v["target"]))
    if challenge.kind == "diverge":
        if not losses:
            return Verdict(False, t("Your run has no loss to check."))
        first, last = losses[0], losses[-1]
        if result.diverged or not math.isfinite(last) or last > first:
            return Verdict(True, t("Passed: the run diverged (f went from {a:.3g} to {b:.3g}).", a=first, b=last))
        return Verdict(False, t("Not yet: f went down from {a:.3g} to {b:.3g}; the run converges. A run diverges "
                                "when it ends higher than it started.", a=first, b=last))
    if challenge.kind == "critical_lr":
        if result.surface != "quadratic" or result.kappa is None or not math.isclose(result.kappa, v["kappa"]):
            return Verdict(False, t("Use the quadratic with κ = {kappa:g}.", kappa=v["kappa"]))
        if result.optimizer != "sgd":
            return Verdict(False, t("Use plain gradient descent (SGD without momentum)."))
        lr = float(result.hparams.get("lr", float("nan")))
        limit = critical_lr(v["kappa"])
        off = (lr - limit) / limit
        if abs(off) <= v["tolerance"]:
            return Verdict(True, t("Passed: lr = {lr:.4g} is within {p:.1f}% of the limit.", lr=lr, p=100 * abs(off)))
        side = t("below") if off < 0 else t("above")
        return Verdict(False, t("Not yet: lr = {lr:.4g} is {p:.1f}% {side} the learning rate where it stops "
                                "converging.", lr=lr, p=100 * abs(off), side=side))
    # accuracy
    if result.accuracy is None or result.epochs is None:
        return Verdict(False, t("Train first: there is no test accuracy yet."))
    if result.epochs > v["max_epochs"]:
        return Verdict(False, t("This run trained {e:g} epochs; the challenge allows {n}.", e=result.epochs,
                                n=v["max_epochs"]))
    if result.accuracy >= v["target"]:
        return Verdict(True, t("Passed: {acc:.2f}% test accuracy in {e:g} epochs.", acc=100 * result.accuracy,
                               e=result.epochs))
    return Verdict(False, t("Not yet: {acc:.2f}% test accuracy, {gap:.2f} points short of {target:g}%.",
                            acc=100 * result.accuracy, gap=100 * (v["target"] - result.accuracy),
                            target=100 * v["target"]))
