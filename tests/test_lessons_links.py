"""Every lesson page keeps its setup in its link: a link with every setting changed opens the page with those
values in its widgets and writes the same link back; a forged link gets a notice and the defaults."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.config.lessons import PAGES
from optlab.fields import Field, Fields

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
# Values a generic rule would pick but the page cannot show: the narrated step's step t lies within its run.
OVERRIDES = {12: {"opt": "lion", "t": 3, "stage": 1, "n": 20}}


def page_file(number: int) -> Path:
    (path,) = PAGES_DIR.glob(f"{number}_*.py")
    return path


def changed(f: Field) -> object:
    """A valid value other than the field's default."""
    if f.kind == "choice":
        return next(c for c in reversed(f.choices) if c != f.default)
    if f.kind == "bool":
        return not f.default
    value = f.max if f.default != f.max else f.min
    return int(value) if f.kind == "int" else value


def changed_values(number: int, fields: Fields) -> dict:
    values = fields.defaults()
    values.update({k: v for k, v in OVERRIDES.get(number, {}).items() if k in ("opt",)})
    for f in fields:
        if f.key in OVERRIDES.get(number, {}):
            values[f.key] = OVERRIDES[number][f.key]
        elif f.applies_to(values) and f.key != "opt":
            values[f.key] = changed(f)
    return values


def open_with(number: int, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(page_file(number)), default_timeout=90)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_every_lesson_page_has_fields():
    numbers = sorted(int(p.name.split("_")[0]) for p in PAGES_DIR.glob("*.py")
                     if "from optlab.lessons import" in p.read_text(encoding="utf-8"))
    assert numbers == sorted(PAGES)
    for number in numbers:
        assert f"keep_in_link({number})" in page_file(number).read_text(encoding="utf-8")


@pytest.mark.parametrize("number", sorted(PAGES))
def test_a_link_round_trips(number):
    _, fields = PAGES[number]
    values = changed_values(number, fields)
    query = fields.encode(values)
    assert query, "the changed values make a non-empty link"
    at = open_with(number, query)
    for f in fields:
        if f.applies_to(values):
            assert at.session_state[fields.session_key(f.key)] == pytest.approx(values[f.key]), f.key
    notices = [w.value for w in at.warning if "link" in w.value or "default" in w.value]
    assert not notices, notices  # a valid link gets no notice (a page's own warnings may show)
    at.run()  # a second run writes the link from the widgets themselves
    assert {k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in at.query_params} == query




@pytest.mark.parametrize("number", sorted(PAGES))
def test_a_forged_link_gets_a_notice_and_the_defaults(number):
    _, fields = PAGES[number]
    first = next(f for f in fields if f.kind in ("float", "int", "choice") and not f.view)
    query = {first.key: "not-a-value", "nonsense": "1"}
    at = open_with(number, query)
    assert at.warning, "a forged link is told what was wrong"
    text = " ".join(w.value for w in at.warning)
    assert "nonsense" in text and first.name in text
    assert at.session_state[fields.session_key(first.key)] == first.default
    at.run()
    assert first.key not in at.query_params and "nonsense" not in at.query_params
