"""Work computed ahead, in the background: what the live figure may need next (sweeps, start grids).

A page asks for a result with :func:`get_or_start`. If it is ready it comes back at once; if not, it is
started (once per server, however many sessions ask) on a single background thread, and the page draws
without it and looks again a moment later. So a new configuration answers with its exact paths first and
becomes draggable as soon as its sweeps are in. Results are kept for every session, the newest
``MAX_ENTRIES``; a failure is kept too and raised to whoever asks (a page shows it as a notice).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

MAX_ENTRIES = 128  # a sweep and a start grid of 500 steps are about 1 MB together

_LOCK = threading.Lock()
_DONE: OrderedDict[str, Future] = OrderedDict()  # finished, newest last
_PENDING: dict[str, Future] = {}
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optlab-ahead")
_COUNTS = {"started": 0}


def _finished(key: str, future: Future) -> None:
    with _LOCK:
        _PENDING.pop(key, None)
        _DONE[key] = future
        _DONE.move_to_end(key)
        while len(_DONE) > MAX_ENTRIES:
            _DONE.popitem(last=False)


def get_or_start(key: str, compute: Callable[[str], Any]) -> Any | None:
    """``compute(key)``'s result if it is ready, else None (after starting it, unless it is already running).

    ``key`` must decide the result completely (as the cache keys of ``optlab.ui.cache`` do).
    """
    with _LOCK:
        done = _DONE.get(key)
        if done is not None:
            _DONE.move_to_end(key)
        elif key not in _PENDING:
            future = _POOL.submit(compute, key)
            _PENDING[key] = future
            _COUNTS["started"] += 1
            future.add_done_callback(lambda f, k=key: _finished(k, f))
    return None if done is None else done.result()


def pending() -> int:
    """How many results are still being computed."""
    with _LOCK:
        return len(_PENDING)


def wait(timeout: float | None = None) -> bool:
    """Block until nothing is pending (for tests and benchmarks); False if ``timeout`` ran out first."""
    with _LOCK:
        futures = list(_PENDING.values())
    for f in futures:
        try:
            f.result(timeout)
        except TimeoutError:
            return False
        except Exception:  # noqa: BLE001 - kept, and raised to whoever asks for it
            pass
    return True


def started() -> int:
    """How many computations were started since the server began (each key once while it is kept)."""
    return _COUNTS["started"]


def clear() -> None:
    """Forget every finished result (running ones finish and are kept)."""
    with _LOCK:
        _DONE.clear()
