"""Muon the way people train with it: Muon for the hidden weight matrices, AdamW for everything else; no training.

Muon is an optimizer for the 2-D weights of hidden layers. Biases, gains and the output layer go to AdamW
(Jordan et al., "Muon: An optimizer for hidden layers in neural networks", 2024,
https://kellerjordan.github.io/posts/muon/, and its reference code's ``MuonWithAuxAdam``; the
``torch.optim.Muon`` documentation of torch 2.13 says the same: "Muon should only be used for hidden weight
layers. The input embedding, final output layer, and any internal gain or bias should be optimized using a
standard method such as AdamW"). A convolution kernel out × in × kh × kw is orthogonalised as the matrix
out × (in·kh·kw), as the write-up does for convolutional filters. The write-up also keeps the network's first
layer on AdamW; on a one-hidden-layer MLP that would leave Muon nothing, so here every weight except the output
layer's is Muon's.

``MuonWithAuxAdamW`` is one ``torch.optim.Optimizer`` over both parts: its ``param_groups`` are the two inner
optimizers' own groups (each marked ``optimizer: "Muon"`` or ``"AdamW"``), its ``state`` is one dict both of them
write to, so ``print(optimizer)``, ``state_dict()``, torch's LR schedulers and an lr edited in
``param_groups`` all act on the pair as they would on a single optimizer.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from optlab import optim
from optlab.i18n import N_, t
from optlab.registry import Hyper

#: The recipe's own knobs, beside the registry's Muon knobs (lr, momentum, nesterov, weight_decay).
ADAMW_LR = Hyper(
    "adamw_lr", N_("AdamW lr (biases, output layer)"), "float", 1e-3, 1e-5, 10.0, log=True,
    symbol=r"\gamma_{AdamW}", help=N_("Learning rate of the AdamW part: the biases and the output layer."),
)
RECIPE_HYPERS = (ADAMW_LR,)
#: AdamW's β of the write-up's recipe (β₂ = 0.95 instead of 0.999: the second moment follows faster).
ADAMW_BETAS = (0.9, 0.95)


def uses_muon(name: str, p: torch.Tensor) -> bool:
    """A hidden weight: a parameter of 2 or more dimensions that is not the output layer's (named ``head.``)."""
    return p.ndim >= 2 and not name.startswith("head.")


def split_recipe_hparams(flat: dict) -> tuple[dict, dict]:
    """(Muon's registry knobs, the recipe's own knobs) from one run's flat hyperparameters."""
    own = {h.name for h in RECIPE_HYPERS}
    return {k: v for k, v in flat.items() if k not in own}, {k: v for k, v in flat.items() if k in own}


def check_recipe_hparams(values: dict) -> dict:
    """The recipe's knobs with their defaults filled in; ValueError (the knob's message) for a bad value."""
    known = {h.name: h for h in RECIPE_HYPERS}
    return {name: h.check(values.get(name, h.default)) for name, h in known.items()}


