"""The class board's rules: teacher-key protection, forged and oversized input refused with nothing changed,
display names and codes, rate limits, lessons stored and read back."""

from __future__ import annotations

import pytest

from optlab.classroom import ClassroomError, codes
from optlab.classroom.engine import make_engine, migrate
from optlab.classroom.lessons import BUILTIN, Lesson
from optlab.classroom.lessons import parse as parse_lesson
from optlab.classroom.limits import RateLimiter
from optlab.classroom.store import ClassStore
from optlab.classroom.submission import MAX_LINK, MAX_POINTS, SubmissionIn, parse

PAGES = {"Surface_Lab", "MNIST_Lab"}


def unlimited() -> RateLimiter:
    return RateLimiter({a: (10**9, 1.0) for a in ("open", "join", "submit", "lesson", "teacher")})


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'class.sqlite3'}")
    migrate(engine)
    return ClassStore(engine, unlimited())


@pytest.fixture
def room(store):
    opened = store.open_class("Rules")
    joined = store.join(opened.code, "Ann")
    store.submit(opened.code, joined.student_id, joined.token, good())
    return opened, joined


def good(**changes) -> SubmissionIn:
    return parse({"page": "Surface_Lab", "link": "s=rosenbrock&r1=adam,lr:0.05", "final_loss": 0.01,
                  "series_kind": "path", "series": [[-1.5, 2.0], [1.0, 1.0]], **changes}, PAGES)


def snapshot(store, opened):
    return store.board(opened.code, opened.key)


def test_codes_and_keys_look_right():
    code = codes.new_class_code()
    assert len(code) == 6 and set(code) <= set(codes.CODE_ALPHABET)
    assert not set("0O1IL") & set(codes.CODE_ALPHABET)
    assert codes.read_class_code(f" {code[:3].lower()}-{code[3:]} ") == code
    key = codes.new_secret()
    stored = codes.hash_secret(key)
    assert key not in stored and len(stored) == 64
    assert codes.secret_matches(key, stored) and not codes.secret_matches(key[:-1] + "x", stored)
    assert len({codes.new_secret() for _ in range(100)}) == 100


NAMES = [("  Ann   Lee ", "Ann Lee"), ("李雷", "李雷"), ("O'Neil-2", "O'Neil-2"), ("ｗｉｄｅ", "wide")]
BAD_NAMES = ["", "   ", "x" * 25, "<script>", "Ann\u200bLee", "Ann\nLee", "a@b.c", None, 42, "Robert'); DROP--;"]


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_display_names_are_normalised(typed, kept):
    assert codes.read_display_name(typed) == kept


@pytest.mark.parametrize("typed", BAD_NAMES)
def test_bad_display_names_are_refused_with_what_is_allowed(typed):
    with pytest.raises(ClassroomError, match="letters, digits"):
        codes.read_display_name(typed)


@pytest.mark.parametrize("typed", ["", "ABC", "K7QM2T9", "K0QM2T", "K7QM2I", None, "ＫＫＫＫＫＫ"])
def test_bad_class_codes_are_refused(typed):
    with pytest.raises(ClassroomError, match="class code"):
        codes.read_class_code(typed)


def test_the_teacher_key_guards_the_board_and_the_class(store, room):
    opened, joined = room
    other = store.open_class("Other")
    wrong_keys = [None, "", other.key, opened.key[:-1], opened.key + "x", joined.token, "A" * 10_000, 12345]
    before = snapshot(store, opened)
    for key in wrong_keys:
        for action in (lambda k: store.board(opened.code, k), lambda k: store.close(opened.code, k),
                       lambda k: store.clear(opened.code, k),
                       lambda k: store.submission(opened.code, k, before.submissions[0].id)):
            with pytest.raises(ClassroomError, match="teacher key does not open"):
                action(key)
    assert snapshot(store, opened) == before  # nothing changed
    with pytest.raises(ClassroomError, match="no submission"):  # another class's key opens nothing of this one
        store.submission(other.code, other.key, before.submissions[0].id)


def test_the_public_info_holds_no_names_or_results(store, room):
    opened, _ = room
    info = store.info(opened.code)
    assert set(vars(info)) == {"code", "title", "closed", "lesson_id"}


def test_a_student_token_submits_only_for_that_student(store, room):
    opened, joined = room
    bo = store.join(opened.code, "Bo")
    before = snapshot(store, opened)
    for student_id, token in [(joined.student_id, bo.token), (bo.student_id, joined.token), (joined.student_id, None),
                              (999, joined.token), ("1", joined.token), (joined.student_id, opened.key)]:
        with pytest.raises(ClassroomError, match="not in class"):
            store.submit(opened.code, student_id, token, good())
    assert snapshot(store, opened) == before


def test_close_stops_joining_and_submitting_and_clear_removes_everything(store, room):
    opened, joined = room
    store.close(opened.code, opened.key)
    with pytest.raises(ClassroomError, match="is closed"):
        store.join(opened.code, "Late")
    with pytest.raises(ClassroomError, match="is closed"):
        store.submit(opened.code, joined.student_id, joined.token, good())
    store.close(opened.code, opened.key, closed=False)
    store.submit(opened.code, joined.student_id, joined.token, good())
    assert len(snapshot(store, opened).submissions) == 2
    store.clear(opened.code, opened.key)
    board = snapshot(store, opened)
    assert board.submissions == () and board.students == ()
    with pytest.raises(ClassroomError, match="not in class"):  # a cleared student joins again
        store.submit(opened.code, joined.student_id, joined.token, good())


