"""The explain API: off by default, free of side effects, and it records exactly the terms of the algorithm that ran.

The explain cases (constructor arguments and the terms each records) come from the optimizer table
(``tests/optim_db.py``); the checks below recompute each term from the others by hand.
"""

import ast
import inspect
import math
import re

import pytest
import torch

import optlab.optim as oo
from optlab.optim.explain import NOT_RUN, format_value, render_step, term_lines
from tests.optim_db import DB, EXPLAIN_STEPS, INFOS

STEPS = EXPLAIN_STEPS

# (optimizer entry, case)
CASES = [(info, case) for info in INFOS for case in info.explain]
IDS = [f"{info.name}-{i}" for i, (info, _) in enumerate(CASES)]


def make_params(kind: str = "mixed"):
    """A 2-vector and a 2×2 matrix that get gradients, and a parameter that never does (index 1); for an optimizer
    of matrices (Muon), a 2×3 and a 3×2 matrix around a 1×2 one without gradient."""
    if kind == "matrices":
        return [
            torch.tensor([[1.5, -0.5, 0.2], [0.3, 0.9, -1.1]], dtype=torch.float64, requires_grad=True),
            torch.tensor([[3.0, 1.0]], dtype=torch.float64, requires_grad=True),
            torch.tensor([[0.3, -1.2], [2.0, 0.7], [-0.4, 0.5]], dtype=torch.float64, requires_grad=True),
        ]
    return [
        torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True),
        torch.tensor([3.0], dtype=torch.float64, requires_grad=True),
        torch.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=torch.float64, requires_grad=True),
    ]


def loss_fn(params, t):
    x, _, w = params
    wiggle = ((w * (t % 3 - 1)).sin() * w).sum()
    if x.dim() == 2:
        return ((x - 1) ** 2).sum() + (x @ w).sin().sum() + wiggle
    return (1 - x[0]) ** 2 + 5 * (x[1] - x[0] ** 2) ** 2 + wiggle


def run(name, kwargs, explain, steps=STEPS, check=None, params=None):
    info = DB[name]
    params = make_params(info.params_kind) if params is None else params
    opt = info.cls(params, **kwargs)
    if info.prepare is not None:
        info.prepare(opt)
    opt.explain = explain
    for t in range(steps):
        before = [p.detach().clone() for p in params]
        if info.needs_closure:  # L-BFGS evaluates the loss itself, as often as its iterations need
            def closure(t=t):
                opt.zero_grad()
                loss = loss_fn(params, t)
                loss.backward()
                return loss
            opt.step(closure)
        else:
            opt.zero_grad()
            loss_fn(params, t).backward()
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


def default(name: str, key: str):
    """The constructor's default of one argument."""
    return inspect.signature(DB[name].cls.__init__).parameters[key].default


def float32(x: float) -> float:
    """x rounded as a float32 step counter keeps it (ASGD's η and μ)."""
    return torch.tensor(x, dtype=torch.float32).item()


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
    if kw.get("amsgrad"):
        close(terms["v_max"], state["max_exp_avg_sq"])
        assert torch.all(terms["v_max"] >= terms["v"])
        denom = terms["denom_max"]
        close(denom, (terms["v_max"] / (1 - 0.999**t)).sqrt() + 1e-8)
    else:
        denom = terms["denom"]
        close(denom, (terms["v"] / (1 - 0.999**t)).sqrt() + 1e-8)
    close(terms["step_size"], kw["lr"] / (1 - 0.9**t))
    # θ_t = θ_{t-1} - γ m̂_t / (√v̂_t + ε), m̂_t = m_t / (1 - β1^t): Kingma and Ba's form, from the recorded parts
    close(terms["update"], -kw["lr"] * (terms["m"] / (1 - 0.9**t)) / denom + terms.get("decay", 0.0))


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
        direction = terms["momentum_buffer"]
    else:
        direction = g / sigma
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
    close(terms["step_size_grad"], kw["lr"] * (1 - terms["mu"]) / (1 - mu_product))
    close(terms["step_size_m"], kw["lr"] * terms["mu_next"] / (1 - terms["mu_product_next"]))
    close(terms["denom"], (terms["v"] / (1 - 0.999**t)).sqrt() + 1e-8)
    # Dozat's m̂_t = μ_{t+1} m_t / (1 - Π^{t+1} μ) + (1 - μ_t) g_t / (1 - Π^t μ), and θ_t = θ_{t-1} - γ m̂_t / denom
    m_hat = (terms["mu_next"] * terms["m"] / (1 - terms["mu_product_next"])
             + (1 - terms["mu"]) * moment_grad(terms) / (1 - mu_product))
    close(terms["update"], -kw["lr"] * m_hat / terms["denom"] + terms.get("decay", 0.0))


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
        close(terms["step_rectified"], kw["lr"] * terms["m_hat"] * terms["rect"] * terms["adaptive_lr"])
        step = terms["step_rectified"]
    else:
        close(terms["step_unrectified"], kw["lr"] * terms["m_hat"])
        step = terms["step_unrectified"]
    close(terms["update"], -step + terms.get("decay", 0.0))


