"""The explain API: off by default, free of side effects, and it records exactly the terms of the algorithm that ran."""

import ast
import inspect
import re

import pytest
import torch

import optlab.optim as oo
from optlab.optim.explain import NOT_RUN, format_value, render_step, term_lines

STEPS = 8  # RAdam's rectified branch starts at step 6 with the default betas

# The terms each variant records, spelled out by hand (not derived from the code under test).
SGD_PLAIN = {"grad", "direction", "update"}
ADAM = {"grad", "m", "v", "bias_correction1", "bias_correction2", "m_hat", "v_hat", "step_size", "denom", "step",
        "update"}
AMSGRAD = ADAM - {"v_hat"} | {"v_max", "v_hat_max"}
RMSPROP = {"grad", "square_avg", "avg", "direction", "update"}
ADAGRAD = {"grad", "clr", "sum", "std", "update"}
NADAM = {"grad", "mu", "mu_next", "mu_product", "mu_product_next", "m", "v", "bias_correction2", "m_hat", "denom",
         "step", "update"}
RADAM_EARLY = {"grad", "m", "v", "bias_correction1", "bias_correction2", "m_hat", "rho_inf", "rho_t",
               "step_unrectified", "update"}
RADAM_LATE = RADAM_EARLY - {"step_unrectified"} | {"rect", "adaptive_lr", "step_rectified"}
L2, DECOUPLED = {"grad_l2"}, {"decay"}


def maximized(terms: set[str]) -> set[str]:
    return terms - {"grad"} | {"grad_maximize"}


# (class name, kwargs, terms recorded at step 1, terms recorded at step STEPS)
CASES = [
    ("SGD", {"lr": 0.01}, SGD_PLAIN, SGD_PLAIN),
    ("SGD", {"lr": 0.01, "weight_decay": 0.1}, SGD_PLAIN | L2, SGD_PLAIN | L2),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
     {"grad", "grad_l2", "momentum_buffer", "direction_heavy_ball", "update"},
     {"grad", "grad_l2", "momentum_buffer", "direction_heavy_ball", "update"}),
    ("SGD", {"lr": 0.001, "momentum": 0.9, "nesterov": True, "maximize": True},
     {"grad_maximize", "momentum_buffer", "direction_nesterov", "update"},
     {"grad_maximize", "momentum_buffer", "direction_nesterov", "update"}),
    ("SGD", {"lr": 0.001, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1},
     {"grad", "grad_l2", "momentum_buffer", "direction_nesterov", "update"},
     {"grad", "grad_l2", "momentum_buffer", "direction_nesterov", "update"}),
    ("SGD", {"lr": 0.01, "maximize": True}, maximized(SGD_PLAIN), maximized(SGD_PLAIN)),
    ("Adam", {"lr": 0.1}, ADAM, ADAM),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1}, ADAM | L2, ADAM | L2),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}, ADAM | DECOUPLED, ADAM | DECOUPLED),
    ("Adam", {"lr": 0.1, "amsgrad": True, "maximize": True}, maximized(AMSGRAD), maximized(AMSGRAD)),
    ("AdamW", {"lr": 0.1}, ADAM | DECOUPLED, ADAM | DECOUPLED),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.2, "amsgrad": True}, AMSGRAD | DECOUPLED, AMSGRAD | DECOUPLED),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.0}, ADAM, ADAM),
    ("RMSprop", {"lr": 0.01}, RMSPROP, RMSPROP),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}, maximized(RMSPROP) | L2,
     maximized(RMSPROP) | L2),
    ("RMSprop", {"lr": 0.01, "centered": True},
     RMSPROP - {"avg"} | {"grad_avg", "avg_centered"}, RMSPROP - {"avg"} | {"grad_avg", "avg_centered"}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5},
     RMSPROP - {"direction"} | {"momentum_buffer", "direction_momentum"},
     RMSPROP - {"direction"} | {"momentum_buffer", "direction_momentum"}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5},
     {"grad", "square_avg", "grad_avg", "avg_centered", "momentum_buffer", "direction_momentum", "update"},
     {"grad", "square_avg", "grad_avg", "avg_centered", "momentum_buffer", "direction_momentum", "update"}),
    ("Adagrad", {"lr": 0.1}, ADAGRAD, ADAGRAD),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}, ADAGRAD | L2, ADAGRAD | L2),
    ("Adagrad", {"lr": 0.1, "maximize": True}, maximized(ADAGRAD), maximized(ADAGRAD)),
    ("NAdam", {"lr": 0.01}, NADAM, NADAM),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}, NADAM | L2, NADAM | L2),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
     maximized(NADAM) | DECOUPLED, maximized(NADAM) | DECOUPLED),
    ("RAdam", {"lr": 0.01}, RADAM_EARLY, RADAM_LATE),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}, RADAM_EARLY | L2, RADAM_LATE | L2),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
     maximized(RADAM_EARLY) | DECOUPLED, maximized(RADAM_LATE) | DECOUPLED),
]
IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CASES)]


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


