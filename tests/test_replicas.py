"""Two replicas behind Debian's nginx on loopback: students are pinned to one, and a link opens on either.

Starts two app replicas with deploy/replicas.sh and an nginx (a non-daemon child with its own prefix and a main
config that includes deploy/nginx.conf, ports rewritten), then talks Streamlit's websocket protocol through it.
Without nginx the tests are skipped with the reason; with OPTLAB_REQUIRE_NGINX=1 (as .ci/run sets it) they fail.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.stclient import StreamlitSession


def run_in_own_loop(coro):
    """``asyncio.run`` in a thread of its own: in a full test run the browser tests' Playwright keeps an
    event loop running in the main thread, where ``asyncio.run`` refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

ROOT = Path(__file__).resolve().parents[1]
LR_LABEL = "learning rate (type a value)"
pytestmark = pytest.mark.slow


def find_nginx() -> str | None:
    for candidate in (os.environ.get("OPTLAB_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def consecutive_free_ports(n: int) -> int:
    rng = random.Random()
    for _ in range(200):
        first = rng.randrange(20_000, 60_000)
        if all(port_free(first + i) for i in range(n)):
            return first
    raise RuntimeError(f"no {n} consecutive free loopback ports found")


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as r:
        headers: dict[str, str] = {}
        for k, v in r.headers.items():  # repeated headers (two Set-Cookie lines) joined, as one string to search
            headers[k.lower()] = f"{headers[k.lower()]}, {v}" if k.lower() in headers else v
        return r.status, headers, r.read()


def render_site(ports: list[int], listen: int) -> str:
    """deploy/nginx.conf with its upstream servers and its listen address set for this test."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
    text, n_upstreams = re.subn(r"(upstream optlab \{\n(?:.*\n)*?)((?:    server .*;\n)+)",
                                lambda m: m.group(1) + servers, text)
    text, n_listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    assert (n_upstreams, n_listens) == (1, 1), "deploy/nginx.conf: expected one upstream block and `listen 80;`"
    return text


@pytest.fixture(scope="module")
def nginx_path() -> str:
    path = find_nginx()
    if path is None:
        reason = "no nginx found (install Debian's: apt-get install -y nginx, or set OPTLAB_NGINX)"
        if os.environ.get("OPTLAB_REQUIRE_NGINX") == "1":
            pytest.fail(f"OPTLAB_REQUIRE_NGINX=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def replicas(nginx_path, tmp_path_factory) -> list[int]:
    run_dir = tmp_path_factory.mktemp("replicas")
    first = consecutive_free_ports(2)
    env = os.environ | {"OPTLAB_RUN_DIR": str(run_dir), "OPTLAB_PYTHON": sys.executable, "OPTLAB_TRAIN_WORKERS": "1"}
    script = ["bash", str(ROOT / "deploy" / "replicas.sh")]
    try:
        started = subprocess.run(script + ["start", "2", str(first)], env=env, capture_output=True, text=True,
                                 timeout=400)
        assert started.returncode == 0, f"replicas.sh start failed:\n{started.stdout}\n{started.stderr}"
        yield [first, first + 1]
    finally:
        subprocess.run(script + ["stop"], env=env, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def proxy(nginx_path, replicas, tmp_path_factory) -> str:
    prefix = tmp_path_factory.mktemp("nginx")
    listen = consecutive_free_ports(1)
    (prefix / "optlab.conf").write_text(render_site(replicas, listen))
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for p in temp.values():
        p.mkdir()
    (prefix / "nginx.conf").write_text(
        f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {prefix}/access.log;\n"
        f"    client_body_temp_path {temp['body']};\n    proxy_temp_path {temp['proxy']};\n"
        f"    fastcgi_temp_path {temp['fastcgi']};\n    uwsgi_temp_path {temp['uwsgi']};\n"
        f"    scgi_temp_path {temp['scgi']};\n    include {prefix}/optlab.conf;\n}}\n"
    )
    command = [nginx_path, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    checked = subprocess.run(command[:-2] + ["-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx -t rejects deploy/nginx.conf:\n{checked.stderr}"
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{listen}"
    try:
        end = time.monotonic() + 30
        while True:
            try:
                if get(f"{base}/_stcore/health")[2].strip() == b"ok":
                    break
            except OSError:
                pass
            assert proc.poll() is None, f"nginx exited: {proc.stderr.read().decode()}"
            assert time.monotonic() < end, "nginx did not answer within 30 s"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def pins(proxy, replicas) -> dict[str, str]:
    """A sticky cookie for each replica: replica address -> Cookie header."""
    found: dict[str, str] = {}
    for k in range(200):
        cookie = f"optlab_replica=student{k}"
        found.setdefault(get(f"{proxy}/_stcore/health", cookie)[1]["x-optlab-replica"], cookie)
        if len(found) == 2:
            return found
    pytest.fail(f"200 cookies all went to {sorted(found)}: nginx does not spread students over the replicas")


def test_nginx_sets_a_sticky_cookie_and_keeps_each_browser_on_its_replica(proxy, replicas, pins):
    assert sorted(pins) == [f"127.0.0.1:{p}" for p in replicas]
    status, headers, _ = get(f"{proxy}/")
    assert status == 200
    match = re.search(r"optlab_replica=([0-9a-f]{32});", headers.get("set-cookie", ""))
    assert match, headers.get("set-cookie")
    cookie = f"optlab_replica={match.group(1)}"
    first = headers["x-optlab-replica"]
    for _ in range(5):  # the browser sends its cookie back: always the replica it started on, no new cookie
        _, again, _ = get(f"{proxy}/_stcore/health", cookie)
        assert again["x-optlab-replica"] == first
        assert "optlab_replica=" not in again.get("set-cookie", ""), again["set-cookie"]
    for replica, pinned in pins.items():
        assert {get(f"{proxy}/_stcore/health", pinned)[1]["x-optlab-replica"] for _ in range(5)} == {replica}


def test_a_link_made_on_one_replica_restores_the_same_view_on_the_other(proxy, pins):
    (home, cookie_a), (other, cookie_b) = sorted(pins.items())

    async def scenario():
        # each fresh replica reloads a browser that opens a sub page first into the app's navigation
        # (optlab.ui.pages.use_app_navigation); this client cannot reload, so it visits each home page first
        for cookies in (cookie_a, cookie_b):
            async with StreamlitSession(proxy, cookies=cookies) as visitor:
                await visitor.open("")
        async with StreamlitSession(proxy, cookies=cookie_a) as teacher:
            assert teacher.response_headers.get("X-Optlab-Replica") == home  # the websocket is pinned too
            first = await teacher.open("Surface_Lab")
            assert first.status == "finished" and not first.exceptions
            changed = await teacher.set(LR_LABEL, 0.02)
            assert not changed.exceptions
            link, lr = teacher.query, teacher.value(LR_LABEL)
        async with StreamlitSession(proxy, cookies=cookie_b) as student:
            assert student.response_headers.get("X-Optlab-Replica") == other
            opened = await student.open("Surface_Lab", query=link)
            assert opened.status == "finished" and not opened.exceptions
            return link, lr, student.query, student.value(LR_LABEL), opened.texts, first.texts

    link, lr, link_b, lr_b, texts_b, texts_default = run_in_own_loop(scenario())
    assert lr == pytest.approx(0.02) and link
    assert lr_b == pytest.approx(0.02)
    assert link_b == link  # the other replica writes back the very same link
    assert texts_b != texts_default  # and it shows the changed run, not the default page
