"""Per-layer statistics of an optimizer's state (momentum_buffer, exp_avg, exp_avg_sq, ...) for histograms."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def state_keys(optimizer: torch.optim.Optimizer) -> list[str]:
    """The per-parameter tensor state keys present (e.g. ['exp_avg', 'exp_avg_sq']); 'step' is left out."""
    keys: list[str] = []
    for entry in optimizer.state.values():
        for k, v in entry.items():
            if isinstance(v, torch.Tensor) and v.ndim > 0 and k not in keys:
                keys.append(k)
    return keys


def layer_state_stats(
    model: nn.Module, optimizer: torch.optim.Optimizer, key: str, bins: int = 40, log10: bool = False
) -> list[dict]:
    """One dict per parameter holding `key`: name, shape, mean, std, min, max and a histogram (counts, edges).

    log10=True histograms log10(|v| + 1e-30), the natural scale of exp_avg_sq (it spans many decades).
    """
    names = {id(p): n for n, p in model.named_parameters()}
    out = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            value = optimizer.state.get(p, {}).get(key)
            if not isinstance(value, torch.Tensor) or value.ndim == 0:
                continue
            v = value.detach().float().cpu().numpy().ravel()
            shown = np.log10(np.abs(v) + 1e-30) if log10 else v
            counts, edges = np.histogram(shown, bins=bins)
            out.append(
                {
                    "name": names.get(id(p), "?"),
                    "group": group.get("name", ""),
                    "shape": tuple(value.shape),
                    "mean": float(v.mean()),
                    "std": float(v.std()),
                    "min": float(v.min()),
                    "max": float(v.max()),
                    "counts": counts,
                    "edges": edges,
                    "log10": log10,
                }
            )
    return out
