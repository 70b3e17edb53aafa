"""A listener that keeps every event of a training run as plain lists (curves to plot, to save with a checkpoint)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from optlab.mnist.events import DoneEvent, EvalEvent, Event, StartEvent, StepsEvent


@dataclass
class History:
    labels: list[str] = field(default_factory=list)
    total_steps: int = 0
    steps_per_epoch: int = 1
    step: list[int] = field(default_factory=list)  # optimizer step numbers 1..n
    loss: list[list[float]] = field(default_factory=list)  # [run][step]
    lr: list[list[list[float]]] = field(default_factory=list)  # [run][step][group]
    norm_step: list[int] = field(default_factory=list)
    weight_norm: list[list[float]] = field(default_factory=list)  # [run][norm_step]
    eval_step: list[int] = field(default_factory=list)
    test_acc: list[list[float]] = field(default_factory=list)  # [run][eval_step]
    test_loss: list[list[float]] = field(default_factory=list)
    ema_acc: list[list[float]] = field(default_factory=list)  # empty lists without EMA
    done: bool = False
    stopped: bool = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, StartEvent):
            if not self.labels:
                n = len(event.labels)
                self.labels = list(event.labels)
                self.loss, self.lr, self.weight_norm = [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)]
                self.test_acc, self.test_loss, self.ema_acc = [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)]
            self.total_steps, self.steps_per_epoch = event.total_steps, event.steps_per_epoch
            self.done = self.stopped = False
        elif isinstance(event, StepsEvent):
            self.step.extend(range(event.first_step, event.last_step + 1))
            for r in range(len(self.labels)):
                self.loss[r].extend(event.loss[r])
                self.lr[r].extend(event.lr[r])
            if event.weight_norm is not None:
                self.norm_step.append(event.last_step)
                for r in range(len(self.labels)):
                    self.weight_norm[r].append(event.weight_norm[r])
        elif isinstance(event, EvalEvent):
            self.eval_step.append(event.step)
            for r in range(len(self.labels)):
                self.test_acc[r].append(event.test_acc[r])
                self.test_loss[r].append(event.test_loss[r])
                if event.ema_acc is not None:
                    self.ema_acc[r].append(event.ema_acc[r])
        elif isinstance(event, DoneEvent):
            self.done, self.stopped = True, event.stopped

    @property
    def steps_done(self) -> int:
        return self.step[-1] if self.step else 0

    def copy(self) -> History:
        return History.from_json(self.to_json())

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> History:
        try:
            d = json.loads(text)
            h = cls(**d)
        except (TypeError, ValueError) as e:
            raise ValueError(f"Not a training history ({e})") from None
        if not all(isinstance(v, list) for v in (h.step, h.loss, h.lr, h.test_acc, h.eval_step)):
            raise ValueError("Not a training history (fields must be lists)")
        return h
