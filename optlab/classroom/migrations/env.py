"""Alembic's entry point: runs the migrations on the connection ``migrate`` hands over, or on a new one.

``optlab.classroom.engine.migrate`` passes its connection (already in a locked transaction) as
``config.attributes["connection"]``; the ``alembic`` command line, with ``sqlalchemy.url`` set in its ini file,
gets an engine of its own here.
"""

from __future__ import annotations

from alembic import context

from optlab.classroom.models import Base

config = context.config


def run(connection) -> None:
    # render_as_batch: SQLite alters a table by copying it (https://alembic.sqlalchemy.org/en/latest/batch.html)
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    from optlab.classroom.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as connection:
        run(connection)
        connection.commit()
    engine.dispose()
