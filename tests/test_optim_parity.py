"""optlab.optim against its reference (torch.optim, or a reference package): same numbers, same state,
interchangeable state_dicts.

The constructor cases come from the optimizer table (``tests/optim_db.py``: torch's own ``optim_inputs_func_*``
cases plus tensor lr, decoupled weight decay and maximize; the reference packages' options for the optimizers
torch does not have); one generic test runs over all of them.
"""

import copy
import inspect

import pytest
import torch

import optlab.optim as oo
from tests.optim_db import DB, INFOS, TORCH_INFOS, OptimizerInfo

PARAMS = [pytest.param(info, kwargs, id=f"{info.name}-{i}") for info in INFOS for i, kwargs in enumerate(info.inputs)]
TORCH_PARAMS = [param for param in PARAMS if param.values[0].torch_reference]
COMPLEX_PARAMS = [param for param in PARAMS if param.values[0].supports_complex]
SHARED_STATE_PARAMS = [param for param in PARAMS if param.values[0].state_dict_with_reference]
TORCH_IDS = [info.name for info in TORCH_INFOS]

TOL = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {"rtol": 1e-5, "atol": 1e-7}}


def fresh(kwargs: dict) -> dict:
    """A copy of the case's kwargs with its tensors cloned, so the two runs share nothing."""
    return {k: copy.deepcopy(v) for k, v in kwargs.items()}


#: shapes of the four parameters: the first three get gradients, the last never does
SHAPES = {"mixed": [(4, 3), (4,), (3,), (2,)], "matrices": [(4, 3), (3, 5), (2, 3), (2, 2)]}


def make_params(dtype: torch.dtype, kind: str = "mixed") -> list[torch.Tensor]:
    """w (4×3), b (4), c (3) — or, for an optimizer of matrices, three matrices — and a parameter without a
    gradient."""
    g = torch.Generator().manual_seed(0)
    return [torch.randn(s, generator=g, dtype=torch.float64).to(dtype).requires_grad_() for s in SHAPES[kind]]


_INPUTS = torch.randn(120, 5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
_INPUTS_BY_DTYPE = {dtype: _INPUTS.to(dtype).unbind() for dtype in (torch.float64, torch.float32)}


def loss_fn(params: list[torch.Tensor], t: int) -> torch.Tensor:
    """A small nonlinear loss whose gradients change sign and scale from step to step."""
    w, b, c, _ = params
    x = _INPUTS_BY_DTYPE[w.dtype][t]
    if b.dim() == 2:  # matrices: a two-layer map x -> tanh(x wᵀ) b, and c on the side
        y = torch.tanh(x @ w.T) @ b[:, :4].T
        return (y.sum(1) - 0.5).pow(2).mean() + (c @ x[0]).sin().sum() + 0.1 * (c**2).sum()
    y = torch.tanh(x @ w.T + b)
    return (y.sum(1) - 0.5).pow(2).mean() + (c * x[0]).sin().sum() + 0.1 * (c**2).sum()


def groups(params: list[torch.Tensor], overrides: dict) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], **fresh(overrides)}]


def param_groups(info: OptimizerInfo, params: list[torch.Tensor]) -> list[dict] | list[torch.Tensor]:
    """Two groups with different hyperparameters, or the plain list for an optimizer of one group (L-BFGS)."""
    return params if info.single_group else groups(params, info.group_overrides)


def build(info: OptimizerInfo, cls: type, params_or_groups, kwargs: dict) -> torch.optim.Optimizer:
    """One optimizer of the pair, prepared as the table says (schedule-free: in train mode)."""
    opt = cls(params_or_groups, **fresh(kwargs))
    if info.prepare is not None:
        info.prepare(opt)
    return opt


def pair(info: OptimizerInfo, kwargs: dict, params_ours, params_theirs):
    return build(info, info.cls, params_ours, kwargs), build(info, info.reference_cls(), params_theirs, kwargs)


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


def assert_same_value(a, b, tol: dict, dtypes: bool, key: str) -> None:
    """One state entry: a tensor (dtype unless told, shape, device, value), a list of them (L-BFGS's history,
    with None for unused slots), or a number."""
    if isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), key
        for x, y in zip(a, b, strict=True):
            assert_same_value(x, y, tol, dtypes, key)
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), key
        assert a.dtype == b.dtype or not dtypes, key
        assert a.shape == b.shape, key
        assert a.device == b.device, key
        torch.testing.assert_close(a, b, check_dtype=dtypes, **tol)
    elif a is None:
        assert b is None, key
    else:
        assert type(a) is type(b), key
        assert a == pytest.approx(b, rel=tol["rtol"], abs=tol["atol"]), key


