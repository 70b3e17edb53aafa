"""Rate limits per session: how often one browser tab may open classes, join, submit or make lessons.

A sliding window per (session, action), kept in the server's memory (each replica has its own sessions: the
deployment's sticky sessions keep a tab on one replica). Thread-safe; the oldest sessions are forgotten first
when the table grows past ``max_sessions``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from optlab.i18n import t

from .errors import ClassroomError

#: action -> (at most this many, per this many seconds)
LIMITS: dict[str, tuple[int, float]] = {
    "open": (5, 600.0),
    "join": (10, 60.0),
    "submit": (20, 60.0),
    "lesson": (20, 600.0),
    "teacher": (60, 60.0),  # board actions with a key (also limits guessing one)
}


class RateLimiter:
    def __init__(self, limits: dict[str, tuple[int, float]] | None = None, max_sessions: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(LIMITS if limits is None else limits)
        self.max_sessions = max_sessions
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def take(self, session: str, action: str) -> None:
        """Count one ``action`` for ``session``, or refuse it (nothing counted) if the window is full."""
        count, window = self.limits[action]
        now = self.clock()
        with self._lock:
            times = self._seen.pop((session, action), None) or deque()
            while times and times[0] <= now - window:
                times.popleft()
            self._seen[(session, action)] = times
            while len(self._seen) > self.max_sessions:
                self._seen.popitem(last=False)
            if len(times) >= count:
                wait = max(1, round(times[0] + window - now))
                raise ClassroomError(t("Too many tries in a short time: at most {n} per {w:g} seconds. Try again "
                                       "in {s} seconds.", n=count, w=window, s=wait))
            times.append(now)


LIMITER = RateLimiter()
