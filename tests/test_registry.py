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
EXPECTED_KEYS = {"sgd", "momentum", "nesterov", "adam", "amsgrad", "adamw", "nadam", "radam", "rmsprop", "adagrad",
                 "adamax", "adadelta", "rprop", "asgd", "adafactor", "muon", "lion", "adabelief", "schedule_free", "lbfgs"}


def reference_params(spec, p: torch.Tensor) -> torch.Tensor:
    """The parameter the reference class steps: torch's Muon takes matrices, so the point is the 1×2 matrix."""
    return p.detach().reshape(1, -1).clone().requires_grad_() if spec.key == "muon" else p


def prepared(spec, opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """The reference as the lab runs the optlab form: schedulefree's optimizer switched to train mode."""
    if spec.key == "schedule_free" and not opt.param_groups[0]["train_mode"]:
        opt.train()
    return opt


def step(opt: torch.optim.Optimizer, loss) -> None:
    """One step through a closure, the way every optimizer accepts (L-BFGS requires it)."""
    def closure():
        opt.zero_grad()
        value = loss()
        value.backward()
        return value
    opt.step(closure)


def test_registry_has_the_presets_in_order():
    assert set(KEYS) == EXPECTED_KEYS
    assert KEYS[:3] == ["sgd", "momentum", "nesterov"]


@pytest.mark.parametrize("key", KEYS)
def test_spec_is_well_formed(key):
    spec = get_spec(key)
    assert spec.key == key and spec.label and spec.description and "\n" not in spec.description
    # the optlab class is the reference's namesake, or the lab form of it (MatrixMuon is a Muon)
    assert issubclass(spec.cls, ExplainedOptimizer)
    assert spec.reference_cls.__name__ in {cls.__name__ for cls in spec.cls.__mro__}
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
        point = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
        p = point if impl == "optlab" else reference_params(spec, point)
        opt = spec.build([p], impl=impl, **flat)
        assert isinstance(opt, spec.cls if impl == "optlab" else spec.reference_cls)
        if impl == "torch":
            prepared(spec, opt)
        for _ in range(5):
            step(opt, lambda p=p: p.reshape(-1)[0] ** 2 + 3 * p.reshape(-1)[1] ** 2)
        runs.append(p.detach().reshape(-1))
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
    assert get_spec("rprop").kwargs(eta_plus=1.5)["etas"] == (0.5, 1.5)
    assert "eta_plus" not in get_spec("rprop").kwargs() and get_spec("lion").kwargs()["betas"] == (0.9, 0.99)


# The presets' defaults that are deliberately not torch's: a learning rate that moves on a 2D surface within a few
# hundred steps, and momentum presets that have momentum. Every other default must be torch's own.
CHOSEN_DEFAULTS = {
    "sgd": {"lr"}, "momentum": {"lr", "momentum"}, "nesterov": {"lr", "momentum"}, "adam": {"lr"},
    "amsgrad": {"lr"}, "adamw": {"lr"}, "nadam": {"lr"}, "radam": {"lr"}, "rmsprop": set(), "adagrad": {"lr"},
    "adamax": {"lr"}, "adadelta": set(), "rprop": set(), "asgd": {"t0"}, "adafactor": {"lr"},
    "muon": {"lr", "weight_decay"}, "lion": {"lr"}, "adabelief": {"lr"}, "schedule_free": {"lr"}, "lbfgs": set(),
}


def as_constructor_arguments(flat: dict) -> dict:
    """The registry's flat knobs named as the constructor names them (beta1, beta2 -> betas)."""
    out = dict(flat)
    if "beta1" in out:
        out["betas"] = (out.pop("beta1"), out.pop("beta2"))
    if "eta_minus" in out:
        out["etas"] = (out.pop("eta_minus"), out.pop("eta_plus"))
    return out


def constructor_defaults(cls: type) -> dict:
    """Named constructor arguments and their defaults (a lab form that forwards ``*args`` reads its parent's)."""
    for klass in cls.__mro__:
        parameters = inspect.signature(klass.__init__).parameters
        named = {name: p.default for name, p in parameters.items() if name not in ("self", "params")
                 and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        if named:
            return named
    raise AssertionError(f"{cls.__name__} has no named constructor arguments")


@pytest.mark.parametrize("key", KEYS)
def test_defaults_build_both_classes_and_differ_from_torchs_only_where_chosen(key):
    """With no settings, both classes get the preset's knobs and fixed arguments, their own default for every
    other constructor argument, and the knobs differ from the reference's defaults only where CHOSEN_DEFAULTS
    says."""
    spec = get_spec(key)
    signature = constructor_defaults(spec.reference_cls)
    knobs = as_constructor_arguments(spec.defaults())
    assert set(knobs) <= set(signature), set(knobs) - set(signature)
    assert set(spec.fixed) <= set(signature), set(spec.fixed) - set(signature)
    assert {name for name, value in knobs.items() if value != signature[name]} == CHOSEN_DEFAULTS[key]

    built = {}
    for impl, cls in (("torch", spec.reference_cls), ("optlab", spec.cls)):
        expected = {**constructor_defaults(cls), **knobs, **spec.fixed}
        point = torch.zeros(2, requires_grad=True)
        opt = spec.build([point if impl == "optlab" else reference_params(spec, point)], impl=impl)
        (group,) = (prepared(spec, opt) if impl == "torch" else opt).param_groups
        built[impl] = {name: value for name, value in group.items() if name != "params"}
        # a reference package may keep a setting on the optimizer rather than in its groups (lion-pytorch's
        # decoupled switch, its triton kernel): its groups are checked for what they hold
        names = expected.keys() if isinstance(spec.reference, type) or impl == "optlab" else expected.keys() & built[impl]
        got = {name: built[impl].get(name) for name in names}
        want = {name: expected[name] for name in names}
        assert got == want, (impl, {k: (got[k], v) for k, v in want.items() if got[k] != v})
    # keys the class adds itself (AdamW's decoupled_weight_decay=True) are the same in both
    if isinstance(spec.reference, type):
        assert built["optlab"] == built["torch"]
    else:
        assert built["torch"].keys() <= built["optlab"].keys()
        assert {k: built["optlab"][k] for k in built["torch"]} == built["torch"]


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
    ("rprop", {"eta_plus": 1.0}, "outside the allowed range"),
    ("lion", {"beta2": 1.0}, "outside the allowed range"),
    ("schedule_free", {"warmup_steps": -1}, "outside the allowed range"),
]


@pytest.mark.parametrize(("key", "flat", "message"), BAD)
def test_bad_values_are_refused_clearly(key, flat, message):
    with pytest.raises(ValueError, match=message):
        get_spec(key).kwargs(**flat)
    with pytest.raises(ValueError, match=message):
        get_spec(key).build([torch.zeros(2, requires_grad=True)], **flat)


def test_unknown_key_and_impl():
    with pytest.raises(ValueError, match="known optimizers: sgd, momentum"):
        get_spec("lamb")
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


def test_every_optlab_optimizer_is_offered():
    """Each optlab optimizer, or its lab form, is a preset the labs can select."""
    offered = {cls.__name__ for spec in REGISTRY.values() for cls in spec.cls.__mro__}
    assert set(oo.OPTIMIZERS) <= offered, set(oo.OPTIMIZERS) - offered


@pytest.mark.parametrize("key", KEYS)
def test_coordinatewise_says_whether_stacked_points_move_like_separate_runs(key):
    """Three points as the rows of one (3, 2) parameter take the steps of three separate runs exactly when the
    preset says it is coordinate-wise (the surface's grid of starts relies on it)."""
    spec = get_spec(key)
    starts = torch.tensor([[1.0, -2.0], [0.5, 0.25], [-1.5, 3.0]], dtype=torch.float64)

    def loss(p):
        return (p[..., 0] ** 2 + 3 * p[..., 1] ** 2 + p[..., 0] * p[..., 1]).sum()

    rows = starts.clone().requires_grad_()
    separate = [row.clone().requires_grad_() for row in starts]
    opts = [spec.build([rows])] + [spec.build([p]) for p in separate]
    for _ in range(5):
        for opt, params in zip(opts, [[rows]] + [[p] for p in separate], strict=True):
            step(opt, lambda p=params[0]: loss(p))
    same = torch.allclose(rows.detach(), torch.stack([p.detach() for p in separate]), rtol=1e-12, atol=1e-12)
    assert same == spec.coordinatewise


def test_a_missing_reference_package_is_named():
    spec = OptimizerSpec("x", "X", oo.SGD, "no_such_package_here:Thing", (), "x")
    with pytest.raises(ValueError, match="no_such_package_here.Thing, from the package no_such_package_here"):
        spec.build([torch.zeros(2, requires_grad=True)], impl="torch")
    assert spec.build([torch.zeros(2, requires_grad=True)]).__class__ is oo.SGD


def test_symbols_come_from_the_optimizer_class():
    """The widgets' symbols are the class's SYMBOLS (one table for the docstring, the pseudo-code and the lab); a
    flat half of a pair takes its part of the pair's symbol, a switch has none."""
    for spec in REGISTRY.values():
        for h in spec.hypers:
            if h.name in spec.cls.SYMBOLS:
                assert h.symbol == spec.cls.SYMBOLS[h.name], (spec.key, h.name)
            elif h.kind == "float" and h.name not in ("eta_minus", "eta_plus"):
                assert h.symbol == "", (spec.key, h.name)
    rprop = get_spec("rprop")
    assert (rprop.hyper("eta_minus").symbol, rprop.hyper("eta_plus").symbol) == (r"\eta_-", r"\eta_+")
    assert get_spec("asgd").hyper("weight_decay").symbol == oo.ASGD.SYMBOLS["weight_decay"] == r"\omega"


def test_needs_closure_marks_the_optimizers_whose_step_requires_one():
    assert {key for key, spec in REGISTRY.items() if spec.needs_closure} == {"lbfgs"}
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    opt = get_spec("lbfgs").build([p])
    with pytest.raises(ValueError, match="LBFGS needs a closure"):
        opt.step()
