"""Concurrent first sessions on a fresh server do not race on lazily imported modules.

Plotly looks pandas up in `sys.modules` without importing it, so a session building a figure while another
session's first `st.dataframe` is still importing pandas used to get "partially initialized module 'pandas' has no
attribute 'Series'". Where the app starts (app.py), optlab.ui.startup imports the heavy modules once, before any
page code runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stclient import ProtocolError, StreamlitSession


def run_in_own_loop(coro):
    """``asyncio.run`` in a thread of its own: in a full test run the browser tests' Playwright keeps an
    event loop running in the main thread, where ``asyncio.run`` refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

ROOT = Path(__file__).resolve().parents[1]
# Modules that other libraries look up in sys.modules (or import lazily inside a session's script thread).
HEAVY = ("pandas", "plotly.subplots", "plotly.graph_objects", "pyarrow")


def test_the_app_start_imports_the_heavy_modules_up_front_and_sets_one_torch_thread():
    code = (f"import sys, torch, optlab.ui.startup as s; s.prepare(); assert torch.get_num_threads() == 1; "
            f"print([m for m in {HEAVY!r} if m not in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"imported only on first use: {out.stdout.strip()}"
    app = (ROOT / "app.py").read_text()
    assert app.index("startup.prepare()") < app.index("st.navigation"), "app.py must prepare before any page runs"


async def _trainer(base: str, seed: int, curves_seen: asyncio.Event, found: list[str]) -> None:
    async with StreamlitSession(base) as s:
        for result in [await s.open("MNIST_Lab"), await s.set("Seed", seed), await s.click("Start training")]:
            found.extend(result.exceptions)
        for _ in range(400):
            result = await s.poll()
            if result is None:
                break
            found.extend(result.exceptions)
            if any("step" in p for p in result.progress):
                curves_seen.set()


async def _tables(base: str, curves_seen: asyncio.Event, found: list[str]) -> None:
    await asyncio.wait_for(curves_seen.wait(), 240)
    async with StreamlitSession(base) as s:
        found.extend((await s.open("Failure_gallery")).exceptions)  # its first draw has st.dataframe


@pytest.mark.slow
def test_concurrent_first_sessions_on_a_fresh_server_show_no_tracebacks(fresh_server):
    """Sessions drawing training curves (make_subplots) while others draw their first tables (pandas)."""
    found: list[str] = []

    async def main():
        # A browser that opens a sub page first on a fresh server is reloaded into the app's navigation
        # (optlab.ui.pages.use_app_navigation); this protocol client cannot reload, so one visit to the home
        # page comes first, as a teacher's would. The sessions below are still every session's first MNIST run.
        async with StreamlitSession(fresh_server) as home:
            await home.open("")
        curves_seen = asyncio.Event()
        tasks = [_trainer(fresh_server, 100 + i, curves_seen, found) for i in range(6)]
        tasks += [_tables(fresh_server, curves_seen, found) for _ in range(6)]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        problems = [r for r in results if isinstance(r, BaseException)]
        if problems:
            raise problems[0] if not isinstance(problems[0], ProtocolError) else AssertionError(str(problems[0]))

    run_in_own_loop(main())
    assert found == []


@pytest.fixture
def fresh_server():
    from bench.bench_classroom import Server

    server = Server({"OPTLAB_TRAIN_WORKERS": "2"})
    try:
        server.wait_healthy()
        yield server.base
    finally:
        server.stop()
