"""What one MNIST lab run is: the model, data order, schedule and 1-4 optimizer configurations; no training here."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from optlab.mnist.groups import WD_MODES
from optlab.mnist.models import MODELS

MAX_RUNS = 4

# Learning rates that train the MNIST networks well in a few epochs (the registry's defaults suit 2D surfaces).
MNIST_LR = {
    "sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 1e-3, "amsgrad": 1e-3, "adamw": 1e-3,
    "nadam": 2e-3, "radam": 1e-3, "rmsprop": 1e-3, "adagrad": 0.05,
}


@dataclass(frozen=True)
class RunSpec:
    """One optimizer configuration: a registry key (e.g. "adam") and its flat hyperparameters."""

    optimizer: str = "adam"
    hparams: tuple[tuple[str, Any], ...] = ()
    label: str = ""
    impl: str = "optlab"  # "optlab" (optlab.optim) or "torch" (torch.optim, same numbers)

    @classmethod
    def of(cls, optimizer: str, label: str = "", impl: str = "optlab", **hparams) -> RunSpec:
        return cls(optimizer, tuple(sorted(hparams.items())), label, impl)

    @property
    def name(self) -> str:
        return self.label or self.optimizer


@dataclass(frozen=True)
class TrainConfig:
    """Everything that fixes a run's numbers. All runs share the initial weights and the batch order."""

    runs: tuple[RunSpec, ...] = field(
        default_factory=lambda: (
            RunSpec.of("momentum", "SGD + momentum", lr=MNIST_LR["momentum"]),
            RunSpec.of("adam", "Adam", lr=MNIST_LR["adam"]),
        )
    )
    model: str = "mlp"
    width: int = 128  # MLP hidden units
    depth: int = 1  # MLP hidden layers
    channels: int = 8  # CNN channels of the first convolution
    epochs: int = 3
    batch_size: int = 64  # micro-batch size
    accum_steps: int = 1  # micro-batches per optimizer step (zero_grad every k micro-batches)
    schedule: str = "constant"
    schedule_params: tuple[tuple[str, float], ...] = ()
    weight_decay: float = 0.0
    wd_mode: str = "optimizer"  # "optimizer" | "l2" | "decoupled" (see groups.WD_MODES)
    no_decay_bias: bool = False
    head_lr_mult: float = 1.0
    ema_decay: float | None = None
    ema_tau: float = 0.0
    seed: int = 0
    eval_every: int = 0  # optimizer steps between test evaluations; 0 = at the end of each epoch
    log_every: int = 10  # optimizer steps between live updates

    def validate(self) -> TrainConfig:
        """Raise ValueError with a clear message for any value out of range; return self."""
        checks = [
            (1 <= len(self.runs) <= MAX_RUNS, f"Between 1 and {MAX_RUNS} optimizer configurations, got {len(self.runs)}"),
            (self.model in MODELS, f"Unknown model: {self.model!r}"),
            (1 <= self.width <= 2048, f"Invalid width: {self.width}"),
            (0 <= self.depth <= 6, f"Invalid depth: {self.depth}"),
            (1 <= self.channels <= 64, f"Invalid channels: {self.channels}"),
            (1 <= self.epochs <= 100, f"Invalid number of epochs: {self.epochs}"),
            (1 <= self.batch_size <= 8192, f"Invalid batch size: {self.batch_size}"),
            (1 <= self.accum_steps <= 64, f"Invalid accumulation steps: {self.accum_steps}"),
            (self.wd_mode in WD_MODES, f"Unknown weight decay mode: {self.wd_mode!r}"),
            (0.0 <= self.weight_decay <= 1.0, f"Invalid weight_decay value: {self.weight_decay}"),
            (0.0 < self.head_lr_mult <= 1000.0, f"Invalid head lr multiplier: {self.head_lr_mult}"),
            (self.ema_decay is None or 0.0 < self.ema_decay < 1.0, f"Invalid EMA decay: {self.ema_decay}"),
            (0.0 <= self.ema_tau <= 1e6, f"Invalid EMA tau: {self.ema_tau}"),
            (0 <= self.seed < 2**31, f"Invalid seed: {self.seed}"),
            (0 <= self.eval_every <= 100_000, f"Invalid eval_every: {self.eval_every}"),
            (1 <= self.log_every <= 100_000, f"Invalid log_every: {self.log_every}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        for r in self.runs:
            if r.impl not in ("optlab", "torch"):
                raise ValueError(f"Unknown implementation: {r.impl!r}")
        return self

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.accum_steps

    def steps_per_epoch(self, n_train: int) -> int:
        """Optimizer steps per epoch; the last batch of an epoch may be smaller (nothing is dropped)."""
        return math.ceil(n_train / self.effective_batch)

    def total_steps(self, n_train: int) -> int:
        return self.epochs * self.steps_per_epoch(n_train)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """Inverse of to_json; ValueError for anything that is not a valid configuration."""
        try:
            d = json.loads(text)
            runs = tuple(
                RunSpec(str(r["optimizer"]), tuple((str(k), v) for k, v in r["hparams"]), str(r["label"]), str(r["impl"]))
                for r in d.pop("runs")
            )
            d["schedule_params"] = tuple((str(k), float(v)) for k, v in d["schedule_params"])
            return cls(runs=runs, **d).validate()
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"Not a valid training configuration ({e})") from None