def run(name, kwargs, explain, steps=STEPS, check=None, params=None):
    params = make_params() if params is None else params
    opt = getattr(oo, name)(params, **kwargs)
    opt.explain = explain
    for t in range(steps):
        opt.zero_grad()
        loss_fn(params, t).backward()
        before = [p.detach().clone() for p in params]
        opt.step()
        if check is not None:
            check(opt, params, before, t + 1)
    assert all(torch.isfinite(p).all() for p in params)
    return opt, params


def close(a, b):
    torch.testing.assert_close(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                               rtol=1e-9, atol=1e-12)


def moment_grad(terms):
    """The gradient the moments see: after L2 when it ran, else the (signed) raw gradient."""
    for key in ("grad_l2", "grad", "grad_maximize"):
        if key in terms:
            return terms[key]
    raise AssertionError(f"no gradient recorded: {sorted(terms)}")


def check_sgd(terms, before, state, kw, t):
    g = moment_grad(terms)
    if kw.get("momentum", 0):
        close(terms["momentum_buffer"], state["momentum_buffer"])
        if kw.get("nesterov"):
            close(terms["direction_nesterov"], g + kw["momentum"] * terms["momentum_buffer"])
        else:
            close(terms["direction_heavy_ball"], terms["momentum_buffer"])
        direction = terms.get("direction_nesterov", terms.get("direction_heavy_ball"))
    else:
        close(terms["direction"], g)
        direction = terms["direction"]
    close(terms["update"], -kw["lr"] * direction)


def check_adam(terms, before, state, kw, t):
    close(terms["m"], state["exp_avg"])
    close(terms["v"], state["exp_avg_sq"])
    close(terms["bias_correction1"], 1 - 0.9**t)
    close(terms["bias_correction2"], 1 - 0.999**t)
    close(terms["m_hat"], terms["m"] / terms["bias_correction1"])
    if kw.get("amsgrad"):
        close(terms["v_max"], state["max_exp_avg_sq"])
        assert torch.all(terms["v_max"] >= terms["v"])
        v_hat = terms["v_hat_max"]
        close(v_hat, terms["v_max"] / terms["bias_correction2"])
    else:
        v_hat = terms["v_hat"]
        close(v_hat, terms["v"] / terms["bias_correction2"])
    close(terms["denom"], v_hat.sqrt() + 1e-8)
    close(terms["step_size"], kw["lr"] / terms["bias_correction1"])
    close(terms["step"], -kw["lr"] * terms["m_hat"] / terms["denom"])
    close(terms["update"], terms["step"] + terms.get("decay", 0.0))


def check_rmsprop(terms, before, state, kw, t):
    g = moment_grad(terms)
    close(terms["square_avg"], state["square_avg"])
    if kw.get("centered"):
        close(terms["grad_avg"], state["grad_avg"])
        close(terms["avg_centered"], (terms["square_avg"] - terms["grad_avg"] ** 2).sqrt() + 1e-8)
        sigma = terms["avg_centered"]
    else:
        close(terms["avg"], terms["square_avg"].sqrt() + 1e-8)
        sigma = terms["avg"]
    if kw.get("momentum"):
        close(terms["momentum_buffer"], state["momentum_buffer"])
        close(terms["direction_momentum"], terms["momentum_buffer"])
        direction = terms["direction_momentum"]
    else:
        close(terms["direction"], g / sigma)
        direction = terms["direction"]
    close(terms["update"], -kw["lr"] * direction)


