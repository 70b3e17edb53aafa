"""Bad constructor arguments: optlab raises what torch raises (same type, same message); unsupported modes are refused."""

import pytest
import torch

import optlab.optim as oo

# (class name, kwargs) that torch refuses
BAD = [
    ("SGD", {"lr": -0.1}),
    ("SGD", {"momentum": -0.5}),
    ("SGD", {"weight_decay": -1}),
    ("SGD", {"nesterov": True}),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("SGD", {"lr": torch.tensor([0.1, 0.2])}),
    ("Adam", {"lr": -1e-2}),
    ("Adam", {"eps": -1.0}),
    ("Adam", {"lr": 1e-2, "betas": (1.0, 0.0)}),
    ("Adam", {"betas": (0.9, 1.0)}),
    ("Adam", {"lr": 1e-2, "weight_decay": -1}),
    ("Adam", {"betas": (0.9, torch.tensor(0.999))}),
    ("Adam", {"betas": (torch.tensor([0.9, 0.8]), torch.tensor(0.999))}),
    ("Adam", {"lr": torch.tensor(0.001), "foreach": True}),
    ("Adam", {"lr": torch.tensor([0.1, 0.2])}),
    ("AdamW", {"betas": (1.0, 0.0)}),
    ("AdamW", {"weight_decay": -0.1}),
    ("RMSprop", {"lr": -1.0}),
    ("RMSprop", {"lr": 1e-2, "momentum": -1.0}),
    ("RMSprop", {"alpha": -0.1}),
    ("RMSprop", {"eps": -1e-8}),
    ("RMSprop", {"weight_decay": -0.1}),
    ("Adagrad", {"lr": 1e-2, "lr_decay": -0.5}),
    ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1.0}),
    ("Adagrad", {"weight_decay": -0.1}),
    ("NAdam", {"lr": 1e-2, "betas": (1.0, 0.0)}),
    ("NAdam", {"lr": 1e-2, "momentum_decay": -0.2}),
    ("NAdam", {"betas": (0.9, 1.5)}),
    ("RAdam", {"lr": 1e-2, "betas": (1.0, 0.0)}),
    ("RAdam", {"lr": 1e-2, "weight_decay": -1}),
    ("RAdam", {"eps": -1.0}),
]


def _error(cls, kwargs):
    with pytest.raises(Exception) as info:
        cls([torch.zeros(2, requires_grad=True)], **kwargs)
    return type(info.value), str(info.value)


@pytest.mark.parametrize(("name", "kwargs"), BAD, ids=[f"{n}-{sorted(k)}" for n, k in BAD])
def test_same_error_as_torch(name, kwargs):
    theirs = _error(getattr(torch.optim, name), kwargs)
    ours = _error(getattr(oo, name), kwargs)
    assert ours == theirs
    assert theirs[0] in (ValueError, RuntimeError)  # a 2-element tensor beta fails in its comparison


UNSUPPORTED = [
    (name, flag)
    for name, flags in {
        "SGD": ["fused", "differentiable"],
        "Adam": ["fused", "capturable", "differentiable"],
        "AdamW": ["fused", "capturable", "differentiable"],
        "RMSprop": ["capturable", "differentiable"],
        "Adagrad": ["fused", "differentiable"],
        "NAdam": ["capturable", "differentiable"],
        "RAdam": ["capturable", "differentiable"],
    }.items()
    for flag in flags
]


@pytest.mark.parametrize(("name", "flag"), UNSUPPORTED)
def test_unsupported_modes_are_refused_clearly(name, flag):
    with pytest.raises(ValueError, match=rf"{flag}=True is not supported"):
        getattr(oo, name)([torch.zeros(2, requires_grad=True)], **{flag: True})


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam"])
def test_default_modes_and_foreach_are_accepted(name):
    cls = getattr(oo, name)
    p = torch.zeros(2, requires_grad=True)
    for foreach in (None, False, True):
        opt = cls([p], foreach=foreach)
        assert opt.param_groups[0]["foreach"] is foreach


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam", "RAdam"])
def test_sparse_gradients_are_refused(name):
    p = torch.zeros(3, requires_grad=True)
    opt = getattr(oo, name)([p], **({"momentum": 0.9} if name == "SGD" else {}))
    p.grad = torch.zeros(3).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
