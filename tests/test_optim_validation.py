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


def _constructor_message(name: str, flag: str) -> str:
    with pytest.raises(ValueError) as info:
        getattr(oo, name)([torch.zeros(2, requires_grad=True)], **{flag: True})
    return str(info.value)


def _in_constructor_group(name, flag):
    getattr(oo, name)([{"params": [torch.zeros(2, requires_grad=True)]},
                       {"params": [torch.zeros(2, requires_grad=True)], flag: True}])


def _added_group(name, flag):
    opt = getattr(oo, name)([torch.zeros(2, requires_grad=True)])
    try:
        opt.add_param_group({"params": [torch.zeros(3, requires_grad=True)], flag: True})
    finally:
        assert len(opt.param_groups) == 1, "a refused group must not be left in param_groups"


def _loaded_group(name, flag):
    p = torch.zeros(2, requires_grad=True)
    saved = getattr(oo, name)([p]).state_dict()
    saved["param_groups"][0][flag] = True
    opt = getattr(oo, name)([p])
    try:
        opt.load_state_dict(saved)
    finally:
        assert opt.param_groups[0][flag] in (False, None), "a refused state_dict must not be loaded"


GROUP_WAYS = {"constructor group": _in_constructor_group, "add_param_group": _added_group,
              "load_state_dict": _loaded_group}


@pytest.mark.parametrize("way", list(GROUP_WAYS))
@pytest.mark.parametrize(("name", "flag"), UNSUPPORTED)
def test_unsupported_modes_are_refused_in_a_param_group_with_the_constructors_message(name, flag, way):
    """A group cannot turn on what the constructor refuses (it would silently run the plain algorithm)."""
    with pytest.raises(ValueError) as info:
        GROUP_WAYS[way](name, flag)
    assert str(info.value) == _constructor_message(name, flag)


@pytest.mark.parametrize("way", ["constructor group", "add_param_group"])
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam"])
def test_a_group_may_name_the_default_modes_and_foreach(name, way):
    """A group that states the default modes (or a foreach choice) is accepted, and keeps what it states."""
    cls = getattr(oo, name)
    p = torch.zeros(2, requires_grad=True)
    opt = cls([p])
    keys = [k for k in ("fused", "capturable", "differentiable") if k in opt.defaults]
    group = {"params": [torch.zeros(3, requires_grad=True)], "foreach": True, **{k: opt.defaults[k] for k in keys}}
    if way == "constructor group":
        opt = cls([{"params": [p]}, group])
    else:
        opt.add_param_group(group)
    assert opt.param_groups[1]["foreach"] is True
    assert all(opt.param_groups[1][k] == opt.defaults[k] for k in keys)


@pytest.mark.parametrize("flag", ["capturable", "fused"])
def test_a_mode_the_optimizer_does_not_have_is_left_alone_as_torch_leaves_it(flag):
    """torch's RMSprop has no ``fused`` and SGD no ``capturable``: such a key is carried, unused, by both."""
    name = "RMSprop" if flag == "fused" else "SGD"
    group = {"params": [torch.zeros(2, requires_grad=True)], flag: True}
    ours = getattr(oo, name)([dict(group)])
    theirs = getattr(torch.optim, name)([dict(group)])
    assert ours.param_groups[0][flag] is theirs.param_groups[0][flag] is True
