"""A listener that keeps every event of a training run as plain lists (curves to plot, to save with a checkpoint).

A history read back from a file is checked field by field (types, lengths, step numbers) before it is used.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from optlab.i18n import t
from optlab.mnist import jsontext
from optlab.mnist.events import (
    DiagnosticsEvent,
    DivergedEvent,
    DoneEvent,
    EvalEvent,
    Event,
    LrChangeEvent,
    StartEvent,
    StepsEvent,
)

MAX_HISTORY_CHARS = 40_000_000  # 150,000 steps of 4 runs (20 epochs of full MNIST at batch 8) take about 25 MB
MAX_HISTORY_DEPTH = 6  # {"lr": [[[0.1]]]} is 4 deep, {"diverged": [{"step": 3}]} 3
MAX_REASON = 200


@dataclass
class History:
    labels: list[str] = field(default_factory=list)
    total_steps: int = 0
    steps_per_epoch: int = 1
    step: list[int] = field(default_factory=list)  # optimizer step numbers 1..n
    loss: list[list[float]] = field(default_factory=list)  # [run][step]; NaN after the run diverged
    lr: list[list[list[float]]] = field(default_factory=list)  # [run][step][group]
    norm_step: list[int] = field(default_factory=list)
    weight_norm: list[list[float]] = field(default_factory=list)  # [run][norm_step]
    eval_step: list[int] = field(default_factory=list)
    test_acc: list[list[float]] = field(default_factory=list)  # [run][eval_step]
    test_loss: list[list[float]] = field(default_factory=list)
    ema_acc: list[list[float]] = field(default_factory=list)  # empty lists without EMA
    diverged: list[dict | None] = field(default_factory=list)  # [run] None, or {"step": t, "reason": "..."}
    param_names: list[str] = field(default_factory=list)  # the columns of grad_norm and update_ratio
    diag_step: list[int] = field(default_factory=list)  # the steps the per-layer diagnostics were sampled at
    grad_norm: list[list[list[float]]] = field(default_factory=list)  # [run][diag_step][param] ‖∇θ_l L‖₂
    update_ratio: list[list[list[float]]] = field(default_factory=list)  # [run][diag_step][param] ‖Δθ_l‖/‖θ_l‖
    lr_change: dict | None = None  # {"step": k, "how": ["edit" | "rebuild", ...]} once the lr was changed
    done: bool = False
    stopped: bool = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, StartEvent):
            if not self.labels:
                n = len(event.labels)
                self.labels = list(event.labels)
                self.loss, self.lr, self.weight_norm = [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)]
                self.test_acc, self.test_loss, self.ema_acc = [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)]
                self.diverged = [None] * n
                self.grad_norm, self.update_ratio = [[] for _ in range(n)], [[] for _ in range(n)]
            self.total_steps, self.steps_per_epoch = event.total_steps, event.steps_per_epoch
            self.done = self.stopped = False
        elif isinstance(event, StepsEvent):
            self.step.extend(range(event.first_step, event.last_step + 1))
            for r in range(len(self.labels)):
                self.loss[r].extend(event.loss[r])
                self.lr[r].extend(event.lr[r])
            if event.weight_norm is not None:
                self.norm_step.append(event.last_step)
                for r in range(len(self.labels)):
                    self.weight_norm[r].append(event.weight_norm[r])
        elif isinstance(event, EvalEvent):
            self.eval_step.append(event.step)
            for r in range(len(self.labels)):
                self.test_acc[r].append(event.test_acc[r])
                self.test_loss[r].append(event.test_loss[r])
                if event.ema_acc is not None:
                    self.ema_acc[r].append(event.ema_acc[r])
        elif isinstance(event, DiagnosticsEvent):
            self.param_names = list(event.names)
            self.diag_step.extend(event.steps)
            for r in range(len(self.labels)):
                self.grad_norm[r].extend(event.grad_norm[r])
                self.update_ratio[r].extend(event.update_ratio[r])
        elif isinstance(event, LrChangeEvent):
            self.lr_change = {"step": event.step, "how": list(event.how)}
        elif isinstance(event, DivergedEvent):
            self.diverged[event.run] = {"step": event.step, "reason": event.reason}
        elif isinstance(event, DoneEvent):
            self.done, self.stopped = True, event.stopped

    @property
    def steps_done(self) -> int:
        return self.step[-1] if self.step else 0

    def divergence(self, r: int) -> str | None:
        """"loss became NaN at step 37" for a run that diverged, None for one that did not."""
        d = self.diverged[r] if r < len(self.diverged) else None
        return None if d is None else f"{d['reason']} at step {d['step']}"

    @property
    def all_diverged(self) -> bool:
        return bool(self.diverged) and all(d is not None for d in self.diverged)

    def copy(self) -> History:
        """An independent copy (the lists are new; the numbers and strings are immutable anyway)."""
        return History(
            labels=list(self.labels), total_steps=self.total_steps, steps_per_epoch=self.steps_per_epoch,
            step=list(self.step), loss=[list(v) for v in self.loss],
            lr=[[list(g) for g in run] for run in self.lr], norm_step=list(self.norm_step),
            weight_norm=[list(v) for v in self.weight_norm], eval_step=list(self.eval_step),
            test_acc=[list(v) for v in self.test_acc], test_loss=[list(v) for v in self.test_loss],
            ema_acc=[list(v) for v in self.ema_acc], diverged=[None if d is None else dict(d) for d in self.diverged],
            done=self.done, stopped=self.stopped, param_names=list(self.param_names),
            diag_step=list(self.diag_step), grad_norm=[list(v) for v in self.grad_norm],
            update_ratio=[list(v) for v in self.update_ratio],
            lr_change=None if self.lr_change is None else {"step": self.lr_change["step"],
                                                           "how": list(self.lr_change["how"])},
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: object) -> History:
        """Inverse of to_json; ValueError with a plain message for text that is not a consistent history."""
        d = jsontext.loads(text, t("The training history"), MAX_HISTORY_CHARS, MAX_HISTORY_DEPTH)
        if not isinstance(d, dict):
            raise ValueError(t("The training history is not a JSON object"))
        names = {f.name for f in fields(cls)}
        if isinstance(d.get("labels"), list):
            d.setdefault("diverged", [None] * len(d["labels"]))  # files written before runs could diverge
            # files written before the per-layer diagnostics and the mid-run lr change
            d.setdefault("grad_norm", [[] for _ in d["labels"]])
            d.setdefault("update_ratio", [[] for _ in d["labels"]])
            for name, empty in (("param_names", []), ("diag_step", []), ("lr_change", None)):
                d.setdefault(name, empty)
        missing, unknown = sorted(names - set(d)), sorted(set(d) - names)
        if missing:
            raise ValueError(t("The training history lacks: {names}", names=", ".join(missing)))
        if unknown:
            raise ValueError(t("The training history has unknown entries: {names}",
                               names=", ".join(map(repr, unknown))[:200]))
        h = cls(**d)
        h.check()
        return h

    def check(self) -> None:
        """ValueError naming the first entry of the wrong type or length; nothing for a consistent history."""
        if not _is_list(self.labels, str):
            raise ValueError(t("The training history's labels must be a list of names"))
        n = len(self.labels)
        for name in ("total_steps", "steps_per_epoch"):
            if not _is_int(getattr(self, name)) or getattr(self, name) < (name == "steps_per_epoch"):
                raise ValueError(t("The training history's {name} must be a whole number", name=name))
        for name in ("done", "stopped"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(t("The training history's {name} must be true or false", name=name))
        if not _is_list(self.step, int) or self.step != list(range(1, len(self.step) + 1)):
            raise ValueError(t("The training history's steps must be numbered 1, 2, 3, ..."))
        if len(self.step) > self.total_steps:
            raise ValueError(t("The training history has more steps than its run"))
        for name, first in (("norm_step", 1), ("eval_step", 0)):
            steps = getattr(self, name)
            if not _is_list(steps, int) or steps != sorted(steps) or (steps and not first <= steps[0] <= steps[-1] <= len(self.step)):
                raise ValueError(t("The training history's {name} must be increasing step numbers up to {n}", name=name,
                                   n=len(self.step)))
        per_run = {
            "loss": len(self.step), "weight_norm": len(self.norm_step), "test_acc": len(self.eval_step),
            "test_loss": len(self.eval_step),
        }
        for name, length in per_run.items():
            runs = getattr(self, name)
            if not (isinstance(runs, list) and len(runs) == n and all(_is_numbers(v, length) for v in runs)):
                raise ValueError(t("The training history's {name} must hold {length} numbers for each of {n} runs",
                                   name=name, length=length, n=n))
        if not (isinstance(self.ema_acc, list) and len(self.ema_acc) == n
                and all(_is_numbers(v, 0) or _is_numbers(v, len(self.eval_step)) for v in self.ema_acc)):
            raise ValueError(t("The training history's ema_acc must be empty or hold one number per evaluation"))
        if not (isinstance(self.lr, list) and len(self.lr) == n and all(
                isinstance(run, list) and len(run) == len(self.step)
                and all(isinstance(g, list) and g and _is_numbers(g, len(run[0])) for g in run) for run in self.lr)):
            raise ValueError(t("The training history's lr must hold each step's learning rates for each run"))
        if not (isinstance(self.diverged, list) and len(self.diverged) == n):
            raise ValueError(t("The training history's diverged must have one entry per run"))
        self._check_diagnostics(n)
        for d in self.diverged:
            if d is None:
                continue
            if not (isinstance(d, dict) and set(d) == {"step", "reason"} and _is_int(d["step"])
                    and 1 <= d["step"] <= max(1, len(self.step)) and isinstance(d["reason"], str)
                    and len(d["reason"]) <= MAX_REASON):
                raise ValueError(t("The training history's diverged entries must be a step and a reason"))


    def _check_diagnostics(self, n: int) -> None:
        if not _is_list(self.param_names, str) or len(self.param_names) > 64:
            raise ValueError(t("The training history's param_names must be a list of at most 64 names"))
        steps = self.diag_step
        if not _is_list(steps, int) or steps != sorted(set(steps)) or (steps and not 1 <= steps[0] <= steps[-1]
                                                                       <= len(self.step)):
            raise ValueError(t("The training history's diag_step must be increasing step numbers up to {n}",
                               n=len(self.step)))
        width = len(self.param_names)
        for name in ("grad_norm", "update_ratio"):
            runs = getattr(self, name)
            if not (isinstance(runs, list) and len(runs) == n and all(
                    isinstance(run, list) and len(run) == len(steps) and all(_is_numbers(row, width) for row in run)
                    for run in runs)):
                raise ValueError(t("The training history's {name} must hold {width} numbers per sampled step for "
                                   "each of {n} runs", name=name, width=width, n=n))
        c = self.lr_change
        if c is not None and not (isinstance(c, dict) and set(c) == {"step", "how"} and _is_int(c["step"])
                                  and 0 < c["step"] <= len(self.step) and _is_list(c["how"], str)
                                  and len(c["how"]) == n and set(c["how"]) <= {"edit", "rebuild"}):
            raise ValueError(t("The training history's lr_change must be a step and how each run made it"))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_list(v: object, kind: type) -> bool:
    if not isinstance(v, list):
        return False
    if kind is int:
        return all(_is_int(x) for x in v)
    return all(isinstance(x, kind) for x in v)


def _is_numbers(v: object, length: int) -> bool:
    """A list of `length` numbers (int or float, NaN allowed: a diverged run's values; never a bool)."""
    return isinstance(v, list) and len(v) == length and all(type(x) is float or type(x) is int for x in v)
