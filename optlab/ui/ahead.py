"""Work computed ahead, in the background: what the live figure may need next (sweeps, start grids).

A page asks for a result with :func:`get_or_start`. If it is ready it comes back at once; if not, it is
queued (once per server, however many sessions ask) for a single background thread, and the page draws
without it and asks again a moment later. So a new configuration answers with its exact paths first and
becomes draggable as soon as its sweeps are in. Results are kept for every session, the newest
``MAX_ENTRIES``; a failure is kept too and raised to whoever asks (a page shows it as a notice).

Which queued job runs next: the pages that wait for a result ask again every fraction of a second, so a job
asked for within ``ACTIVE_S`` has someone waiting for it. Those run first, the longest-waiting first; then the
ones nobody is watching any more (a student who moved on to another configuration), newest first. A job nobody
has asked for in ``STALE_S`` is dropped unstarted: if it is wanted again it is queued again. So a class that
tries many configurations spends the thread on what is on someone's screen, not on a backlog.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from streamlit.logger import get_logger

MAX_ENTRIES = 128  # a sweep and a start grid of 500 steps are about 1 MB together
ACTIVE_S = 2.0  # asked for this recently: a page is waiting for it (pages ask again every 0.4 s)
STALE_S = 120.0  # not asked for this long: dropped unstarted
SLOW_S = 10.0  # a job that takes longer is logged as slow
clock = time.monotonic  # seconds; a test may put its own clock here
_LOG = get_logger(__name__)  # Streamlit's: its level and format, in the server's log


@dataclass
class _Job:
    compute: Callable[[str], Any]
    first: float  # when it was first asked for (clock())
    last: float  # when it was last asked for
    said: bool = False  # its long wait was logged


_COND = threading.Condition()
_DONE: OrderedDict[str, Future] = OrderedDict()  # finished, newest last
_QUEUED: dict[str, _Job] = {}
_RUNNING: set[str] = set()
_COUNTS = {"started": 0, "dropped": 0}
_WORKER: list[threading.Thread] = []


def _next_job(now: float) -> tuple[str, _Job] | None:
    """Drop the stale jobs, then take the one to run next (see the module's docstring). Called under the lock."""
    for key in [k for k, job in _QUEUED.items() if now - job.last > STALE_S]:
        del _QUEUED[key]
        _COUNTS["dropped"] += 1
        _LOG.info("dropped unstarted, nobody asked for it in %.0f s: %.200s", STALE_S, key)
    if not _QUEUED:
        return None

    def order(item: tuple[str, _Job]) -> tuple[bool, float]:
        job = item[1]
        waited_on = now - job.last <= ACTIVE_S
        return (not waited_on, job.first if waited_on else -job.last)

    key, job = min(_QUEUED.items(), key=order)
    del _QUEUED[key]
    _RUNNING.add(key)
    return key, job


def _work() -> None:
    while True:
        with _COND:
            picked = _next_job(clock())
            while picked is None:
                _COND.notify_all()  # for wait(): the queue may have just emptied by dropping
                _COND.wait()
                picked = _next_job(clock())
        key, job = picked
        future: Future = Future()
        began = clock()
        try:
            future.set_result(job.compute(key))
        except BaseException as e:  # noqa: BLE001 - kept, and raised to whoever asks for it
            _LOG.warning("failed after %.2f s: %.200s", clock() - began, key, exc_info=True)
            future.set_exception(e)
        took = clock() - began
        if took > SLOW_S:
            _LOG.warning("slow: %.1f s (%.1f s after it was first asked for): %.200s", took, clock() - job.first, key)
        with _COND:
            _RUNNING.discard(key)
            _DONE[key] = future
            _DONE.move_to_end(key)
            while len(_DONE) > MAX_ENTRIES:
                _DONE.popitem(last=False)
            _COND.notify_all()


def get_or_start(key: str, compute: Callable[[str], Any]) -> Any | None:
    """``compute(key)``'s result if it is ready, else None (after queueing it, unless it is queued or running).

    ``key`` must decide the result completely (as the cache keys of ``optlab.ui.cache`` do).
    """
    now = clock()
    with _COND:
        done = _DONE.get(key)
        if done is not None:
            _DONE.move_to_end(key)
        elif key in _QUEUED:
            job = _QUEUED[key]
            job.last = now
            if now - job.first > SLOW_S and not job.said:
                job.said = True
                _LOG.warning("queued for %.0f s behind %d running and %d queued: %.200s", now - job.first,
                             len(_RUNNING), len(_QUEUED) - 1, key)
        elif key not in _RUNNING:
            _QUEUED[key] = _Job(compute, now, now)
            _COUNTS["started"] += 1
            _COND.notify_all()
        if _QUEUED and (not _WORKER or not _WORKER[-1].is_alive()):
            if _WORKER:
                _LOG.error("the background worker had died; starting another")
            _WORKER.append(threading.Thread(target=_work, name="optlab-ahead", daemon=True))
            _WORKER[-1].start()
    return None if done is None else done.result()


def pending() -> int:
    """How many results are still queued or being computed."""
    with _COND:
        return len(_QUEUED) + len(_RUNNING)


def wait(timeout: float | None = None) -> bool:
    """Block until nothing is queued or running (for tests and benchmarks); False if ``timeout`` ran out first."""
    with _COND:
        return _COND.wait_for(lambda: not _QUEUED and not _RUNNING, timeout)


def started() -> int:
    """How many computations were queued since the server began (each key once while it is kept)."""
    return _COUNTS["started"]


def dropped() -> int:
    """How many queued computations were dropped unstarted because nobody asked for them any more."""
    return _COUNTS["dropped"]


def clear() -> None:
    """Forget every finished result (queued and running ones finish and are kept)."""
    with _COND:
        _DONE.clear()
