"""What a student sends: the link that reproduces their result, its outcome, and its path or curve; all checked.

Every field has a type and a limit; anything else (a string where a number goes, NaN, a 10 MB path, an unknown
page) is refused with a sentence that says what a valid value is, before the database is touched.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optlab.i18n import t

from .errors import ClassroomError

MAX_LINK = 4000  # characters of query string
MAX_LABEL = 80
MAX_NOTE = 200
MAX_POINTS = 2001  # a path of 2000 steps, or a curve of 2000 points
MAX_SERIES_CHARS = 100_000  # the series as JSON
SERIES_KINDS = ("path", "curve")
_PAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


@dataclass(frozen=True)
class SubmissionIn:
    page: str  # the page's address, e.g. "Surface_Lab"
    link: str  # its query string, e.g. "s=rosenbrock&r1=adam,lr:0.05"
    label: str = ""
    final_loss: float | None = None
    steps_to_converge: int | None = None
    accuracy: float | None = None  # in [0, 1]
    challenge_passed: bool | None = None
    challenge_note: str = ""
    series_kind: str = ""  # "path": [[x, y], ...]; "curve": [loss, ...]; "": none
    series: tuple = ()

    def series_json(self) -> str:
        return json.dumps([list(p) for p in self.series] if self.series_kind == "path" else list(self.series))


def _number(name: str, value: object, low: float, high: float, integer: bool = False) -> float | int | None:
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not low <= value <= high:
        raise ClassroomError(t("The {name} must be a finite number from {low:g} to {high:g}.", name=name, low=low,
                               high=high))
    return int(value) if integer else float(value)


def _text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
        raise ClassroomError(t("The {name} must be a plain text of at most {n} characters.", name=name, n=limit))
    return value


def _series(kind: object, values: object) -> tuple[str, tuple]:
    if kind in ("", None):
        return "", ()
    if kind not in SERIES_KINDS or not isinstance(values, Sequence) or isinstance(values, str):
        raise ClassroomError(t("A submission carries a path (x, y points) or a curve (numbers), or neither."))
    if len(values) > MAX_POINTS:
        raise ClassroomError(t("A submission's {kind} holds at most {n} points; this one has {m}.", kind=kind,
                               n=MAX_POINTS, m=len(values)))
    out = []
    for item in values:
        point = item if kind == "path" else [item]
        if kind == "path" and (not isinstance(point, Sequence) or isinstance(point, str) or len(point) != 2):
            raise ClassroomError(t("Each point of a path is a pair of numbers (x, y)."))
        for x in point:
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or abs(x) > 1e12:
                raise ClassroomError(t("A submission's {kind} holds finite numbers only.", kind=kind))
        out.append((float(point[0]), float(point[1])) if kind == "path" else float(point[0]))
    return str(kind), tuple(out)


def parse(data: Mapping[str, Any], pages: set[str] | None = None) -> SubmissionIn:
    """A submission from plain data, every field checked (see the module's docstring)."""
    if not isinstance(data, Mapping):
        raise ClassroomError(t("A submission is a page, its link and its outcome."))
    unknown = set(data) - set(SubmissionIn.__dataclass_fields__)
    if unknown:
        raise ClassroomError(t("A submission has no field {name}.", name=sorted(map(str, unknown))[0][:40]))
    page = data.get("page")
    if not isinstance(page, str) or not _PAGE.fullmatch(page) or (pages is not None and page not in pages):
        raise ClassroomError(t("“{page}” is not a page of this app.", page=str(page)[:40]))
    passed = data.get("challenge_passed")
    if passed is not None and not isinstance(passed, bool):
        raise ClassroomError(t("Whether the challenge passed is yes, no, or not given."))
    kind, series = _series(data.get("series_kind", ""), data.get("series", ()))
    sub = SubmissionIn(
        page=page, link=_text(t("link"), data.get("link", ""), MAX_LINK).lstrip("?"),
        label=_text(t("label"), data.get("label", ""), MAX_LABEL),
        final_loss=_number(t("final loss"), data.get("final_loss"), -1e300, 1e300),
        steps_to_converge=_number(t("number of steps"), data.get("steps_to_converge"), 0, 10**6, integer=True),
        accuracy=_number(t("accuracy"), data.get("accuracy"), 0.0, 1.0),
        challenge_passed=passed, challenge_note=_text(t("challenge note"), data.get("challenge_note", ""), MAX_NOTE),
        series_kind=kind, series=series)
    if len(sub.series_json()) > MAX_SERIES_CHARS:
        raise ClassroomError(t("This submission's {kind} is too large to store.", kind=kind))
    return sub