def assert_same(opt_a, params_a, opt_b, params_b, tol: dict, dtypes: bool = True, same_keys: bool = True) -> None:
    """Parameters, param_groups and every state tensor (keys, dtype unless told, shape, value) agree.

    ``same_keys=False`` (a reference package, whose groups and state may hold fewer entries): the values of the
    keys both have agree, and every state entry of the reference is also optlab's.
    """
    for pa, pb in zip(params_a, params_b, strict=True):
        torch.testing.assert_close(pa, pb, **tol)
    for ga, gb in zip(opt_a.param_groups, opt_b.param_groups, strict=True):
        if same_keys:
            assert ga.keys() == gb.keys()
        for key in ga.keys() & gb.keys():
            if key != "params":
                assert str(ga[key]) == str(gb[key]), key
    for pa, pb in zip(params_a, params_b, strict=True):
        sa, sb = opt_a.state.get(pa, {}), opt_b.state.get(pb, {})
        assert sa.keys() == sb.keys() if same_keys else sb.keys() <= sa.keys()
        for key in sa.keys() & sb.keys():
            assert_same_value(sa[key], sb[key], tol, dtypes, key)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("info", "kwargs"), PARAMS)
def test_matches_the_reference(info, kwargs, dtype):
    """Two groups with different hyperparameters, a closure and an LR scheduler, for 100 steps (60 against a
    reference package)."""
    ours_p, theirs_p = make_params(dtype, info.params_kind), make_params(dtype, info.params_kind)
    ours, theirs = pair(info, kwargs, param_groups(info, ours_p), param_groups(info, theirs_p))
    sched_ours = torch.optim.lr_scheduler.ExponentialLR(ours, gamma=0.99)
    sched_theirs = torch.optim.lr_scheduler.ExponentialLR(theirs, gamma=0.99)
    losses_ours = run(ours, ours_p, info.steps, scheduler=sched_ours)
    losses_theirs = run(theirs, theirs_p, info.steps, scheduler=sched_theirs)
    assert losses_ours == pytest.approx(losses_theirs, rel=TOL[dtype]["rtol"], abs=TOL[dtype]["atol"])
    assert not torch.equal(ours_p[0], make_params(dtype, info.params_kind)[0])  # it moved
    assert ours_p[3].grad is None and len(ours.state.get(ours_p[3], {})) == len(theirs.state.get(theirs_p[3], {}))
    assert_same(ours, ours_p, theirs, theirs_p, TOL[dtype], same_keys=info.torch_reference)


@pytest.mark.parametrize(("info", "kwargs"), [param for param in PARAMS if not param.values[0].needs_closure])
def test_plain_step_without_closure(info, kwargs):
    """The usual loop (zero_grad, backward, step) over a bare parameter list, in float64."""
    ours_p, theirs_p = make_params(torch.float64, info.params_kind), make_params(torch.float64, info.params_kind)
    ours, theirs = pair(info, kwargs, ours_p, theirs_p)
    for t in range(30):
        for opt, params in ((ours, ours_p), (theirs, theirs_p)):
            opt.zero_grad()
            loss_fn(params, t).backward()
            assert opt.step() is None
    assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64], same_keys=info.torch_reference)


@pytest.mark.parametrize("direction", ["optlab->reference", "reference->optlab"])
@pytest.mark.parametrize(("info", "kwargs"), SHARED_STATE_PARAMS)
def test_state_dict_round_trip(info, kwargs, direction):
    """Save after 6 steps; the other class loads it and goes on exactly like the saving class would.

    (The reference is a fresh instance of the saving class loading the same state_dict: torch's
    ``load_state_dict`` casts non-step state, e.g. NAdam's ``mu_product``, to the parameter's dtype.)
    """
    saving_cls, loading_cls = info.cls, info.reference_cls()
    if direction == "reference->optlab":
        saving_cls, loading_cls = loading_cls, saving_cls
    params = make_params(torch.float64, info.params_kind)
    saver = build(info, saving_cls, param_groups(info, params), kwargs)
    run(saver, params, 6)
    saved = saver.state_dict()

    runs = []
    for cls in (loading_cls, saving_cls):
        copied = [p.detach().clone().requires_grad_() for p in params]
        opt = build(info, cls, param_groups(info, copied), kwargs)
        opt.load_state_dict(copy.deepcopy(saved))
        runs.append((opt, copied))
    same_keys = info.torch_reference
    assert_same(*runs[0], *runs[1], TOL[torch.float64], same_keys=same_keys)
    assert_same(runs[0][0], runs[0][1], saver, params, {"rtol": 1e-7, "atol": 1e-9}, dtypes=False,
                same_keys=same_keys)

    for opt, copied in runs:
        run(opt, copied, 6, start=6)
    assert_same(*runs[0], *runs[1], TOL[torch.float64], same_keys=same_keys)
    if same_keys:
        assert str(runs[0][0].state_dict()["param_groups"]) == str(runs[1][0].state_dict()["param_groups"])


