"""Per-layer parameter groups (head learning rate, no decay on biases, L2 or decoupled weight decay); no training."""

from __future__ import annotations

import torch
from torch import nn

from optlab.i18n import N_

WD_MODES = {
    "optimizer": N_("as the optimizer's own weight_decay hyperparameter says"),
    "l2": N_("L2: λθ added to the gradient (inside the optimizer, before momentum / Adam's moments)"),
    "decoupled": N_("decoupled (AdamW-style): θ ← θ − lr·λ·θ before each optimizer step, outside the gradient"),
}


def _category(name: str) -> tuple[bool, bool]:
    """(is_head, is_bias) for a parameter name such as 'head.bias' or 'fc1.weight'."""
    return name.startswith("head."), name.endswith(".bias")


def param_groups(
    model: nn.Module,
    lr: float,
    head_lr_mult: float = 1.0,
    no_decay_bias: bool = False,
    weight_decay: float = 0.0,
    wd_mode: str = "optimizer",
) -> list[dict]:
    """Split a model's parameters into torch param groups, merging those that end up with the same settings.

    Each group carries a `name`; only keys that differ from the optimizer's defaults are set, so torch fills in
    the rest. Decoupled decay is kept in the extra key `decoupled_wd` (λ) and applied by `apply_decoupled_decay`.
    """
    if wd_mode not in WD_MODES:
        raise ValueError(f"Unknown weight decay mode: {wd_mode!r}")
    if not 0.0 < head_lr_mult <= 1000.0:
        raise ValueError(f"Invalid head lr multiplier: {head_lr_mult}")
    if not 0.0 <= weight_decay <= 1.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    groups: dict[tuple, dict] = {}
    for name, p in model.named_parameters():
        is_head, is_bias = _category(name)
        overrides: dict = {}
        if is_head and head_lr_mult != 1.0:
            overrides["lr"] = lr * head_lr_mult
        decay = 0.0 if (is_bias and no_decay_bias) else weight_decay
        if wd_mode == "l2":
            overrides["weight_decay"] = decay
        elif wd_mode == "decoupled":
            overrides["weight_decay"] = 0.0
            overrides["decoupled_wd"] = decay
        elif is_bias and no_decay_bias:
            overrides["weight_decay"] = 0.0
        key = tuple(sorted(overrides.items()))
        if key not in groups:
            groups[key] = {"params": [], "names": [], **overrides}
        groups[key]["params"].append(p)
        groups[key]["names"].append(name)
    out = []
    for g in groups.values():
        g["name"] = "all" if len(groups) == 1 else _group_name(g.pop("names"))
        g.pop("names", None)
        out.append(g)
    return out


def _group_name(names: list[str]) -> str:
    """'weights', 'biases', 'head', 'body', 'head biases', ... from what the group holds."""
    heads = {h for h, _ in map(_category, names)}
    biases = {b for _, b in map(_category, names)}
    where = "head" if heads == {True} else ("body" if heads == {False} else "")
    what = "biases" if biases == {True} else ("weights" if biases == {False} else "")
    if where == "body" and what:
        where = ""  # 'weights' reads better than 'body weights' when the head is not split off
    return f"{where} {what}".strip() or "all"


@torch.no_grad()
def apply_decoupled_decay(optimizer: torch.optim.Optimizer) -> None:
    """θ ← θ·(1 − lr·λ) for groups with a `decoupled_wd` λ: exactly what torch's AdamW does before its Adam step."""
    for group in optimizer.param_groups:
        wd = group.get("decoupled_wd", 0.0)
        if wd:
            for p in group["params"]:
                p.mul_(1.0 - group["lr"] * wd)


def param_groups_text(optimizer: torch.optim.Optimizer) -> str:
    """The optimizer's param_groups as PyTorch prints them (`print(optimizer)`), with each group's parameter count."""
    lines = [repr(optimizer)]
    for i, g in enumerate(optimizer.param_groups):
        n = sum(p.numel() for p in g["params"])
        lines.append(f"# group {i}: {len(g['params'])} tensors, {n:,} numbers")
    return "\n".join(lines)
