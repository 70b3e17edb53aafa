"""A throwaway PostgreSQL cluster for tests: Debian's initdb and pg_ctl, a temp folder, a loopback port.

PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` user that Debian's
package makes (``runuser -u postgres``). Without the binaries :func:`postgres_or_skip` skips with the reason,
or fails where ``OPTLAB_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def find_bin() -> Path | None:
    if os.environ.get("OPTLAB_PG_BIN"):
        return Path(os.environ["OPTLAB_PG_BIN"])
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(found).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="optlab-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run(self.as_user + list(args), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}")

    @classmethod
    def sweep_orphans(cls, bindir: Path) -> None:
        """Stop the clusters of test sessions that died without stopping theirs (killed by a timeout)."""
        for owner in Path(tempfile.gettempdir()).glob("optlab-pg-*/owner"):
            try:
                pid = int(owner.read_text())
                os.kill(pid, 0)
                continue  # its session is alive
            except ProcessLookupError:
                pass
            except (ValueError, OSError):
                continue
            stale = cls.__new__(cls)
            stale.bindir, stale.root, stale.data = bindir, owner.parent, owner.parent / "data"
            stale.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            stale.stop()

    def start(self) -> str:
        self.sweep_orphans(self.bindir)
        (self.root / "owner").write_text(str(os.getpid()))
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "optlab", "-E", "UTF8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "optlab", "optlab")
        return self.url("optlab")

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://optlab@127.0.0.1:{self.port}/{db}"

    def createdb(self, name: str) -> str:
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "optlab", name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pass
        time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_or_skip() -> Path:
    bindir = find_bin()
    problem = None
    if bindir is None or not (bindir / "pg_ctl").exists():
        problem = "no PostgreSQL server binaries (apt-get install -y postgresql, or set OPTLAB_PG_BIN)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            problem = "psycopg is not installed (pip install 'psycopg[binary]', in the dev extra)"
        if os.geteuid() == 0 and problem is None:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                problem = "running as root and there is no postgres user to run the server as"
    if problem:
        if os.environ.get("OPTLAB_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"OPTLAB_REQUIRE_POSTGRES=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    return bindir


@pytest.fixture(scope="session")
def postgres_cluster():
    cluster = Cluster(postgres_or_skip())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