def check_adamax(terms, before, state, kw, t):
    g = moment_grad(terms)
    close(terms["m"], state["exp_avg"])
    close(terms["u"], state["exp_inf"])
    assert torch.all(terms["u"] >= g.abs() + 1e-8 - 1e-15)  # u_t = max(β2 u_{t-1}, |g_t| + ε)
    close(terms["bias_correction1"], 1 - 0.9**t)
    close(terms["clr"], kw["lr"] / (1 - 0.9**t))
    close(terms["update"], -terms["clr"] * terms["m"] / terms["u"])


def check_adadelta(terms, before, state, kw, t):
    g, rho, eps = moment_grad(terms), kw.get("rho", 0.9), 1e-6
    close(terms["square_avg"], state["square_avg"])
    close(terms["std"], (terms["square_avg"] + eps).sqrt())
    close(terms["acc_delta"], state["acc_delta"])
    u_before = (terms["acc_delta"] - (1 - rho) * terms["delta"] ** 2) / rho  # u_{t-1}, from u_t
    close(terms["delta"], (u_before + eps).sqrt() / terms["std"] * g)
    close(terms["update"], -kw["lr"] * terms["delta"])


def check_rprop(terms, before, state, kw, t):
    etaminus, etaplus = kw.get("etas", (0.5, 1.2))
    factor, g = terms["factor"], moment_grad(terms)
    assert all(f in (etaminus, etaplus, 1.0) for f in factor.reshape(-1).tolist())
    close(terms["step_size"], state["step_size"])
    assert torch.all((terms["step_size"] >= 1e-6) & (terms["step_size"] <= 50))
    close(terms["grad_kept"], torch.where(factor == etaminus, 0.0, g))
    close(state["prev"], terms["grad_kept"])
    close(terms["update"], -terms["step_size"] * terms["grad_kept"].sign())


def check_asgd(terms, before, state, kw, t):
    lr, lambd, alpha, t0 = kw["lr"], kw.get("lambd", 1e-4), kw.get("alpha", 0.75), kw.get("t0", 1e6)
    close(terms["eta"], float32(lr / (1 + lambd * lr * (t - 1)) ** alpha) if t > 1 else float32(lr))
    close(terms["update"], -lambd * terms["eta"] * before - terms["eta"] * moment_grad(terms))
    after = before + terms["update"]
    close(terms.get("ax", terms.get("ax_start")), state["ax"])
    if "ax_start" in terms:
        close(terms["ax_start"], after)
    close(terms["eta_next"], float32(lr / (1 + lambd * lr * t) ** alpha))
    close(terms["mu_next"], float32(1 / max(1, t - t0)))


def check_adafactor(terms, before, state, kw, t):
    g, lr, d = moment_grad(terms), kw["lr"], kw.get("d", 1.0)
    eps1 = torch.finfo(torch.float64).eps
    close(terms["one_minus_beta2"], t ** kw.get("beta2_decay", -0.8))
    close(terms["rho"], min(lr, 1 / math.sqrt(t)))
    close(terms["alpha"], max(1e-3, before.norm().item() / math.sqrt(before.numel())) * terms["rho"])
    if "variance" in terms:
        close(terms["variance"], state["variance"])
        v_hat = terms["variance"]
    else:
        close(terms["row_var"], state["row_var"])
        close(terms["col_var"], state["col_var"])
        v_hat = terms["row_var"] * terms["col_var"] / max(terms["row_var"].mean().item(), eps1)
        close(terms["var_estimate"], v_hat)
        assert terms["row_var"].shape == (before.shape[0], 1) and terms["col_var"].shape == (1, before.shape[1])
    close(terms["u"], g / v_hat.sqrt().clamp(min=eps1))
    close(terms["clip"], max(1.0, terms["u"].norm().item() / math.sqrt(before.numel()) / d))
    close(terms["update"], terms.get("decay", 0.0) - terms["alpha"] * terms["u"] / terms["clip"])


