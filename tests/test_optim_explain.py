"""The explain API: off by default, free of side effects, and its recorded terms agree with each other."""

import pytest
import torch

import optlab.optim as oo
from optlab.optim.explain import format_value, render_step

# (class name, kwargs) covering every branch that records something
CASES = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.001, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.2, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]
STEPS = 8  # RAdam's rectified branch starts at step 6 with the default betas


def make_params():
    """A 2-vector and a 2×2 matrix that get gradients, and a parameter that never does (index 1)."""
    return [
        torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True),
        torch.tensor([3.0], dtype=torch.float64, requires_grad=True),
        torch.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=torch.float64, requires_grad=True),
    ]


def loss_fn(params, t):
    x, _, w = params
    return (1 - x[0]) ** 2 + 5 * (x[1] - x[0] ** 2) ** 2 + ((w * (t % 3 - 1)).sin() * w).sum()


def run(name, kwargs, explain, steps=STEPS, check=None):
    params = make_params()
    opt = getattr(oo, name)(params, **kwargs)
    opt.explain = explain
    for t in range(steps):
        opt.zero_grad()
        loss_fn(params, t).backward()
        before = [p.detach().clone() for p in params]
        opt.step()
        if check is not None:
            check(opt, params, before, kwargs)
    assert all(torch.isfinite(p).all() for p in params)
    return opt, params


def close(a, b):
    torch.testing.assert_close(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                               rtol=1e-9, atol=1e-12)


def _decay(terms):
    return terms.get("decay", 0.0)


def check_sgd(terms, before, state, kw):
    close(terms["d_p"], terms["grad"] + kw.get("weight_decay", 0) * before)
    if kw.get("momentum", 0):
        close(terms["momentum_buffer"], state["momentum_buffer"])
        extra = kw["momentum"] * terms["momentum_buffer"] if kw.get("nesterov") else 0
        base = terms["d_p"] if kw.get("nesterov") else terms["momentum_buffer"]
        close(terms["direction"], base + extra)
    else:
        close(terms["direction"], terms["d_p"])
    close(terms["update"], -kw["lr"] * terms["direction"])


def check_adam(terms, before, state, kw):
    close(terms["m"], state["exp_avg"])
    close(terms["v"], state["exp_avg_sq"])
    t = state["step"].item()
    close(terms["bias_correction1"], 1 - 0.9**t)
    close(terms["bias_correction2"], 1 - 0.999**t)
    close(terms["m_hat"], terms["m"] / terms["bias_correction1"])
    v = terms["v_max"] if kw.get("amsgrad") else terms["v"]
    if kw.get("amsgrad"):
        close(terms["v_max"], state["max_exp_avg_sq"])
        assert torch.all(terms["v_max"] >= terms["v"])
    close(terms["v_hat"], v / terms["bias_correction2"])
    close(terms["denom"], terms["v_hat"].sqrt() + 1e-8)
    close(terms["step_size"], kw["lr"] / terms["bias_correction1"])
    close(terms["update"], -kw["lr"] * terms["m_hat"] / terms["denom"] + _decay(terms))


def check_rmsprop(terms, before, state, kw):
    close(terms["square_avg"], state["square_avg"])
    variance = terms["square_avg"] - (terms["grad_avg"] ** 2 if kw.get("centered") else 0)
    close(terms["avg"], variance.sqrt() + 1e-8)
    if kw.get("momentum"):
        close(terms["momentum_buffer"], state["momentum_buffer"])
        close(terms["update"], -kw["lr"] * terms["momentum_buffer"])
    else:
        close(terms["update"], -kw["lr"] * terms["grad"] / terms["avg"])


def check_adagrad(terms, before, state, kw):
    t = state["step"].item()
    close(terms["clr"], kw["lr"] / (1 + (t - 1) * kw["lr_decay"]))
    close(terms["sum"], state["sum"])
    close(terms["std"], terms["sum"].sqrt() + 1e-10)
    close(terms["update"], -terms["clr"] * terms["grad"] / terms["std"])


def check_nadam(terms, before, state, kw):
    t = state["step"].item()
    close(terms["mu"], 0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)))
    close(terms["mu_product"], state["mu_product"])
    close(terms["mu_product_next"], terms["mu_product"] * terms["mu_next"])
    close(terms["denom"], (terms["v"] / (1 - 0.999**t)).sqrt() + 1e-8)
    close(terms["update"], -kw["lr"] * terms["m_hat"] / terms["denom"] + _decay(terms))


def check_radam(terms, before, state, kw):
    t = state["step"].item()
    close(terms["m_hat"], terms["m"] / (1 - 0.9**t))
    close(terms["rho_inf"], 2 / (1 - 0.999) - 1)
    if terms["rho_t"].item() > 5:
        close(terms["adaptive_lr"], (1 - 0.999**t) ** 0.5 / (terms["v"].sqrt() + 1e-8))
        step = terms["m_hat"] * terms["rect"] * terms["adaptive_lr"]
    else:
        assert "rect" not in terms
        step = terms["m_hat"]
    close(terms["update"], -kw["lr"] * step + _decay(terms))


