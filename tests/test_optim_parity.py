"""optlab.optim against torch.optim: same numbers, same state, interchangeable state_dicts.

One table of constructor cases per optimizer (torch's own ``optim_inputs_func_*`` cases plus tensor lr,
decoupled weight decay and maximize), one generic test over all of them.
"""

import copy

import pytest
import torch

import optlab.optim as oo

# name -> (constructor cases, overrides for the second param group)
CASES = {
    "SGD": (
        [
            {},
            {"lr": 1e-2},
            {"momentum": 0.9},
            {"momentum": 0.9, "dampening": 0.5},
            {"momentum": 0.9, "weight_decay": 0.1},
            {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"momentum": 0.9, "nesterov": True, "maximize": True},
            {"lr": torch.tensor(0.01), "momentum": 0.9},
            {"lr": 0.05, "momentum": 0.5, "foreach": False},
        ],
        {"lr": 0.02, "momentum": 0.5},
    ),
    "Adam": (
        [
            {},
            {"lr": 0.01},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"weight_decay": 0.1, "amsgrad": True},
            {"lr": torch.tensor(0.01), "amsgrad": True},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "amsgrad": True, "maximize": True, "decoupled_weight_decay": True},
            {"lr": 0.02, "betas": (torch.tensor(0.8), torch.tensor(0.99))},
        ],
        {"lr": 0.02, "betas": (0.8, 0.99)},
    ),
    "AdamW": (
        [
            {},
            {"lr": 0.01},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"weight_decay": 0.1, "amsgrad": True},
            {"lr": torch.tensor(0.01), "amsgrad": True},
        ],
        {"lr": 0.02, "weight_decay": 0.3},
    ),
    "RMSprop": (
        [
            {},
            {"lr": 1e-3},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "centered": True},
            {"weight_decay": 0.1, "centered": True, "momentum": 0.1},
            {"weight_decay": 0.1, "centered": True, "momentum": 0.1, "maximize": True},
            {"lr": torch.tensor(0.001), "momentum": 0.5},
        ],
        {"lr": 0.003, "alpha": 0.9},
    ),
    "Adagrad": (
        [
            {},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": 0.1},
            {"initial_accumulator_value": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1},
            {"lr": torch.tensor(0.05), "lr_decay": 0.01},
        ],
        {"lr": 0.05, "lr_decay": 0.01},
    ),
    "NAdam": (
        [
            {},
            {"lr": 1e-3},
            {"momentum_decay": 6e-3},
            {"weight_decay": 0.1, "momentum_decay": 6e-3},
            {"weight_decay": 0.1, "momentum_decay": 6e-3, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": torch.tensor(0.01)},
        ],
        {"lr": 0.01, "momentum_decay": 0.01},
    ),
    "RAdam": (
        [
            {},
            {"lr": 2e-3},
            {"eps": 1e-6},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": torch.tensor(0.01)},
        ],
        {"lr": 0.01, "betas": (0.8, 0.99)},
    ),
}

PARAMS = [
    pytest.param(name, kwargs, overrides, id=f"{name}-{i}")
    for name, (cases, overrides) in CASES.items()
    for i, kwargs in enumerate(cases)
]

TOL = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {"rtol": 1e-5, "atol": 1e-7}}


def fresh(kwargs: dict) -> dict:
    """A copy of the case's kwargs with its tensors cloned, so the two runs share nothing."""
    return {k: copy.deepcopy(v) for k, v in kwargs.items()}


def make_params(dtype: torch.dtype) -> list[torch.Tensor]:
    """w (4×3), b (4), c (3) get gradients; the last parameter never does."""
    g = torch.Generator().manual_seed(0)
    shapes = [(4, 3), (4,), (3,), (2,)]
    return [torch.randn(s, generator=g, dtype=torch.float64).to(dtype).requires_grad_() for s in shapes]


_INPUTS = torch.randn(120, 5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
_INPUTS_BY_DTYPE = {dtype: _INPUTS.to(dtype).unbind() for dtype in (torch.float64, torch.float32)}


def loss_fn(params: list[torch.Tensor], t: int) -> torch.Tensor:
    """A small nonlinear loss whose gradients change sign and scale from step to step."""
    w, b, c, _ = params
    x = _INPUTS_BY_DTYPE[w.dtype][t]
    y = torch.tanh(x @ w.T + b)
    return (y.sum(1) - 0.5).pow(2).mean() + (c * x[0]).sin().sum() + 0.1 * (c**2).sum()


def groups(params: list[torch.Tensor], overrides: dict) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], **fresh(overrides)}]


