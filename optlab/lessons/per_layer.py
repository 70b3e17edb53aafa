"""The lesson on per-layer learning rates: two groups as in fine-tuning, and choosing parameters by identity."""

import torch
from torch import nn

from optlab import optim


def small_net() -> nn.Sequential:
    """A feature extractor and a classifier, as in a pretrained network being fine-tuned."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU()),  # model[0]: features (pretrained, move gently)
        nn.Linear(8, 3),  # model[1]: classifier (new, learn fast)
    )


def fine_tune_step(features_lr: float, classifier_lr: float) -> list[dict]:
    """One SGD step with two groups; measure |step| / |grad| per tensor: it is exactly that group's lr."""
    model = small_net()
    features, classifier = model[0], model[1]
    opt = optim.SGD(
        [{"params": features.parameters(), "lr": features_lr}, {"params": classifier.parameters()}],
        lr=classifier_lr,  # the default: used by every group that does not set its own lr
    )
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    rows = []
    for name, p in model.named_parameters():
        step = (p.detach() - before[name]).norm()
        rows.append({"tensor": name, "group": 0 if name.startswith("0.") else 1,
                     "measured lr": float(step / p.grad.norm())})
    return rows


def no_decay_for_biases(weight_decay: float) -> dict:
    """Choose parameters for a group by identity: weight decay on matrices, none on biases."""
    model = small_net()
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = optim.SGD([{"params": decay, "weight_decay": weight_decay},
                     {"params": no_decay, "weight_decay": 0.0}], lr=0.1)
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    return {
        "groups": [{"n_tensors": len(g["params"]), "weight_decay": g["weight_decay"]} for g in opt.param_groups],
        "every_parameter_once": sorted(ids) == sorted(id(p) for p in model.parameters()),
    }


def same_parameter_twice() -> str:
    """torch refuses a parameter that is in two groups; this is the message it gives."""
    model = small_net()
    try:
        optim.SGD([{"params": model.parameters()}, {"params": model[1].parameters()}], lr=0.1)
    except ValueError as err:
        return str(err)
    return ""