CHECKS = {
    "SGD": check_sgd, "Adam": check_adam, "AdamW": check_adam, "RMSprop": check_rmsprop,
    "Adagrad": check_adagrad, "NAdam": check_nadam, "RAdam": check_radam,
}


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_terms_are_consistent(name, kwargs):
    seen = set()

    def check(opt, params, before, kw):
        explanations = opt.explanations()
        assert len(explanations) == len(params)
        assert explanations[1] == {}  # no gradient
        for i in (0, 2):
            terms = explanations[i]
            assert set(terms) <= set(opt.FORMULAS), set(terms) - set(opt.FORMULAS)
            assert all(isinstance(v, torch.Tensor) for v in terms.values())
            # the update is the change applied to θ this step
            close(terms["update"], params[i].detach() - before[i])
            expected_grad = -params[i].grad if kw.get("maximize") else params[i].grad
            if name == "SGD" or not kw.get("weight_decay") or kw.get("decoupled_weight_decay") or name == "AdamW":
                close(terms["grad"], expected_grad)
            else:
                close(terms["grad"], expected_grad + kw["weight_decay"] * before[i])
            if "decay" in terms:
                close(terms["decay"], -kw["lr"] * kw["weight_decay"] * before[i])
            CHECKS[name](terms, before[i], opt.state[params[i]], kw)
            seen.update(terms)

    run(name, kwargs, explain=True, check=check)
    assert {"grad", "update"} <= seen


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_explaining_does_not_change_the_numbers(name, kwargs):
    quiet, quiet_params = run(name, kwargs, explain=False)
    loud, loud_params = run(name, kwargs, explain=True)
    for a, b in zip(quiet_params, loud_params, strict=True):
        assert torch.equal(a, b)
    for a, b in zip(quiet_params, loud_params, strict=True):
        for key, value in quiet.state.get(a, {}).items():
            assert torch.equal(value, loud.state[b][key])


@pytest.mark.parametrize("name", list(oo.OPTIMIZERS))
def test_explain_is_off_by_default_and_records_nothing(name):
    opt, _ = run(name, {}, explain=False, steps=2)
    assert opt.explain is False
    assert opt.explanations() == []


def test_recorded_values_are_detached_copies():
    opt, params = run("Adam", {"lr": 0.1}, explain=True, steps=1)
    m = opt.explanations()[0]["m"]
    opt.state[params[0]]["exp_avg"].add_(100.0)
    assert not torch.equal(m, opt.state[params[0]]["exp_avg"])
    assert not m.requires_grad and opt.explanations()[0]["step_size"].dim() == 0


def test_switching_explain_off_forgets_the_last_record():
    params = make_params()
    opt = oo.SGD(params, lr=0.1)
    opt.explain = True
    loss_fn(params, 0).backward()
    opt.step()
    assert opt.explanations()[0]
    opt.explain = False
    opt.step()
    assert opt.explanations() == []


@pytest.mark.parametrize("name", list(oo.OPTIMIZERS))
def test_every_class_documents_its_symbols_and_algorithm(name):
    cls = oo.OPTIMIZERS[name]
    assert cls.SYMBOLS["lr"] == r"\gamma"
    assert cls.ALGORITHM_LATEX == oo.ALGORITHMS[name.lower()]
    assert r"\begin{aligned}" in cls.ALGORITHM_LATEX and cls.ALGORITHM_LATEX in cls.__doc__.replace("       ", "")
    assert "Args:" in cls.__doc__


def test_render_step_plugs_numbers_into_the_formulas():
    opt, params = run("Adam", {"lr": 0.1}, explain=True, steps=1)
    lines = render_step(opt, 0, terms=["m_hat", "update"])
    assert len(lines) == 2
    assert lines[0].startswith(opt.FORMULAS["m_hat"]) and r"\begin{pmatrix}" in lines[0]
    update = opt.explanations()[0]["update"]
    assert f"{update[0].item():.4g}" in lines[1]
    assert len(render_step(opt, 2)) == len(opt.explanations()[2])
    assert render_step(opt, 1) == []
    with pytest.raises(ValueError, match="No recorded step"):
        render_step(opt, 3)
    with pytest.raises(ValueError, match="not recorded"):
        render_step(opt, 0, terms=["v_max"])


def test_format_value_shapes():
    assert format_value(torch.tensor(0.5)) == "0.5"
    assert format_value(torch.tensor([1.0, 2.0])) == r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"
    assert r"10 \times 10" in format_value(torch.ones(10, 10))
