"""The hashable configuration of one run on a surface: optimizer, hyperparameters, schedule, EMA shadow.

What this file leaves out: building the optimizer (``optlab.trace.build``) and running it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optlab.i18n import t
from optlab.registry import REGISTRY

Items = tuple[tuple[str, Any], ...]


def as_items(values: Mapping[str, Any] | Items | None) -> Items:
    """A mapping as a sorted tuple of pairs: hashable, so configurations can key a cache."""
    if values is None:
        return ()
    pairs = values.items() if isinstance(values, Mapping) else values
    return tuple(sorted((str(k), v) for k, v in pairs))


@dataclass(frozen=True)
class RunConfig:
    """One run: which optimizer, its hyperparameters, and the extras (schedule, EMA shadow).

    ``optimizer`` is a key of ``optlab.registry.REGISTRY`` (hyperparameters in its flat names, e.g. ``beta1``),
    or, with ``impl="torch"``, either a registry key or the name of any ``torch.optim`` class (hyperparameters
    then are that class's constructor arguments). ``axis_hparams`` makes x and y two parameters in two param
    groups, each with its own overrides, so a per-group learning rate becomes visible on the surface.
    """

    optimizer: str
    hparams: Items = ()
    impl: str = "optlab"
    schedule: str = "constant"
    schedule_params: Items = ()
    ema_decay: float | None = None
    ema_tau: float = 0.0
    label: str = ""
    axis_hparams: tuple[Items, Items] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hparams", as_items(self.hparams))
        object.__setattr__(self, "schedule_params", as_items(self.schedule_params))
        if self.axis_hparams is not None:
            x, y = self.axis_hparams
            object.__setattr__(self, "axis_hparams", (as_items(x), as_items(y)))
        if self.impl not in ("optlab", "torch"):
            raise ValueError(t("impl must be 'optlab' or 'torch', not {impl!r}", impl=self.impl))

    @classmethod
    def of(cls, optimizer: str, label: str = "", **hparams: Any) -> RunConfig:
        """Shorthand: ``RunConfig.of("adam", lr=0.1)``."""
        return cls(optimizer=optimizer, hparams=as_items(hparams), label=label)

    @property
    def name(self) -> str:
        """The label, or a readable default."""
        if self.label:
            return self.label
        if self.optimizer in REGISTRY:
            return REGISTRY[self.optimizer].label
        return self.optimizer
