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
    """One dict per parameter holding `key`: name, group, optimizer, shape, mean, std, min, max and a histogram
    (counts, edges).

    log10=True histograms log10(|v| + 1e-30), the natural scale of exp_avg_sq (it spans many decades).
    The statistics and the histogram are of the finite entries only; `nan` and `inf` count the others (a run
    that diverged holds them). With no finite entry at all, the statistics are NaN and the histogram is empty.
    """
    names = {id(p): n for n, p in model.named_parameters()}
    out = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            value = optimizer.state.get(p, {}).get(key)
            if not isinstance(value, torch.Tensor) or value.ndim == 0:
                continue
            # float64: the range of large float32 values (max − min) would overflow in float32
            v = value.detach().double().cpu().numpy().ravel()
            ok = np.isfinite(v)
            good = v[ok]
            shown = np.log10(np.abs(good) + 1e-30) if log10 else good
            counts, edges = _histogram(shown, bins)
            out.append(
                {
                    "name": names.get(id(p), "?"),
                    "group": group.get("name", ""),
                    # the optimizer that steps it: one of the parts of a combined optimizer (Muon + AdamW)
                    "optimizer": group.get("optimizer", type(optimizer).__name__),
                    "shape": tuple(value.shape),
                    **_summary(good),
                    "nan": int(np.isnan(v).sum()),
                    "inf": int(np.isinf(v).sum()),
                    "counts": counts,
                    "edges": edges,
                    "log10": log10,
                }
            )
    return out


def _summary(values: np.ndarray) -> dict[str, float]:
    """mean, std, min and max of some numbers; NaN for each when there are none."""
    if values.size == 0:
        return dict.fromkeys(("mean", "std", "min", "max"), float("nan"))
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max())}


def _histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """np.histogram of finite values; empty for none. When all values are (nearly) equal the range is widened
    around them, by 0.5 or a thousandth of their size, whichever is larger, so the bins have a width."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    lo, hi = float(values.min()), float(values.max())
    half = max(0.5, abs(hi) * 1e-3, abs(lo) * 1e-3)
    if hi - lo < 1e-9 * half * bins:
        return np.histogram(values, bins=bins, range=(lo - half, hi + half))
    return np.histogram(values, bins=bins)
