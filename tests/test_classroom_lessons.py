"""The ready-made lessons are valid links of real pages, and a lesson's locks read as the page reads its link."""

from __future__ import annotations

import json

import pytest

from optlab.classroom.lessons import BUILTIN, parse
from optlab.classroom.outcome import training_submission
from optlab.classroom.submission import parse as parse_submission
from optlab.ui.classroom.lesson import constraints_of, page_fields
from optlab.ui.pages import page_entries

PAGES = {e.url_path for e in page_entries()}


@pytest.mark.parametrize("lesson_id", sorted(BUILTIN))
def test_every_ready_made_lesson_is_a_valid_link_of_a_real_page(lesson_id):
    lesson = BUILTIN[lesson_id]
    assert lesson.page in PAGES
    assert parse(json.loads(lesson.to_json()), PAGES) == lesson
    declared = page_fields(lesson.page.lower())  # a page without declared fields takes no link values yet
    for fields in declared:
        mine = {k: v for k, v in lesson.params if k in fields.keys}
        _, notes = fields.decode(mine, unknown_note=False)
        assert notes == [], notes  # every value is one the page takes as it is
    known = set().union(*(f.keys for f in declared))
    assert {k for k, _ in lesson.params} <= known
    assert set(lesson.locked) | set(lesson.hidden) <= known


def test_the_momentum_lesson_locks_typed_values():
    lesson = BUILTIN["momentum-kappa-100"]
    locks = constraints_of(lesson, "surface_lab")
    assert locks.locked == {"s": "quadratic", "kappa": 100.0, "n": 150}
    assert locks.hidden == {"noise", "seed"}
    assert not constraints_of(lesson, "mnist_lab")  # a lesson for another page fixes nothing here


def test_a_training_submission_carries_accuracy_and_curve():
    from optlab.mnist.history import History

    h = History(labels=["Adam"], total_steps=4, steps_per_epoch=2, step=[1, 2, 3, 4], loss=[[2.3, 1.0, 0.5, 0.4]],
                eval_step=[2, 4], test_acc=[[0.8, 0.9]], test_loss=[[0.6, 0.4]], diverged=[None])
    data = training_submission("m=mlp", h, 0, "Adam", label="Adam")
    sub = parse_submission(data)
    assert sub.accuracy == 0.9 and sub.final_loss == 0.4 and sub.series == (2.3, 1.0, 0.5, 0.4)
    assert sub.series_kind == "curve" and sub.page == "MNIST_Lab"
