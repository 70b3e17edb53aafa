"""The class database: migrations from empty (SQLite, and PostgreSQL when its binaries are there), persistence
across a restart, 40 concurrent submitters, concurrent first use, and a clear notice when it is down or full."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text

from optlab.classroom import ClassroomUnavailable
from optlab.classroom.engine import current_revision, get_engine, head_revision, make_engine, migrate
from optlab.classroom.limits import RateLimiter
from optlab.classroom.models import Base
from optlab.classroom.store import ClassStore
from optlab.classroom.submission import parse
from tests.pg_cluster import postgres_cluster  # noqa: F401  (a fixture)

TABLES = {"alembic_version", "classes", "students", "submissions", "lessons"}


def unlimited() -> RateLimiter:
    return RateLimiter({a: (10**9, 1.0) for a in ("open", "join", "submit", "lesson", "teacher")})


def sub(i: int = 0) -> object:
    return parse({"page": "Surface_Lab", "link": f"s=rosenbrock&r1=adam,lr:{0.01 * (i + 1):g}", "label": f"run {i}",
                  "final_loss": 0.5 / (i + 1), "steps_to_converge": 10 + i, "series_kind": "path",
                  "series": [[0.0, float(i)], [1.0, 2.0 * i]]})


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'class.sqlite3'}"


def schema_problems(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_migrations_build_the_schema_from_an_empty_sqlite_file(sqlite_url):
    engine = make_engine(sqlite_url)
    assert current_revision(engine) is None and inspect(engine).get_table_names() == []
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == TABLES
    assert schema_problems(engine) == []  # the migrated schema is exactly the models'
    migrate(engine)  # a second upgrade is a no-op
    assert current_revision(engine) == head_revision()


def test_migrations_build_the_schema_in_postgresql(postgres_cluster):  # noqa: F811
    engine = make_engine(postgres_cluster.createdb("migrations"))
    assert current_revision(engine) is None
    migrate(engine)
    assert set(inspect(engine).get_table_names()) == TABLES
    assert schema_problems(engine) == []
    store = ClassStore(engine, unlimited())
    opened = store.open_class("PostgreSQL")
    joined = store.join(opened.code, "Émile")
    store.submit(opened.code, joined.student_id, joined.token, sub())
    assert [s.name for s in store.board(opened.code, opened.key).submissions] == ["Émile"]
    engine.dispose()


def test_the_documented_command_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    done = subprocess.run([sys.executable, "-m", "optlab.classroom", "upgrade", "--url", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == head_revision()
    assert current_revision(make_engine(url)) == head_revision()


def test_concurrent_first_use_migrates_once_without_errors(tmp_path):
    # Ten new files: the sessions race to put each one in WAL mode, which about one round in ten lost before.
    for i in range(10):
        concurrent_first_use(f"sqlite:///{tmp_path / f'class{i}.sqlite3'}")


def test_concurrent_first_use_of_postgresql_migrates_once(postgres_cluster):  # noqa: F811
    concurrent_first_use(postgres_cluster.createdb("concurrent"))


def concurrent_first_use(url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def first_session() -> None:
        engine = make_engine(url)  # each "server" with an engine of its own on the same database
        barrier.wait()
        try:
            migrate(engine)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=first_session, daemon=True) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a first use hung: the migration lock does not serialise them"
    assert errors == []
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_a_new_engine_on_the_same_file_sees_everything_after_a_restart(sqlite_url):
    engine = make_engine(sqlite_url)
    migrate(engine)
    store = ClassStore(engine, unlimited())
    opened = store.open_class("Persistence")
    ids = []
    for i, name in enumerate(("Ann", "Bo", "李雷")):
        joined = store.join(opened.code, name)
        ids.append(store.submit(opened.code, joined.student_id, joined.token, sub(i)))
    store.close(opened.code, opened.key)
    before = store.board(opened.code, opened.key)
    engine.dispose()  # the server stops

    restarted = ClassStore(make_engine(sqlite_url), unlimited())
    after = restarted.board(opened.code, opened.key)
    assert after == before
    assert [s.id for s in after.submissions] == ids
    assert [s.name for s in after.submissions] == ["Ann", "Bo", "李雷"]
    assert after.info.closed
    assert after.submissions[2].series == [[0.0, 2.0], [1.0, 4.0]]
    assert after.submissions[1].final_loss == pytest.approx(0.25)


def test_forty_concurrent_submitters_all_land(sqlite_url):
    engine = make_engine(sqlite_url)
    migrate(engine)
    store = ClassStore(engine, unlimited())
    opened = store.open_class("Forty")
    barrier = threading.Barrier(40)

    def student(i: int) -> int:
        joined = store.join(opened.code, f"student {i}")
        barrier.wait()  # everyone submits at the same moment
        return store.submit(opened.code, joined.student_id, joined.token, sub(i), session=f"s{i}")

    with ThreadPoolExecutor(40) as pool:
        ids = list(pool.map(student, range(40)))
    board = store.board(opened.code, opened.key)
    assert len(set(ids)) == 40
    assert sorted(s.id for s in board.submissions) == sorted(ids)
    assert sorted(s.label for s in board.submissions) == sorted(f"run {i}" for i in range(40))
    assert len(board.students) == 40


def test_get_engine_migrates_on_first_use(tmp_path, monkeypatch):
    from optlab.classroom import engine as engine_mod

    monkeypatch.delenv("OPTLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("OPTLAB_DATA_DIR", str(tmp_path / "data"))
    engine_mod.forget_engines()
    try:
        engine = get_engine()
        assert engine.url.database == str(tmp_path / "data" / "classroom.sqlite3")
        assert current_revision(engine) == head_revision()
        assert get_engine() is engine
    finally:
        engine_mod.forget_engines()


UNREACHABLE = [
    ("postgresql+psycopg://optlab@127.0.0.1:1/optlab", "cannot be reached"),
    ("sqlite:////proc/optlab-no-such-dir/class.sqlite3", "cannot be made"),
    ("not a url", "is not a database address"),
    ("nonsense://", "driver for nonsense:// is not installed"),
]


@pytest.mark.parametrize(("url", "words"), UNREACHABLE)
def test_an_unreachable_database_gives_a_clear_notice(url, words):
    with pytest.raises(ClassroomUnavailable, match=words) as caught:
        engine = make_engine(url)
        ClassStore(engine, unlimited()).info("K7QM2T")
    message = str(caught.value)
    assert "Traceback" not in message and "sqlalchemy" not in message.lower() and "Error" not in message


def test_a_full_database_gives_a_clear_notice_and_keeps_what_it_had(sqlite_url):
    engine = make_engine(sqlite_url)
    migrate(engine)
    store = ClassStore(engine, unlimited())
    opened = store.open_class("Full")
    joined = store.join(opened.code, "Ann")
    store.submit(opened.code, joined.student_id, joined.token, sub())
    with engine.connect() as c:
        pages = c.execute(text("PRAGMA page_count")).scalar()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record):  # the disk is full: no page beyond what the file has
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    engine.dispose()
    big = parse({"page": "Surface_Lab", "link": "s=rosenbrock", "series_kind": "path",
                 "series": [[float(i), float(i)] for i in range(2001)]})
    with pytest.raises(ClassroomUnavailable, match="full"):
        for _ in range(20):
            store.submit(opened.code, joined.student_id, joined.token, big)
    assert len(store.board(opened.code, opened.key).submissions) >= 1  # reading still works