class MuonWithAuxAdamW(torch.optim.Optimizer):
    """Muon on some param groups, AdamW on the others, stepped together as one optimizer.

    Args:
        muon_groups: param group dicts for Muon (hidden weights).
        adamw_groups: param group dicts for AdamW (biases, the output layer).
        muon_kwargs: Muon's constructor arguments (lr, momentum, nesterov, weight_decay).
        adamw_kwargs: AdamW's constructor arguments (lr, betas, weight_decay).
        impl: "optlab" (optlab.optim.MatrixMuon and AdamW) or "torch" (torch.optim.Muon and AdamW; torch's Muon
            takes 2-D parameters only, so no convolution kernels).
    """

    def __init__(self, muon_groups: Iterable[dict], adamw_groups: Iterable[dict], muon_kwargs: dict,
                 adamw_kwargs: dict, impl: str = "optlab") -> None:
        muon_cls, adamw_cls = ((optim.MatrixMuon, optim.AdamW) if impl == "optlab"
                               else (torch.optim.Muon, torch.optim.AdamW))
        muon_groups = [{**g, "optimizer": "Muon"} for g in muon_groups if g["params"]]
        adamw_groups = [{**g, "optimizer": "AdamW"} for g in adamw_groups if g["params"]]
        if impl == "torch" and any(p.ndim != 2 for g in muon_groups for p in g["params"]):
            raise ValueError(t("torch.optim.Muon takes 2-D weights only; a convolution kernel needs optlab's Muon, "
                               "which steps it as a matrix (implementation optlab)"))
        # an optimizer needs at least one parameter: a part with none is left out
        self.muon = muon_cls(muon_groups, **muon_kwargs) if muon_groups else None
        self.adamw = adamw_cls(adamw_groups, **adamw_kwargs) if adamw_groups else None
        parts = [o for o in (self.muon, self.adamw) if o is not None]
        # torch's add_param_group keeps each dict it is given: the groups here are the inner optimizers' own
        super().__init__([g for o in parts for g in o.param_groups], {})
        self._link()

    def _parts(self) -> list[torch.optim.Optimizer]:
        return [o for o in (self.muon, self.adamw) if o is not None]

    def _link(self) -> None:
        """Point both inner optimizers at this optimizer's groups (in order: Muon's, then AdamW's) and state."""
        k = 0
        for part in self._parts():
            n = len(part.param_groups)
            part.param_groups = self.param_groups[k:k + n]
            part.state = self.state
            k += n

    @torch.no_grad()
    def step(self, closure=None):
        """One step of both parts; ``closure`` re-evaluates the loss (once, before either steps)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for part in self._parts():
            part.step()
        return loss

    def load_state_dict(self, state_dict: dict) -> None:
        """torch's load (it makes new group dicts and a new state dict), then the parts follow them."""
        super().load_state_dict(state_dict)
        self._link()

    # schedule-free style hooks are absent on purpose: both parts evaluate where they train


def recipe_groups(groups: list[dict], model: nn.Module, muon_lr: float, adamw_lr: float) -> tuple[list, list]:
    """Split each of the lab's param groups (head lr, bias decay, ...) into its Muon part and its AdamW part.

    A group's lr override (the last-layer multiplier m, set as m·γ_Muon) carries over to its AdamW part as
    m·γ_AdamW; every AdamW part states its lr, since the lab's groups were made with Muon's.
    """
    names = {id(p): n for n, p in model.named_parameters()}
    muon, adamw = [], []
    for g in groups:
        mult = g["lr"] / muon_lr if "lr" in g and muon_lr else 1.0
        settings = {k: v for k, v in g.items() if k not in ("params", "name")}
        hidden = [p for p in g["params"] if uses_muon(names[id(p)], p)]
        rest = [p for p in g["params"] if not uses_muon(names[id(p)], p)]
        where = "" if g.get("name", "all") == "all" else f"{g['name']}: "
        if hidden:
            muon.append({**settings, "params": hidden, "name": f"{where}hidden weights"})
        if rest:
            adamw.append({**settings, "params": rest, "lr": adamw_lr * mult,
                          "name": f"{where}biases and output layer"})
    return muon, adamw


def build_recipe(groups: list[dict], model: nn.Module, muon_kwargs: dict, recipe: dict,
                 impl: str = "optlab") -> MuonWithAuxAdamW:
    """The recipe over the lab's param groups: Muon with ``muon_kwargs``, AdamW at ``recipe['adamw_lr']``,
    the write-up's betas (0.9, 0.95) and the same weight decay as Muon."""
    values = check_recipe_hparams(recipe)
    muon_groups, adamw_groups = recipe_groups(groups, model, float(muon_kwargs["lr"]), values["adamw_lr"])
    adamw_kwargs = {"lr": values["adamw_lr"], "betas": ADAMW_BETAS,
                    "weight_decay": muon_kwargs.get("weight_decay", 0.0)}
    return MuonWithAuxAdamW(muon_groups, adamw_groups, muon_kwargs, adamw_kwargs, impl)
