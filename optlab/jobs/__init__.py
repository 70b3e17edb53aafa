"""The server-wide training service (pool, queue, shared jobs, result cache) and server counters; no UI here.

Pages use the process-wide `training_service()`; tests build their own `TrainingService` with small limits.
"""

from __future__ import annotations

import threading

from optlab.jobs.limits import Limits
from optlab.jobs.service import (
    ACTIVE,
    DONE,
    FAILED,
    GONE,
    QUEUED,
    RUNNING,
    STOPPED,
    JobRefused,
    JobView,
    Ticket,
    TrainingService,
)

_service: TrainingService | None = None
_service_lock = threading.Lock()


def training_service() -> TrainingService:
    """The one service of this server process, made on first use from the OPTLAB_TRAIN_* environment."""
    global _service
    with _service_lock:
        if _service is None:
            _service = TrainingService(Limits.from_env())
        return _service


def reset_training_service() -> None:
    """Close this process's service (cancelling its jobs); the next `training_service()` makes a fresh one.

    For tests: pages share one service, so a run trained by one test would be served from the cache to the next.
    """
    global _service
    with _service_lock:
        old, _service = _service, None
    if old is not None:
        old.close()


__all__ = [
    "ACTIVE", "DONE", "FAILED", "GONE", "QUEUED", "RUNNING", "STOPPED", "JobRefused", "JobView", "Limits",
    "Ticket", "TrainingService", "reset_training_service", "training_service",
]
