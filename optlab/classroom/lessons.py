"""Lessons: prepared links. A page, its view values, which controls are locked or hidden, a task and a challenge.

A lesson is opened by ``?lesson=<id>`` on its page: the page loads the lesson's values, shows the task, greys out
the locked controls with their values and leaves out the hidden ones (``optlab.ui.constraints``). Teachers make
lessons with the "prepare for class" panel (stored in the class database, id from
:func:`optlab.classroom.codes.new_lesson_id`); a few ready-made ones live here in code (:data:`BUILTIN`), so they
open on a server without a database too.

What it leaves out: storing (``optlab.classroom.store``) and the widgets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from optlab.i18n import N_, t
from optlab.theory import momentum_optimal

from . import challenges
from .challenges import Challenge
from .errors import ClassroomError

MAX_PARAMS = 80  # link keys in one lesson
MAX_KEY = 40
MAX_VALUE = 600  # a typed formula is at most 500 characters
MAX_TASK = 1500
MAX_TITLE = 120
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
_PAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
#: Link keys that belong to the app, never to a lesson's values.
APP_KEYS = ("lesson", "lang", "present", "class", "key")


@dataclass(frozen=True)
class Lesson:
    page: str  # the page's address, e.g. "Surface_Lab"
    params: tuple[tuple[str, str], ...] = ()  # the view: the page's link values
    locked: tuple[str, ...] = ()  # link keys students cannot change (their values are in params)
    hidden: tuple[str, ...] = ()  # link keys whose controls are not shown
    task: str = ""
    title: str = ""
    challenge: Challenge | None = None

    @property
    def values(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def locked_values(self) -> dict[str, str]:
        """Each locked key's value as the link writes it (a locked key without a value keeps the default)."""
        values = self.values
        return {k: values[k] for k in self.locked if k in values}

    def to_json(self) -> str:
        return json.dumps({"page": self.page, "params": [list(p) for p in self.params], "locked": list(self.locked),
                           "hidden": list(self.hidden), "task": self.task, "title": self.title,
                           "challenge": self.challenge.to_dict() if self.challenge else None},
                          ensure_ascii=False, sort_keys=True)


