"""A training run off the script thread: a worker thread that never calls st.*, and a lock-protected snapshot.

The page keeps one TrainingJob in st.session_state and polls `snapshot()` from an st.fragment(run_every=...).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from optlab.mnist.events import Event
from optlab.mnist.history import History
from optlab.mnist.train import Trainer


@dataclass(frozen=True)
class JobStatus:
    running: bool
    done: bool  # reached the last step
    stopped: bool  # ended by Stop
    step: int
    total_steps: int
    seconds: float
    error: str | None
    history: History  # a copy, safe to read while training goes on

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


class TrainingJob:
    """Runs `trainer.run()` in a daemon thread; every event is recorded under a lock."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._history = trainer.history.copy()  # curves so far (non-empty when resuming a checkpoint)
        self._thread: threading.Thread | None = None
        self._error: str | None = None
        self._t0 = 0.0
        self._t1: float | None = None

    def start(self) -> TrainingJob:
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._work, name="optlab-mnist-training", daemon=True)
        self._thread.start()
        return self

    def _record(self, event: Event) -> None:
        with self._lock:
            self._history(event)

    def _work(self) -> None:
        try:
            self.trainer.run(listener=self._record, stop=self._stop.is_set)
        except Exception as e:  # noqa: BLE001 - shown on the page instead of lost in a thread
            with self._lock:
                self._error = f"Training failed: {type(e).__name__}: {e}"
        finally:
            with self._lock:
                self._t1 = time.perf_counter()

    def stop(self) -> None:
        """Ask the worker to stop before its next step."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def snapshot(self) -> JobStatus:
        with self._lock:
            h = self._history.copy()
            end = self._t1 if self._t1 is not None else time.perf_counter()
            error = self._error
        return JobStatus(
            running=self.running,
            done=self.trainer.finished and h.done,
            stopped=h.stopped,
            step=h.steps_done,
            total_steps=h.total_steps or self.trainer.total_steps,
            seconds=end - self._t0 if self._t0 else 0.0,
            error=error,
            history=h,
        )
