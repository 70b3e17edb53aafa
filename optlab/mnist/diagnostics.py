"""Numbers that say how training goes inside the network: per-layer gradient norms, the update/weight ratio per
layer, the confusion matrix of the test set; no training loop and no UI here.

The update/weight ratio ‖Δθ_l‖₂ / ‖θ_l‖₂ of a layer's weights is the CS231n rule of thumb: about 1e-3 is
healthy; much lower, the learning rate is probably too small; much higher, too large (Karpathy, CS231n notes,
"Neural Networks Part 3: Learning and Evaluation", https://cs231n.github.io/neural-networks-3/#ratio, and "A
Recipe for Training Neural Networks", 2019, http://karpathy.github.io/2019/04/25/recipe/).
"""

from __future__ import annotations

import torch
from torch import nn

from optlab.i18n import t

#: The rule of thumb's healthy update/weight ratio.
HEALTHY_RATIO = 1e-3


def param_names(model: nn.Module) -> list[str]:
    """The parameters' names in model.parameters() order: the columns of every per-layer diagnostic."""
    return [name for name, _ in model.named_parameters()]


def grad_norms(model: nn.Module) -> torch.Tensor:
    """‖∇θ_l L‖₂ of each parameter tensor (0 for one without a gradient), as one tensor (no device sync)."""
    return torch.stack([
        torch.linalg.vector_norm(p.grad.detach()) if p.grad is not None else torch.zeros((), device=p.device)
        for p in model.parameters()
    ])


def weights_before(model: nn.Module) -> list[torch.Tensor]:
    """A copy of every parameter, taken just before an optimizer step, for `update_ratios`."""
    return [p.detach().clone() for p in model.parameters()]


def update_ratios(before: list[torch.Tensor], model: nn.Module) -> torch.Tensor:
    """‖θ_l,t − θ_l,t−1‖₂ / ‖θ_l,t−1‖₂ of each parameter tensor, the whole step (decay included), as one tensor.

    A tensor whose weights were all zero before the step has no scale: its ratio is NaN rather than infinite.
    """
    ratios = []
    for old, p in zip(before, model.parameters(), strict=True):
        scale = torch.linalg.vector_norm(old)
        step = torch.linalg.vector_norm(p.detach() - old)
        ratios.append(torch.where(scale > 0, step / scale, torch.full_like(scale, float("nan"))))
    return torch.stack(ratios)


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """C[i, j] = how many test digits of class i were predicted as j (rows: truth, columns: prediction)."""
    predicted, labels = predicted.long().flatten().cpu(), labels.long().flatten().cpu()
    if predicted.shape != labels.shape:
        raise ValueError(t("{n} predictions for {k} labels", n=predicted.numel(), k=labels.numel()))
    return torch.bincount(labels * classes + predicted, minlength=classes * classes).view(classes, classes)
