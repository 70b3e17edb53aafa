"""The MNIST net's own loss landscape: a 2-D slice of the loss around trained weights, and the optimizers' weight
trajectories projected onto a plane (Li, Xu, Taylor, Studer and Goldstein, "Visualizing the Loss Landscape of
Neural Nets", NeurIPS 2018, arXiv:1712.09913); no UI here.

Two planes, both through the trained weights θ* of one run (the centre, at (0, 0)):

- "random": θ* + α δ + β η along two random Gaussian directions, each filter-normalised (section 4 of the
  paper): every filter of δ (a row of a linear layer's weight, an output channel of a convolution) is scaled to
  the norm of the same filter of θ*, and the bias entries of δ are 0. The axes are α and β, in units of the
  weights' own filter norms. A trajectory projected onto two random directions in 10⁵ dimensions is about a
  point, so this plane shows only where the trained weights are.
- "pca": the two principal directions of the trajectories, as loss-landscape-anim draws them (section 7 of the
  paper): the weights θ_i saved during training, minus θ*, stacked as the rows of a matrix whose two leading
  right singular vectors d₁, d₂ (orthonormal) span the plane; a point θ lands at ((θ − θ*)·d₁, (θ − θ*)·d₂). The
  axes are distances along d₁ and d₂ in weight space, with the share of the trajectory's variance each explains.
  The loss drawn is that of the plane's points; a trajectory's own weights lie off the plane, so the loss under
  its projected path is not the loss it had.

The loss is the mean cross-entropy on a fixed slice of the training digits (the first `n_eval`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from optlab.i18n import N_, t
from optlab.mnist.config import TrainConfig
from optlab.mnist.data import Digits
from optlab.mnist.events import ProgressEvent
from optlab.mnist.train import Trainer

PLANES = {
    "pca": N_("PCA plane of the trajectories (loss-landscape-anim)"),
    "random": N_("filter-normalised random directions (Li et al. 2018)"),
}
GRID = 17  # points along each axis (odd: the centre is a grid point)
N_EVAL = 500  # training digits the loss is measured on
SNAPSHOTS = 20  # saved weights per run along its trajectory (the start and the end among them)
MAX_SNAPSHOT_FLOATS = 25_000_000  # 100 MB of float32 at most for all saved weights


def filter_normalized_direction(model: nn.Module, generator: torch.Generator) -> torch.Tensor:
    """A random direction δ ~ N(0, I) over all parameters, flattened, with each filter rescaled:
    δ_f ← δ_f / ‖δ_f‖ · ‖θ_f‖ for every filter f (the first axis of a weight of 2 or more dimensions);
    δ = 0 on biases (1-D parameters), as in the paper."""
    parts = []
    for p in model.parameters():
        theta = p.detach()
        if theta.ndim < 2:
            parts.append(torch.zeros_like(theta).flatten())
            continue
        d = torch.randn(theta.shape, generator=generator, dtype=theta.dtype).to(theta.device)
        d_norm = torch.linalg.vector_norm(d.flatten(1), dim=1).clamp_min(1e-12)
        t_norm = torch.linalg.vector_norm(theta.flatten(1), dim=1)
        parts.append((d * (t_norm / d_norm).view(-1, *([1] * (theta.ndim - 1)))).flatten())
    return torch.cat(parts)


def pca_plane(points: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """d₁, d₂ (orthonormal, flattened) of the rows of points − centre, and the share of Σ‖θ_i − θ*‖² each holds."""
    m = (points - centre).double()
    _, s, vh = torch.linalg.svd(m, full_matrices=False)
    total = float((s**2).sum()) or 1.0
    shares = [float(s[k] ** 2) / total if k < len(s) else 0.0 for k in range(2)]
    d1 = vh[0].to(points.dtype)
    d2 = vh[1].to(points.dtype) if vh.shape[0] > 1 else torch.zeros_like(d1)
    return d1, d2, shares


def project(points: torch.Tensor, centre: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor) -> torch.Tensor:
    """(θ − θ*)·d₁ and (θ − θ*)·d₂ for each row θ of points: an (n, 2) tensor (d₁, d₂ orthonormal)."""
    m = (points - centre).double()
    return torch.stack([m @ d1.double(), m @ d2.double()], dim=1)


def grid_axis(span: float, n: int = GRID) -> torch.Tensor:
    """n points from −span to span, the middle one exactly 0."""
    half = n // 2
    return torch.arange(-half, half + 1, dtype=torch.float64) * (span / half)


@torch.no_grad()
def loss_of(model: nn.Module, vector: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean cross-entropy of the model with its parameters set to `vector` (the model is left holding them)."""
    vector_to_parameters(vector, model.parameters())
    return F.cross_entropy(model(x), y).item()


