"""Server-wide counters (training jobs started, shared, served from the cache, trace computations); no UI here.

`count()` is cheap and thread-safe. When the environment names a file in OPTLAB_STATS_FILE, every change rewrites
that file as JSON (atomically: a temporary file, then `os.replace`), so a benchmark in another process can read
how many computations the server really did.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter

ENV_FILE = "OPTLAB_STATS_FILE"

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    """Add n to the counter `name` (and rewrite the stats file when one is configured)."""
    with _lock:
        _counts[name] += n
        path = os.environ.get(ENV_FILE)
        if path:
            _write(path, dict(_counts))


def snapshot() -> dict[str, int]:
    """A copy of every counter."""
    with _lock:
        return dict(_counts)


def reset() -> None:
    """Set every counter back to zero (tests, or a fresh benchmark run in one process)."""
    with _lock:
        _counts.clear()


def _write(path: str, counts: dict[str, int]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(counts, f, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass  # statistics are best effort: a full disk must not break a training job
