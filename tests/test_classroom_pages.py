"""The class board and the class panel in AppTest: open a class, join, send, the teacher's board, the teacher
key's protection, and a lesson's locks enforced against a hand-edited link."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.classroom import engine as engine_mod
from optlab.classroom.store import ClassStore
from optlab.classroom.submission import parse

ROOT = Path(__file__).resolve().parents[1]
BOARD = str(ROOT / "pages" / "16_Class_board.py")
SURFACE_LAB = str(ROOT / "pages" / "1_Surface_Lab.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    from optlab.ui.classroom import access

    monkeypatch.delenv("OPTLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("OPTLAB_DATA_DIR", str(tmp_path))
    engine_mod.forget_engines()
    access._store.clear()
    yield tmp_path
    access._store.clear()
    engine_mod.forget_engines()


def direct_store() -> ClassStore:
    return ClassStore(engine_mod.get_engine())


def param(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value if isinstance(value, str) else value[-1]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [h.value for h in at.header] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    parts += [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def test_a_teacher_opens_a_class_and_sees_students_results(data_dir):
    at = AppTest.from_file(BOARD, default_timeout=60).run()
    assert not at.exception
    at.text_input(key="classroom_open_title").input("Optics")
    next(b for b in at.button if b.label == "Open the class").click()
    at.run()
    assert not at.exception
    code, key = param(at, "class"), param(at, "key")
    assert len(code) == 6 and len(key) >= 32
    assert f"Class {code} · Optics" in texts(at)

    store = direct_store()
    joined = store.join(code, "Ann")
    store.submit(code, joined.student_id, joined.token, parse({
        "page": "Surface_Lab", "link": "s=rosenbrock&r1=adam,lr:0.05", "label": "Adam, lr 0.05", "final_loss": 0.02,
        "series_kind": "path", "series": [[-1.5, 2.0], [0.0, 0.5], [1.0, 1.0]]}))
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["name"]) == ["Ann"] and list(table["run"]) == ["Adam, lr 0.05"]
    assert table["open"][0].endswith("Surface_Lab?s=rosenbrock&r1=adam,lr:0.05")
    assert len(at.get("plotly_chart")) == 1
    at.toggle(key="classroom_hide_names").set_value(True).run()
    assert list(at.dataframe[0].value["name"]) == ["student 1"]


def test_a_wrong_teacher_key_shows_nothing_of_the_class(data_dir):
    store = direct_store()
    opened = store.open_class("Secret")
    joined = store.join(opened.code, "Ann")
    store.submit(opened.code, joined.student_id, joined.token, parse({"page": "Surface_Lab", "link": "s=rosenbrock",
                                                                      "label": "hidden run"}))
    at = AppTest.from_file(BOARD, default_timeout=60)
    at.query_params["class"] = opened.code
    at.query_params["key"] = opened.key[:-2] + "zz"
    at.run()
    assert not at.exception
    shown = texts(at)
    assert "teacher key does not open" in shown
    assert "Ann" not in shown and "hidden run" not in shown and not at.dataframe


def test_a_student_joins_with_the_code_and_a_bad_name_is_refused(data_dir):
    opened = direct_store().open_class("Join")
    at = AppTest.from_file(BOARD, default_timeout=60)
    at.query_params["class"] = opened.code.lower()
    at.run()
    at.text_input(key="classroom_join_name").input("<b>Ann</b>")
    next(b for b in at.button if b.label == "Join").click()
    at.run()
    assert "cannot contain" in texts(at)
    at.text_input(key="classroom_join_name").input("Ann")
    next(b for b in at.button if b.label == "Join").click()
    at.run()
    assert not at.exception
    assert f"You are in class {opened.code} as Ann." in texts(at)
    assert direct_store().board(opened.code, opened.key).students == ("Ann",)


def test_the_board_says_so_when_the_database_is_down(data_dir, monkeypatch):
    monkeypatch.setenv("OPTLAB_DATABASE_URL", "postgresql+psycopg://optlab@127.0.0.1:1/optlab")
    at = AppTest.from_file(BOARD, default_timeout=60).run()
    next(b for b in at.button if b.label == "Open the class").click()
    at.run()
    assert not at.exception
    assert "cannot be reached" in texts(at)


def surface_lab(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(SURFACE_LAB, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_a_lesson_link_locks_its_settings_against_a_hand_edited_link(data_dir):
    # momentum-kappa-100 locks s=quadratic, kappa=100, n=150; the student edits the link to Rosenbrock, κ 10, 900
    at = surface_lab({"lesson": "momentum-kappa-100", "s": "rosenbrock", "kappa": "10", "n": "900",
                      "r1": "sgd,lr:1.98"})
    assert not at.exception
    shown = texts(at)
    assert "Momentum on the κ = 100 quadratic" in shown  # the task
    assert "fixed by this lesson" in shown and "put back" in shown
    assert param(at, "s") == "quadratic" and param(at, "kappa") == "100" and param(at, "n") == "150"
    assert param(at, "lesson") == "momentum-kappa-100"
    steps = at.slider(key="sl_steps")
    assert steps.value == 150 and steps.disabled
    assert not any(w.key == "sl_noise" for w in at.number_input)  # hidden


def test_a_stored_lesson_locks_what_the_teacher_chose(data_dir):
    from optlab.classroom.lessons import parse as parse_lesson

    lesson_id = direct_store().save_lesson(parse_lesson({
        "page": "Surface_Lab", "params": [["s", "himmelblau"], ["n", "80"]], "locked": ["n"], "hidden": [],
        "task": "Count the minima."}))
    at = surface_lab({"lesson": lesson_id, "s": "himmelblau", "n": "500"})
    assert not at.exception
    assert "Count the minima." in texts(at)
    assert param(at, "n") == "80" and at.slider(key="sl_steps").disabled


def test_a_forged_lesson_id_is_refused_and_the_page_works(data_dir):
    at = surface_lab({"lesson": "../../etc/passwd", "n": "50"})
    assert not at.exception
    assert "is not a lesson id" in texts(at)
    assert not at.slider(key="sl_steps").disabled and param(at, "n") == "50"


def test_a_student_sends_a_surface_lab_run_from_the_panel(data_dir):
    store = direct_store()
    opened = store.open_class("Send")
    at = surface_lab({"lesson": "momentum-rosenbrock-200", "class": opened.code, "n": "200",
                      "r1": "momentum,lr:0.0005,momentum:0.97"})
    assert not at.exception
    at.text_input(key="classroom_panel_name").input("Ann")
    next(b for b in at.button if b.label == "Join").click()
    at.run()
    assert not at.exception
    assert "Passed" in texts(at)  # the challenge's check on the student's own run
    at.button(key="classroom_send").click().run()
    assert not at.exception
    board = store.board(opened.code, opened.key)
    (sub,) = board.submissions
    assert sub.name == "Ann" and sub.challenge_passed is True and sub.series_kind == "path"
    assert "lesson=momentum-rosenbrock-200" in sub.link and "class=" not in sub.link
    assert len(sub.series) == 201 and sub.series[0] == [-1.5, 2.0]


def test_with_the_database_down_a_lab_works_and_ready_made_lessons_still_open(data_dir, monkeypatch):
    monkeypatch.setenv("OPTLAB_DATABASE_URL", "postgresql+psycopg://optlab@127.0.0.1:1/optlab")
    at = surface_lab({"lesson": "k7qm2tab", "n": "40"})  # a stored lesson: the database is needed
    assert not at.exception
    assert "cannot be reached" in texts(at)
    assert param(at, "n") == "40" and not at.slider(key="sl_steps").disabled  # the lab itself works
    at = surface_lab({"lesson": "momentum-kappa-100", "n": "900"})  # a ready-made one needs no database
    assert not at.exception
    assert param(at, "n") == "150" and "Momentum on the κ = 100 quadratic" in texts(at)


def test_the_closed_class_panel_draws_nothing_and_keeps_what_was_typed(data_dir):
    """The sidebar's class panel is drawn only while open (a closed one costs a page run nothing); what a teacher
    typed into it is there again when it opens."""
    at = surface_lab({"n": "50"})
    assert not at.exception
    keys = {w.key for kind in ("text_input", "text_area", "multiselect", "selectbox") for w in getattr(at, kind)}
    assert not {k for k in keys if k and k.startswith("classroom_")}, keys
    at.session_state["classroom_panel_open"] = True
    at.run()
    at.text_input(key="classroom_title").input("Valleys")
    at.text_area(key="classroom_task").input("Reach the minimum in 50 steps.")
    at.run()
    at.session_state["classroom_panel_open"] = False
    for _ in range(2):  # closed for two page runs
        at.run()
        assert not at.exception
        assert not [w for w in at.text_input if w.key == "classroom_title"]
    at.session_state["classroom_panel_open"] = True
    at.run()
    assert at.text_input(key="classroom_title").value == "Valleys"
    assert at.text_area(key="classroom_task").value == "Reach the minimum in 50 steps."