def check_muon(terms, before, state, kw, t):
    g, mu, lr = terms["grad"], kw.get("momentum", 0.95), kw["lr"]
    close(terms["momentum_buffer"], state["momentum_buffer"])
    if kw.get("nesterov", True):
        close(terms["direction_nesterov"], (1 - mu) * g + mu * terms["momentum_buffer"])
        direction = terms["direction_nesterov"]
    else:
        close(terms["direction_heavy_ball"], terms["momentum_buffer"])
        direction = terms["direction_heavy_ball"]
    # O_t ≈ U S' Vᵀ: in the singular bases of B̃_t it is nearly diagonal, each S'_ii in about [0.5, 1.5]
    u, _, vh = torch.linalg.svd(direction, full_matrices=False)
    inner = u.T @ terms["ortho"] @ vh.T
    assert torch.all((inner.diagonal() > 0.5) & (inner.diagonal() < 1.5)), inner
    assert (inner - torch.diag(inner.diagonal())).abs().max() < 0.05, inner
    rows, cols = before.shape
    if "adjusted_lr_match_rms" in terms:
        close(terms["adjusted_lr_match_rms"], 0.2 * lr * math.sqrt(max(rows, cols)))
        lr_adjusted = terms["adjusted_lr_match_rms"]
    else:
        close(terms["adjusted_lr"], lr * math.sqrt(max(1, rows / cols)))
        lr_adjusted = terms["adjusted_lr"]
    close(terms["update"], terms.get("decay", 0.0) - lr_adjusted * terms["ortho"])


def check_lion(terms, before, state, kw, t):
    g, (beta1, beta2) = moment_grad(terms), kw.get("betas", (0.9, 0.99))
    close(terms["m"], state["exp_avg"])
    m_before = (terms["m"] - (1 - beta2) * g) / beta2  # m_{t-1}, from m_t
    close(terms["c"], beta1 * m_before + (1 - beta1) * g)
    close(terms["sign"], terms["c"].sign())
    if "decay_decoupled" in terms:
        close(terms["decay_decoupled"], -kw["weight_decay"] * before)  # γ (λ / γ_0) θ with γ = γ_0
    decay = terms.get("decay", terms.get("decay_decoupled", 0.0))
    close(terms["update"], decay - kw["lr"] * terms["sign"])


