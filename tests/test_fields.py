"""Declared fields: link round trips, bad and forged values, constraints, cache keys, and widgets drawn from them."""

from __future__ import annotations

import json
import random
import string

import pytest
from streamlit.testing.v1 import AppTest

from optlab.config.app import APP_KEYS
from optlab.fields import Constraints, Field, Fields
from optlab.i18n import t, using

FIELDS = Fields((
    Field("n", "int", 300, label="steps", min=1, max=2000, widget="slider", always=True),
    Field("noise", "float", 0.0, label="noise", min=0.0, max=10.0, widget="number"),
    Field("lr", "float", 0.01, label="learning rate", min=1e-4, max=1.0, log=True, widget="log"),
    Field("nesterov", "bool", False, label="Nesterov", widget="checkbox"),
    Field("s", "choice", "a", label="surface", choices=("a", "b", "c"), widget="select"),
    Field("f", "text", "", label="formula", max_len=10, widget="text", applies=lambda v: v["s"] == "c"),
    Field("w", "pair", (-1.0, 1.0), label="window", min=-5.0, max=5.0, ordered=True),
    Field("tab", "choice", "plot", choices=("plot", "table"), view=True),
), prefix="p_", app_keys=APP_KEYS)

VALUES = [
    {},
    {"n": 2000, "noise": 2.5, "lr": 1e-4, "nesterov": True, "s": "b", "w": (-5.0, 0.25), "tab": "table"},
    {"n": 1, "s": "c", "f": "x*y", "lr": 0.123456789012},
]


@pytest.mark.parametrize("given", VALUES, ids=range(len(VALUES)))
def test_every_field_round_trips_through_the_link(given):
    values = {**FIELDS.defaults(), **given}
    q = FIELDS.encode(values)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in q.items())
    back, notes = FIELDS.decode(q)
    assert (back, notes) == (values, [])
    assert FIELDS.encode(back) == q


def test_defaults_are_left_out_of_the_link_unless_always_written():
    assert FIELDS.encode(FIELDS.defaults()) == {"n": "300"}


def test_a_field_that_does_not_apply_is_neither_written_nor_read():
    assert "f" not in FIELDS.encode({**FIELDS.defaults(), "f": "x"})
    values, notes = FIELDS.decode({"s": "a", "f": "x"})
    assert values["f"] == "" and notes == []


# (query, key, the value it must take, a piece of the notice)
BAD = [
    ({"n": "ten"}, "n", 300, "n: 'ten' is not a number; using the default"),
    ({"n": "inf"}, "n", 300, "not a finite number"),
    ({"n": "99999"}, "n", 2000, "n=99999 is outside [1, 2000]; using 2000"),
    ({"n": "2.6"}, "n", 3, "n=2.6 is not a whole number; using 3"),
    ({"noise": "-1"}, "noise", 0.0, "noise=-1 is outside [0, 10]; using 0"),
    ({"lr": "nan"}, "lr", 0.01, "not a finite number"),
    ({"nesterov": "maybe"}, "nesterov", False, "nesterov must be 1 or 0, got 'maybe'"),
    ({"s": "z"}, "s", "a", "s: unknown value 'z' (known: a, b, c); using a"),
    ({"s": "c", "f": "x" * 11}, "f", "", "f is longer than 10 characters"),
    ({"w": "1"}, "w", (-1.0, 1.0), "expected two numbers"),
    ({"w": "2,1"}, "w", (-1.0, 1.0), "the minimum must be below the maximum"),
    ({"w": "-9,1"}, "w", (-5.0, 1.0), "w=-9 is outside [-5, 5]"),
    ({"tab": "<script>"}, "tab", "plot", "tab: unknown value '<script>'"),
    ({"zz": "1", "n": "5"}, "n", 5, "Ignored unknown link parameter(s): zz"),
]


@pytest.mark.parametrize("query, key, want, note", BAD, ids=[b[3] for b in BAD])
def test_a_bad_or_forged_value_falls_back_and_is_named(query, key, want, note):
    values, notes = FIELDS.decode(query)
    assert values[key] == want
    assert any(note in n for n in notes), notes


def test_the_app_wide_keys_are_known_to_every_page_and_cannot_be_redeclared():
    assert FIELDS.decode({"lang": "zh", "lesson": "x"}) == (FIELDS.defaults(), [])
    with pytest.raises(ValueError, match="app-wide link key"):
        Fields((Field("lang", "text", ""),), app_keys=APP_KEYS)


def test_random_junk_never_raises_and_always_gives_values_in_range():
    rng = random.Random(1)
    keys = [f.key for f in FIELDS] + ["lang", "?"]
    for _ in range(300):
        q = {rng.choice(keys): "".join(rng.choice(string.printable + "∞−") for _ in range(rng.randint(0, 14)))
             for _ in range(rng.randint(1, 5))}
        values, notes = FIELDS.decode(q)
        assert FIELDS.problems(values) == [] and isinstance(notes, list)
        assert FIELDS.decode(FIELDS.encode(values)) == (values, [])
    assert FIELDS.decode(object())[0] == FIELDS.defaults()  # not even a mapping


