"""One declaration per setting: a page's setup as a list of fields, from which its link, widgets and cache key follow.

A :class:`Field` says what a setting is (its key in the link, its type, its one range or its choices, its
default, the widget that shows it, its label and help as catalog messages, whether it decides what is computed
or only what is looked at). A :class:`Fields` list derives from those declarations

- the link's encode and decode (:meth:`Fields.encode`, :meth:`Fields.decode`): a value that cannot be read, or
  that a hand-edited link forged, falls back to the default and is named in a plain notice; decoding never
  raises, whatever the link holds;
- the session keys of the widgets (:meth:`Fields.session_key`; the widgets themselves are drawn by
  ``optlab.ui.fields``);
- the cache key (:meth:`Fields.cache_key`: the fields that decide the computation, never the view);
- the table of link keys for a module's docstring (:meth:`Fields.doc_table`).

:class:`Constraints` lock fields to values and hide others (a class lesson's link): a locked field's link value
that differs from the locked value is put back, with a notice. What this module leaves out: Streamlit, and
what any page's settings mean.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from optlab.i18n import t

KINDS = ("float", "int", "bool", "choice", "text", "pair", "custom")
WIDGETS = ("", "number", "slider", "log", "select", "segmented", "checkbox", "text")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
SHOWN = 40  # characters of a bad link value repeated in a notice


class Codec(Protocol):
    """How a ``custom`` field's value is written into one link value and read back (e.g. a run's settings)."""

    def read(self, text: str, what: str, notes: list[str]) -> Any:
        """The value, or None for one that cannot be used (after appending a note saying why)."""

    def write(self, value: Any) -> str:
        """The link text for ``value``."""


def shown(text: object) -> str:
    """A value from a link as a notice quotes it: in quotes, cut to ``SHOWN`` characters."""
    return repr(str(text)[:SHOWN])


def number_text(v: float) -> str:
    """Shortest text that reads back as the same number (``repr``), without a trailing ``.0``."""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _same_number(choice: Any, text: str) -> bool:
    """A numeric choice written another way in a link: ``10`` for the choice 10.0, ``1e-3`` for 0.001."""
    if isinstance(choice, bool) or not isinstance(choice, (int, float)):
        return False
    try:
        return float(text) == float(choice)
    except ValueError:
        return False


def read_number(text: str, what: str, notes: list[str]) -> float | None:
    """A finite number from link text, or None with a note saying what it is instead."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        notes.append(t("{what}: {text} is not a number; using the default.", what=what, text=shown(text)))
        return None
    if not math.isfinite(v):
        notes.append(t("{what}: {text} is not a finite number; using the default.", what=what, text=shown(text)))
        return None
    return v


def clamped(v: float, lo: float | None, hi: float | None, what: str, notes: list[str]) -> float:
    """``v`` moved into [lo, hi] (either end may be open), with a note when it had to move."""
    lo_ = -math.inf if lo is None else lo
    hi_ = math.inf if hi is None else hi
    if lo_ <= v <= hi_:
        return v
    c = min(max(v, lo_), hi_)
    notes.append(t("{what}={value} is outside [{lo}, {hi}]; using {used}.", what=what, value=f"{v:g}",
                   lo=f"{lo_:g}", hi=f"{hi_:g}", used=f"{c:g}"))
    return c


