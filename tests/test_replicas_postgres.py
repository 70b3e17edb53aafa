"""Two replicas on one PostgreSQL: a class opened through one replica is seen, joined and watched through the
other.

A throwaway PostgreSQL cluster (tests/pg_cluster.py: Debian's initdb and pg_ctl in a temp folder, as the
``postgres`` user under root) and two replicas started by deploy/replicas.sh with OPTLAB_DATABASE_URL pointing at
it; the test talks Streamlit's websocket protocol to each replica directly (the sticky nginx in front is
tests/test_replicas.py's). Without PostgreSQL the test is skipped with the reason; with
OPTLAB_REQUIRE_POSTGRES=1 (as .ci/run sets it) it fails instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stclient import StreamlitSession
from tests.pg_cluster import postgres_cluster  # noqa: F401  (a fixture)
from tests.test_replicas import consecutive_free_ports, run_in_own_loop

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared_replicas(postgres_cluster, tmp_path_factory):  # noqa: F811
    url = postgres_cluster.createdb("replicas")
    run_dir = tmp_path_factory.mktemp("pg-replicas")
    first = consecutive_free_ports(2)
    env = os.environ | {"OPTLAB_RUN_DIR": str(run_dir), "OPTLAB_PYTHON": sys.executable, "OPTLAB_TRAIN_WORKERS": "1",
                        "OPTLAB_DATABASE_URL": url}
    script = ["bash", str(ROOT / "deploy" / "replicas.sh")]
    try:
        started = subprocess.run(script + ["start", "2", str(first)], env=env, capture_output=True, text=True,
                                 timeout=400)
        assert started.returncode == 0, f"replicas.sh start failed:\n{started.stdout}\n{started.stderr}"
        yield [f"http://127.0.0.1:{first}", f"http://127.0.0.1:{first + 1}"], url
    finally:
        subprocess.run(script + ["stop"], env=env, capture_output=True, timeout=60)


def test_a_class_opened_on_one_replica_is_seen_on_the_other(shared_replicas):
    (one, two), url = shared_replicas

    async def scenario():
        for base in (one, two):  # a fresh replica reloads a tab that opens a sub page first: visit home first
            async with StreamlitSession(base) as visitor:
                await visitor.open("")
        async with StreamlitSession(one) as teacher:
            await teacher.open("Class_board")
            await teacher.set("Class title (optional)", "Shared")
            opened = await teacher.click("Open the class")
            assert not opened.exceptions, opened.exceptions
            query = dict(p.split("=", 1) for p in teacher.query.split("&"))
        async with StreamlitSession(two) as board:
            seen = await board.open("Class_board", query=f"class={query['class']}&key={query['key']}")
        async with StreamlitSession(two) as student:
            await student.open("Class_board", query=f"class={query['class']}")
            await student.set("Your display name", "Ann")
            joined = await student.click("Join")
        async with StreamlitSession(one) as teacher_again:
            again = await teacher_again.open("Class_board", query=f"class={query['class']}&key={query['key']}")
        return query, seen, joined, again

    query, seen, joined, again = run_in_own_loop(scenario())
    code = query["class"]
    assert re.fullmatch(r"[2-9A-Z]{6}", code)
    assert not seen.exceptions and any(f"Class {code} · Shared" in t for t in seen.texts), seen.texts
    assert not joined.exceptions and any(f"You are in class {code} as Ann." in t for t in joined.texts), joined.texts
    assert any("**1** students" in t or "1 students" in t for t in again.texts), again.texts

    from optlab.classroom.engine import make_engine
    from optlab.classroom.store import ClassStore

    engine = make_engine(url)  # and the rows are in PostgreSQL itself
    assert ClassStore(engine).board(code, query["key"]).students == ("Ann",)
    engine.dispose()
