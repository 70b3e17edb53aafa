"""Every lesson page keeps its setup in its link: a link with every setting changed opens the page with those
values in its widgets and writes the same link back; a forged link gets a notice and the defaults; a class
lesson's lock greys its widget and puts a hand-edited value back, with a notice, and a hidden setting is not
drawn."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.config.lessons import PAGES, URL_PATHS, page_key
from optlab.fields import Field, Fields

NUMBERS = sorted(URL_PATHS)

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
# Values a generic rule would pick but the page cannot show: the narrated step's step t lies within its run.
OVERRIDES = {12: {"opt": "lion", "t": 3, "stage": 1, "n": 20}}


def page_file(number: int) -> Path:
    (path,) = PAGES_DIR.glob(f"{number}_*.py")
    return path


def fields_of(number: int) -> Fields:
    return PAGES[page_key(number)]


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
    assert numbers == NUMBERS
    for number in numbers:
        assert page_file(number).name == f"{number}_{URL_PATHS[number]}.py"
        assert f"keep_in_link({number})" in page_file(number).read_text(encoding="utf-8")


@pytest.mark.parametrize("number", NUMBERS)
def test_a_link_round_trips(number):
    fields = fields_of(number)
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




@pytest.mark.parametrize("number", NUMBERS)
def test_a_forged_link_gets_a_notice_and_the_defaults(number):
    fields = fields_of(number)
    first = next(f for f in fields if f.kind in ("float", "int", "choice") and not f.view)
    query = {first.key: "not-a-value", "nonsense": "1"}
    at = open_with(number, query)
    assert at.warning, "a forged link is told what was wrong"
    text = " ".join(w.value for w in at.warning)
    assert "nonsense" in text and first.name in text
    assert at.session_state[fields.session_key(first.key)] == first.default
    at.run()
    assert first.key not in at.query_params and "nonsense" not in at.query_params


# --- a class lesson's locks --------------------------------------------------------------------------------


@pytest.fixture
def lesson_store(tmp_path, monkeypatch):
    """A fresh SQLite class store in a temporary folder, as the app opens it."""
    from optlab.classroom import engine as engine_mod
    from optlab.classroom.store import ClassStore
    from optlab.ui.classroom import access

    monkeypatch.delenv("OPTLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("OPTLAB_DATA_DIR", str(tmp_path))
    engine_mod.forget_engines()
    access._store.clear()
    yield ClassStore(engine_mod.get_engine())
    access._store.clear()
    engine_mod.forget_engines()


def save_lesson(store, number: int, params: dict, locked=(), hidden=()) -> str:
    from optlab.classroom.lessons import parse

    return store.save_lesson(parse({"page": URL_PATHS[number], "params": sorted(params.items()),
                                    "locked": list(locked), "hidden": list(hidden), "task": "Try it."}))


def widget_of(at: AppTest, session_key: str):
    """The one widget drawn with this session key, or None."""
    kinds = ("slider", "select_slider", "number_input", "selectbox", "radio", "toggle", "checkbox")
    found = [w for kind in kinds for w in getattr(at, kind) if w.key == session_key]
    assert len(found) <= 1, found
    return found[0] if found else None


# (page, the locked key and its lesson value, the value a student types into the link, a hidden key)
LOCK_CASES = [
    (6, "lr", 0.003, "0.03", "steps"),
    (13, "b1", 0.5, "0.95", "netlr"),
    (9, "d", 0.8, "0.99", "tau"),
    (12, "adam_lr", 0.02, "0.5", "n"),
    (12, "opt", "muon", "sgd", "muon_momentum"),
]


@pytest.mark.parametrize(("number", "key", "value", "typed", "hidden"), LOCK_CASES)
def test_a_locked_setting_is_greyed_with_its_value_and_a_hand_edited_link_is_put_back(
        lesson_store, number, key, value, typed, hidden):
    fields = fields_of(number)
    lesson_id = save_lesson(lesson_store, number, {key: fields[key].write(value)}, locked=[key],
                            hidden=[hidden])
    at = open_with(number, {"lesson": lesson_id, key: typed})
    hidden_key = fields.session_key(hidden)
    drawn = widget_of(at, fields.session_key(key))
    assert drawn is not None and drawn.disabled, f"{key} is drawn greyed"
    assert drawn.value == value
    assert at.session_state[fields.session_key(key)] == value
    notices = " ".join(w.value for w in at.warning)
    assert "fixed by this lesson" in notices and "put back" in notices and typed in notices
    assert widget_of(at, hidden_key) is None, f"{hidden} is hidden"
    free = [widget_of(at, fields.session_key(f.key)) for f in fields if f.key not in (key, hidden)]
    assert any(w is not None and not w.disabled for w in free), "what the lesson leaves free stays free"
    at.run()
    assert at.query_params[key] in (fields[key].write(value), [fields[key].write(value)])
    assert "Try it." in " ".join([*(m.value for m in at.markdown), *(i.value for i in at.info)])  # the task


def test_a_lesson_page_without_a_lesson_draws_every_setting_free():
    at = open_with(6, {})
    for name in ("lr", "wd", "steps"):
        drawn = widget_of(at, fields_of(6).session_key(name))
        assert drawn is not None and not drawn.disabled