@dataclass(frozen=True)
class Field:
    """One setting of a page.

    Attributes:
        key: its key in the link (``n``, ``noise``, ``v``); also the end of its widget's session key.
        kind: ``float``, ``int``, ``bool``, ``choice`` (one of ``choices``), ``text`` (at most ``max_len``
            characters), ``pair`` (two numbers ``a,b``, each in [min, max]; ``ordered``: a < b) or ``custom``
            (read and written by ``codec``).
        default: the value a missing or unusable link value takes.
        label, help: what the widget says, as catalog messages (marked with ``N_``; shown with ``t``).
        min, max: the one range of a number (inclusive; None is open), used by the widget, the link and
            :meth:`problem`, which the library asks before it runs anything.
        choices: the values a ``choice`` may take, in the widget's order.
        widget: how ``optlab.ui.fields`` draws it (``number``, ``slider``, ``log``, ``select``, ``segmented``,
            ``checkbox``, ``text``), or ``""`` when the page draws it itself.
        step: the widget's step (None: the widget's own).
        cache: whether the value decides what is computed (so it enters the cache key).
        view: part of what the page points at only (an open tab, an inspected step): never in the cache key.
        always: written into the link even while it holds its default.
        what: how notices name it (default: ``key``).
        state: its widget's session key after the page's prefix (default: ``key``).
        applies: given the decoded values so far, whether the field means anything (a quadratic's κ on
            another surface does not): a field that does not apply is neither written nor read.
        doc: an example and a meaning for the docstring table (``("500", "steps, 1 to 2000")``).
    """

    key: str
    kind: str
    default: Any
    label: str = ""
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    widget: str = ""
    step: float | None = None
    log: bool = False
    cache: bool = True
    view: bool = False
    always: bool = False
    max_len: int = 500
    ordered: bool = False
    what: str = ""
    state: str = ""
    codec: Codec | None = None
    applies: Callable[[Mapping[str, Any]], bool] | None = None
    doc: tuple[str, str] = ("", "")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Field {self.key!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.widget not in WIDGETS:
            raise ValueError(f"Field {self.key!r}: widget must be one of {', '.join(WIDGETS)}, got {self.widget!r}")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"Field {self.key!r}: its default {self.default!r} is not one of its choices")
        if self.kind == "custom" and self.codec is None:
            raise ValueError(f"Field {self.key!r}: a custom field needs a codec")
        if self.view:
            object.__setattr__(self, "cache", False)

    @property
    def name(self) -> str:
        """How notices name the field."""
        return self.what or self.key

    # --- one value: link text -> value -> link text -----------------------------------------------------------

    def read(self, text: str, notes: list[str]) -> Any:
        """The value link text describes, fitted into the field's range, or None (after a note) if it is unusable."""
        what = self.name
        if self.kind == "custom":
            return self.codec.read(text, what, notes)
        text = text.strip() if self.kind != "text" else text
        if self.kind == "bool":
            low = text.lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            notes.append(t("{what} must be 1 or 0, got {text}; using the default.", what=what, text=shown(text)))
            return None
        if self.kind == "choice":
            for c in self.choices:
                if str(c) == text or str(c).lower() == text.lower() or _same_number(c, text):
                    return c
            notes.append(t("{what}: unknown value {text} (known: {known}); using {default}.", what=what,
                           text=shown(text), known=", ".join(map(str, self.choices)), default=self.default))
            return None
        if self.kind == "text":
            text = text.strip()
            if len(text) > self.max_len:
                notes.append(t("{what} is longer than {n} characters; using the default.", what=what, n=self.max_len))
                return None
            return text
        if self.kind == "pair":
            parts = text.split(",")
            if len(parts) != 2:
                notes.append(t("{what}: expected two numbers like '-1.5,2', got {text}; using the default.",
                               what=what, text=shown(text)))
                return None
            a, b = (read_number(p.strip(), what, notes) for p in parts)
            if a is None or b is None:
                return None
            pair = (clamped(a, self.min, self.max, what, notes), clamped(b, self.min, self.max, what, notes))
            if self.ordered and not pair[0] < pair[1]:
                notes.append(t("{what}: the minimum must be below the maximum; using the default.", what=what))
                return None
            return pair
        v = read_number(text, what, notes)
        if v is None:
            return None
        if self.kind == "int":
            if v != int(v):
                notes.append(t("{what}={value} is not a whole number; using {used}.", what=what, value=f"{v:g}",
                               used=round(v)))
                v = float(round(v))
            return int(clamped(v, self.min, self.max, what, notes))
        return clamped(v, self.min, self.max, what, notes)

    def write(self, value: Any) -> str:
        """The link text for ``value`` (read back by :meth:`read` as the same value)."""
        if self.kind == "custom":
            return self.codec.write(value)
        if self.kind == "pair":
            return f"{number_text(value[0])},{number_text(value[1])}"
        if self.kind in ("float", "int", "bool"):
            return number_text(int(value) if self.kind == "int" else bool(value) if self.kind == "bool" else value)
        return str(value)

    def fit(self, value: Any) -> Any:
        """``value`` as the field holds it: a number moved into its range (the widgets' and the library's rule)."""
        if self.kind in ("float", "int") and not isinstance(value, bool):
            lo = -math.inf if self.min is None else self.min
            hi = math.inf if self.max is None else self.max
            v = min(max(float(value), lo), hi)
            return int(round(v)) if self.kind == "int" else v
        return value

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this field (a whole sentence, with what a valid value is), or None."""
        if self.kind in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                return t("{what} must be a finite number, got {value}.", what=self.name, value=shown(value))
            if self.kind == "int" and value != int(value):
                return t("{what} must be a whole number, got {value}.", what=self.name, value=f"{value:g}")
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                return t("{what}={value} is outside the allowed range [{lo}, {hi}].", what=self.name,
                         value=f"{value:g}", lo=f"{self.min:g}", hi=f"{self.max:g}")
        if self.kind == "choice" and value not in self.choices:
            return t("{what} must be one of {known}, got {value}.", what=self.name,
                     known=", ".join(map(str, self.choices)), value=shown(value))
        return None

    def applies_to(self, values: Mapping[str, Any]) -> bool:
        return self.applies is None or bool(self.applies(values))


@dataclass(frozen=True)
class Constraints:
    """What a lesson link fixes: ``locked`` link keys hold the given values (drawn greyed, with the value shown),
    ``hidden`` ones are not drawn at all. No constraints: both empty."""

    locked: Mapping[str, Any] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "locked", dict(self.locked))
        object.__setattr__(self, "hidden", frozenset(self.hidden))

    def __bool__(self) -> bool:
        return bool(self.locked or self.hidden)

    def is_locked(self, key: str) -> bool:
        return key in self.locked

    def is_hidden(self, key: str) -> bool:
        return key in self.hidden


NO_CONSTRAINTS = Constraints()


def read_query(params: Mapping[str, str | Sequence[str]]) -> dict[str, str] | None:
    """One text per key (the last, if a key was repeated), or None for a mapping that cannot be read."""

    def one(value: str | Sequence[str]) -> str:
        if isinstance(value, str):
            return value
        return str(value[-1]) if len(value) else ""

    try:
        return {str(k): one(v) for k, v in params.items()}
    except Exception:  # noqa: BLE001 - any object at all may arrive as a "link"
        return None


class Fields:
    """A page's fields, in order (a field that ``applies`` only given others comes after them)."""

    def __init__(self, fields: Iterable[Field], prefix: str = "", app_keys: Iterable[str] = ()) -> None:
        self.fields: tuple[Field, ...] = tuple(fields)
        self.prefix = prefix
        self.app_keys = frozenset(app_keys)
        self._by_key = {f.key: f for f in self.fields}
        if len(self._by_key) != len(self.fields):
            raise ValueError("Fields: two fields share a key")
        clash = self.app_keys & set(self._by_key)
        if clash:
            raise ValueError(f"Fields: {', '.join(sorted(clash))} is an app-wide link key")

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, key: str) -> Field:
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def keys(self) -> frozenset[str]:
        """Every link key the page reads (its fields' and the app-wide ones)."""
        return frozenset(self._by_key) | self.app_keys

    def defaults(self) -> dict[str, Any]:
        return {f.key: f.default for f in self.fields}

    def session_key(self, key: str) -> str:
        """The session-state key of a field's widget."""
        return f"{self.prefix}{self._by_key[key].state or key}"

    def view_keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields if f.view)

    # --- the link ---------------------------------------------------------------------------------------------

    def encode(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Query parameters for ``values``: a field that does not apply, is missing, or holds its default (unless
        ``always``) is left out, so default links stay short."""
        q: dict[str, str] = {}
        for f in self.fields:
            if f.key not in values or not f.applies_to(values):
                continue
            v = values[f.key]
            if f.always or v != f.default:
                q[f.key] = f.write(v)
        return q

    def decode(self, params: Mapping[str, str | Sequence[str]], constraints: Constraints = NO_CONSTRAINTS,
               unknown_note: bool = True) -> tuple[dict[str, Any], list[str]]:
        """The values a link describes (every field: its default where the link has none or a bad one) and the
        notices on what had to be fixed. Never raises.

        Unknown keys are named once (unless ``unknown_note`` is False); a field that does not apply (given the values before it) is ignored
        silently; a locked field holds its locked value, and a link that said otherwise is told so.
        """
        notes: list[str] = []
        q = read_query(params)
        if q is None:
            return self.defaults(), [t("The link could not be read; showing the default settings.")]
        unknown = sorted(k for k in q if k not in self.keys)
        if unknown and unknown_note:
            notes.append(t("Ignored unknown link parameter(s): {keys}.", keys=", ".join(k[:20] for k in unknown[:5])))
        values: dict[str, Any] = {}
        for f in self.fields:
            values[f.key] = f.default
            if f.key in q and f.applies_to(values):
                v = f.read(q[f.key], notes)
                if v is not None:
                    values[f.key] = v
        return self.constrain(values, constraints, notes, given=q)

    def constrain(self, values: Mapping[str, Any], constraints: Constraints, notes: list[str] | None = None,
                  given: Mapping[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
        """``values`` with every locked field at its locked value; a note for each that a link (``given``) set
        otherwise."""
        notes = [] if notes is None else notes
        out = dict(values)
        for key, locked in constraints.locked.items():
            if key not in self._by_key:
                continue
            if out.get(key) != locked and (given is None or key in given):
                f = self._by_key[key]
                notes.append(t("{what} is fixed by this lesson at {value}; the link's {given} was put back.",
                               what=f.name, value=f.write(locked),
                               given=shown(given[key]) if given and key in given else shown(f.write(out.get(key)))))
            out[key] = locked
        return out, notes

    # --- the cache key and the docs ---------------------------------------------------------------------------

    def cache_key(self, values: Mapping[str, Any]) -> str:
        """Canonical JSON of the fields that decide the computation (not the view, not what does not apply):
        equal computations give equal keys."""
        picked = {f.key: values.get(f.key, f.default) for f in self.fields
                  if f.cache and f.applies_to(values)}
        return json.dumps(picked, sort_keys=True, separators=(",", ":"), default=_jsonable)

    def problems(self, values: Mapping[str, Any]) -> list[str]:
        """What in ``values`` lies outside the fields' ranges or choices (empty when all fits)."""
        return [p for f in self.fields if f.key in values and f.applies_to(values)
                and (p := f.problem(values[f.key])) is not None]

    def doc_table(self, extra: Sequence[tuple[str, str, str]] = ()) -> str:
        """An RST table of the link keys (key, example, meaning), from the declarations plus ``extra`` rows."""
        rows = [(f.key, f"``{f.doc[0]}``" if f.doc[0] else "", f.doc[1] or f.label) for f in self.fields
                if f.doc != ("", "-")]
        rows += [(k, f"``{e}``" if e else "", m) for k, e, m in extra]
        widths = [max(len(r[i]) for r in [("key", "example", "meaning"), *rows]) for i in range(3)]
        rule = "  ".join("=" * w for w in widths)
        line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
        return "\n".join([rule, line(("key", "example", "meaning")), rule, *map(line, rows), rule])


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(f"cannot put {type(value).__name__} into a cache key")
