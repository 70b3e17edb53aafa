"""The MNIST training loop: 1-4 optimizers trained side by side on one batch order, emitting events; no UI here.

Every run starts from the same initial weights and sees the same batches in the same order, so the curves differ
only because the optimizers differ. The loop records cheaply: losses stay tensors until a live update
(every `log_every` steps), the test set is scored once per epoch (or every `eval_every` steps).

A run whose loss or weights stop being finite has diverged: the live update that sees it names the first such
step (a DivergedEvent), and from then on that run takes no more steps and records NaN, while the others go on.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from optlab.ema import ModelEMA
from optlab.i18n import N_
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.data import Digits
from optlab.mnist.diagnostics import grad_norms, param_names, update_ratios, weights_before
from optlab.mnist.events import (
    DiagnosticsEvent,
    DivergedEvent,
    DoneEvent,
    EvalEvent,
    Listener,
    LrChangeEvent,
    StartEvent,
    StepsEvent,
)
from optlab.mnist.groups import apply_decoupled_decay, param_groups
from optlab.mnist.history import History
from optlab.mnist.models import build_model
from optlab.mnist.muon_recipe import build_recipe, split_recipe_hparams
from optlab.registry import get_spec
from optlab.schedules import make_scheduler


def default_device() -> torch.device:
    """The GPU when there is one, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The shuffled sample order of one epoch: a pure function of (seed, epoch), so a resumed run sees the same."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=g)


def batch_indices(order: torch.Tensor, step_in_epoch: int, batch_size: int, accum_steps: int) -> list[torch.Tensor]:
    """The micro-batches of one optimizer step: consecutive slices of batch_size·accum_steps samples."""
    big = batch_size * accum_steps
    chunk = order[step_in_epoch * big : (step_in_epoch + 1) * big]
    return list(chunk.split(batch_size))


