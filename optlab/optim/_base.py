"""What every optlab optimizer shares: the step loop, the explain switch and ``note``, loading old saves.

The step loop (closure, groups, parameters with a gradient, lazy state) is written once here, as in labml.ai's
annotated optimizers (``GenericAdaptiveOptimizer.step`` calling ``init_state`` and ``step_param``,
https://nn.labml.ai/optimizers/index.html); each optimizer file supplies only its state initialisation and its
per-parameter update. The rest of the bookkeeping (param_groups, hooks, state_dict) is torch.optim.Optimizer's.
No math here.
"""

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.optim import Optimizer

from ._docs import Term, formulas

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


class ExplainedOptimizer(Optimizer):
    """A torch.optim.Optimizer whose ``step`` is one shared loop, and that can record the terms of its last step.

    A subclass sets ``TERMS`` (its term table: the quantities a step may record, in the order it computes them;
    ``FORMULAS``, name -> LaTeX, is derived from it), ``SYMBOLS`` (hyperparameter key -> LaTeX symbol; the
    registry's widgets read them from here), ``ALGORITHM_LATEX`` (the pseudo-code, built from the same terms),
    ``SPARSE_ERROR`` (and ``COMPLEX_ERROR`` when it refuses complex parameters) and, for loading older saves,
    ``GROUP_DEFAULTS_ON_LOAD`` and ``COUNTER_KEYS``. It implements two hooks:

    - ``init_state(state, group, p)``: fill the empty state of ``p`` (the loop calls it when the state is empty);
    - ``step_param(state, group, grad, p)``: update ``p`` in place from ``grad`` (already −∇f when the group
      maximizes), calling ``self.note(name, value)`` where it computes each term and ``self.note_update(param)``
      right after it moves θ.

    A step records a term only when that part of the algorithm ran (no ``momentum_buffer`` without momentum, no
    weight-decay term when λ = 0), in the order the algorithm computes them, so the recorded terms read as the
    equations of exactly the algorithm that ran. Each term has one formula, valid whenever it is recorded;
    variants (L2 or decoupled decay, Nesterov or heavy ball) record differently named terms. A complex
    parameter is updated, and its terms recorded, as its real view (:func:`real_view`), as torch updates it.

    An optimizer whose update is not per parameter in this way (Muon's matrix view, Adafactor's factored moment,
    schedule-free's per-group weights) overrides ``step`` and uses the same pieces: :meth:`_prologue`,
    :meth:`_params_with_grad`, :meth:`_open`, :meth:`_close`.

    Attributes:
        explain: when True, ``step()`` records the terms of that step; when False (the default) it records
            nothing and ``note`` costs one attribute test.
    """

    TERMS: tuple[Term, ...] = ()
    FORMULAS: dict[str, str] = {}
    SYMBOLS: dict[str, str] = {}
    ALGORITHM_LATEX: str = ""
    SPARSE_ERROR: str = "optlab optimizers do not support sparse gradients"
    COMPLEX_ERROR: str | None = None
    #: Group options a loaded state may lack (saved before torch had them), and the value each gets on load.
    GROUP_DEFAULTS_ON_LOAD: dict[str, object] = {}
    #: Per-parameter counters kept as 0-d tensors; a loaded state holding a plain number gets a tensor.
    COUNTER_KEYS: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "TERMS" in cls.__dict__:
            cls.FORMULAS = formulas(cls.TERMS)

    def __init__(self, params, defaults) -> None:
        self.explain = False
        self._explanations: list[Explanation] = []
        self._terms: Explanation | None = None
        self._before: Tensor | None = None
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

    # ---- the step loop ------------------------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._prologue(closure)
        for group in self.param_groups:
            maximize = group.get("maximize", False)
            for p in self._params_with_grad(group):
                state = self.state_of(group, p)
                self._open(p)
                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                self.note("grad_maximize" if maximize else "grad", real_view(grad))
                self.step_param(state, group, grad, p)
                self._close()
        return loss

    def state_of(self, group: dict, p: Tensor) -> dict:
        """The state of ``p``, filled by ``init_state`` on its first step (torch's lazy state)."""
        state = self.state[p]
        if len(state) == 0:
            self.init_state(state, group, p)
        return state

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Fill the empty state of ``p`` (lazy: on its first step). Default: nothing (SGD keeps none at first)."""

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """Update ``p`` in place from ``grad`` (−∇f when maximizing); each optimizer writes its own."""
        raise NotImplementedError

    # ---- recording ----------------------------------------------------------------------------------------

    def note(self, name: str, value) -> None:
        """Record term ``name`` of the parameter being stepped (a detached copy), when explaining; else nothing."""
        if self._terms is not None:
            self._terms[name] = snapshot(value)

    @property
    def explaining(self) -> bool:
        """Whether the parameter being stepped is recording its terms (for a term that needs a copy first)."""
        return self._terms is not None

    def note_update(self, param: Tensor) -> None:
        """Record ``update``, Δθ_t = θ_t − θ_{t-1}, the change the step made to ``param`` (θ's real view)."""
        if self._terms is not None:
            self._terms["update"] = param - self._before

    # ---- the pieces of the loop, for an optimizer that keeps its own -------------------------------------

    def _prologue(self, closure):
        """Every step's start: the loss from ``closure`` (run with gradients on), and a fresh record."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._explanations, self._terms, self._before = [], None, None
        return loss

    def _params_with_grad(self, group: dict) -> Iterator[Tensor]:
        """The parameters of ``group`` that have a gradient, in order; one without gets ``{}`` in the record.

        A sparse gradient stops the step with ``RuntimeError(SPARSE_ERROR)``, a complex parameter with
        ``RuntimeError(COMPLEX_ERROR)`` when the optimizer refuses them.
        """
        for p in group["params"]:
            if p.grad is None:
                if self.explain:
                    self._explanations.append({})
                continue
            if p.grad.is_sparse:
                raise RuntimeError(self.SPARSE_ERROR)
            if self.COMPLEX_ERROR is not None and torch.is_complex(p):
                raise RuntimeError(self.COMPLEX_ERROR)
            yield p

    def _open(self, p: Tensor) -> None:
        """Start the record of ``p`` when explaining: an empty term dict, and θ_{t-1} for ``note_update``."""
        if self.explain:
            self._terms = {}
            self._before = real_view(p).clone()

    def _close(self) -> None:
        """End the record of the parameter just stepped."""
        if self._terms is not None:
            self._explanations.append(self._terms)
            self._terms, self._before = None, None

    def __setstate__(self, state) -> None:
        """Load (unpickle or ``load_state_dict``), bringing an older save up to date as torch does."""
        super().__setstate__(state)
        self.__dict__.setdefault("explain", False)
        self.__dict__.setdefault("_explanations", [])
        self.__dict__.setdefault("_terms", None)
        self.__dict__.setdefault("_before", None)
        for group in self.param_groups:
            for key, value in self.GROUP_DEFAULTS_ON_LOAD.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0:
                    for key in self.COUNTER_KEYS:
                        if not torch.is_tensor(p_state[key]):
                            p_state[key] = new_step(p_state[key])