def check_adagrad(terms, before, state, kw, t):
    close(terms["clr"], kw["lr"] / (1 + (t - 1) * kw.get("lr_decay", 0)))
    close(terms["sum"], state["sum"])
    close(terms["std"], terms["sum"].sqrt() + 1e-10)
    close(terms["update"], -terms["clr"] * moment_grad(terms) / terms["std"])


def check_nadam(terms, before, state, kw, t):
    close(terms["mu"], 0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)))
    close(terms["mu_next"], 0.9 * (1 - 0.5 * 0.96 ** ((t + 1) * 4e-3)))
    close(terms["mu_product"], state["mu_product"])
    close(terms["mu_product_next"], terms["mu_product"] * terms["mu_next"])
    close(terms["m"], state["exp_avg"])
    close(terms["bias_correction2"], 1 - 0.999**t)
    mu_product = terms["mu_product"].double()  # kept in the step counter's dtype, used as a float64 number
    close(terms["m_hat"], terms["mu_next"] * terms["m"] / (1 - terms["mu_product_next"])
          + (1 - terms["mu"]) * moment_grad(terms) / (1 - mu_product))
    close(terms["denom"], (terms["v"] / (1 - 0.999**t)).sqrt() + 1e-8)
    close(terms["step"], -kw["lr"] * terms["m_hat"] / terms["denom"])
    close(terms["update"], terms["step"] + terms.get("decay", 0.0))


def check_radam(terms, before, state, kw, t):
    close(terms["m_hat"], terms["m"] / (1 - 0.9**t))
    close(terms["rho_inf"], 2 / (1 - 0.999) - 1)
    rho_inf = 2 / (1 - 0.999) - 1
    rho_t = rho_inf - 2 * t * 0.999**t / (1 - 0.999**t)
    close(terms["rho_t"], rho_t)
    if rho_t > 5:
        close(terms["adaptive_lr"], (1 - 0.999**t) ** 0.5 / (terms["v"].sqrt() + 1e-8))
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        close(terms["rect"], rect)
        close(terms["step_rectified"], -kw["lr"] * terms["m_hat"] * terms["rect"] * terms["adaptive_lr"])
        step = terms["step_rectified"]
    else:
        close(terms["step_unrectified"], -kw["lr"] * terms["m_hat"])
        step = terms["step_unrectified"]
    close(terms["update"], step + terms.get("decay", 0.0))


CHECKS = {
    "SGD": check_sgd, "Adam": check_adam, "AdamW": check_adam, "RMSprop": check_rmsprop,
    "Adagrad": check_adagrad, "NAdam": check_nadam, "RAdam": check_radam,
}


def in_formula_order(opt, terms) -> bool:
    """FORMULAS lists the terms in the order the algorithm computes them; a step records them in that order."""
    order = list(opt.FORMULAS)
    positions = [order.index(name) for name in terms]
    return positions == sorted(positions)


@pytest.mark.parametrize(("name", "kwargs", "first", "last"), CASES, ids=IDS)
def test_exactly_the_terms_of_the_algorithm_that_ran_are_recorded(name, kwargs, first, last):
    recorded = {}

    def check(opt, params, before, t):
        explanations = opt.explanations()
        assert explanations[1] == {}  # no gradient, nothing ran
        assert set(explanations[0]) == set(explanations[2])  # same algorithm for both parameters
        assert in_formula_order(opt, explanations[0]), list(explanations[0])
        recorded[t] = set(explanations[0])

    run(name, kwargs, explain=True, check=check)
    assert recorded[1] == first, (recorded[1] ^ first)
    assert recorded[STEPS] == last, (recorded[STEPS] ^ last)


