"""L-BFGS with an optional strong-Wolfe line search, exactly as torch.optim.LBFGS computes it (torch 2.13).

Leaves out nothing of torch's algorithm; like torch's it takes one parameter group and a closure. Its step is not
per parameter (one flat direction over all parameters, one line search), so it keeps its own ``step``.
"""

import torch
from torch import Tensor

from ._base import ExplainedOptimizer, real_view, to_scalar
from ._checks import check_lr
from ._docs import UPDATE, Term, algorithm, line, with_algorithm

DIRECTION = Term("direction", "d_k", r"-H_k g_k")
STEP_LENGTH = Term("t", "t_k", r"\text{step length along } d_k")
ITERATIONS = Term("n_iter", r"\text{iterations this step}")
FUNC_EVALS = Term("func_evals", r"\text{closure evaluations this step}")

TERMS = (DIRECTION, STEP_LENGTH, ITERATIONS, FUNC_EVALS, UPDATE)

# Nocedal and Wright, Numerical Optimization (2nd ed., 2006): Algorithm 7.5 (L-BFGS) with the two-loop recursion
# of Algorithm 7.4 for H_k g_k, as torch.optim.LBFGS runs it (one optimizer step is up to K iterations)
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta) \text{ (closure)}, m \text{ (history size)}, K \text{ (max iter)},"
    r" \epsilon_g \text{ (tolerance grad)}, \epsilon_f \text{ (tolerance change)}, \textit{line\_search\_fn}",
    r"k \leftarrow 0, \: \text{no } (s_i, y_i) \text{ pairs}",
    "\n".join([
        line(r"g_k \leftarrow \nabla f(\theta_k); \: \textbf{if} \: \lVert g_k \rVert_\infty \le \epsilon_g:"
             r" \textbf{return}"),
        line(r"\textbf{repeat up to} \: K \: \textbf{times}:"),
        line(r"\textbf{if} \: k > 0: \: y \leftarrow g_k - g_{k-1}, \: s \leftarrow t_{k-1} d_{k-1}; \:"
             r" \textbf{if} \: y^\top s > 10^{-10}: \text{keep } (s, y), \: \rho \leftarrow 1 / y^\top s, \:"
             r" H^0 \leftarrow y^\top s / y^\top y", 2),
        line(r"q \leftarrow -g_k; \: \textbf{for} \: i = \text{newest} \ldots \text{oldest}: \:"
             r" \alpha_i \leftarrow \rho_i s_i^\top q, \: q \leftarrow q - \alpha_i y_i", 2),
        line(r"r \leftarrow H^0 q; \: \textbf{for} \: i = \text{oldest} \ldots \text{newest}: \:"
             r" \beta \leftarrow \rho_i y_i^\top r, \: r \leftarrow r + (\alpha_i - \beta) s_i", 2),
        line(rf"{DIRECTION.lhs} \leftarrow r \: (= {DIRECTION.rhs}); \: t_k \leftarrow \gamma \:"
             r" (\text{first: } \gamma \min(1, 1 / \lVert g_0 \rVert_1))", 2),
        line(r"\textbf{if} \: g_k^\top d_k > -\epsilon_f: \textbf{stop}", 2),
        line(r"\textbf{if} \: \textit{strong\_wolfe}: \: t_k \leftarrow \text{line search}"
             r" (f(\theta_k + t d_k) \le f(\theta_k) + 10^{-4} t g_k^\top d_k, \:"
             r" |\nabla f(\theta_k + t d_k)^\top d_k| \le 0.9 |g_k^\top d_k|)", 2),
        line(r"\theta_{k+1} \leftarrow \theta_k + t_k d_k, \: g_{k+1} \leftarrow \nabla f(\theta_{k+1}), \:"
             r" k \leftarrow k + 1", 2),
        line(r"\textbf{stop when} \: \lVert g \rVert_\infty \le \epsilon_g, \: \lVert t_k d_k \rVert_\infty \le"
             r" \epsilon_f, \: |f_{k+1} - f_k| < \epsilon_f \text{ or the evaluations reach max\_eval}", 2),
    ]),
)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds`` (Nocedal and
    Wright, eq. 3.59; torch's port of torch7's ``polyinterp.lua``)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    # d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    # d2 = √(d1² - g1 g2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        # x_min = x2 - (x2 - x1)(g2 + d2 - d1) / (g2 - g1 + 2 d2), from the farther point
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    # no real minimiser: the middle of the interval
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step length t satisfying the strong Wolfe conditions along d (Nocedal and Wright, Algorithm 3.5, the
    bracketing phase, and Algorithm 3.6, zoom, with cubic interpolation), as torch implements it.

    Sufficient decrease: f(x + t d) ≤ f + c1 t gᵀd; curvature: |∇f(x + t d)ᵀd| ≤ c2 |gᵀd|. Returns the loss,
    the flat gradient and t of the accepted point, and how many times ``obj_func`` ran.
    """
    d_norm = d.abs().max()
    g = g.clone(memory_format=torch.contiguous_format)
    # evaluate objective and gradient using initial step
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracket an interval containing a point satisfying the Wolfe criteria (Algorithm 3.5)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        # sufficient decrease fails (or no decrease): the minimum lies in [t_prev, t]
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # strong curvature holds: t is accepted
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break
        # the slope turned positive: the minimum lies in [t_prev, t]
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # extrapolate: a cubic step in [t + 0.01 (t - t_prev), 10 t]
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        # next step
        t_prev = tmp
        f_prev = f_new
        g_prev = g_new.clone(memory_format=torch.contiguous_format)
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    # reached max number of iterations?
    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]

    # zoom phase (Algorithm 3.6): shrink the bracket until a point satisfies the criteria
    insuf_progress = False
    # find high and low points in bracket
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        # line-search bracket is so small
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        # compute new trial value
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial within 10% of the bracket's length from an end: after a second such trial in a row, or one at
        # or beyond an end, move it to 10% from the nearest end
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        # Evaluate new point
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not satisfied or not lower than lowest point: t is the new high end
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                # Wolfe conditions satisfied
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # old high becomes new low
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            # new point becomes new low
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[low_pos] = gtd_new

    # the low end: the accepted point
    t = bracket[low_pos]
    f_new = bracket_f[low_pos]
    g_new = bracket_g[low_pos]
    return f_new, g_new, t, ls_func_evals


class LBFGS(ExplainedOptimizer):
    """L-BFGS, torch.optim.LBFGS line by line.

    Each ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations: the direction d_k = -H_k g_k comes
    from the last ``history_size`` pairs (s_i, y_i) of steps and gradient changes through the two-loop recursion
    (Nocedal and Wright, Numerical Optimization, 2nd ed., Algorithm 7.4), and the step length is γ (the first
    iteration ever: γ min(1, 1/‖g‖₁)) or, with ``line_search_fn="strong_wolfe"``, the strong-Wolfe line
    search's (Algorithms 3.5 and 3.6). Code names and symbols: ``lr`` is γ, ``max_iter`` K, ``history_size`` m,
    ``tolerance_grad`` ε_g, ``tolerance_change`` ε_f. The state, kept on the first parameter as torch keeps it:
    ``func_evals`` and ``n_iter`` (totals), ``d``, ``t``, ``old_dirs`` (the y_i), ``old_stps`` (the s_i), ``ro``
    (ρ_i = 1 / y_iᵀs_i), ``H_diag`` (H⁰ = yᵀs / yᵀy), ``prev_flat_grad``, ``prev_loss`` and ``al`` (the α_i).

    Every evaluation is a plain call of the caller's ``closure``, with the parameters set to the point being
    evaluated (θ_k + t d_k during the line search, put back afterwards, as torch does): to trace the line-search
    points, record inside the closure (the parameters and the loss it returns). The closure runs with gradients
    enabled. With ``explain = True`` a step records, on its first parameter, the last iteration's direction d_k
    and step length t_k and how many iterations and closure evaluations the step took; every parameter with a
    gradient records its ``update``.

    Args:
        params: iterable of parameters (one group; complex parameters move as their real view).
        lr (float or Tensor): learning rate γ, the step length without line search (default: 1).
        max_iter (int): K, the most iterations per ``step`` (default: 20).
        max_eval (int or None): the most closure evaluations per ``step`` (default: None, which is
            ``max_iter * 5 // 4``).
        tolerance_grad (float): ε_g, stop when every coordinate of the gradient is at most this (default: 1e-07).
        tolerance_change (float): ε_f, stop when the loss or the step changes by less (default: 1e-09).
        history_size (int): m, how many (s, y) pairs are kept (default: 100).
        line_search_fn (str or None): "strong_wolfe" or None (default: None).
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SYMBOLS = {
        "lr": r"\gamma",
        "max_iter": "K",
        "tolerance_grad": r"\epsilon_g",
        "tolerance_change": r"\epsilon_f",
        "history_size": "m",
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._numel_cache = None

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]
        self._numel_cache = None

    def _numel(self) -> int:
        """How many real coordinates the parameters hold (a complex entry counts two)."""
        if self._numel_cache is None:
            self._numel_cache = sum(2 * p.numel() if torch.is_complex(p) else p.numel() for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self) -> Tensor:
        """g: every parameter's gradient as one flat real vector (zeros for a parameter without one)."""
        views = []
        for p in self._params:
            if p.grad is None:
                view = p.new(p.numel()).zero_()
            elif p.grad.is_sparse:
                view = p.grad.to_dense().view(-1)
            else:
                view = p.grad.view(-1)
            if torch.is_complex(view):
                view = torch.view_as_real(view).view(-1)
            views.append(view)
        return torch.cat(views, 0)

    def _add_grad(self, step_size, update: Tensor) -> None:
        """θ <- θ + t d, with d a flat vector cut back into the parameters."""
        offset = 0
        for p in self._params:
            p = real_view(p)
            numel = p.numel()
            p.add_(update[offset : offset + numel].view_as(p), alpha=step_size)
            offset += numel
        if offset != self._numel():
            raise AssertionError(f"Expected offset {offset} to equal {self._numel()}")

    def _clone_param(self) -> list[Tensor]:
        return [p.clone(memory_format=torch.contiguous_format) for p in self._params]

    def _set_param(self, params_data) -> None:
        for p, pdata in zip(self._params, params_data, strict=True):
            p.copy_(pdata)

    def _directional_evaluate(self, closure, x, t, d):
        """f and g at x + t d: the parameters are moved there, the closure runs, and they are put back to x."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one L-BFGS step (up to ``max_iter`` iterations); ``closure`` re-evaluates the model and returns
        the loss. Returns the loss at the start of the step."""
        if closure is None:
            raise ValueError("LBFGS needs a closure: step(closure), where closure() re-evaluates the model, "
                             "calls backward() and returns the loss")
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")
        self._prologue(None)
        explaining = self.explain
        before = [real_view(p).clone() for p in self._params] if explaining else None

        # Make sure the closure is always called with grad enabled
        closure = torch.enable_grad()(closure)

        group = self.param_groups[0]
        lr = to_scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        # LBFGS has only global state, kept as the state of the first parameter (so load_state_dict casts it)
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        # evaluate initial f(x) and df/dx
        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        # ‖g‖_∞ ≤ ε_g: already optimal
        opt_cond = flat_grad.abs().max() <= tolerance_grad
        if opt_cond:
            self._record(before, None, None, 0, current_evals)
            return orig_loss

        # tensors cached in state (for tracing)
        d = state.get("d")
        t = state.get("t")
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        n_iter = 0
        # optimize for a max of max_iter iterations
        while n_iter < max_iter:
            # keep track of nb of iterations
            n_iter += 1
            state["n_iter"] += 1

            # ---- the direction d_k = -H_k g_k ----
            if state["n_iter"] == 1:
                # d_0 = -g_0 (H_0 = I), an empty history
                d = flat_grad.neg()
                old_dirs = []
                old_stps = []
                ro = []
                H_diag = 1
            else:
                # y = g_k - g_{k-1},  s = t_{k-1} d_{k-1} = θ_k - θ_{k-1}
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                # yᵀs
                ys = y.dot(s)
                # keep the pair only if the curvature yᵀs is positive enough (else H_k would not stay positive)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        # shift history by one (limited-memory): drop the oldest pair
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    # store new direction/step, and ρ = 1 / yᵀs
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    # H⁰ = yᵀs / yᵀy: the scale of the initial inverse Hessian (Nocedal and Wright, eq. 7.20)
                    H_diag = ys / y.dot(y)

                # the two-loop recursion (Nocedal and Wright, Algorithm 7.4), with q = -g so that r = -H g
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = flat_grad.neg()
                for i in range(num_old - 1, -1, -1):
                    # α_i = ρ_i s_iᵀ q;  q <- q - α_i y_i   (newest pair first)
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                # r = H⁰ q
                d = r = torch.mul(q, H_diag)
                for i in range(num_old):
                    # β = ρ_i y_iᵀ r;  r <- r + (α_i - β) s_i   (oldest pair first); d_k = r
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=al[i] - be_i)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone(memory_format=torch.contiguous_format)
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            # ---- the step length t_k ----
            # γ, or on the very first iteration γ min(1, 1 / ‖g‖₁)
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr
            else:
                t = lr

            # gᵀd: the directional derivative
            gtd = flat_grad.dot(d)
            # not a descent direction (to within ε_f): stop
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                # t_k from the strong-Wolfe line search; f and g at θ_k + t_k d_k come with it
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                # θ_{k+1} = θ_k + t_k d_k
                self._add_grad(t, d)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
            else:
                # no line search: θ_{k+1} = θ_k + t_k d_k with the fixed t_k
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # re-evaluate f and g only if another iteration follows
                    with torch.enable_grad():
                        loss = closure()
                    loss = float(loss)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = flat_grad.abs().max() <= tolerance_grad
                    ls_func_evals = 1

            # update func eval
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping tests ----
            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            # ‖g‖_∞ ≤ ε_g
            if opt_cond:
                break
            # lack of progress: ‖t d‖_∞ ≤ ε_f, or |f_{k+1} - f_k| < ε_f
            if d.mul(t).abs().max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        self._record(before, d, t, n_iter, current_evals)
        return orig_loss

    def _record(self, before, d, t, n_iter: int, func_evals: int) -> None:
        """When explaining: the step's terms, the global ones on the first parameter, ``update`` on each."""
        if before is None:
            return
        for i, (p, old) in enumerate(zip(self._params, before, strict=True)):
            if p.grad is None:  # takes no part (its share of g and d is 0), as in the other optimizers' records
                self._explanations.append({})
                continue
            self._open(p)
            self._before = old
            if i == 0:
                if d is not None:
                    self.note(DIRECTION.name, d)
                    self.note(STEP_LENGTH.name, t)
                self.note(ITERATIONS.name, n_iter)
                self.note(FUNC_EVALS.name, func_evals)
            self.note_update(real_view(p))
            self._close()


LBFGS.__doc__ = with_algorithm(LBFGS.__doc__, LBFGS.ALGORITHM_LATEX)