def run(opt: torch.optim.Optimizer, params, steps: int, start: int = 0, scheduler=None) -> list[float]:
    """``steps`` steps with a closure (and the scheduler stepping after each); returns the losses."""
    losses = []
    for t in range(start, start + steps):

        def closure(t=t):
            opt.zero_grad()
            loss = loss_fn(params, t)
            loss.backward()
            return loss

        losses.append(opt.step(closure).item())
        if scheduler is not None:
            scheduler.step()
    return losses


def assert_same(opt_a, params_a, opt_b, params_b, tol: dict, dtypes: bool = True) -> None:
    """Parameters, param_groups and every state tensor (keys, dtype unless told, shape, value) agree."""
    for pa, pb in zip(params_a, params_b, strict=True):
        torch.testing.assert_close(pa, pb, **tol)
    for ga, gb in zip(opt_a.param_groups, opt_b.param_groups, strict=True):
        assert ga.keys() == gb.keys()
        for key in ga:
            if key != "params":
                assert str(ga[key]) == str(gb[key]), key
    for pa, pb in zip(params_a, params_b, strict=True):
        sa, sb = opt_a.state.get(pa, {}), opt_b.state.get(pb, {})
        assert sa.keys() == sb.keys()
        for key in sa:
            assert sa[key].dtype == sb[key].dtype or not dtypes, key
            assert sa[key].shape == sb[key].shape, key
            assert sa[key].device == sb[key].device, key
            torch.testing.assert_close(sa[key], sb[key], check_dtype=dtypes, **tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("name", "kwargs", "overrides"), PARAMS)
def test_matches_torch_for_100_steps(name, kwargs, overrides, dtype):
    """Two groups with different hyperparameters, a closure and an LR scheduler, for 100 steps."""
    ours_p, theirs_p = make_params(dtype), make_params(dtype)
    ours = getattr(oo, name)(groups(ours_p, overrides), **fresh(kwargs))
    theirs = getattr(torch.optim, name)(groups(theirs_p, overrides), **fresh(kwargs))
    sched_ours = torch.optim.lr_scheduler.ExponentialLR(ours, gamma=0.99)
    sched_theirs = torch.optim.lr_scheduler.ExponentialLR(theirs, gamma=0.99)
    losses_ours = run(ours, ours_p, 100, scheduler=sched_ours)
    losses_theirs = run(theirs, theirs_p, 100, scheduler=sched_theirs)
    assert losses_ours == pytest.approx(losses_theirs, rel=TOL[dtype]["rtol"], abs=TOL[dtype]["atol"])
    assert not torch.equal(ours_p[0], make_params(dtype)[0])  # it moved
    assert ours_p[3].grad is None and len(ours.state.get(ours_p[3], {})) == len(theirs.state.get(theirs_p[3], {}))
    assert_same(ours, ours_p, theirs, theirs_p, TOL[dtype])


@pytest.mark.parametrize(("name", "kwargs", "overrides"), PARAMS)
def test_plain_step_without_closure(name, kwargs, overrides):
    """The usual loop (zero_grad, backward, step) over a bare parameter list, in float64."""
    ours_p, theirs_p = make_params(torch.float64), make_params(torch.float64)
    ours = getattr(oo, name)(ours_p, **fresh(kwargs))
    theirs = getattr(torch.optim, name)(theirs_p, **fresh(kwargs))
    for t in range(30):
        for opt, params in ((ours, ours_p), (theirs, theirs_p)):
            opt.zero_grad()
            loss_fn(params, t).backward()
            assert opt.step() is None
    assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64])