def test_a_taken_name_is_refused(store, room):
    opened, _ = room
    with pytest.raises(ClassroomError, match="already goes by"):
        store.join(opened.code, " Ann ")


FORGED = [
    ({"page": "Secret_Admin"}, "not a page"),
    ({"page": "../etc"}, "not a page"),
    ({"link": "x" * (MAX_LINK + 1)}, "link"),
    ({"link": 5}, "link"),
    ({"label": "a\x00b"}, "label"),
    ({"final_loss": float("nan")}, "final loss"),
    ({"final_loss": "0.1"}, "final loss"),
    ({"final_loss": True}, "final loss"),
    ({"accuracy": 1.5}, "accuracy"),
    ({"steps_to_converge": -1}, "number of steps"),
    ({"steps_to_converge": 2.5}, "number of steps"),
    ({"challenge_passed": "yes"}, "challenge passed"),
    ({"challenge_note": "n" * 201}, "challenge note"),
    ({"series_kind": "pixels"}, "path .x, y points. or a curve"),
    ({"series": [[0.0, 0.0]] * (MAX_POINTS + 1)}, "at most 2001 points"),
    ({"series": [[0.0, float("inf")]]}, "finite numbers"),
    ({"series": [[0.0, 1.0, 2.0]]}, "pair of numbers"),
    ({"series": "[[0, 1]]"}, "path .x, y points. or a curve"),
    ({"series": [["0", 1.0]]}, "finite numbers"),
    ({"admin": True}, "no field admin"),
]


@pytest.mark.parametrize(("changes", "words"), FORGED)
def test_forged_or_oversized_submissions_are_refused_and_change_nothing(store, room, changes, words):
    opened, joined = room
    before = snapshot(store, opened)
    with pytest.raises(ClassroomError, match=words):
        store.submit(opened.code, joined.student_id, joined.token, good(**changes))
    assert snapshot(store, opened) == before


def test_not_a_submission_is_refused(store, room):
    opened, joined = room
    with pytest.raises(ClassroomError, match="A submission is"):
        store.submit(opened.code, joined.student_id, joined.token, {"page": "Surface_Lab"})


def test_rate_limits_refuse_with_the_wait_and_count_nothing(store):
    now = [0.0]
    limiter = RateLimiter({"open": (2, 60.0), "join": (3, 60.0), "submit": (2, 10.0), "lesson": (1, 60.0),
                           "teacher": (5, 60.0)}, clock=lambda: now[0])
    limited = ClassStore(store.engine, limiter)
    opened = limited.open_class(session="teacher-tab")
    limited.open_class(session="teacher-tab")
    with pytest.raises(ClassroomError, match="at most 2 per 60 seconds"):
        limited.open_class(session="teacher-tab")
    limited.open_class(session="another-tab")  # per session
    joined = limited.join(opened.code, "Ann", session="s1")
    limited.submit(opened.code, joined.student_id, joined.token, good(), session="s1")
    limited.submit(opened.code, joined.student_id, joined.token, good(), session="s1")
    with pytest.raises(ClassroomError, match="Try again in 10 seconds"):
        limited.submit(opened.code, joined.student_id, joined.token, good(), session="s1")
    assert len(limited.board(opened.code, opened.key).submissions) == 2
    now[0] = 10.5  # the window has moved on
    limited.submit(opened.code, joined.student_id, joined.token, good(), session="s1")
    assert len(limited.board(opened.code, opened.key).submissions) == 3


def test_lessons_are_stored_and_read_back(store):
    lesson = parse_lesson({"page": "Surface_Lab", "params": [["s", "quadratic"], ["kappa", "100"], ["n", "150"]],
                           "locked": ["s", "kappa"], "hidden": ["noise"], "task": "Find the edge.",
                           "challenge": {"kind": "critical_lr", "kappa": 100.0, "tolerance": 0.02}}, PAGES)
    lesson_id = store.save_lesson(lesson)
    assert len(lesson_id) == 8 and lesson_id.isalnum()
    assert store.lesson(lesson_id) == lesson
    assert lesson.locked_values == {"s": "quadratic", "kappa": "100"}
    with pytest.raises(ClassroomError, match="no lesson"):
        store.lesson("zzzzzzzz")
    for key, builtin in BUILTIN.items():
        assert store.lesson(key) == builtin


BAD_LESSONS = [
    ({"page": "Nope"}, "not a page"),
    ({"params": [["s"]]}, "pairs of texts"),
    ({"params": [["lesson", "x"]]}, "not a page's link key"),
    ({"params": [["s", "x" * 601]]}, "longer than 600"),
    ({"params": [["k" + str(i), "1"] for i in range(81)]}, "at most 80"),
    ({"locked": ["s; drop"]}, "not a page's link key"),
    ({"hidden": "s"}, "list of at most"),
    ({"task": "t" * 1501}, "at most 1500"),
    ({"task": "bell\x07"}, "control characters"),
    ({"challenge": {"kind": "win"}}, "A challenge is one of"),
]


@pytest.mark.parametrize(("changes", "words"), BAD_LESSONS)
def test_forged_lessons_are_refused(changes, words):
    with pytest.raises(ClassroomError, match=words):
        parse_lesson({"page": "Surface_Lab", **changes}, PAGES)


def test_a_lesson_id_in_a_link_is_checked(store):
    for bad in ["", "../../etc", "a" * 41, "X'; --", None]:
        with pytest.raises(ClassroomError, match="not a lesson id"):
            store.lesson(bad)
    assert isinstance(Lesson(page="Surface_Lab"), Lesson)
