"""What every optlab optimizer shares: the explain switch, the step prologue, loading old saves, the step counter.

The bookkeeping itself (param_groups, lazy state, hooks, state_dict) is torch.optim.Optimizer's; no math here.
"""

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.optim import Optimizer

Explanation = dict[str, Tensor]


def scalar_dtype() -> torch.dtype:
    """dtype of the ``step`` counter, as torch keeps it: float64 when that is the default dtype, else float32."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def new_step(value: float = 0.0) -> Tensor:
    """A step counter: a 0-d CPU tensor (0 for a fresh one), like torch's non-capturable optimizers."""
    return torch.tensor(float(value), dtype=scalar_dtype())


def zeros(p: Tensor) -> Tensor:
    """A zero state tensor shaped like ``p`` (m_0 = 0, v_0 = 0, ...), in p's memory format, as torch makes them."""
    return torch.zeros_like(p, memory_format=torch.preserve_format)


def to_scalar(x):
    """A 1-element tensor hyperparameter becomes 0-d (as torch's ``_to_scalar``); anything else is unchanged."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def real_view(t: Tensor) -> Tensor:
    """A complex tensor as torch.optim updates it: its real view, a real tensor with a trailing axis of 2 that
    holds the real and imaginary parts and shares the memory (``torch.view_as_real``); a real tensor as it is.

    torch's optimizers step a complex parameter as two independent real coordinates (Re θ, Im θ): Adam, AdamW,
    RMSprop, Adagrad, NAdam and RAdam call ``torch.view_as_real`` on the parameter, its gradient and its state
    before the moment updates (torch/optim/adam.py, ``_single_tensor_adam``; pytorch/pytorch#83860). SGD needs no
    view: its update is linear in g_t, so the complex operations already act on each part alone.
    See https://pytorch.org/docs/stable/generated/torch.view_as_real.html.
    """
    return torch.view_as_real(t) if torch.is_complex(t) else t


#: The modes a param group may not turn on, each with the value that leaves it off.
UNSUPPORTED_MODES = {"fused": "None (or False)", "capturable": "False", "differentiable": "False"}


def refuse_unsupported(*, foreach=None, fused=None, capturable=False, differentiable=False) -> None:
    """Accept the default modes only: optlab runs torch's single-tensor algorithm, written out line by line.

    ``foreach`` is accepted and ignored (it only picks a faster torch kernel for the same math). The same check
    runs on every param group (:meth:`ExplainedOptimizer.add_param_group`), so a group cannot turn a mode on.
    """
    for mode, value in (("fused", fused), ("capturable", capturable), ("differentiable", differentiable)):
        if value:
            raise ValueError(
                f"{mode}=True is not supported by optlab optimizers; leave {mode}={UNSUPPORTED_MODES[mode]}"
            )


def snapshot(value) -> Tensor:
    """A detached copy of one recorded quantity: tensors are cloned, Python numbers become 0-d float64 tensors."""
    if isinstance(value, Tensor):
        # Inside step() (no_grad) nothing requires grad, and a bare clone is the cheaper copy.
        return value.detach().clone() if value.requires_grad else value.clone()
    return torch.scalar_tensor(float(value), dtype=torch.float64)


#: The two ways a step starts: descend along ∇f, or (``maximize=True``) climb, i.e. descend along −∇f.
GRAD_FORMULAS = {
    "grad": r"g_t = \nabla_\theta f_t(\theta_{t-1})",
    "grad_maximize": r"g_t = -\nabla_\theta f_t(\theta_{t-1})",
}


def record_grad(terms: Explanation, raw_grad: Tensor, maximize: bool) -> None:
    """Record the gradient a step starts from (``p.grad``, which no step writes into): ``grad``, or
    ``grad_maximize`` = −∇f when climbing."""
    if maximize:
        terms["grad_maximize"] = snapshot(-raw_grad)
    else:
        terms["grad"] = snapshot(raw_grad)


class ExplainedOptimizer(Optimizer):
    """A torch.optim.Optimizer that can record the named quantities of its last step.

    Subclasses set ``FORMULAS`` (term name -> LaTeX formula it comes from), ``SYMBOLS`` (hyperparameter key ->
    LaTeX symbol), ``ALGORITHM_LATEX`` (the pseudo-code) and, for loading older saves, ``GROUP_DEFAULTS_ON_LOAD``
    and ``COUNTER_KEYS``. A ``step`` starts with ``loss, records = self._start_step(closure)``, walks
    ``self._params_with_grad(...)`` (which records ``{}`` for a parameter without a gradient) and appends one
    dict of terms per parameter it updates; the update math itself stays in each optimizer's ``step``.

    A step records a term only when that part of the algorithm ran (no ``momentum_buffer`` without momentum, no
    weight-decay term when λ = 0), in the order the algorithm computes them, so the recorded terms read as the
    equations of exactly the algorithm that ran. Each term has one formula, valid whenever it is recorded;
    variants (L2 or decoupled decay, Nesterov or heavy ball) record differently named terms. A complex
    parameter is updated, and its terms recorded, as its real view (:func:`real_view`), as torch updates it.

    Attributes:
        explain: when True, ``step()`` records the terms of that step; when False (the default) it records
            nothing and costs nothing extra.
    """

    FORMULAS: dict[str, str] = {}
    SYMBOLS: dict[str, str] = {}
    ALGORITHM_LATEX: str = ""
    #: Group options a loaded state may lack (saved before torch had them), and the value each gets on load.
    GROUP_DEFAULTS_ON_LOAD: dict[str, object] = {}
    #: Per-parameter counters kept as 0-d tensors; a loaded state holding a plain number gets a tensor.
    COUNTER_KEYS: tuple[str, ...] = ()

    def __init__(self, params, defaults) -> None:
        self.explain = False
        self._explanations: list[Explanation] = []
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        """torch's ``add_param_group`` (the constructor adds its groups through it too), refusing a group that
        turns on a mode this optimizer has but optlab does not run (``fused``, ``capturable``,
        ``differentiable``), with the constructor's message. A key the optimizer does not have is left alone, as
        torch leaves it.
        """
        if isinstance(param_group, dict):
            self._refuse_group_modes(param_group)
        super().add_param_group(param_group)

    def _refuse_group_modes(self, group: dict) -> None:
        modes = {mode: group[mode] for mode in UNSUPPORTED_MODES if mode in self.defaults and mode in group}
        refuse_unsupported(**modes)

    def load_state_dict(self, state_dict: dict) -> None:
        """torch's ``load_state_dict``, refusing saved groups that turn on a mode optlab does not run (the same
        message as the constructor) before anything is loaded."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if isinstance(groups, list):
            for group in groups:
                if isinstance(group, dict):
                    self._refuse_group_modes(group)
        super().load_state_dict(state_dict)

    def explanations(self) -> list[Explanation]:
        """Terms recorded by the last ``step()``, one dict per parameter of all groups in order.

        A parameter without a gradient gets ``{}``; the list is empty when ``explain`` was off for that step.
        """
        return list(self._explanations)

    def _records(self) -> list[Explanation] | None:
        """Start the record of this step: a fresh list when explaining, else None (and forget the last one)."""
        records: list[Explanation] | None = [] if self.explain else None
        self._explanations = records if records is not None else []
        return records

    def _start_step(self, closure) -> tuple[object, list[Explanation] | None]:
        """Every step's prologue: the loss from ``closure`` (run with gradients on), and this step's record."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        return loss, self._records()

    @staticmethod
    def _params_with_grad(group: dict, records: list[Explanation] | None, sparse_error: str) -> Iterator[Tensor]:
        """The parameters of ``group`` that have a gradient, in order; one without gets ``{}`` in the record.

        A sparse gradient stops the step with ``RuntimeError(sparse_error)``, the optimizer's own message.
        """
        for p in group["params"]:
            if p.grad is None:
                if records is not None:
                    records.append({})
                continue
            if p.grad.is_sparse:
                raise RuntimeError(sparse_error)
            yield p

    def __setstate__(self, state) -> None:
        """Load (unpickle or ``load_state_dict``), bringing an older save up to date as torch does."""
        super().__setstate__(state)
        self.__dict__.setdefault("explain", False)
        self.__dict__.setdefault("_explanations", [])
        for group in self.param_groups:
            for key, value in self.GROUP_DEFAULTS_ON_LOAD.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0:
                    for key in self.COUNTER_KEYS:
                        if not torch.is_tensor(p_state[key]):
                            p_state[key] = new_step(p_state[key])
