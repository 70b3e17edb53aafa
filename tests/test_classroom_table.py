"""The class board's table: numeric columns stay numeric, a missing number reads as a dash, never as "None"."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_classroom_pages import BOARD, data_dir, direct_store, param  # noqa: F401 (data_dir: a fixture)

from optlab.classroom.store import SubmissionOut
from optlab.classroom.submission import parse
from optlab.ui.classroom.table import FAILED, MISSING, PASSED, submissions_frame

SENT = dt.datetime(2025, 1, 2, 9, 30, 5)


def submission(i: int, **outcome) -> SubmissionOut:
    fields = {"final_loss": None, "steps_to_converge": None, "accuracy": None, "challenge_passed": None} | outcome
    return SubmissionOut(i, f"student {i}", "Surface_Lab", f"r1=sgd&i={i}", f"run {i}", series_kind="path",
                         series=[], challenge_note="", created_at=SENT, **fields)


# (outcome, the row's final loss, steps to converge, accuracy and challenge mark; None: missing)
CASES = [
    ({}, (None, None, None, None)),
    ({"final_loss": 0.012345, "steps_to_converge": 87, "accuracy": 0.9731, "challenge_passed": True},
     (0.012345, 87, 97.31, PASSED)),
    ({"final_loss": 2.5e-9, "challenge_passed": False}, (2.5e-9, None, None, FAILED)),
    ({"steps_to_converge": 0, "accuracy": 0.0}, (None, 0, 0.0, None)),
    ({"final_loss": 0.0}, (0.0, None, None, None)),
]
NUMBERS = ["final loss", "steps to converge", "accuracy"]


def cell(value):
    return None if pd.isna(value) else value


@pytest.mark.parametrize(("outcome", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_a_row_holds_the_numbers_sent_and_nothing_for_a_gap(outcome, expected):
    frame = submissions_frame([submission(1, **outcome)], {}, lambda s: "Surface_Lab?" + s.link)
    row = frame.iloc[0]
    loss, steps, accuracy, mark = expected
    assert cell(row["final loss"]) == loss and cell(row["steps to converge"]) == steps
    got = cell(row["accuracy"])  # 100 × the fraction sent, so compared to 1e-12
    assert got is None if accuracy is None else got == pytest.approx(accuracy, rel=1e-12)
    assert cell(row["challenge"]) == mark


def test_numeric_columns_stay_numeric_with_the_values_sent():
    subs = [submission(i, **outcome) for i, (outcome, _) in enumerate(CASES)]
    frame = submissions_frame(subs, {"student 2": "student B"}, lambda s: "Surface_Lab?" + s.link)
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in NUMBERS)
    newest_first = list(reversed(subs))
    for column, attr, scale in [("final loss", "final_loss", 1), ("steps to converge", "steps_to_converge", 1),
                                ("accuracy", "accuracy", 100)]:
        sent = [getattr(s, attr) for s in newest_first]
        assert [cell(v) for v in frame[column]] == [None if v is None else scale * v for v in sent]
    assert list(frame["name"]) == [("student B" if s.name == "student 2" else s.name) for s in newest_first]
    assert list(frame["open"]) == ["Surface_Lab?" + s.link for s in newest_first]
    assert list(frame["sent"]) == ["09:30:05"] * len(subs)


@pytest.mark.usefixtures("data_dir")
def test_the_board_shows_a_result_without_a_loss_as_a_dash():
    at = AppTest.from_file(BOARD, default_timeout=60).run()
    next(b for b in at.button if b.label == "Open the class").click()
    at.run()
    code = param(at, "class")
    store = direct_store()
    joined = store.join(code, "Ann")
    store.submit(code, joined.student_id, joined.token, parse({"page": "Surface_Lab", "link": "s=rosenbrock",
                                                               "label": "no loss reported"}))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert all(pd.api.types.is_numeric_dtype(table[c]) for c in NUMBERS)
    assert table[NUMBERS].isna().all(axis=None)
    assert at.dataframe[0].proto.placeholder == MISSING  # what the grid shows in a missing cell
