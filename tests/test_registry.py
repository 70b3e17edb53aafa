"""The optimizer registry: every preset builds both implementations, maps flat knobs to torch kwargs, refuses bad values."""

import dataclasses
import inspect
import math

import pytest
import torch

import optlab.optim as oo
from optlab.optim._base import ExplainedOptimizer
from optlab.registry import REGISTRY, Hyper, OptimizerSpec, get_spec

KEYS = list(REGISTRY)
EXPECTED_KEYS = {"sgd", "momentum", "nesterov", "adam", "amsgrad", "adamw", "nadam", "radam", "rmsprop", "adagrad"}


def test_registry_has_the_presets_in_order():
    assert set(KEYS) == EXPECTED_KEYS
    assert KEYS[:3] == ["sgd", "momentum", "nesterov"]


@pytest.mark.parametrize("key", KEYS)
def test_spec_is_well_formed(key):
    spec = get_spec(key)
    assert spec.key == key and spec.label and spec.description and "\n" not in spec.description
    assert issubclass(spec.cls, ExplainedOptimizer) and spec.cls.__name__ == spec.torch_cls.__name__
    assert len(set(spec.names())) == len(spec.names())
    for h in spec.hypers:
        assert h.kind in ("float", "bool"), h
        if h.kind == "bool":
            assert isinstance(h.default, bool)
        else:
            assert isinstance(h.default, float) and h.min is not None and h.max is not None
            assert h.min <= h.default <= h.max, h
            assert not h.log or h.min > 0, h
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.label = "changed"
    with pytest.raises(TypeError):
        spec.fixed["lr"] = 1.0


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("corner", ["default", "min", "max"])
def test_both_impls_build_and_agree(key, corner):
    """Defaults and the range ends give valid torch kwargs, and optlab and torch take the same steps."""
    spec = get_spec(key)
    flat = {h.name: (h.default if corner == "default" or h.kind == "bool" else getattr(h, corner))
            for h in spec.hypers}
    runs = []
    for impl in ("optlab", "torch"):
        p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
        opt = spec.build([p], impl=impl, **flat)
        assert isinstance(opt, spec.cls if impl == "optlab" else spec.torch_cls)
        for _ in range(5):
            opt.zero_grad()
            (p[0] ** 2 + 3 * p[1] ** 2).backward()
            opt.step()
        runs.append(p.detach())
    torch.testing.assert_close(runs[0], runs[1], rtol=1e-10, atol=1e-12, equal_nan=True)


def test_kwargs_maps_betas_and_adds_fixed_arguments():
    kw = get_spec("adam").kwargs(beta1=0.5, beta2=0.75, lr=0.1)
    assert kw["betas"] == (0.5, 0.75) and "beta1" not in kw and kw["lr"] == 0.1
    assert get_spec("amsgrad").kwargs()["amsgrad"] is True
    nesterov = get_spec("nesterov").kwargs(momentum=0.5)
    assert nesterov["nesterov"] is True and nesterov["dampening"] == 0.0 and nesterov["momentum"] == 0.5
    assert get_spec("adamw").kwargs()["weight_decay"] == 0.01
    # integers become floats: torch's Adam insists on float betas
    assert get_spec("adam").kwargs(beta1=0, lr=1)["betas"] == (0.0, 0.999)


# The presets' defaults that are deliberately not torch's: a learning rate that moves on a 2D surface within a few
# hundred steps, and momentum presets that have momentum. Every other default must be torch's own.
CHOSEN_DEFAULTS = {
    "sgd": {"lr"}, "momentum": {"lr", "momentum"}, "nesterov": {"lr", "momentum"}, "adam": {"lr"},
    "amsgrad": {"lr"}, "adamw": {"lr"}, "nadam": {"lr"}, "radam": {"lr"}, "rmsprop": set(), "adagrad": {"lr"},
}