# group keys that torch's __setstate__ fills in for state saved by older versions
OPTIONAL_KEYS = (
    "nesterov", "maximize", "foreach", "differentiable", "fused", "capturable", "amsgrad",
    "decoupled_weight_decay", "momentum", "centered",
)
# per-parameter state that older versions saved as plain numbers
NUMBER_STATE = ("step", "mu_product", "eta", "mu")


@pytest.mark.parametrize("info", TORCH_INFOS, ids=TORCH_IDS)
def test_setstate_fills_defaults_like_torch(info):
    """Old pickles (missing group keys, a float ``step``) are upgraded exactly as torch upgrades them."""
    results = []
    for cls in (info.cls, info.reference_cls()):
        params = make_params(torch.float64, info.params_kind)
        opt = cls(params)
        run(opt, params, 2)
        state = copy.deepcopy(opt.__getstate__())
        for group in state["param_groups"]:
            for key in OPTIONAL_KEYS:
                if key not in ("momentum", "nesterov") or info.name != "Muon":  # Muon's own keys, not optional
                    group.pop(key, None)
        for p_state in state["state"].values():
            for key in NUMBER_STATE:
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
        for key in NUMBER_STATE:
            if key in s_theirs and torch.is_tensor(s_theirs[key]):
                assert torch.is_tensor(s_ours[key])
                assert s_ours[key].dtype == s_theirs[key].dtype
                assert s_ours[key].item() == s_theirs[key].item()
    assert ours.explain is False and ours.explanations() == []


@pytest.mark.parametrize("info", TORCH_INFOS, ids=TORCH_IDS)
def test_defaults_and_signature_match_torch(info):
    """Same parameter names, order, kinds and default values as the torch constructor."""
    ours = inspect.signature(info.cls.__init__).parameters
    theirs = inspect.signature(info.reference_cls().__init__).parameters
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].kind == theirs[key].kind, key
        assert ours[key].default == theirs[key].default, key
    p = torch.zeros(2, 2, requires_grad=True)
    assert info.cls([p]).defaults == info.reference_cls()([p]).defaults


@pytest.mark.parametrize("info", [info for info in INFOS if not info.torch_reference], ids=lambda info: info.name)
def test_arguments_and_defaults_match_the_reference_package(info):
    """Every argument of the reference's constructor, but the ones the table says are left out, with its default;
    optlab's own additions are keyword arguments whose default is the reference's behaviour."""
    ours = inspect.signature(info.cls.__init__).parameters
    theirs = inspect.signature(info.reference_cls().__init__).parameters
    kept = [name for name in theirs if name not in info.omitted_args]
    assert [name for name in ours if name not in info.extra_args] == kept
    for name in kept:
        assert ours[name].default == theirs[name].default, name
    for name in info.extra_args:
        assert ours[name].kind == inspect.Parameter.KEYWORD_ONLY and ours[name].default is False, name


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


# ---- schedule-free: the train and eval modes -------------------------------------------------------------------

SCHEDULE_FREE = DB["AdamWScheduleFree"]


@pytest.mark.parametrize("kwargs", SCHEDULE_FREE.inputs, ids=range(len(SCHEDULE_FREE.inputs)))
def test_schedule_free_train_and_eval_switch_the_points_like_the_package(kwargs):
    """eval() puts the averaged point x into the parameters and train() puts y back, as the package does; the
    steps after an eval/train round trip go on alike, and x is what each step recorded."""
    ours_p, theirs_p = make_params(torch.float64), make_params(torch.float64)
    ours, theirs = pair(SCHEDULE_FREE, kwargs, groups(ours_p, SCHEDULE_FREE.group_overrides),
                        groups(theirs_p, SCHEDULE_FREE.group_overrides))
    ours.explain = True
    for start in (0, 20):
        run(ours, ours_p, 20, start=start)
        run(theirs, theirs_p, 20, start=start)
        xs = [terms["x"] for terms in ours.explanations() if terms]
        ours.eval()
        theirs.eval()
        assert [g["train_mode"] for g in ours.param_groups] == [False, False]
        assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64], same_keys=False)
        for x, p in zip(xs, [p for p in ours_p if p.grad is not None], strict=True):
            torch.testing.assert_close(x, p.detach(), **TOL[torch.float64])
        ours.eval()  # a second eval() changes nothing
        assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64], same_keys=False)
        with pytest.raises(RuntimeError, match="call optimizer.train"):
            ours.step()
        ours.train()
        theirs.train()
        assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64], same_keys=False)


