"""Events the MNIST training loop emits to its listener (the UI, a recorder, a test); plain data, no behaviour."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StartEvent:
    labels: list[str]
    start_step: int  # > 0 when a run resumes from a checkpoint
    total_steps: int
    steps_per_epoch: int


@dataclass(frozen=True)
class StepsEvent:
    """The optimizer steps first_step..last_step (1-based, inclusive) since the previous StepsEvent."""

    first_step: int
    last_step: int
    loss: list[list[float]]  # [run][k] training loss of each step (the whole accumulated batch); NaN once diverged
    lr: list[list[list[float]]]  # [run][k][group] learning rate used by each step; NaN once diverged
    weight_norm: list[float] | None  # [run] ‖θ‖₂ over all parameters after last_step (None after a stop)


@dataclass(frozen=True)
class EvalEvent:
    step: int  # optimizer steps done when the test set was scored
    epoch: float  # step / steps_per_epoch
    test_acc: list[float]  # [run]
    test_loss: list[float]  # [run]
    ema_acc: list[float] | None  # [run] accuracy of the EMA weights, None without EMA


@dataclass(frozen=True)
class DiagnosticsEvent:
    """Per-layer numbers of some steps since the previous one (see optlab.mnist.diagnostics); NaN once diverged."""

    steps: list[int]  # the sampled optimizer steps (1-based)
    names: list[str]  # the parameter tensors, the columns below
    grad_norm: list[list[list[float]]]  # [run][k][param] ‖∇θ_l L‖₂ of the batch of that step
    update_ratio: list[list[list[float]]]  # [run][k][param] ‖Δθ_l‖₂ / ‖θ_l‖₂ of that step


@dataclass(frozen=True)
class LrChangeEvent:
    """Every run's lr was multiplied after `step` steps, each by editing param_groups or in a new optimizer."""

    step: int
    how: list[str]  # [run] "edit" or "rebuild"


@dataclass(frozen=True)
class DivergedEvent:
    """Run `run` became unusable at optimizer step `step` (1-based, torch's numbering) and takes no more steps."""

    run: int
    step: int
    reason: str  # "loss became NaN", "loss became infinite", "weights became NaN or infinite"


@dataclass(frozen=True)
class DoneEvent:
    step: int
    total_steps: int
    stopped: bool  # True when a stop request ended the run early
    seconds: float  # wall time of this call to Trainer.run


Event = StartEvent | StepsEvent | EvalEvent | DiagnosticsEvent | LrChangeEvent | DivergedEvent | DoneEvent
Listener = Callable[[Event], None]


@dataclass(frozen=True)
class ProgressEvent:
    """How far a background computation (a range test, a landscape) has come: `step` of `total` units."""

    step: int
    total: int