def build_optimizer(spec: RunSpec, model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer of one run over the model's param groups (head lr, bias decay, L2 or decoupled decay)."""
    opt_spec = get_spec(spec.optimizer)
    flat, recipe = split_recipe_hparams(dict(spec.hparams)) if spec.optimizer == "muon" else (dict(spec.hparams), {})
    kwargs = opt_spec.kwargs(**flat)
    lr = float(kwargs["lr"])
    groups = param_groups(
        model, lr, config.head_lr_mult, config.no_decay_bias, config.weight_decay, config.wd_mode
    )
    if spec.optimizer == "muon":  # Muon for the hidden weights, AdamW for the rest (see muon_recipe)
        return build_recipe(groups, model, kwargs, recipe, impl=spec.impl)
    return opt_spec.build(groups, impl=spec.impl, **flat)


@dataclass
class RunState:
    """One optimizer configuration in training: its model, optimizer, scheduler and (optional) EMA of weights."""

    spec: RunSpec
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object | None
    ema: ModelEMA | None


def _evaluate_at_average(run: RunState, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """``evaluate`` of a run, between ``eval()`` and ``train()`` for an optimizer that has them (schedule-free)."""
    switch = callable(getattr(run.optimizer, "eval", None)) and callable(getattr(run.optimizer, "train", None))
    if switch:
        run.optimizer.eval()
    try:
        return evaluate(run.model, x, y)
    finally:
        if switch:
            run.optimizer.train()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 2000) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of a model on a labelled set."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), device=x.device)
    total_loss = torch.zeros((), device=x.device)
    for xs, ys in zip(x.split(chunk), y.split(chunk), strict=True):
        logits = model(xs)
        correct += (logits.argmax(1) == ys).sum()
        total_loss += F.cross_entropy(logits, ys, reduction="sum")
    model.train(was_training)
    n = max(1, y.shape[0])
    return correct.item() / n, total_loss.item() / n


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    out = model(x).argmax(1)
    model.train(was_training)
    return out


def weight_norm(model: nn.Module) -> torch.Tensor:
    """‖θ‖₂ over all parameters, as a 0-d tensor (no sync)."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.detach()) for p in model.parameters()]))


def weights_finite(model: nn.Module) -> torch.Tensor:
    """True when every parameter entry is finite, as a 0-d bool tensor (no sync). Not read off ‖θ‖₂, which
    overflows to inf in float32 for weights that are large but finite."""
    return torch.stack([torch.isfinite(p.detach()).all() for p in model.parameters()]).all()


def loss_divergence(losses: list[float]) -> tuple[int, str] | None:
    """(index, reason) of the first loss that is not finite, None when all are."""
    for k, value in enumerate(losses):
        if not math.isfinite(value):
            return k, N_("loss became NaN") if math.isnan(value) else N_("loss became infinite")
    return None


class Trainer:
    """Holds the runs and the position in the batch order; `run()` trains from there to the end or a stop."""

    def __init__(self, data: Digits, config: TrainConfig, device: torch.device | str | None = None):
        self.config = config.validate()
        self.device = torch.device(device) if device is not None else default_device()
        self.data = data.to(self.device)
        self.steps_per_epoch = config.steps_per_epoch(data.n_train)
        self.total_steps = config.total_steps(data.n_train)
        self.step = 0  # optimizer steps done
        self.history = History()
        self.diverged: list[tuple[int, str] | None] = [None] * len(config.runs)  # (step, reason) per run
        self._nan = torch.full((), math.nan, device=self.device)
        base = build_model(config.model, config.width, config.depth, config.channels, config.seed).to(self.device)
        self.runs: list[RunState] = []
        for spec in config.runs:
            model = copy.deepcopy(base)  # identical initial weights for every run
            optimizer = build_optimizer(spec, model, config)
            scheduler = make_scheduler(optimizer, config.schedule, self.total_steps, **dict(config.schedule_params))
            ema = ModelEMA(model, decay=config.ema_decay, tau=config.ema_tau) if config.ema_decay else None
            self.runs.append(RunState(spec, model, optimizer, scheduler, ema))
        self.names = param_names(base)  # the columns of the per-layer diagnostics
        self.diagnostics = True  # sample them (a benchmark turns them off to measure what they cost)

    @property
    def labels(self) -> list[str]:
        return [r.spec.name for r in self.runs]

    @property
    def finished(self) -> bool:
        return self.step >= self.total_steps

    @property
    def all_diverged(self) -> bool:
        return all(d is not None for d in self.diverged)

    def _emit(self, listener: Listener | None, event) -> None:
        self.history(event)
        if listener is not None:
            listener(event)

    def _evaluate(self) -> EvalEvent:
        """Test accuracy and loss of every run (NaN for a diverged run: its weights mean nothing).

        A schedule-free optimizer is evaluated at its averaged point x, not where it takes gradients: its
        ``eval()`` puts x into the parameters and ``train()`` puts them back (Defazio et al., 2024).
        """
        d = self.data
        nan = (math.nan, math.nan)
        alive = [div is None for div in self.diverged]
        scores = [_evaluate_at_average(r, d.x_test, d.y_test) if ok else nan
                  for r, ok in zip(self.runs, alive, strict=True)]
        ema = [evaluate(r.ema.module, d.x_test, d.y_test)[0] if ok else math.nan
               for r, ok in zip(self.runs, alive, strict=True) if r.ema is not None]
        return EvalEvent(
            step=self.step,
            epoch=self.step / self.steps_per_epoch,
            test_acc=[a for a, _ in scores],
            test_loss=[lo for _, lo in scores],
            ema_acc=ema if ema else None,
        )

    def run(self, listener: Listener | None = None, stop: Callable[[], bool] | None = None) -> bool:
        """Train until the last step, until `stop()` is true (checked before each step) or until every run has
        diverged; True when it reached the last step."""
        cfg, d = self.config, self.data
        t0 = time.perf_counter()
        self._emit(listener, StartEvent(self.labels, self.step, self.total_steps, self.steps_per_epoch))
        if self.step == 0:
            self._emit(listener, self._evaluate())
        pending_loss: list[list[torch.Tensor]] = [[] for _ in self.runs]
        pending_lr: list[list[list[float]]] = [[] for _ in self.runs]
        pending_diag: list[tuple[int, list, list]] = []  # (step, [run] grad norms, [run] update ratios)
        first_pending = self.step + 1
        order, order_epoch = None, -1
        stopped = False
        while self.step < self.total_steps and not self.all_diverged:
            if stop is not None and stop():
                stopped = True
                break
            if cfg.lr_change_step and self.step == cfg.lr_change_step:
                self.change_lr()
                self._emit(listener, LrChangeEvent(self.step, [r.spec.lr_change for r in self.runs]))
            # the per-layer diagnostics are sampled on the first step and on every live update's step
            sample = self.diagnostics and (self.step + 1 == 1 or (self.step + 1) % cfg.log_every == 0)
            grads, ratios = [], []
            epoch, j = divmod(self.step, self.steps_per_epoch)
            if epoch != order_epoch:
                order, order_epoch = epoch_order(cfg.seed, epoch, d.n_train).to(self.device), epoch
            micro = batch_indices(order, j, cfg.batch_size, cfg.accum_steps)
            n_big = sum(len(m) for m in micro)
            batches = [(d.x_train[m], d.y_train[m], len(m) / n_big) for m in micro]
            for r, losses, lrs, gone in zip(self.runs, pending_loss, pending_lr, self.diverged, strict=True):
                if gone is not None:  # a diverged run takes no more steps
                    losses.append(self._nan)
                    lrs.append([math.nan] * len(r.optimizer.param_groups))
                    if sample:
                        grads.append(None)
                        ratios.append(None)
                    continue
                r.optimizer.zero_grad(set_to_none=True)
                total = None
                for x, y, w in batches:
                    # mean loss of the micro-batch weighted by its share: Σ_j w_j·mean_j = mean over the big batch
                    loss = F.cross_entropy(r.model(x), y)
                    if w != 1.0:  # (one batch, no accumulation: skip a multiply by 1 and its backward)
                        loss = loss * w
                    loss.backward()
                    total = loss.detach() if total is None else total + loss.detach()
                lrs.append([g["lr"] for g in r.optimizer.param_groups])  # the lr this step uses
                before = weights_before(r.model) if sample else None
                if sample:
                    grads.append(grad_norms(r.model))
                apply_decoupled_decay(r.optimizer)
                r.optimizer.step()
                if sample:
                    ratios.append(update_ratios(before, r.model))
                if r.scheduler is not None:
                    r.scheduler.step()
                if r.ema is not None:
                    r.ema.update(r.model)
                losses.append(total)
            self.step += 1
            if sample:
                pending_diag.append((self.step, grads, ratios))
            end_of_epoch = self.step % self.steps_per_epoch == 0
            eval_due = (cfg.eval_every and self.step % cfg.eval_every == 0) or (not cfg.eval_every and end_of_epoch)
            # a live update before every evaluation, so a divergence is seen before a NaN model is scored
            if self.step % cfg.log_every == 0 or end_of_epoch or eval_due or self.step == self.total_steps:
                self._flush(listener, first_pending, pending_loss, pending_lr)
                self._flush_diagnostics(listener, pending_diag)
                pending_loss, pending_lr, pending_diag = [[] for _ in self.runs], [[] for _ in self.runs], []
                first_pending = self.step + 1
            if eval_due:
                self._emit(listener, self._evaluate())
        if pending_loss[0]:  # stopped between live updates: the losses, but no norm (keeps resumed curves exact)
            self._flush(listener, first_pending, pending_loss, pending_lr, with_norm=False)
            self._flush_diagnostics(listener, pending_diag)
        self._emit(listener, DoneEvent(self.step, self.total_steps, stopped, time.perf_counter() - t0))
        return self.finished

    def change_lr(self) -> None:
        """Multiply every group's lr by the configuration's factor: in place in ``param_groups`` (the optimizer keeps
        its momentum and moments), or, for a run whose ``lr_change`` is "rebuild", in a new optimizer over the same
        weights, whose state starts again from zero, as `torch.optim` starts any new optimizer."""
        factor = self.config.lr_change_factor
        for r in self.runs:
            if r.spec.lr_change == "rebuild":
                r.optimizer = build_optimizer(r.spec, r.model, self.config)
            for g in r.optimizer.param_groups:
                g["lr"] = g["lr"] * factor

    def optimizer_steps(self, r: int, step: int) -> int:
        """The steps run r's optimizer has taken after `step` training steps (a rebuilt one counts from its
        rebuild)."""
        k = self.config.lr_change_step
        rebuilt = k and step > k and self.runs[r].spec.lr_change == "rebuild"
        return step - k if rebuilt else step

    def _flush_diagnostics(self, listener: Listener | None, pending: list) -> None:
        """One DiagnosticsEvent for the sampled steps since the last live update (one device sync for all)."""
        if not pending:
            return
        n = len(self.names)
        nan_row = [math.nan] * n

        def rows(values: list) -> list[list[float]]:
            return [nan_row if v is None else v for v in values]

        flat = [torch.stack([t for t in g + u if t is not None]).tolist() if any(t is not None for t in g + u)
                else [] for _, g, u in pending]
        grad, ratio = [[] for _ in self.runs], [[] for _ in self.runs]
        for (_, g, u), values in zip(pending, flat, strict=True):
            it = iter(values)
            g_rows = rows([None if v is None else next(it) for v in g])
            u_rows = rows([None if v is None else next(it) for v in u])
            for r in range(len(self.runs)):
                grad[r].append(g_rows[r])
                ratio[r].append(u_rows[r])
        self._emit(listener, DiagnosticsEvent([s for s, _, _ in pending], self.names, grad, ratio))

    def _flush(self, listener: Listener | None, first: int, losses, lrs, with_norm: bool = True) -> None:
        """Emit the steps since the last live update, then a DivergedEvent for each run that diverged in them.

        One device sync per live update: the losses and the finiteness of the weights are read together. The
        first step whose loss is not finite is the divergence step; weights that are not finite while every
        loss was are dated to this update's last step (the loss of the next step would show it).
        """
        loss = [torch.stack(lo).tolist() for lo in losses]
        finite = torch.stack([weights_finite(r.model) for r in self.runs]).tolist()
        norms = [weight_norm(r.model).item() for r in self.runs] if with_norm else None
        found = []
        for i, run_losses in enumerate(loss):
            if self.diverged[i] is not None:
                if norms is not None:
                    norms[i] = math.nan
                continue
            hit = loss_divergence(run_losses)
            if hit is None and not finite[i]:
                hit = len(run_losses) - 1, N_("weights became NaN or infinite")
            if hit is None:
                continue
            k, reason = hit
            step = first + k
            self.diverged[i] = (step, reason)
            found.append(DivergedEvent(i, step, reason))
            # the run stops at its divergence step: nothing after it is shown as if it had trained
            loss[i][k + 1:] = [math.nan] * (len(run_losses) - k - 1)
            lrs[i][k + 1:] = [[math.nan] * len(lrs[i][0])] * (len(lrs[i]) - k - 1)
            if norms is not None:
                norms[i] = math.nan
        self._emit(listener, StepsEvent(first_step=first, last_step=self.step, loss=loss, lr=lrs, weight_norm=norms))
        for event in found:
            self._emit(listener, event)