@pytest.mark.parametrize(("name", "kwargs"), [case[:2] for case in CASES], ids=IDS)
def test_terms_are_consistent(name, kwargs):
    def check(opt, params, before, t):
        explanations = opt.explanations()
        assert len(explanations) == len(params)
        for i in (0, 2):
            terms = explanations[i]
            assert all(isinstance(v, torch.Tensor) for v in terms.values())
            # the update is the change applied to θ this step
            close(terms["update"], params[i].detach() - before[i])
            raw = params[i].grad
            if kwargs.get("maximize"):
                close(terms["grad_maximize"], -raw)
            else:
                close(terms["grad"], raw)
            if "grad_l2" in terms:
                close(terms["grad_l2"], (-raw if kwargs.get("maximize") else raw) + kwargs["weight_decay"] * before[i])
            if "decay" in terms:
                weight_decay = kwargs.get("weight_decay", 1e-2)  # AdamW's default
                close(terms["decay"], -kwargs["lr"] * weight_decay * before[i])
            CHECKS[name](terms, before[i], opt.state[params[i]], kwargs, t)

    run(name, kwargs, explain=True, check=check)


@pytest.mark.parametrize("name", list(oo.OPTIMIZERS))
def test_formulas_hold_every_recordable_term_and_nothing_else(name):
    cls = oo.OPTIMIZERS[name]
    family = {"Adam": ("Adam", "AdamW"), "AdamW": ("Adam", "AdamW")}.get(name, (name,))
    recordable = set().union(*(first | last for case, _, first, last in CASES if case in family))
    assert set(cls.FORMULAS) == recordable, set(cls.FORMULAS) ^ recordable
    for term, formula in cls.FORMULAS.items():
        # one formula per term: no sign or branch left for the reader to pick
        assert r"\pm" not in formula and r"\mp" not in formula, term
        assert " or " not in formula and "else" not in formula and "nesterov" not in formula, term


def test_two_param_groups_record_each_groups_own_algorithm():
    x, lone, w = make_params()
    opt = oo.SGD([{"params": [x], "momentum": 0.9, "nesterov": True}, {"params": [lone, w], "weight_decay": 0.1}],
                 lr=0.01)
    opt.explain = True
    loss_fn([x, lone, w], 0).backward()
    opt.step()
    first, missing, second = opt.explanations()
    assert list(first) == ["grad", "momentum_buffer", "direction_nesterov", "update"]
    assert missing == {}
    assert list(second) == ["grad", "grad_l2", "direction", "update"]


@pytest.mark.parametrize(("name", "kwargs"), [case[:2] for case in CASES], ids=IDS)
def test_explaining_does_not_change_the_numbers(name, kwargs):
    quiet, quiet_params = run(name, kwargs, explain=False)
    loud, loud_params = run(name, kwargs, explain=True)
    for a, b in zip(quiet_params, loud_params, strict=True):
        assert torch.equal(a, b)
    for a, b in zip(quiet_params, loud_params, strict=True):
        assert quiet.state.get(a, {}).keys() == loud.state.get(b, {}).keys()
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
    grad = opt.explanations()[0]["grad"]
    params[0].grad.add_(100.0)
    assert not torch.equal(grad, params[0].grad)


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


# How the docstrings write each LaTeX symbol of SYMBOLS.
UNICODE = {r"\gamma": "γ", r"\beta_1": "β1", r"\beta_2": "β2", r"\epsilon": "ε", r"\lambda": "λ", r"\mu": "μ",
           r"\tau": "τ", r"\alpha": "α", r"\eta": "η", r"\psi": "ψ"}
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "lambda", "mu", "nu", "psi", "rho", "sigma", "tau"}
# Greek letters a formula may use besides the hyperparameters' symbols (θ and ∇ are not in GREEK): quantities the
# algorithm computes, written by hand from the papers' notation.
COMPUTED = {"RMSprop": {"sigma"}, "NAdam": {"mu"}, "RAdam": {"rho"}}


def numeric_hyperparameters(cls) -> dict[str, object]:
    """Constructor arguments that take a number (or a pair of numbers), with their defaults."""
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if name not in ("self", "params") and not isinstance(p.default, bool)
            and isinstance(p.default, int | float | tuple)}


def args_entry(cls, name: str) -> str:
    """The line of the docstring's Args block that documents ``name``."""
    args = cls.__doc__.split("Args:", 1)[1]
    lines = [line.strip() for line in args.splitlines() if line.strip().startswith(f"{name} (")]
    assert len(lines) == 1, (name, lines)
    return lines[0]


