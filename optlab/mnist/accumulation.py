"""Gradient accumulation check: k micro-batches with zero_grad every k equal one step on the k-times larger batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _grads(model: nn.Module) -> list[torch.Tensor]:
    return [p.grad.detach().clone() for p in model.parameters()]


def accumulation_gap(model: nn.Module, x: torch.Tensor, y: torch.Tensor, accum_steps: int) -> float:
    """max |g_accumulated − g_big| over all gradient entries, for one batch split into accum_steps micro-batches.

    Accumulated: Σ_j (m_j/M)·∇mean-loss(micro_j), zero_grad only before the first; big: ∇mean-loss(whole batch).
    The two agree up to float rounding (about 1e-8 in float32).
    """
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    big = _grads(model)
    model.zero_grad(set_to_none=True)
    n = y.shape[0]
    for xm, ym in zip(x.tensor_split(accum_steps), y.tensor_split(accum_steps), strict=True):
        if ym.shape[0]:
            (F.cross_entropy(model(xm), ym) * (ym.shape[0] / n)).backward()
    acc = _grads(model)
    model.zero_grad(set_to_none=True)
    return max(float((a - b).abs().max()) for a, b in zip(acc, big, strict=True))