@dataclass
class Landscape:
    plane: str  # "pca" or "random"
    centre_run: int  # whose trained weights are at (0, 0)
    labels: list[str]
    alphas: list[float]  # the x axis
    betas: list[float]  # the y axis
    loss: list[list[float]]  # [j][i]: loss at (alphas[i], betas[j])
    centre_loss: float  # loss of the trained weights themselves
    paths: list[list[list[float]]] = field(default_factory=list)  # [run][snapshot] (x, y); empty on "random"
    path_steps: list[int] = field(default_factory=list)  # the optimizer step of each snapshot
    shares: list[float] = field(default_factory=list)  # variance share of d₁, d₂ ("pca")
    directions: tuple[torch.Tensor, ...] = ()  # (θ*, d₁, d₂), flattened: where the plane lies in weight space


class LandscapeComputation:
    """Train the configuration again (the same numbers as its run), saving weights along the way, then measure
    the loss on a grid over the chosen plane: a job for the training service (run, step, result)."""

    def __init__(self, digits: Digits, config: TrainConfig, plane: str = "pca", centre_run: int = 0,
                 grid: int = GRID, n_eval: int = N_EVAL, seed: int = 0, device: torch.device | str = "cpu"):
        if plane not in PLANES:
            raise ValueError(t("Unknown plane {plane}; the planes are: {known}", plane=repr(plane)[:40],
                               known=", ".join(PLANES)))
        if not 0 <= centre_run < len(config.runs):
            raise ValueError(t("There is no optimizer {n}; the configuration has {k}", n=centre_run + 1,
                               k=len(config.runs)))
        if grid % 2 == 0 or not 5 <= grid <= 61:
            raise ValueError(t("The grid must have an odd number of points from 5 to 61 per axis, got {n}", n=grid))
        self.digits, self.config, self.plane, self.centre_run = digits, config.validate(), plane, centre_run
        self.grid, self.n_eval, self.seed, self.device = grid, n_eval, seed, device
        self.trainer = Trainer(digits, config, device)
        self.train_steps = self.trainer.total_steps
        self.total_steps = self.train_steps + grid * grid
        self.step = 0
        self.result: Landscape | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def nbytes(self) -> int:
        n_params = sum(p.numel() for p in self.trainer.runs[0].model.parameters())
        return 64 * (self.grid**2 + 2 * SNAPSHOTS * len(self.config.runs)) + 3 * 4 * n_params

    def _snapshot_steps(self) -> list[int]:
        n_params = sum(p.numel() for p in self.trainer.runs[0].model.parameters())
        per_run = max(2, min(SNAPSHOTS, MAX_SNAPSHOT_FLOATS // max(1, n_params * len(self.trainer.runs))))
        return sorted({round(k * self.train_steps / (per_run - 1)) for k in range(per_run)})

    def run(self, listener=None, stop=None) -> bool:
        t = self.trainer
        steps = self._snapshot_steps()
        saved: list[list[torch.Tensor]] = [[] for _ in t.runs]
        for target in steps:
            if target > t.step:
                t.run(stop=lambda target=target: t.step >= target or (stop is not None and stop()))
            if stop is not None and stop():
                return False
            for r, run in enumerate(t.runs):
                saved[r].append(parameters_to_vector(run.model.parameters()).detach().clone())
            self.step = t.step
            if listener is not None:
                listener(ProgressEvent(self.step, self.total_steps))
        x, y = self.digits.x_train[: self.n_eval].to(t.device), self.digits.y_train[: self.n_eval].to(t.device)
        probe = t.runs[self.centre_run].model
        centre = saved[self.centre_run][-1]
        paths, shares = [], []
        if self.plane == "pca":
            alive = [torch.stack(s) for s, d in zip(saved, t.diverged, strict=True) if d is None]
            d1, d2, shares = pca_plane(torch.cat(alive), centre)
            paths = [project(torch.stack(s), centre, d1, d2).tolist() for s in saved]
            reach = max((abs(v) for path in paths for point in path for v in point if math.isfinite(v)),
                        default=1.0)
            span = 1.2 * reach or 1.0
        else:
            g = torch.Generator().manual_seed(self.seed)
            d1, d2 = filter_normalized_direction(probe, g), filter_normalized_direction(probe, g)
            span = 1.0
        axis = grid_axis(span, self.grid)
        losses = []
        for j, b in enumerate(axis.tolist()):
            row = []
            for a in axis.tolist():
                if stop is not None and stop():
                    return False
                row.append(loss_of(probe, centre + a * d1 + b * d2, x, y))
            losses.append(row)
            self.step = self.train_steps + (j + 1) * self.grid
            if listener is not None:
                listener(ProgressEvent(self.step, self.total_steps))
        centre_loss = loss_of(probe, centre, x, y)  # the model is left holding its trained weights
        self.result = Landscape(self.plane, self.centre_run, t.labels, axis.tolist(), axis.tolist(), losses,
                                centre_loss, paths, steps, shares, (centre, d1, d2))
        return True
