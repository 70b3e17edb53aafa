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


__all__ = [
    "ACTIVE", "DONE", "FAILED", "GONE", "QUEUED", "RUNNING", "STOPPED", "JobRefused", "JobView", "Limits",
    "Ticket", "TrainingService", "training_service",
]
