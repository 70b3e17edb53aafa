"""Traces as files a student can open elsewhere: CSV (one row per run and step) and JSON (everything).

Both index by torch's step number t: row or entry t holds θ_t, and what step t did to get there.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optlab.trace.record import Trace

CSV_COLUMNS = ["run", "label", "step", "x", "y", "loss", "grad_x", "grad_y", "update_x", "update_y", "lr",
               "lr_y", "ema_x", "ema_y"]


def _header(experiment: Mapping[str, Any] | None) -> str:
    """``# key: value`` comment lines (values that are not text as JSON), one per item of ``experiment``."""
    lines = [f"# {key}: {value if isinstance(value, str) else json.dumps(value, sort_keys=True)}"
             for key, value in (experiment or {}).items()]
    return "".join(line.replace("\n", " ") + "\n" for line in lines)


def traces_to_csv(traces: Sequence[Trace], experiment: Mapping[str, Any] | None = None) -> str:
    """One row per run and step t (torch's number; t = 0 is the start point θ₀).

    Row t holds θ_t and f(θ_t), and what step t did to get there: its gradient g_t (taken at θ_{t−1}), its
    update θ_t − θ_{t−1} and its lr; row 0 leaves those empty. ``lr_y`` is the second param group's lr when x
    and y are two groups, and empty otherwise. ``experiment`` (what produced the runs: surface, start, noise,
    seed, settings) goes first as ``# key: value`` comment lines; ``pandas.read_csv(path, comment="#")`` skips
    them.
    """
    buf = io.StringIO()
    buf.write(_header(experiment))
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r, tr in enumerate(traces):
        for t in range(tr.n_steps + 1):
            stepped = t >= 1  # row t - 1 of the per-step arrays is step t
            grad = tr.grads[t - 1] if stepped else (math.nan, math.nan)
            update = tr.updates[t - 1] if stepped else (math.nan, math.nan)
            lr = tr.lrs[t - 1, 0] if stepped and tr.lrs.shape[1] else math.nan
            lr_y = tr.lrs[t - 1, 1] if stepped and tr.lrs.shape[1] > 1 else math.nan
            ema = tr.ema_points[t] if tr.ema_points is not None else (math.nan, math.nan)
            loss = tr.losses[t] if t < len(tr.losses) else math.nan
            row = [r, tr.label, t, *tr.points[t], loss, *grad, *update, lr, lr_y, *ema]
            writer.writerow(["" if isinstance(v, float) and math.isnan(v) else
                             (repr(float(v)) if isinstance(v, float | np.floating) else v) for v in row])
    return buf.getvalue()


def _clean(a: np.ndarray | None) -> Any:
    """Nested lists with None where a value is NaN or infinite (JSON has neither)."""
    if a is None:
        return None
    out = np.asarray(a, dtype=np.float64).astype(object)
    out[~np.isfinite(np.asarray(a, dtype=np.float64))] = None
    return out.tolist()


def trace_to_dict(tr: Trace) -> dict[str, Any]:
    """A JSON-ready summary: configuration, trajectory and state, every list indexed by torch's step t.

    ``points[t]``, ``losses[t]``, ``ema_points[t]`` and ``average_points[t]`` are θ_t (t = 0 the start);
    ``grads[t]``, ``updates[t]``, ``lrs[t]`` and ``state[key][t]`` belong to step t, so their entry 0 is None (no
    step 0). ``closure_evaluations`` lists every loss evaluation of an optimizer with a closure: the step that
    made it, the point and f there.
    """

    def per_step(a: np.ndarray) -> list:
        return [None, *_clean(a)]

    config = tr.config
    out = {
        "label": tr.label,
        "optimizer": config.optimizer,
        "impl": config.impl,
        "hparams": dict(config.hparams),
        "schedule": config.schedule,
        "schedule_params": dict(config.schedule_params),
        "ema_decay": config.ema_decay,
        "ema_tau": config.ema_tau,
        "axis_hparams": [dict(a) for a in config.axis_hparams] if config.axis_hparams else None,
        "optimizer_class": tr.optimizer_class,
        "steps": tr.n_steps,
        "diverged_at": tr.diverged_at,
        "reason": tr.reason,
        "points": _clean(tr.points),
        "losses": _clean(tr.losses),
        "grads": per_step(tr.grads),
        "updates": per_step(tr.updates),
        "lrs": per_step(tr.lrs),
        "ema_points": _clean(tr.ema_points),
        "ema_losses": _clean(tr.ema_losses),
        "state": {k: per_step(v) for k, v in tr.state.items()},
    }
    if tr.average_points is not None:
        out["average_points"] = _clean(tr.average_points)
        out["average_losses"] = _clean(tr.average_losses)
    if tr.closure_points is not None:
        out["closure_evaluations"] = [
            {"step": int(s), "point": _clean(p), "loss": _clean(np.array([f]))[0]}
            for s, p, f in zip(tr.closure_steps, tr.closure_points, tr.closure_losses, strict=True)
        ]
    return out


def traces_to_json(traces: Sequence[Trace], experiment: Mapping[str, Any] | None = None) -> str:
    """All runs with their configuration, trajectory and state (see ``trace_to_dict``), and under
    ``experiment`` what produced them; non-finite numbers become null."""
    return json.dumps({"experiment": dict(experiment or {}), "runs": [trace_to_dict(tr) for tr in traces]},
                      allow_nan=False)
