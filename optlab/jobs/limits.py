"""The training service's limits: worker count from the cores, queue and cache bounds, each overridable by env.

| variable                     | meaning                                                        | default          |
|------------------------------|----------------------------------------------------------------|------------------|
| OPTLAB_TRAIN_WORKERS         | training threads                                               | half the cores   |
| OPTLAB_TRAIN_PER_SESSION     | queued or running jobs one browser session may watch           | 1                |
| OPTLAB_TRAIN_MAX_STEPS       | training steps (optimizer steps × optimizers) queued or running| 400,000          |
| OPTLAB_TRAIN_CACHE_ENTRIES   | finished runs kept                                             | 32               |
| OPTLAB_TRAIN_CACHE_MB        | memory the finished runs may hold (models, optimizer state)    | 256              |
| OPTLAB_TRAIN_LEASE_S         | seconds a watcher that stopped asking counts as still watching | 120              |

Half the cores: the other half serves the pages. A default 2-optimizer MLP run on the 5,000 built-in digits is about
380 training steps (about 2 s on one core), so 400,000 steps is roughly half an hour of queued work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers(cores: int | None = None) -> int:
    return max(1, (cores if cores is not None else available_cores()) // 2)


# variable -> (field, kind, low, high)
ENV = {
    "OPTLAB_TRAIN_WORKERS": ("workers", int, 1, 64),
    "OPTLAB_TRAIN_PER_SESSION": ("per_session", int, 1, 16),
    "OPTLAB_TRAIN_MAX_STEPS": ("max_steps", int, 1, 100_000_000),
    "OPTLAB_TRAIN_CACHE_ENTRIES": ("cache_entries", int, 0, 10_000),
    "OPTLAB_TRAIN_CACHE_MB": ("cache_mb", float, 0.0, 1_000_000.0),
    "OPTLAB_TRAIN_LEASE_S": ("lease_s", float, 1.0, 86_400.0),
}


@dataclass(frozen=True)
class Limits:
    workers: int = 1
    per_session: int = 1
    max_steps: int = 400_000
    cache_entries: int = 32
    cache_mb: float = 256.0
    lease_s: float = 120.0

    @property
    def cache_bytes(self) -> int:
        return int(self.cache_mb * 2**20)

    def validate(self) -> Limits:
        """ValueError naming the first field out of range; self otherwise."""
        for _, (name, kind, lo, hi) in ENV.items():
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not lo <= value <= hi:
                raise ValueError(f"Invalid training limit {name}: {value!r} (a number from {lo} to {hi})")
            if kind is int and int(value) != value:
                raise ValueError(f"Invalid training limit {name}: {value!r} (a whole number from {lo} to {hi})")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, cores: int | None = None) -> Limits:
        """Defaults with the OPTLAB_TRAIN_* variables applied; ValueError naming a variable that is not valid."""
        environ = os.environ if environ is None else environ
        values: dict[str, int | float] = {"workers": default_workers(cores)}
        for var, (name, kind, lo, hi) in ENV.items():
            raw = environ.get(var)
            if raw is None or not raw.strip():
                continue
            what = "a whole number" if kind is int else "a number"
            try:
                value = kind(raw.strip())
            except ValueError:
                raise ValueError(f"{var} must be {what} from {lo} to {hi}, got {raw!r}") from None
            if not lo <= value <= hi:  # (NaN fails this too)
                raise ValueError(f"{var} must be {what} from {lo} to {hi}, got {raw!r}")
            values[name] = value
        return cls(**values).validate()