def as_constructor_arguments(flat: dict) -> dict:
    """The registry's flat knobs named as the constructor names them (beta1, beta2 -> betas)."""
    out = dict(flat)
    if "beta1" in out:
        out["betas"] = (out.pop("beta1"), out.pop("beta2"))
    return out


@pytest.mark.parametrize("key", KEYS)
def test_defaults_build_both_classes_and_differ_from_torchs_only_where_chosen(key):
    """With no settings, both classes get the preset's knobs and fixed arguments, torch's own default for every
    other constructor argument, and the knobs differ from torch's defaults only where CHOSEN_DEFAULTS says."""
    spec = get_spec(key)
    signature = {name: param.default for name, param in inspect.signature(spec.torch_cls.__init__).parameters.items()
                 if name not in ("self", "params")}
    knobs = as_constructor_arguments(spec.defaults())
    assert set(knobs) <= set(signature), set(knobs) - set(signature)
    assert set(spec.fixed) <= set(signature), set(spec.fixed) - set(signature)
    assert {name for name, value in knobs.items() if value != signature[name]} == CHOSEN_DEFAULTS[key]

    expected = {**signature, **knobs, **spec.fixed}
    built = {}
    for impl in ("torch", "optlab"):
        (group,) = spec.build([torch.zeros(2, requires_grad=True)], impl=impl).param_groups
        built[impl] = {name: value for name, value in group.items() if name != "params"}
        got = {name: built[impl].get(name) for name in expected}
        assert got == expected, (impl, {k: (got[k], v) for k, v in expected.items() if got[k] != v})
    # keys the class adds itself (AdamW's decoupled_weight_decay=True) are the same in both
    assert built["optlab"] == built["torch"]


BAD = [
    ("sgd", {"momentum": 0.9}, "no setting"),
    ("adam", {"betas": (0.9, 0.99)}, "no setting"),
    ("adam", {"lr": 20.0}, "outside the allowed range"),
    ("adam", {"lr": 0.0}, "outside the allowed range"),
    ("adam", {"beta1": 1.0}, "outside the allowed range"),
    ("momentum", {"momentum": -0.1}, "outside the allowed range"),
    ("nesterov", {"momentum": 0.0}, "outside the allowed range"),
    ("adam", {"lr": float("nan")}, "finite"),
    ("adam", {"lr": "0.1"}, "must be a number"),
    ("adam", {"lr": True}, "must be a number"),
    ("rmsprop", {"centered": 1}, "True or False"),
]


@pytest.mark.parametrize(("key", "flat", "message"), BAD)
def test_bad_values_are_refused_clearly(key, flat, message):
    with pytest.raises(ValueError, match=message):
        get_spec(key).kwargs(**flat)
    with pytest.raises(ValueError, match=message):
        get_spec(key).build([torch.zeros(2, requires_grad=True)], **flat)


def test_unknown_key_and_impl():
    with pytest.raises(ValueError, match="known optimizers: sgd, momentum"):
        get_spec("lion")
    with pytest.raises(ValueError, match="impl must be"):
        get_spec("sgd").build([torch.zeros(2, requires_grad=True)], impl="jax")


def test_unknown_setting_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'lr', 'weight_decay', 'maximize'"):
        get_spec("sgd").kwargs(beta1=0.9)


def test_hyper_check_is_exact_at_the_range_ends():
    h = Hyper("lr", "lr", "float", 0.1, 1e-5, 10.0, log=True)
    assert h.check(10) == 10.0 and h.check(1e-5) == 1e-5
    with pytest.raises(ValueError):
        h.check(math.nextafter(10.0, 11.0))


def test_fixed_is_read_only_even_when_given_a_dict():
    fixed = {"nesterov": True}
    spec = OptimizerSpec("x", "X", oo.SGD, torch.optim.SGD, (), "x", fixed=fixed)
    fixed["nesterov"] = False
    assert spec.fixed["nesterov"] is True