@pytest.mark.parametrize("name", list(oo.OPTIMIZERS))
def test_every_class_documents_its_symbols_and_algorithm(name):
    """SYMBOLS covers exactly the numeric hyperparameters; each symbol is in the pseudo-code's inputs and in the
    hyperparameter's Args entry, whose stated default is the constructor's; formulas use no undocumented Greek."""
    cls = oo.OPTIMIZERS[name]
    hypers = numeric_hyperparameters(cls)
    assert set(cls.SYMBOLS) - {"beta1", "beta2"} == set(hypers)
    assert ("betas" in hypers) == ({"beta1", "beta2"} <= set(cls.SYMBOLS))

    inputs = cls.ALGORITHM_LATEX.split(r"\textbf{input}:", 1)[1].split("\n", 1)[0]
    for key, symbol in cls.SYMBOLS.items():
        for part in symbol.strip("()").split(", "):
            assert part in inputs, (key, part)
    for key, default in hypers.items():
        entry = args_entry(cls, key)
        for part in cls.SYMBOLS[key].strip("()").split(", "):
            assert UNICODE[part] in entry, (key, entry)
        stated = entry.rsplit("(default: ", 1)[1].removesuffix(").")
        assert ast.literal_eval(stated) == default, (key, stated, default)

    documented = {letter for symbol in cls.SYMBOLS.values() for letter in re.findall(r"\\([a-z]+)", symbol)}
    for term, formula in cls.FORMULAS.items():
        used = set(re.findall(r"\\([a-z]+)", formula)) & GREEK
        assert used <= documented | COMPUTED.get(name, set()), (term, used - documented)
    assert r"\begin{aligned}" in cls.ALGORITHM_LATEX and cls.ALGORITHM_LATEX in cls.__doc__.replace("       ", "")


def test_there_is_one_algorithm_per_optimizer():
    assert set(oo.ALGORITHMS) == {name.lower() for name in oo.OPTIMIZERS}
    assert len(set(oo.ALGORITHMS.values())) == len(oo.ALGORITHMS)


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


def test_render_step_for_plain_sgd_shows_no_line_for_features_that_are_off():
    opt, _ = run("SGD", {"lr": 0.01}, explain=True, steps=1)
    lines = render_step(opt, 0)
    assert [line.split(" = ")[0] for line in lines] == [
        opt.FORMULAS["grad"].split(" = ")[0], "d_t", r"\Delta\theta_t"]
    assert not any(r"\lambda" in line or r"\mu" in line for line in lines)


def test_format_value_shapes():
    assert format_value(torch.tensor(0.5)) == "0.5"
    assert format_value(torch.tensor([1.0, 2.0])) == r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"
    assert r"10 \times 10" in format_value(torch.ones(10, 10))


def test_format_value_can_mark_entries_without_a_number():
    assert format_value(torch.tensor([1.0, float("nan")])) == r"\begin{pmatrix} 1 \\ nan \end{pmatrix}"
    assert format_value(torch.tensor([1.0, float("nan")]), nan=NOT_RUN) == rf"\begin{{pmatrix}} 1 \\ {NOT_RUN} \end{{pmatrix}}"
    assert format_value(torch.tensor(float("nan")), nan=NOT_RUN) == NOT_RUN


def test_term_lines_follow_the_algorithm_and_skip_what_did_not_run():
    nan = float("nan")
    # as a stacked trace holds them at one step: keys in order of first appearance over the run, NaN where absent
    stacked = {
        "grad": torch.tensor([1.0, 2.0]),
        "step_unrectified": torch.tensor([nan, nan]),  # the other branch ran at this step
        "update": torch.tensor([-0.5, -0.25]),
        "rect": torch.tensor(0.03),
        "grad_l2": torch.tensor([1.5, nan]),  # one axis' group has weight decay off
        "unknown": torch.tensor(7.0),  # no formula: no line
    }
    lines = term_lines(stacked, oo.RAdam.FORMULAS)
    assert [line.split(" = ")[0] for line in lines] == [
        oo.RAdam.FORMULAS[name].split(" = ")[0] for name in ("grad", "grad_l2", "rect", "update")]
    assert lines[1].endswith(rf"\begin{{pmatrix}} 1.5 \\ {NOT_RUN} \end{{pmatrix}}")
    assert lines[2].endswith("= 0.03")
    assert term_lines({}, oo.SGD.FORMULAS) == []