@pytest.mark.parametrize("direction", ["optlab->torch", "torch->optlab"])
@pytest.mark.parametrize(("name", "kwargs", "overrides"), PARAMS)
def test_state_dict_round_trip(name, kwargs, overrides, direction):
    """Save after 6 steps; the other class loads it and goes on exactly like the saving class would.

    (The reference is a fresh instance of the saving class loading the same state_dict: torch's
    ``load_state_dict`` casts non-step state, e.g. NAdam's ``mu_product``, to the parameter's dtype.)
    """
    saving_cls, loading_cls = getattr(oo, name), getattr(torch.optim, name)
    if direction == "torch->optlab":
        saving_cls, loading_cls = loading_cls, saving_cls
    params = make_params(torch.float64)
    saver = saving_cls(groups(params, overrides), **fresh(kwargs))
    run(saver, params, 6)
    saved = saver.state_dict()

    runs = []
    for cls in (loading_cls, saving_cls):
        copied = [p.detach().clone().requires_grad_() for p in params]
        opt = cls(groups(copied, overrides), **fresh(kwargs))
        opt.load_state_dict(copy.deepcopy(saved))
        runs.append((opt, copied))
    assert_same(*runs[0], *runs[1], TOL[torch.float64])
    assert_same(runs[0][0], runs[0][1], saver, params, {"rtol": 1e-7, "atol": 1e-9}, dtypes=False)

    for opt, copied in runs:
        run(opt, copied, 6, start=6)
    assert_same(*runs[0], *runs[1], TOL[torch.float64])
    assert str(runs[0][0].state_dict()["param_groups"]) == str(runs[1][0].state_dict()["param_groups"])


# group keys that torch's __setstate__ fills in for state saved by older versions
OPTIONAL_KEYS = (
    "nesterov", "maximize", "foreach", "differentiable", "fused", "capturable", "amsgrad",
    "decoupled_weight_decay", "momentum", "centered",
)


@pytest.mark.parametrize("name", list(CASES))
def test_setstate_fills_defaults_like_torch(name):
    """Old pickles (missing group keys, a float ``step``) are upgraded exactly as torch upgrades them."""
    results = []
    for module in (oo, torch.optim):
        params = make_params(torch.float64)
        opt = getattr(module, name)(params)
        run(opt, params, 2)
        state = copy.deepcopy(opt.__getstate__())
        for group in state["param_groups"]:
            for key in OPTIONAL_KEYS:
                group.pop(key, None)
        for p_state in state["state"].values():
            for key in ("step", "mu_product"):
                if key in p_state:
                    p_state[key] = float(p_state[key])
        restored = object.__new__(type(opt))
        restored.__setstate__(state)
        results.append(restored)
    ours, theirs = results
    assert [sorted(g.items(), key=str) for g in ours.param_groups].__repr__() == [
        sorted(g.items(), key=str) for g in theirs.param_groups
    ].__repr__()
    for s_ours, s_theirs in zip(ours.state.values(), theirs.state.values(), strict=True):
        for key in ("step", "mu_product"):
            if key in s_theirs:
                assert torch.is_tensor(s_ours[key]) and torch.is_tensor(s_theirs[key])
                assert s_ours[key].dtype == s_theirs[key].dtype
                assert s_ours[key].item() == s_theirs[key].item()
    assert ours.explain is False and ours.explanations() == []