def test_schedule_free_warm_up_ramps_the_learning_rate_linearly():
    """γ_t = γ t / T over the warm-up, then γ: the group's scheduled_lr, step by step, as the package keeps it."""
    ours_p, theirs_p = make_params(torch.float64), make_params(torch.float64)
    ours, theirs = pair(SCHEDULE_FREE, {"lr": 0.02, "warmup_steps": 4}, ours_p, theirs_p)
    seen = []
    for t in range(6):
        run(ours, ours_p, 1, start=t)
        run(theirs, theirs_p, 1, start=t)
        seen.append(ours.param_groups[0]["scheduled_lr"])
        assert ours.param_groups[0]["scheduled_lr"] == theirs.param_groups[0]["scheduled_lr"]
    assert seen == pytest.approx([0.005, 0.01, 0.015, 0.02, 0.02, 0.02])
    assert_same(ours, ours_p, theirs, theirs_p, TOL[torch.float64], same_keys=False)


def test_schedule_free_training_form_starts_in_train_mode():
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = oo.AdamWScheduleFreeTraining([p], lr=0.1)
    assert opt.param_groups[0]["train_mode"] is True
    p.grad = torch.ones_like(p)
    opt.step()  # no train() needed
    assert opt.param_groups[0]["k"] == 1


# ---- Muon on parameters of other shapes (the labs' form) --------------------------------------------------------


@pytest.mark.parametrize("shape, matrix", [((2,), (1, 2)), ((5,), (1, 5)), ((3, 4), (3, 4)), ((4, 2, 3, 3), (4, 18))])
def test_matrix_muon_steps_a_parameter_as_its_matrix_view_like_torch(shape, matrix):
    """MatrixMuon on a vector or a kernel is torch's Muon on the 1×n or out×rest matrix, to the bit."""
    g = torch.Generator().manual_seed(3)
    start = torch.randn(shape, generator=g, dtype=torch.float64)
    grads = [torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(8)]
    ours_p = start.clone().requires_grad_()
    theirs_p = start.reshape(matrix).clone().requires_grad_()
    ours, theirs = oo.MatrixMuon([ours_p], lr=0.05), torch.optim.Muon([theirs_p], lr=0.05)
    ours.explain = True
    for grad in grads:
        ours_p.grad, theirs_p.grad = grad.clone(), grad.reshape(matrix).clone()
        ours.step()
        theirs.step()
    assert torch.equal(ours_p.detach().reshape(matrix), theirs_p.detach())
    assert ours.state[ours_p]["momentum_buffer"].shape == shape
    assert all(value.shape in (shape, ()) for value in ours.explanations()[0].values())


def test_matrix_muon_refuses_a_number():
    with pytest.raises(ValueError, match="at least one dimension"):
        oo.MatrixMuon([torch.zeros((), requires_grad=True)])


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


@pytest.mark.parametrize(("info", "kwargs"), COMPLEX_PARAMS)
def test_complex_parameters_match_torch(info, kwargs):
    """complex128 parameters (mixed with a real one, in two groups) for 10 steps: every part of θ and of the
    state agrees with torch to 1e-10, the state stays complex like torch's, and state_dicts still cross over."""
    ours_p, theirs_p = make_complex_params(), make_complex_params()
    ours, theirs = pair(info, kwargs, param_groups(info, ours_p), param_groups(info, theirs_p))
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
    loaded = build(info, info.reference_cls(), param_groups(info, copied), kwargs)
    loaded.load_state_dict(copy.deepcopy(ours.state_dict()))
    run_complex(ours, ours_p, 4, start=COMPLEX_STEPS)
    run_complex(loaded, copied, 4, start=COMPLEX_STEPS)
    assert_same(ours, ours_p, loaded, copied, TOL[torch.float64], dtypes=False)


@pytest.mark.parametrize("info", [info for info in INFOS if info.supports_complex], ids=lambda info: info.name)
def test_complex_parameter_is_explained_as_its_real_view(info):
    """The recorded terms of a complex parameter are those of its real view: shape (..., 2), real numbers, and
    the update is the change of (Re θ, Im θ)."""
    p = torch.tensor([1.0 + 2.0j, -0.5 + 0.25j], dtype=torch.complex128, requires_grad=True)
    opt = info.cls([p], lr=0.1)
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
