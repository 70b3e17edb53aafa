"""Alembic migrations of the class database (applied by ``optlab.classroom.engine.migrate``)."""
