"""Building a run's optimizer from its ``RunConfig``: class, constructor arguments, param groups.

What this file leaves out: stepping it (``optlab.trace.step``) and recording what it did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from optlab.i18n import t
from optlab.registry import REGISTRY, get_spec
from optlab.trace.config import Items, RunConfig

_NOT_TRACEABLE = {"SparseAdam": "it needs sparse gradients"}


def _torch_class(name: str) -> type[torch.optim.Optimizer]:
    cls = getattr(torch.optim, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
        raise ValueError(t("unknown optimizer {name!r}: use one of {known} or a torch.optim class name",
                           name=name, known=sorted(REGISTRY)))
    if name in _NOT_TRACEABLE:
        raise ValueError(t("torch.optim.{name} cannot be traced here: {why}", name=name, why=_NOT_TRACEABLE[name]))
    return cls


def constructor_kwargs(config: RunConfig, overrides: Items = ()) -> tuple[type, dict[str, Any]]:
    """The optimizer class and its constructor arguments for this run (and a group's overrides)."""
    values = {**dict(config.hparams), **dict(overrides)}
    if config.optimizer in REGISTRY:
        spec = get_spec(config.optimizer)
        cls = spec.cls if config.impl == "optlab" else spec.torch_cls
        return cls, spec.kwargs(**values)
    if config.impl != "torch":
        get_spec(config.optimizer)  # raises with the list of known keys
    return _torch_class(config.optimizer), values


def needs_closure(config: RunConfig) -> bool:
    """Whether the run's optimizer re-evaluates the loss through a closure in ``step(closure)`` (L-BFGS)."""
    spec = REGISTRY.get(config.optimizer)
    if spec is not None and getattr(spec, "needs_closure", False):
        return True
    cls = constructor_kwargs(config)[0]
    return issubclass(cls, torch.optim.LBFGS) or bool(getattr(cls, "NEEDS_CLOSURE", False))


def build_run_optimizer(config: RunConfig, params: Sequence[torch.Tensor]) -> torch.optim.Optimizer:
    """The run's optimizer over ``params``: one param group, or with ``axis_hparams`` one group per axis."""
    cls, kwargs = constructor_kwargs(config)
    if config.axis_hparams is None:
        return cls(list(params), **kwargs)
    if needs_closure(config):
        raise ValueError(t("{name} cannot give x and y their own settings: its line search takes one step for "
                           "all parameters together, so it has a single param group", name=config.name))
    groups = [
        {"params": [p], **constructor_kwargs(config, overrides)[1]}
        for p, overrides in zip(params, config.axis_hparams, strict=True)
    ]
    return cls(groups, **kwargs)


def hyper_fields(group: Mapping[str, Any]) -> list[tuple[str, str, int | None]]:
    """The numeric hyperparameters of a param group as (name, group key, index): ``betas`` gives beta1 and beta2."""
    fields: list[tuple[str, str, int | None]] = []
    for key, value in group.items():
        if key == "params" or isinstance(value, bool) or value is None:
            continue
        if key == "betas":
            fields += [("beta1", key, 0), ("beta2", key, 1)]
        elif isinstance(value, int | float | torch.Tensor):
            fields.append((key, key, None))
    return fields


def printable(value: Any) -> Any:
    """Group values as torch prints them, with tensors (a tensor lr) kept as tensors."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def printable_groups(optimizer: torch.optim.Optimizer) -> list[dict]:
    """The param groups' hyperparameters (no 'params'), as ``print(optimizer)`` shows them."""
    return [{k: printable(v) for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