@pytest.mark.parametrize("name", list(CASES))
def test_defaults_and_signature_match_torch(name):
    """Same parameter names, order, kinds and default values as the torch constructor."""
    import inspect

    ours = inspect.signature(getattr(oo, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].kind == theirs[key].kind, key
        assert ours[key].default == theirs[key].default, key
    p = torch.zeros(2, requires_grad=True)
    assert getattr(oo, name)([p]).defaults == getattr(torch.optim, name)([p]).defaults


def test_adagrad_state_exists_before_the_first_step_like_torch():
    p_ours, p_theirs = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    ours = oo.Adagrad([p_ours], initial_accumulator_value=0.3)
    theirs = torch.optim.Adagrad([p_theirs], initial_accumulator_value=0.3)
    assert_same(ours, [p_ours], theirs, [p_theirs], TOL[torch.float64])
    assert ours.state[p_ours]["sum"].tolist() == pytest.approx([0.3] * 3)


def test_param_group_added_later_matches_torch():
    runs = []
    for module in (oo, torch.optim):
        params = make_params(torch.float64)
        opt = module.Adam(params[:2], lr=0.01)
        run(opt, params, 5)
        opt.add_param_group({"params": params[2:], "lr": 0.03, "amsgrad": True})
        run(opt, params, 5, start=5)
        runs.append((opt, params))
    assert_same(*runs[0], *runs[1], TOL[torch.float64])


def test_step_counter_is_a_float32_scalar_like_torch():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = oo.Adam([p])
    p.grad = torch.ones_like(p)
    opt.step()
    step = opt.state[p]["step"]
    assert step.dtype == torch.float32 and step.dim() == 0 and step.item() == 1.0


# ---- complex parameters ----------------------------------------------------------------------------------------
# torch steps a complex parameter as its real view (torch.view_as_real): Re θ and Im θ are two real coordinates.

COMPLEX_STEPS = 10


def make_complex_params() -> list[torch.Tensor]:
    """Complex w (4×3) and b (4), a real c (3) beside them, and a complex parameter that never gets a gradient."""
    g = torch.Generator().manual_seed(2)
    shapes = [((4, 3), torch.complex128), ((4,), torch.complex128), ((3,), torch.float64), ((2,), torch.complex128)]
    return [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s, dtype in shapes]


def complex_loss(params: list[torch.Tensor], t: int) -> torch.Tensor:
    """A real loss of complex parameters whose real and imaginary parts get different gradients."""
    w, b, c, _ = params
    x = _INPUTS_BY_DTYPE[torch.float64][t]
    z = x.to(torch.complex128) @ w.T + b
    return ((z.real.tanh().sum(1) - 0.5).pow(2).mean() + z.imag.sin().mean() + (c * x[0]).sin().sum()
            + 0.1 * (w.abs() ** 2).sum())


def run_complex(opt, params, steps: int, start: int = 0) -> None:
    for t in range(start, start + steps):
        opt.zero_grad()
        complex_loss(params, t).backward()
        opt.step()


@pytest.mark.parametrize(("name", "kwargs", "overrides"), PARAMS)
def test_complex_parameters_match_torch(name, kwargs, overrides):
    """complex128 parameters (mixed with a real one, in two groups) for 10 steps: every part of θ and of the
    state agrees with torch to 1e-10, the state stays complex like torch's, and state_dicts still cross over."""
    ours_p, theirs_p = make_complex_params(), make_complex_params()
    ours = getattr(oo, name)(groups(ours_p, overrides), **fresh(kwargs))
    theirs = getattr(torch.optim, name)(groups(theirs_p, overrides), **fresh(kwargs))
    ours.explain = True  # recording the terms must not change the numbers
    run_complex(ours, ours_p, COMPLEX_STEPS)
    run_complex(theirs, theirs_p, COMPLEX_STEPS)
    assert not torch.equal(ours_p[0], make_complex_params()[0])  # it moved
    assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64])
    for p in ours_p[:2]:
        assert all(v.dtype == torch.complex128 for k, v in ours.state[p].items() if v.dim() > 0)

    # torch loads optlab's state_dict and both go on alike (torch's load casts NAdam's mu_product of the real
    # parameter to float64, so dtypes may differ there)
    copied = [p.detach().clone().requires_grad_() for p in ours_p]
    loaded = getattr(torch.optim, name)(groups(copied, overrides), **fresh(kwargs))
    loaded.load_state_dict(copy.deepcopy(ours.state_dict()))
    run_complex(ours, ours_p, 4, start=COMPLEX_STEPS)
    run_complex(loaded, copied, 4, start=COMPLEX_STEPS)
    assert_same(ours, ours_p, loaded, copied, TOL[torch.float64], dtypes=False)


@pytest.mark.parametrize("name", list(CASES))
def test_complex_parameter_is_explained_as_its_real_view(name):
    """The recorded terms of a complex parameter are those of its real view: shape (..., 2), real numbers, and
    the update is the change of (Re θ, Im θ)."""
    p = torch.tensor([1.0 + 2.0j, -0.5 + 0.25j], dtype=torch.complex128, requires_grad=True)
    opt = getattr(oo, name)([p], lr=0.1)
    opt.explain = True
    for _ in range(3):
        before = torch.view_as_real(p.detach()).clone()
        opt.zero_grad()
        ((p * (0.5 - 1.5j)).real.sin() + p.abs() ** 2).sum().backward()
        opt.step()
        (terms,) = opt.explanations()
        for key, value in terms.items():
            assert not value.is_complex(), key
            assert value.dim() == 0 or value.shape == (2, 2), (key, value.shape)
        torch.testing.assert_close(terms["update"], torch.view_as_real(p.detach()) - before, rtol=0, atol=0)
        torch.testing.assert_close(terms["grad"], torch.view_as_real(p.grad), rtol=0, atol=0)
