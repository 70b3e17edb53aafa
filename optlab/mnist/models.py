"""The two small networks of the MNIST lab (an MLP and a CNN), built from a seed; no training here."""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from optlab.i18n import N_

MODELS = {"mlp": N_("MLP (fully connected)"), "cnn": N_("Small CNN")}


def build_mlp(width: int = 128, depth: int = 1) -> nn.Sequential:
    """784 → width (→ width …, `depth` hidden layers) → 10, ReLU between; the last layer is named `head`."""
    if not 1 <= width <= 2048:
        raise ValueError(f"Invalid width: {width} (1 to 2048)")
    if not 0 <= depth <= 6:
        raise ValueError(f"Invalid depth: {depth} (0 to 6 hidden layers)")
    layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
    fan_in = 28 * 28
    for i in range(1, depth + 1):
        layers += [(f"fc{i}", nn.Linear(fan_in, width)), (f"relu{i}", nn.ReLU())]
        fan_in = width
    layers.append(("head", nn.Linear(fan_in, 10)))
    return nn.Sequential(OrderedDict(layers))


def build_cnn(channels: int = 8) -> nn.Sequential:
    """conv3x3(1→c) → ReLU → pool2 → conv3x3(c→2c) → ReLU → pool2 → linear(2c·7·7 → 10, `head`)."""
    if not 1 <= channels <= 64:
        raise ValueError(f"Invalid channels: {channels} (1 to 64)")
    c = channels
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, c, 3, padding=1)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # 28 → 14
                ("conv2", nn.Conv2d(c, 2 * c, 3, padding=1)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),  # 14 → 7
                ("flatten", nn.Flatten()),
                ("head", nn.Linear(2 * c * 7 * 7, 10)),
            ]
        )
    )


def build_model(kind: str = "mlp", width: int = 128, depth: int = 1, channels: int = 8, seed: int = 0) -> nn.Sequential:
    """A fresh network whose initial weights depend only on its shape and the seed (MLP: width, depth; CNN: channels)."""
    if kind not in MODELS:
        raise ValueError(f"Unknown model: {kind!r} (one of {', '.join(MODELS)})")
    # Built on the meta device (no values, no random draws), then initialised from a private generator. Seeding
    # torch's global generator instead is not private to a thread: the training pool, the pages and the lessons
    # build or draw at the same time, and would take each other's numbers.
    with torch.device("meta"):
        model = build_mlp(width, depth) if kind == "mlp" else build_cnn(channels)
    model = model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():  # construction order: the order the default init would draw in
        if isinstance(module, nn.Linear | nn.Conv2d):
            _default_init(module, generator)
    return model


def _default_init(layer: nn.Linear | nn.Conv2d, generator: torch.Generator) -> None:
    """torch's own default initialisation (nn.Linear.reset_parameters, nn.Conv2d's is the same), drawn from
    `generator`: W ~ kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in), b ~ U(−1/√fan_in, 1/√fan_in), where fan_in
    is the inputs of one output unit (in_features, or in_channels × kernel area). Same numbers as torch's for the
    same seed: the global CPU generator and a torch.Generator are one algorithm (mt19937)."""
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        if layer.bias is not None:
            fan_in = layer.weight[0].numel()
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
