"""A student's current result as a submission and as a challenge's input: from a surface run or a training run.

Reads a surface run (``optlab.trace.Trace``: ``points``, ``losses``, ``config``, ``diverged_at``) or a training
history (``optlab.mnist.history.History``) by their attributes; nothing is run here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .challenges import Challenge, RunResult, check
from .submission import MAX_NOTE, MAX_POINTS

CONVERGED_TOL = 1e-6  # f − f* at or below this counts as converged


def steps_to_converge(losses: Sequence[float], f_min: float | None, tol: float = CONVERGED_TOL) -> int | None:
    """The first step t with f(θ_t) − f* ≤ ``tol`` (None: never, or f* unknown)."""
    if f_min is None:
        return None
    for t, loss in enumerate(losses):
        if math.isfinite(loss) and loss - f_min <= tol:
            return t
    return None


def thin(values: np.ndarray, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` rows of ``values``, evenly spaced, the first and last always kept."""
    n = len(values)
    if n <= limit:
        return values
    return values[np.unique(np.linspace(0, n - 1, limit).round().astype(int))]


def surface_result(trace: Any, surface: str, kappa: float | None = None) -> RunResult:
    return RunResult(page="Surface_Lab", optimizer=trace.config.optimizer, hparams=dict(trace.config.hparams),
                     surface=surface, kappa=kappa, losses=tuple(float(x) for x in trace.losses),
                     diverged=trace.diverged_at is not None)


def _verdict(challenge: Challenge | None, result: RunResult) -> tuple[bool | None, str]:
    if challenge is None:
        return None, ""
    verdict = check(challenge, result)
    return verdict.passed, verdict.note[:MAX_NOTE]


def surface_submission(link: str, trace: Any, surface: str, f_min: float | None, kappa: float | None = None,
                       challenge: Challenge | None = None, label: str = "") -> dict[str, Any]:
    """The plain data of a submission of one surface run (``optlab.classroom.submission.parse`` checks it)."""
    result = surface_result(trace, surface, kappa)
    passed, note = _verdict(challenge, result)
    losses = [float(x) for x in trace.losses]
    finite = [x for x in losses if math.isfinite(x)]
    return {"page": "Surface_Lab", "link": link, "label": label[:80], "final_loss": finite[-1] if finite else None,
            "steps_to_converge": steps_to_converge(losses, f_min), "challenge_passed": passed,
            "challenge_note": note, "series_kind": "path",
            "series": thin(np.asarray(trace.points, dtype=float)).tolist()}


def training_result(history: Any, run: int, optimizer: str, hparams: dict | None = None) -> RunResult:
    epochs = history.steps_done / max(1, history.steps_per_epoch)
    acc = history.test_acc[run][-1] if history.test_acc and history.test_acc[run] else None
    return RunResult(page="MNIST_Lab", optimizer=optimizer, hparams=dict(hparams or {}),
                     losses=tuple(history.loss[run]), diverged=history.diverged[run] is not None,
                     accuracy=None if acc is None else float(acc), epochs=epochs)


def training_submission(link: str, history: Any, run: int, optimizer: str, hparams: dict | None = None,
                        challenge: Challenge | None = None, label: str = "") -> dict[str, Any]:
    """The plain data of a submission of one training run: final loss, test accuracy, the loss curve."""
    result = training_result(history, run, optimizer, hparams)
    passed, note = _verdict(challenge, result)
    finite = [float(x) for x in history.loss[run] if math.isfinite(x)]
    acc = result.accuracy
    return {"page": "MNIST_Lab", "link": link, "label": label[:80], "final_loss": finite[-1] if finite else None,
            "accuracy": None if acc is None else min(1.0, max(0.0, acc)), "challenge_passed": passed,
            "challenge_note": note, "series_kind": "curve",
            "series": [float(x) for x in thin(np.asarray(finite, dtype=float))]}