def _text(value: object, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ClassroomError(t("The {what} must be a text of at most {n} characters.", what=t(what), n=limit))
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ClassroomError(t("The {what} contains control characters; type plain text.", what=t(what)))
    return value.strip()


def _keys(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or len(value) > MAX_PARAMS:
        raise ClassroomError(t("The {what} must be a list of at most {n} link keys.", what=t(what), n=MAX_PARAMS))
    for key in value:
        if not isinstance(key, str) or not _KEY.fullmatch(key) or key in APP_KEYS:
            raise ClassroomError(t("“{key}” is not a page's link key.", key=str(key)[:MAX_KEY]))
    return tuple(dict.fromkeys(value))


def parse(data: object, pages: set[str] | None = None) -> Lesson:
    """A lesson from its JSON form (a stored one, or the panel's), every part checked against its limit.

    ``pages``: the page addresses that exist (None: any well-formed address).
    """
    if not isinstance(data, Mapping):
        raise ClassroomError(t("A lesson is a page, its link values, locked and hidden keys, a task and a challenge."))
    page = data.get("page")
    if not isinstance(page, str) or not _PAGE.fullmatch(page) or (pages is not None and page not in pages):
        raise ClassroomError(t("“{page}” is not a page of this app.", page=str(page)[:40]))
    raw = data.get("params") or []
    if not isinstance(raw, list | tuple) or len(raw) > MAX_PARAMS:
        raise ClassroomError(t("A lesson holds at most {n} link values.", n=MAX_PARAMS))
    params = []
    for pair in raw:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise ClassroomError(t("A lesson's link values are pairs of texts (key, value)."))
        key, value = pair
        if not _KEY.fullmatch(key) or key in APP_KEYS:
            raise ClassroomError(t("“{key}” is not a page's link key.", key=key[:MAX_KEY]))
        if len(value) > MAX_VALUE:
            raise ClassroomError(t("The link value of {key} is longer than {n} characters.", key=key, n=MAX_VALUE))
        params.append((key, value))
    challenge = data.get("challenge")
    return Lesson(
        page=page, params=tuple(dict(params).items()), locked=_keys(data.get("locked"), N_("locked controls")),
        hidden=_keys(data.get("hidden"), N_("hidden controls")), task=_text(data.get("task"), MAX_TASK, N_("task")),
        title=_text(data.get("title"), MAX_TITLE, N_("title")),
        challenge=None if challenge is None else challenges.parse(challenge))


def from_json(text: str, pages: set[str] | None = None) -> Lesson:
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as e:
        raise ClassroomError(t("This lesson's data cannot be read.")) from e
    return parse(data, pages)


def _builtin() -> dict[str, Lesson]:
    # Goh 2017's example: κ = 100 (λ = 0.01 and 1). Optimal GD: α = 2/(λ_min + λ_max); optimal heavy ball:
    # α = (2/(√λ_min + √λ_max))², β = ((√κ − 1)/(√κ + 1))² (optlab.theory.momentum_optimal).
    alpha, beta, _ = momentum_optimal(0.01, 1.0)
    gd = 2 / (0.01 + 1.0)
    q = (("s", "quadratic"), ("kappa", "100"), ("n", "150"))
    return {
        "momentum-kappa-100": Lesson(
            page="Surface_Lab",
            params=q + (("r1", f"sgd,lr:{gd:.4g}"), ("r2", f"momentum,lr:{alpha:.4g},momentum:{beta:.4g}")),
            locked=("s", "kappa", "n"), hidden=("noise", "seed"),
            title=N_("Momentum on the κ = 100 quadratic"),
            task=N_("Both runs use their optimal settings from theory. How many more steps does gradient descent "
                    "need than momentum to get within 1e-6 of the minimum? Change momentum's β and watch the "
                    "path go from crawling to ringing."),
            challenge=Challenge.of("critical_lr", kappa=100.0, tolerance=0.02)),
        "adam-vs-amsgrad": Lesson(
            page="Surface_Lab",
            params=(("s", "rosenbrock"), ("n", "500"), ("r1", "adam,lr:0.05"), ("r2", "amsgrad,lr:0.05")),
            locked=("s",), hidden=(),
            title=N_("Adam against AMSGrad"),
            task=N_("AMSGrad keeps the largest second moment seen so far, so its steps never grow again. Find a "
                    "learning rate where the two paths part, then make Adam diverge: end higher than it started."),
            challenge=Challenge.of("diverge", surface="rosenbrock", optimizers="adam")),
        "momentum-rosenbrock-200": Lesson(
            page="Surface_Lab",
            params=(("s", "rosenbrock"), ("n", "200"), ("r1", "momentum,lr:0.001,momentum:0.9")),
            locked=("s", "n"), hidden=("noise", "seed"),
            title=N_("Rosenbrock in 200 steps"),
            task=N_("Tune the learning rate and the momentum μ of SGD + momentum until f drops below 1e-4 within "
                    "the 200 steps."),
            challenge=Challenge.of("reach", surface="rosenbrock", target=1e-4, max_steps=200,
                                   optimizers="momentum")),
        "weight-decay-l2-vs-decoupled": Lesson(
            page="Weight_decay", params=(), locked=(), hidden=(),
            title=N_("Weight decay: L2 against decoupled"),
            task=N_("With Adam, an L2 penalty is divided by √v̂ like the gradient; decoupled decay (AdamW) is not. "
                    "Predict which one shrinks the weights more at the same coefficient, then run it.")),
        "ema-noisy-surface": Lesson(
            page="Surface_Lab",
            params=(("s", "rosenbrock"), ("n", "400"), ("noise", "20"), ("seed", "0"),
                    ("r1", "adam,lr:0.05"), ("r1e", "0.99")),
            locked=("s", "noise", "seed"), hidden=(),
            title=N_("An EMA of the weights on a noisy surface"),
            task=N_("The gradients are noisy (σ = 20). Compare the raw path with its EMA shadow: which one ends "
                    "nearer the minimum, and what happens to the EMA's lag when you raise the decay?")),
        "mnist-95-in-2-epochs": Lesson(
            page="MNIST_Lab", params=(), locked=(), hidden=(),
            title=N_("95% on MNIST in two epochs"),
            task=N_("Pick the optimizer, learning rate and schedule that get 95% test accuracy within two epochs."),
            challenge=Challenge.of("accuracy", target=0.95, max_epochs=2)),
    }


BUILTIN: dict[str, Lesson] = _builtin()


def builtin_title(lesson: Lesson) -> str:
    return t(lesson.title) if lesson.title else ""