def test_a_locked_field_keeps_its_value_and_a_link_that_says_otherwise_is_told():
    locks = Constraints(locked={"n": 50, "s": "b"}, hidden={"noise"})
    values, notes = FIELDS.decode({"n": "700", "noise": "3"}, locks)
    assert (values["n"], values["s"], values["noise"]) == (50, "b", 3.0)
    assert len(notes) == 1 and "n is fixed by this lesson at 50" in notes[0] and "'700'" in notes[0]
    assert FIELDS.decode({"n": "50"}, locks) == ({**FIELDS.defaults(), "n": 50, "s": "b"}, [])


def test_the_cache_key_holds_what_is_computed_and_never_the_view():
    a = {**FIELDS.defaults(), "tab": "table"}
    assert FIELDS.cache_key(a) == FIELDS.cache_key(FIELDS.defaults())
    assert "tab" not in json.loads(FIELDS.cache_key(a)) and "f" not in json.loads(FIELDS.cache_key(a))
    assert FIELDS.cache_key({**a, "noise": 1.0}) != FIELDS.cache_key(a)


def test_problems_name_the_field_and_the_valid_range():
    assert FIELDS.problems({"n": 0, "s": "q"}) == ["n=0 is outside the allowed range [1, 2000].",
                                                     "s must be one of a, b, c, got 'q'."]


@pytest.mark.parametrize("bad, match", [
    (dict(key="x", kind="number", default=0), "kind must be one of"),
    (dict(key="x", kind="choice", default="q", choices=("a",)), "is not one of its choices"),
    (dict(key="x", kind="custom", default=None), "needs a codec"),
    (dict(key="x", kind="int", default=0, widget="dial"), "widget must be one of"),
])
def test_a_wrong_declaration_is_refused_with_what_is_wrong(bad, match):
    with pytest.raises(ValueError, match=match):
        Field(**bad)


def _page() -> None:  # an AppTest script: the fields above as widgets, with a lesson's constraints
    import streamlit as st

    import optlab.ui.language  # noqa: F401 - the reader's language comes from ?lang=, as on every page of the app
    from optlab.fields import Constraints
    from optlab.ui import fields as ui_fields
    from tests.test_fields import FIELDS

    locks = Constraints(locked={"n": 50}, hidden={"noise"})
    if "loaded" not in st.session_state:
        st.session_state.loaded = True
        values, notes = FIELDS.decode(ui_fields.read_link(), locks)
        ui_fields.load(FIELDS, values)
        st.session_state.notes = notes
    got = {f.key: ui_fields.widget(FIELDS, f.key, locks) for f in FIELDS if f.widget}
    ui_fields.write_link(FIELDS.encode(got))
    st.write(got)


def test_widgets_are_drawn_from_the_fields_locked_greyed_hidden_not_at_all_and_the_link_keeps_app_keys():
    at = AppTest.from_function(_page, default_timeout=30)
    at.query_params.update({"n": "700", "lr": "0.5", "s": "b", "lang": "zh", "noise": "4"})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    steps = at.slider(key="p_n")
    assert steps.value == 50 and steps.disabled
    with using("zh"):  # the link's ?lang=zh: the label is the catalog's, whichever test ran before
        assert steps.label == t("steps") != "steps"
    assert at.number_input(key="p_lr").value == 0.5 and not at.number_input(key="p_lr").disabled
    assert at.selectbox(key="p_s").value == "b"
    assert not [w for w in at.number_input if w.key == "p_noise"]  # hidden: not drawn
    with using("zh"):
        fixed = t("{what} is fixed by this lesson at {value}; the link's {given} was put back.", what="n", value=50,
                  given="'700'")
    assert at.session_state["notes"] == [fixed]
    link = {k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in at.query_params}
    assert link["lang"] == "zh" and link["n"] == "50" and link["lr"] == "0.5" and link["noise"] == "4"
    at.selectbox(key="p_s").set_value("c").run()
    assert at.text_input(key="p_f") is not None and at.selectbox(key="p_s").value == "c"


@pytest.mark.parametrize(("text", "expected"), [("10", 10.0), ("10.0", 10.0), ("1e1", 10.0), ("0.1", 0.1)])
def test_a_numeric_choice_reads_however_the_number_is_written(text, expected):
    field = Field("h", "choice", 1.0, choices=(0.1, 1.0, 10.0))
    notes: list[str] = []
    assert field.read(text, notes) == expected
    assert notes == []


def test_a_number_that_is_no_choice_is_still_refused():
    field = Field("h", "choice", 1.0, choices=(0.1, 1.0, 10.0))
    notes: list[str] = []
    assert field.read("3", notes) is None
    assert len(notes) == 1
