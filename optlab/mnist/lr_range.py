"""The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
arXiv:1506.01186, section 3.3): train from the initial weights while the lr grows every step, watch the loss;
no UI here.

The lr grows geometrically from `lr_min` to `lr_max` over `steps` steps (Smith grows it linearly over several
epochs; a geometric sweep covers the decades a student's guess may be off by in a hundred steps). The loss is
smoothed by a bias-corrected exponential average, and the test stops once the smoothed loss passes 4× its lowest
value (it has blown up). Each param group keeps its ratio to the first group's lr (a last-layer multiplier, the
AdamW part of Muon's recipe).

Rule for the proposal: one tenth of the lr at which the smoothed loss is lowest. At the minimum the lr is
already about as large as training tolerates; a tenth of it still falls fast and stays clear of the blow-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from optlab.i18n import N_, t
from optlab.mnist.config import TrainConfig
from optlab.mnist.data import Digits
from optlab.mnist.events import ProgressEvent
from optlab.mnist.models import build_model
from optlab.mnist.train import batch_indices, build_optimizer, epoch_order

RULE = N_("the proposal is one tenth of the learning rate at which the smoothed loss is lowest")
SMOOTHING = 0.98  # β of the loss's exponential average
BLOWUP = 4.0  # the test stops when the smoothed loss exceeds this many times its lowest value


@dataclass
class RangeTest:
    lrs: list[float]  # the lr of the first param group at each step
    losses: list[float]  # the training loss of each step's batch
    smoothed: list[float]  # the bias-corrected exponential average of the losses
    proposal: float | None  # None when no step was taken


def lr_at(i: int, steps: int, lr_min: float, lr_max: float) -> float:
    """lr of step i (0-based): lr_min · (lr_max / lr_min)^(i / (steps − 1))."""
    return lr_min * (lr_max / lr_min) ** (i / max(1, steps - 1))


def smooth(losses: list[float], beta: float = SMOOTHING) -> list[float]:
    """a_i = β a_{i−1} + (1 − β) ℓ_i, a_{−1} = 0, reported as a_i / (1 − β^{i+1}) (the bias correction)."""
    out, avg = [], 0.0
    for i, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (i + 1)))
    return out


def propose(lrs: list[float], smoothed: list[float]) -> float | None:
    """The rule (see RULE): lrs[argmin smoothed] / 10, over the finite values; None when there are none."""
    finite = [(s, lr) for s, lr in zip(smoothed, lrs, strict=True) if math.isfinite(s)]
    if not finite:
        return None
    return min(finite)[1] / 10


class LrRangeComputation:
    """The range test of run `run` of a configuration, as a job for the training service (run, step, result)."""

    def __init__(self, digits: Digits, config: TrainConfig, run: int = 0, lr_min: float = 1e-5,
                 lr_max: float = 10.0, steps: int = 100, device: torch.device | str = "cpu"):
        if not 0 <= run < len(config.runs):
            raise ValueError(t("There is no optimizer {n}; the configuration has {k}", n=run + 1, k=len(config.runs)))
        if not (0 < lr_min < lr_max) or not 10 <= steps <= 1000:
            raise ValueError(t("The range test needs 0 < lr_min < lr_max and 10 to 1000 steps"))
        self.config, self.digits, self.run_index = config.validate(), digits.to(device), run
        self.lr_min, self.lr_max, self.total_steps, self.device = lr_min, lr_max, steps, device
        self.step = 0
        self.result: RangeTest | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def nbytes(self) -> int:
        return 64 * 3 * self.total_steps

    def run(self, listener=None, stop=None) -> bool:
        cfg, d = self.config, self.digits
        model = build_model(cfg.model, cfg.width, cfg.depth, cfg.channels, cfg.seed).to(self.device)
        optimizer = build_optimizer(cfg.runs[self.run_index], model, cfg)
        base = optimizer.param_groups[0]["lr"]
        ratios = [g["lr"] / base if base else 1.0 for g in optimizer.param_groups]
        steps_per_epoch = cfg.steps_per_epoch(d.n_train)
        lrs, losses = [], []
        best = math.inf
        for i in range(self.total_steps):
            if stop is not None and stop():
                return False
            epoch, j = divmod(i, steps_per_epoch)
            order = epoch_order(cfg.seed, epoch, d.n_train).to(self.device)
            lr = lr_at(i, self.total_steps, self.lr_min, self.lr_max)
            for g, ratio in zip(optimizer.param_groups, ratios, strict=True):
                g["lr"] = lr * ratio
            optimizer.zero_grad(set_to_none=True)
            micro = batch_indices(order, j, cfg.batch_size, cfg.accum_steps)
            n_big = sum(len(m) for m in micro)
            total = 0.0
            for m in micro:
                loss = F.cross_entropy(model(d.x_train[m]), d.y_train[m]) * (len(m) / n_big)
                loss.backward()
                total += loss.item()
            optimizer.step()
            lrs.append(lr)
            losses.append(total)
            self.step = i + 1
            if listener is not None and (i % 10 == 0):
                listener(ProgressEvent(self.step, self.total_steps))
            now = smooth(losses)[-1]
            best = min(best, now)
            if not math.isfinite(now) or now > BLOWUP * best:
                break
        smoothed = smooth(losses)
        self.result = RangeTest(lrs, losses, smoothed, propose(lrs, smoothed))
        self.step = self.total_steps
        return True
