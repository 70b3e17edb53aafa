"""The class board's queries: open a class, join it, submit, read the board, close or clear it; store lessons.

Every call is one short transaction (writes begin with ``BEGIN IMMEDIATE`` on SQLite, see ``engine``), input is
checked before the database is touched, and a refusal (:class:`ClassroomError`) leaves everything as it was.
The teacher key guards the board, each submission's details, closing and clearing; a student's token guards
only their own submissions. A failure of the database itself comes out as :class:`ClassroomUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from optlab.i18n import t

from . import codes
from . import lessons as lessons_mod
from .engine import guarded, sessions
from .errors import ClassroomError
from .lessons import Lesson
from .limits import LIMITER, RateLimiter
from .models import ClassRoom, LessonRow, Student, Submission, utcnow
from .submission import SubmissionIn

MAX_STUDENTS = 300  # per class
MAX_SUBMISSIONS = 3000  # per class
MAX_PER_STUDENT = 60
MAX_TITLE = 120


@dataclass(frozen=True)
class OpenedClass:
    code: str
    key: str  # the teacher key: shown once, kept in the teacher's link, stored only as a hash


@dataclass(frozen=True)
class Joined:
    code: str
    student_id: int
    name: str
    token: str  # kept in the student's session; stored only as a hash


@dataclass(frozen=True)
class ClassInfo:
    """What anyone with the code may see."""

    code: str
    title: str
    closed: bool
    lesson_id: str | None


@dataclass(frozen=True)
class SubmissionOut:
    id: int
    name: str
    page: str
    link: str
    label: str
    final_loss: float | None
    steps_to_converge: int | None
    accuracy: float | None
    challenge_passed: bool | None
    challenge_note: str
    series_kind: str
    series: list
    created_at: dt.datetime


@dataclass(frozen=True)
class Board:
    """What the teacher key opens."""

    info: ClassInfo
    students: tuple[str, ...]
    submissions: tuple[SubmissionOut, ...]


def _out(row: Submission, name: str) -> SubmissionOut:
    return SubmissionOut(row.id, name, row.page, row.link, row.label, row.final_loss, row.steps_to_converge,
                         row.accuracy, row.challenge_passed, row.challenge_note, row.series_kind,
                         json.loads(row.series or "[]"), row.created_at)


class ClassStore:
    def __init__(self, engine: Engine, limiter: RateLimiter | None = None) -> None:
        self.engine = engine
        self.limiter = LIMITER if limiter is None else limiter
        self._read, self._write = sessions(engine)

    def _limit(self, session: str | None, action: str) -> None:
        if session is not None:
            self.limiter.take(session, action)

    @staticmethod
    def _class(db, code: str) -> ClassRoom:
        room = db.scalar(select(ClassRoom).where(ClassRoom.code == code))
        if room is None:
            raise ClassroomError(t("There is no class {code}. Check the code on the teacher's screen.", code=code))
        return room

    def _teacher_class(self, db, code: str, key: object) -> ClassRoom:
        room = self._class(db, code)
        if not codes.secret_matches(key, room.key_hash):
            raise ClassroomError(t("That teacher key does not open class {code}. Open the board from the link you "
                                   "got when you opened the class.", code=code))
        return room

    # --- teachers ------------------------------------------------------------------------------------------

    def open_class(self, title: str = "", lesson_id: str | None = None, session: str | None = None) -> OpenedClass:
        """A new class with a fresh code and teacher key."""
        title = " ".join(str(title).split())
        if len(title) > MAX_TITLE:
            raise ClassroomError(t("A class title has at most {n} characters.", n=MAX_TITLE))
        if lesson_id is not None:
            lesson_id = codes.read_lesson_id(lesson_id)
        self._limit(session, "open")
        key = codes.new_secret()
        with guarded():
            for _ in range(8):  # a clash of two random codes is rare; draw again
                try:
                    with self._write.begin() as db:
                        code = codes.new_class_code()
                        db.add(ClassRoom(code=code, key_hash=codes.hash_secret(key), title=title,
                                         lesson_id=lesson_id))
                    return OpenedClass(code, key)
                except IntegrityError:
                    continue
        raise ClassroomError(t("No free class code was found; try again."))

    def board(self, code: str, key: object, session: str | None = None) -> Board:
        code = codes.read_class_code(code)
        self._limit(session, "teacher")
        with guarded(), self._read() as db:
            room = self._teacher_class(db, code, key)
            names = dict(db.execute(select(Student.id, Student.name).where(Student.class_id == room.id)
                                    .order_by(Student.id)).all())
            rows = db.scalars(select(Submission).where(Submission.class_id == room.id)
                              .order_by(Submission.id)).all()
            return Board(self._info(room), tuple(names.values()),
                         tuple(_out(r, names.get(r.student_id, "?")) for r in rows))

    def submission(self, code: str, key: object, submission_id: int) -> SubmissionOut:
        code = codes.read_class_code(code)
        with guarded(), self._read() as db:
            room = self._teacher_class(db, code, key)
            row = db.get(Submission, submission_id) if isinstance(submission_id, int) else None
            if row is None or row.class_id != room.id:
                raise ClassroomError(t("Class {code} has no submission {id}.", code=code, id=submission_id))
            student = db.get(Student, row.student_id)
            return _out(row, student.name if student else "?")

    def close(self, code: str, key: object, closed: bool = True, session: str | None = None) -> None:
        """Close the class to new students and submissions (``closed=False`` opens it again)."""
        code = codes.read_class_code(code)
        self._limit(session, "teacher")
        with guarded(), self._write.begin() as db:
            room = self._teacher_class(db, code, key)
            room.closed_at = utcnow() if closed else None

    def clear(self, code: str, key: object, session: str | None = None) -> None:
        """Remove every submission and every student of the class (the code and key stay)."""
        code = codes.read_class_code(code)
        self._limit(session, "teacher")
        with guarded(), self._write.begin() as db:
            room = self._teacher_class(db, code, key)
            db.execute(delete(Submission).where(Submission.class_id == room.id))
            db.execute(delete(Student).where(Student.class_id == room.id))

    # --- students ------------------------------------------------------------------------------------------

    @staticmethod
    def _info(room: ClassRoom) -> ClassInfo:
        return ClassInfo(room.code, room.title, room.closed_at is not None, room.lesson_id)

    def info(self, code: str) -> ClassInfo:
        code = codes.read_class_code(code)
        with guarded(), self._read() as db:
            return self._info(self._class(db, code))

    @staticmethod
    def _open(room: ClassRoom) -> None:
        if room.closed_at is not None:
            raise ClassroomError(t("Class {code} is closed: the teacher takes no more students or results.",
                                   code=room.code))

    def join(self, code: str, name: object, session: str | None = None) -> Joined:
        code = codes.read_class_code(code)
        name = codes.read_display_name(name)
        self._limit(session, "join")
        token = codes.new_secret()
        with guarded():
            try:
                with self._write.begin() as db:
                    room = self._class(db, code)
                    self._open(room)
                    count = db.scalar(select(func.count()).select_from(Student).where(Student.class_id == room.id))
                    if count >= MAX_STUDENTS:
                        raise ClassroomError(t("Class {code} is full ({n} students).", code=code, n=MAX_STUDENTS))
                    student = Student(class_id=room.id, name=name, token_hash=codes.hash_secret(token))
                    db.add(student)
                    db.flush()
                    return Joined(code, student.id, name, token)
            except IntegrityError as e:
                raise ClassroomError(t("Someone in class {code} already goes by “{name}”; pick another name.",
                                       code=code, name=name)) from e

    def submit(self, code: str, student_id: object, token: object, sub: SubmissionIn,
               session: str | None = None) -> int:
        """Store a student's result; returns its id."""
        code = codes.read_class_code(code)
        if not isinstance(sub, SubmissionIn):
            raise ClassroomError(t("A submission is a page, its link and its outcome."))
        self._limit(session, "submit")
        with guarded(), self._write.begin() as db:
            room = self._class(db, code)
            student = db.get(Student, student_id) if isinstance(student_id, int) else None
            if student is None or student.class_id != room.id or not codes.secret_matches(token, student.token_hash):
                raise ClassroomError(t("You are not in class {code} (or the class was cleared): join it again.",
                                       code=code))
            self._open(room)
            count = db.scalar(select(func.count()).select_from(Submission).where(Submission.class_id == room.id))
            if count >= MAX_SUBMISSIONS:
                raise ClassroomError(t("Class {code} holds {n} results, its limit.", code=code, n=MAX_SUBMISSIONS))
            mine = db.scalar(select(func.count()).select_from(Submission)
                             .where(Submission.student_id == student.id))
            if mine >= MAX_PER_STUDENT:
                raise ClassroomError(t("You have sent {n} results, the most one student can.", n=MAX_PER_STUDENT))
            row = Submission(class_id=room.id, student_id=student.id, page=sub.page, link=sub.link, label=sub.label,
                             final_loss=sub.final_loss, steps_to_converge=sub.steps_to_converge,
                             accuracy=sub.accuracy, challenge_passed=sub.challenge_passed,
                             challenge_note=sub.challenge_note, series_kind=sub.series_kind,
                             series=sub.series_json())
            db.add(row)
            db.flush()
            return row.id

    # --- lessons -------------------------------------------------------------------------------------------

    def save_lesson(self, lesson: Lesson, session: str | None = None) -> str:
        """Store a prepared link; returns its short id."""
        if not isinstance(lesson, Lesson):
            raise ClassroomError(t("A lesson is a page, its link values, locked and hidden keys, a task and a "
                                   "challenge."))
        lesson = lessons_mod.parse(json.loads(lesson.to_json()))  # the same checks as a lesson read back
        self._limit(session, "lesson")
        with guarded():
            for _ in range(8):
                try:
                    with self._write.begin() as db:
                        lesson_id = codes.new_lesson_id()
                        db.add(LessonRow(id=lesson_id, page=lesson.page, body=lesson.to_json()))
                    return lesson_id
                except IntegrityError:
                    continue
        raise ClassroomError(t("No free lesson id was found; try again."))

    def lesson(self, lesson_id: object) -> Lesson:
        lesson_id = codes.read_lesson_id(lesson_id)
        if lesson_id in lessons_mod.BUILTIN:
            return lessons_mod.BUILTIN[lesson_id]
        with guarded(), self._read() as db:
            row = db.get(LessonRow, lesson_id)
            if row is None:
                raise ClassroomError(t("There is no lesson {id}; check the link.", id=lesson_id))
            return lessons_mod.from_json(row.body)