def check_adabelief(terms, before, state, kw, t):
    g, lr, eps = moment_grad(terms), kw["lr"], kw.get("eps", 1e-16)
    close(terms["m"], state["exp_avg"])
    close(terms["residual"], g - terms["m"])
    close(terms["s"], state["exp_avg_var"])
    s = terms["s"]
    if kw.get("ams_bound"):
        close(terms["s_max"], state["max_exp_avg_var"])
        assert torch.all(terms["s_max"] >= terms["s"])
        s = terms["s_max"]
    close(terms["bias_correction1"], 1 - 0.9**t)
    if "decay_fixed" in terms:
        close(terms["decay_fixed"], -kw["weight_decay"] * before)
    decay = terms.get("decay", terms.get("decay_fixed", 0.0))
    if not kw.get("rectify"):
        close(terms["bias_correction2"], 1 - 0.999**t)
        close(terms["denom"], s.sqrt() / math.sqrt(1 - 0.999**t) + eps)
        close(terms["step_size"], lr / (1 - 0.9**t))
        step = -terms["step_size"] * terms["m"] / terms["denom"]
    else:
        rho_inf = 2 / (1 - 0.999) - 1
        rho_t = rho_inf - 2 * t * 0.999**t / (1 - 0.999**t)
        close(terms["rho_inf"], rho_inf)
        close(terms["rho_t"], rho_t)
        if rho_t >= 5:
            rect = math.sqrt((1 - 0.999**t) * (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            close(terms["rect"], rect)
            close(terms["denom_rectified"], s.sqrt() + eps)
            close(terms["step_size_rectified"], lr * rect / (1 - 0.9**t))
            step = -terms["step_size_rectified"] * terms["m"] / terms["denom_rectified"]
        elif kw.get("degenerated_to_sgd", True):
            close(terms["step_size"], lr / (1 - 0.9**t))
            step = -terms["step_size"] * terms["m"]
        else:
            step = torch.zeros_like(before)  # before the threshold, without the SGD-like step: θ does not move
    close(terms["update"], decay + step)


def check_schedule_free(terms, before, state, kw, t):
    g, lr, warmup, decay = moment_grad(terms), kw["lr"], kw.get("warmup_steps", 0), kw.get("weight_decay", 0)
    lrs = [lr * (i / warmup if i <= warmup else 1.0) for i in range(1, t + 1)]  # γ_i, i ≤ t
    weights = [max(lrs[: i + 1]) ** 2 for i in range(t)]  # w_i = (max γ)^2 (r = 0, p = 2)
    close(terms["scheduled_lr"], lrs[-1])
    close(terms["lr_max"], max(lrs))
    close(terms["weight"], weights[-1])
    close(terms["ckp1"], weights[-1] / sum(weights))
    close(terms["v"], state["exp_avg_sq"])
    close(terms["denom"], (terms["v"] / (1 - 0.999**t)).sqrt() + 1e-8)
    close(terms["g_hat"], g / terms["denom"])
    g_hat = terms["g_hat"]
    if decay:
        close(terms["g_hat_l2"], terms["g_hat"] + decay * before)
        g_hat = terms["g_hat_l2"]
    close(terms["z"], state["z"])
    z_before = terms["z"] + lrs[-1] * g_hat
    c = terms["ckp1"]
    close(terms["update"], c * (z_before - before) + lrs[-1] * (0.9 * (1 - c) - 1) * g_hat)
    y = before + terms["update"]
    close(terms["x"], y + (1 - 1 / 0.9) * (terms["z"] - y))


def check_lbfgs(terms, before, state, kw, t):
    if "direction" not in terms:  # a later parameter: only its own update
        return
    close(terms["direction"], state["d"])
    close(terms["t"], state["t"])
    assert terms["n_iter"].item() == 1  # max_iter = 1 in the explain cases
    if kw.get("line_search_fn"):
        # the first evaluation, then the line search's, at most max_eval - 1 of them
        assert 2 <= terms["func_evals"].item() <= kw["max_eval"]
    else:
        assert terms["func_evals"].item() == 1  # no evaluation after the last iteration, as in torch
    # θ_1 = θ_0 + t d over the flat vector: the first parameter's slice
    n = before.numel()
    close(terms["update"], (terms["t"] * terms["direction"][:n]).reshape(before.shape))


CHECKS = {
    "SGD": check_sgd, "Adam": check_adam, "AdamW": check_adam, "RMSprop": check_rmsprop,
    "Adagrad": check_adagrad, "NAdam": check_nadam, "RAdam": check_radam, "Adamax": check_adamax,
    "Adadelta": check_adadelta, "Rprop": check_rprop, "ASGD": check_asgd, "Adafactor": check_adafactor,
    "Muon": check_muon, "LBFGS": check_lbfgs, "Lion": check_lion, "AdaBelief": check_adabelief, "AdamWScheduleFree": check_schedule_free,
}


def in_formula_order(opt, terms) -> bool:
    """FORMULAS lists the terms in the order the algorithm computes them; a step records them in that order."""
    order = list(opt.FORMULAS)
    positions = [order.index(name) for name in terms]
    return positions == sorted(positions)


def test_every_optimizer_has_a_check_and_explain_cases():
    assert set(CHECKS) == set(oo.OPTIMIZERS) == set(DB)
    assert all(info.explain for info in INFOS)


@pytest.mark.parametrize(("info", "case"), CASES, ids=IDS)
def test_exactly_the_terms_of_the_algorithm_that_ran_are_recorded(info, case):
    recorded = {}

    def check(opt, params, before, t):
        explanations = opt.explanations()
        assert explanations[1] == {}  # no gradient, nothing ran
        if info.same_terms_per_param and not info.terms_by_shape:
            assert set(explanations[0]) == set(explanations[2])  # same algorithm for both parameters
        for terms in (explanations[0], explanations[2]):
            assert in_formula_order(opt, terms), list(terms)
        recorded[t] = set(explanations[case.param])

    run(info.name, case.kwargs, explain=True, check=check)
    assert recorded[1] == case.first, (recorded[1] ^ case.first)
    assert recorded[STEPS] == case.last, (recorded[STEPS] ^ case.last)


@pytest.mark.parametrize(("info", "case"), CASES, ids=IDS)
def test_terms_are_consistent(info, case):
    kwargs = case.kwargs

    def check(opt, params, before, t):
        explanations = opt.explanations()
        assert len(explanations) == len(params)
        for i in (0, 2):
            terms = explanations[i]
            assert all(isinstance(v, torch.Tensor) for v in terms.values())
            # the update is the change applied to θ this step
            close(terms["update"], params[i].detach() - before[i])
            raw = params[i].grad
            if info.needs_closure:
                pass  # L-BFGS records no gradient term: it evaluates several, at several points
            elif kwargs.get("maximize"):
                close(terms["grad_maximize"], -raw)
            else:
                close(terms["grad"], raw)
            if "grad_l2" in terms:
                close(terms["grad_l2"], (-raw if kwargs.get("maximize") else raw) + kwargs["weight_decay"] * before[i])
            if "decay" in terms:
                weight_decay = kwargs.get("weight_decay", default(info.name, "weight_decay"))
                close(terms["decay"], -kwargs["lr"] * weight_decay * before[i])
            CHECKS[info.name](terms, before[i], opt.state[params[i]], kwargs, t)

    run(info.name, kwargs, explain=True, check=check)


@pytest.mark.parametrize("name", list(oo.OPTIMIZERS))
def test_formulas_hold_every_recordable_term_and_nothing_else(name):
    cls = oo.OPTIMIZERS[name]
    family = {"Adam": ("Adam", "AdamW"), "AdamW": ("Adam", "AdamW")}.get(name, (name,))
    recordable = set().union(*(case.first | case.last for info, case in CASES if info.name in family))
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


def same_entry(a, b) -> bool:
    """Bit-equal state entries: tensors, numbers, or lists of them (L-BFGS's history, None in unused slots)."""
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same_entry(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(("info", "case"), CASES, ids=IDS)
def test_explaining_does_not_change_the_numbers(info, case):
    quiet, quiet_params = run(info.name, case.kwargs, explain=False)
    loud, loud_params = run(info.name, case.kwargs, explain=True)
    for a, b in zip(quiet_params, loud_params, strict=True):
        assert torch.equal(a, b)
    for a, b in zip(quiet_params, loud_params, strict=True):
        assert quiet.state.get(a, {}).keys() == loud.state.get(b, {}).keys()
        for key, value in quiet.state.get(a, {}).items():
            assert same_entry(value, loud.state[b][key]), key


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
           r"\tau": "τ", r"\alpha": "α", r"\eta": "η", r"\psi": "ψ", r"\rho": "ρ", r"\omega": "ω", "t_0": "t0",
           r"\eta_-": "η-", r"\eta_+": "η+", r"\Gamma_{min}": "Γmin", r"\Gamma_{max}": "Γmax", r"\epsilon_1": "ε1",
           r"\epsilon_2": "ε2", "d": "d", "a": "a", "b": "b", "c": "c", "k": "k", r"\rho_{thr}": "ρ_thr",
           r"T_{warm}": "T_warm", "r": "r", "p": "p", "K": "K", "m": "m", r"\epsilon_g": "ε_g",
           r"\epsilon_f": "ε_f"}
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "lambda", "mu", "nu", "psi", "rho", "sigma", "tau",
         "omega"}
# Greek letters a formula may use besides the hyperparameters' symbols (θ and ∇ are not in GREEK): quantities the
# algorithm computes, written by hand from the papers' notation.
COMPUTED = {"RMSprop": {"sigma"}, "NAdam": {"mu"}, "RAdam": {"rho"}, "ASGD": {"eta", "mu"},
            "Adafactor": {"beta", "rho", "alpha"}}


def numeric_hyperparameters(cls) -> dict[str, object]:
    """Constructor arguments that take a number (or a pair of numbers), with their defaults."""
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if name not in ("self", "params") and not isinstance(p.default, bool)
            and isinstance(p.default, int | float | tuple)}


def args_entry(cls, name: str) -> str:
    """The line of the docstring's Args block that documents ``name``."""
    lines = cls.__doc__.split("Args:", 1)[1].splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(f"{name} (")]
    assert len(starts) == 1, (name, starts)
    first = lines[starts[0]]
    indent = len(first) - len(first.lstrip())
    entry = [first.strip()]
    for line in lines[starts[0] + 1:]:  # continuation lines are indented deeper than the entry
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            break
        entry.append(line.strip())
    return " ".join(entry)


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
    lines = render_step(opt, 0, terms=["m", "update"])
    assert len(lines) == 2
    assert lines[0].startswith(opt.FORMULAS["m"]) and r"\begin{pmatrix}" in lines[0]
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
