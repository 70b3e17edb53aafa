"""Where the class database lives, the engine that talks to it, and the migrations applied at first use.

- ``OPTLAB_DATABASE_URL`` set (e.g. ``postgresql+psycopg://optlab@db/optlab``): that database, shared by every
  replica of the app. Unset: a SQLite file ``classroom.sqlite3`` in ``OPTLAB_DATA_DIR``, by default
  ``$XDG_DATA_HOME/optlab`` or ``~/.local/share/optlab`` (outside the checkout, so a ``git clean`` or a new
  checkout keeps the classes).
- The schema is made and upgraded only by the Alembic migrations shipped in ``optlab/classroom/migrations``,
  applied by :func:`migrate` the first time a process uses a database, or by hand with
  ``python -m optlab.classroom upgrade``. Several servers starting at once are safe: the upgrade runs inside one
  transaction that first takes a lock, ``pg_advisory_xact_lock`` on PostgreSQL
  (https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS) and
  ``BEGIN IMMEDIATE`` on SQLite (https://www.sqlite.org/lang_transaction.html), so the second one waits and then
  finds the schema at its head revision.
- SQLite runs in WAL mode with a busy timeout, so readers never wait for a writer and writers queue; write
  transactions start with ``BEGIN IMMEDIATE`` so a read-then-write transaction cannot fail halfway on a lock
  (SQLAlchemy's recipe for pysqlite's transactions:
  https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl).
- Any failure of the database itself (not reachable, locked too long, disk full) comes out as
  :class:`~optlab.classroom.errors.ClassroomUnavailable` with a plain sentence, through :func:`guarded`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from optlab.i18n import t

from .errors import ClassroomUnavailable

ENV_URL = "OPTLAB_DATABASE_URL"
ENV_DIR = "OPTLAB_DATA_DIR"
SQLITE_FILE = "classroom.sqlite3"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30.0
_ADVISORY_LOCK = 0x6F70746C  # "optl": the migration lock's id on PostgreSQL

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_migrated: set[str] = set()


def data_dir() -> Path:
    """The folder of the SQLite file: ``OPTLAB_DATA_DIR``, else ``$XDG_DATA_HOME/optlab``, else
    ``~/.local/share/optlab``."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "optlab"


def database_url() -> str:
    """``OPTLAB_DATABASE_URL`` if set, else the SQLite file in :func:`data_dir`."""
    url = os.environ.get(ENV_URL, "").strip()
    return url or f"sqlite:///{data_dir() / SQLITE_FILE}"


def _use_wal(cursor) -> None:
    """Put the database file in WAL mode, once: the mode is kept in the file (https://www.sqlite.org/wal.html,
    "Persistence of WAL mode"), so a connection that finds it there changes nothing. Switching needs the file to
    itself and fails at once with "database is locked" while another connection holds a lock, without waiting
    for the busy timeout; so several first sessions opening a new file together try again until one of them has
    switched it, for up to ``BUSY_TIMEOUT_S``."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() in ("wal", "memory"):
                return  # already WAL, or a database in memory (which has no WAL)
            if cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}" if mode in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """A new engine for ``url`` (default :func:`database_url`); the SQLite folder is made if missing.

    Nothing is migrated here: :func:`get_engine` does that once per process.
    """
    url = url or database_url()
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise ClassroomUnavailable(t("OPTLAB_DATABASE_URL is not a database address; it looks like "
                                     "postgresql+psycopg://user@host/dbname.")) from e
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ClassroomUnavailable(
                    t("The class database's folder {path} cannot be made. Set OPTLAB_DATA_DIR to a folder the "
                      "server can write.", path=str(Path(parsed.database).parent))) from e
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not the older psycopg2
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10,
                             connect_args={"connect_timeout": 5})
    except (ImportError, ArgumentError) as e:
        raise ClassroomUnavailable(t("The database driver for {url} is not installed; for PostgreSQL install "
                                     "psycopg (pip install 'psycopg[binary]').",
                                     url=parsed.render_as_string(hide_password=True))) from e


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with guarded(), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` under a lock (see the module's docstring); a no-op at the head."""
    from alembic import command

    config = _alembic_config()
    with guarded(), engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default :func:`database_url`), migrated to the head on first use."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        if url not in _migrated:
            migrate(engine)
            _migrated.add(url)
        return engine


def forget_engines() -> None:
    """Dispose of every engine :func:`get_engine` made (tests, and a server changing its database)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


def _unavailable_message(error: BaseException) -> str:
    reason = str(getattr(error, "orig", error)).lower()
    if "full" in reason or "no space" in reason or "quota" in reason:
        return t("The class database is full, so nothing new can be saved. The labs and lessons work as usual; "
                 "whoever runs the server can free disk space.")
    if "locked" in reason or isinstance(error, PoolTimeout):
        return t("The class database is busy right now. The labs and lessons work as usual; try again in a "
                 "moment.")
    return t("The class database cannot be reached right now. The labs and lessons work as usual; try the class "
             "board again in a minute.")


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Turn a failure of the database itself into :class:`ClassroomUnavailable` with a plain sentence."""
    try:
        yield
    except (OperationalError, PoolTimeout) as e:
        raise ClassroomUnavailable(_unavailable_message(e)) from e
    except DBAPIError as e:
        if e.connection_invalidated or isinstance(e.orig, OSError):
            raise ClassroomUnavailable(_unavailable_message(e)) from e
        raise
    except OSError as e:
        raise ClassroomUnavailable(_unavailable_message(e)) from e


def sessions(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(reading, writing) session factories; a writing session begins with ``BEGIN IMMEDIATE`` on SQLite."""
    return (sessionmaker(engine, expire_on_commit=False),
            sessionmaker(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False))


__all__ = ["ENV_DIR", "ENV_URL", "current_revision", "data_dir", "database_url",
           "forget_engines", "get_engine", "guarded", "head_revision", "make_engine", "migrate", "sessions"]
