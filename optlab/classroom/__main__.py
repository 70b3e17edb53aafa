"""``python -m optlab.classroom upgrade``: apply the class database's migrations now (they also run at first use).

``python -m optlab.classroom current`` prints the revision the database is at and the newest one. The database
is ``OPTLAB_DATABASE_URL`` or the SQLite file in ``OPTLAB_DATA_DIR`` (``optlab.classroom.engine``).
"""

from __future__ import annotations

import argparse
import sys

from .engine import current_revision, database_url, head_revision, make_engine, migrate
from .errors import ClassroomUnavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optlab.classroom", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("upgrade", "current"))
    parser.add_argument("--url", help="database URL (default: OPTLAB_DATABASE_URL or the SQLite file)")
    args = parser.parse_args(argv)
    url = args.url or database_url()
    try:
        engine = make_engine(url)
        if args.command == "upgrade":
            migrate(engine)
        print(f"{current_revision(engine) or 'empty'} (head {head_revision()})")
    except ClassroomUnavailable as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
