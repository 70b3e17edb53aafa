"""The optimizer table of the tests, in the style of torch's ``OptimizerInfo`` (torch/testing/_internal/common_optimizers.py).

Each optlab optimizer is listed once, with the class it must equal number for number (a torch.optim class, or a
reference package's class for an optimizer torch does not have), the constructor cases the parity tests run, the
bad inputs and what they must raise, and the explain cases (which terms a step records). The parity, validation,
explain and registry tests read their lists from here, so an optimizer that torch does not have is tested like
the others.

The torch cases are those of torch 2.13's ``optim_inputs_func_*`` for the CPU (the capturable ones need CUDA),
plus a tensor learning rate where torch accepts one, and a case or two that reach a branch torch's list leaves
out (ASGD's averaging, which starts after t0 steps).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

import optlab.optim as oo
from optlab.optim.schedule_free import EVAL_MODE_ERROR


def resolve(path: str) -> type:
    """``"package.module:Name"`` -> the class, imported on first use (reference packages are test dependencies)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class ErrorInput:
    """Constructor arguments (and parameters) an optimizer must refuse.

    With a torch reference the expected error is whatever torch raises (type and message, compared live); for
    the others ``error`` and ``message`` (a fragment of the message) say what optlab must raise. ``on_step``:
    the refusal comes from ``step()``, not from the constructor.
    """

    kwargs: dict
    params: Callable[[], list[torch.Tensor]] | None = None
    on_step: bool = False
    error: type[Exception] = ValueError
    message: str = ""


@dataclass(frozen=True)
class ExplainCase:
    """Constructor arguments, and the terms a step records at step 1 and at step ``EXPLAIN_STEPS`` for the
    parameter ``param`` of the explain tests (0: a vector, 2: a matrix; Muon's are all matrices)."""

    kwargs: dict
    first: frozenset[str]
    last: frozenset[str]
    param: int = 0


@dataclass(frozen=True)
class OptimizerInfo:
    """One optimizer: its class, its reference and the cases its tests run.

    Attributes:
        cls: the optlab class.
        reference: the class it equals, as ``"module:Name"`` (``torch.optim:Adam``, ``lion_pytorch:Lion``).
        inputs: constructor cases for the parity tests.
        group_overrides: what the second param group of the parity tests changes.
        errors: bad inputs (see ``ErrorInput``).
        explain: explain cases (see ``ExplainCase``).
        unsupported_modes: torch modes optlab refuses (fused, capturable, differentiable).
        params_kind: "mixed" (a matrix and vectors) or "matrices" (Muon takes matrices only).
        supports_complex: torch steps complex parameters as their real view.
        terms_by_shape: a vector and a matrix record different terms (Adafactor factors matrices only).
        prepare: called on both optimizers after construction (schedule-free: ``train()``).
        steps: how many steps the parity tests run.
        single_group: the optimizer takes one param group only (L-BFGS): the parity tests use one.
        needs_closure: ``step`` requires a closure (L-BFGS): the tests always pass one.
        refuses_sparse: a sparse gradient stops the step (L-BFGS, like torch's, densifies it instead).
        same_terms_per_param: every parameter records the same terms (L-BFGS records its global terms on the
            first parameter only).
        bench: constructor arguments of ``bench/bench_optim.py`` (a learning rate an MLP would train with).
        state_dict_with_reference: the reference loads optlab's state_dict and the reverse, and both go on alike.
        omitted_args: reference constructor arguments optlab leaves out (a kernel switch, ``**kwargs``).
        extra_args: optlab constructor arguments the reference lacks.
    """

    cls: type
    reference: str
    inputs: tuple[dict, ...]
    group_overrides: dict
    errors: tuple[ErrorInput, ...] = ()
    explain: tuple[ExplainCase, ...] = ()
    unsupported_modes: tuple[str, ...] = ()
    params_kind: str = "mixed"
    supports_complex: bool = False
    terms_by_shape: bool = False
    prepare: Callable[[torch.optim.Optimizer], None] | None = None
    steps: int = 100
    single_group: bool = False
    needs_closure: bool = False
    refuses_sparse: bool = True
    same_terms_per_param: bool = True
    bench: dict = field(default_factory=dict)
    state_dict_with_reference: bool = True
    omitted_args: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()
    notes: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def torch_reference(self) -> bool:
        return self.reference.startswith("torch.optim:")

    def reference_cls(self) -> type:
        return resolve(self.reference)


#: Steps of an explain run; RAdam's and AdaBelief's rectified branch starts at step 6 with the default betas.
EXPLAIN_STEPS = 8


def _terms(*names: str) -> frozenset[str]:
    return frozenset(names)


def maximized(terms: frozenset[str]) -> frozenset[str]:
    return terms - {"grad"} | {"grad_maximize"}


L2, DECOUPLED = _terms("grad_l2"), _terms("decay")


def _same(kwargs: dict, terms: frozenset[str], param: int = 0) -> ExplainCase:
    """A case whose steps all record the same terms."""
    return ExplainCase(kwargs, terms, terms, param)


# The terms each variant records, spelled out by hand (not derived from the code under test).
SGD_PLAIN = _terms("grad", "direction", "update")
ADAM = _terms("grad", "m", "v", "bias_correction1", "bias_correction2", "step_size", "denom", "update")
AMSGRAD = ADAM - {"denom"} | {"v_max", "denom_max"}
RMSPROP = _terms("grad", "square_avg", "avg", "update")
ADAGRAD = _terms("grad", "clr", "sum", "std", "update")
NADAM = _terms("grad", "mu", "mu_next", "mu_product", "mu_product_next", "m", "v", "bias_correction2", "denom",
               "step_size_grad", "step_size_m", "update")
RADAM_EARLY = _terms("grad", "m", "v", "bias_correction1", "bias_correction2", "m_hat", "rho_inf", "rho_t",
                     "step_unrectified", "update")
RADAM_LATE = RADAM_EARLY - {"step_unrectified"} | {"rect", "adaptive_lr", "step_rectified"}
ADAMAX = _terms("grad", "m", "u", "bias_correction1", "clr", "update")
ADADELTA = _terms("grad", "square_avg", "std", "delta", "acc_delta", "update")
RPROP = _terms("grad", "factor", "step_size", "grad_kept", "update")
ASGD_EARLY = _terms("grad", "eta", "update", "ax_start", "eta_next", "mu_next")
ASGD_AVERAGING = ASGD_EARLY - {"ax_start"} | {"ax"}
ADAFACTOR_COMMON = _terms("grad", "one_minus_beta2", "rho", "alpha", "u", "clip", "update")
ADAFACTOR_VECTOR = ADAFACTOR_COMMON | {"variance"}
ADAFACTOR_MATRIX = ADAFACTOR_COMMON | {"row_var", "col_var", "var_estimate"}
MUON = _terms("grad", "momentum_buffer", "direction_nesterov", "ortho", "adjusted_lr", "decay", "update")
LION = _terms("grad", "c", "sign", "update", "m")
ADABELIEF_COMMON = _terms("grad", "m", "residual", "s", "bias_correction1", "update")
ADABELIEF = ADABELIEF_COMMON | {"step_size", "bias_correction2", "denom"}
ADABELIEF_EARLY = ADABELIEF_COMMON | {"rho_inf", "rho_t", "step_size"}
ADABELIEF_LATE = ADABELIEF_COMMON | {"rho_inf", "rho_t", "rect", "step_size_rectified", "denom_rectified"}
LBFGS = _terms("direction", "t", "n_iter", "func_evals", "update")
SCHEDULE_FREE = _terms("grad", "scheduled_lr", "lr_max", "weight", "ckp1", "v", "denom", "g_hat", "update", "z",
                       "x")


def _matrix(*shape: int, complex_: bool = False) -> Callable[[], list[torch.Tensor]]:
    """A factory of one parameter with a gradient, for error inputs."""
    def make() -> list[torch.Tensor]:
        dtype = torch.complex64 if complex_ else torch.float32
        p = torch.rand(*shape, dtype=dtype)
        p.grad = torch.rand_like(p)
        return [p]
    return make


def _train(opt: torch.optim.Optimizer) -> None:
    opt.train()


_TENSOR_LR = {"lr": torch.tensor([0.001, 0.001])}

INFOS: tuple[OptimizerInfo, ...] = (
    OptimizerInfo(
        oo.SGD, "torch.optim:SGD",
        inputs=(
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
        ),
        group_overrides={"lr": 0.02, "momentum": 0.5},
        errors=(
            ErrorInput({"lr": -0.1}),
            ErrorInput({"momentum": -0.5}),
            ErrorInput({"weight_decay": -1}),
            ErrorInput({"nesterov": True}),
            ErrorInput({"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
            ErrorInput({"lr": torch.tensor([0.1, 0.2])}),
        ),
        explain=(
            _same({"lr": 0.01}, SGD_PLAIN),
            _same({"lr": 0.01, "weight_decay": 0.1}, SGD_PLAIN | L2),
            _same({"lr": 0.01, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
                  _terms("grad", "grad_l2", "momentum_buffer", "direction_heavy_ball", "update")),
            _same({"lr": 0.001, "momentum": 0.9, "nesterov": True, "maximize": True},
                  _terms("grad_maximize", "momentum_buffer", "direction_nesterov", "update")),
            _same({"lr": 0.001, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1},
                  _terms("grad", "grad_l2", "momentum_buffer", "direction_nesterov", "update")),
            _same({"lr": 0.01, "maximize": True}, maximized(SGD_PLAIN)),
        ),
        unsupported_modes=("fused", "differentiable"),
        supports_complex=True,
        bench={"lr": 0.01, "momentum": 0.9},
    ),
    OptimizerInfo(
        oo.Adam, "torch.optim:Adam",
        inputs=(
            {},
            {"lr": 0.01},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"weight_decay": 0.1, "amsgrad": True},
            {"lr": torch.tensor(0.01), "amsgrad": True},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "amsgrad": True, "maximize": True, "decoupled_weight_decay": True},
            {"lr": 0.02, "betas": (torch.tensor(0.8), torch.tensor(0.99))},
        ),
        group_overrides={"lr": 0.02, "betas": (0.8, 0.99)},
        errors=(
            ErrorInput({"lr": -1e-2}),
            ErrorInput({"eps": -1.0}),
            ErrorInput({"lr": 1e-2, "betas": (1.0, 0.0)}),
            ErrorInput({"betas": (0.9, 1.0)}),
            ErrorInput({"lr": 1e-2, "weight_decay": -1}),
            ErrorInput({"betas": (0.9, torch.tensor(0.999))}),
            ErrorInput({"betas": (torch.tensor([0.9, 0.8]), torch.tensor(0.999))}),
            ErrorInput({"lr": torch.tensor(0.001), "foreach": True}),
            ErrorInput({"lr": torch.tensor([0.1, 0.2])}),
        ),
        explain=(
            _same({"lr": 0.1}, ADAM),
            _same({"lr": 0.1, "weight_decay": 0.1}, ADAM | L2),
            _same({"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}, ADAM | DECOUPLED),
            _same({"lr": 0.1, "amsgrad": True, "maximize": True}, maximized(AMSGRAD)),
        ),
        unsupported_modes=("fused", "capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-3},
    ),
    OptimizerInfo(
        oo.AdamW, "torch.optim:AdamW",
        inputs=(
            {},
            {"lr": 0.01},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"weight_decay": 0.1, "amsgrad": True},
            {"lr": torch.tensor(0.01), "amsgrad": True},
        ),
        group_overrides={"lr": 0.02, "weight_decay": 0.3},
        errors=(ErrorInput({"betas": (1.0, 0.0)}), ErrorInput({"weight_decay": -0.1})),
        explain=(
            _same({"lr": 0.1}, ADAM | DECOUPLED),
            _same({"lr": 0.1, "weight_decay": 0.2, "amsgrad": True}, AMSGRAD | DECOUPLED),
            _same({"lr": 0.1, "weight_decay": 0.0}, ADAM),
        ),
        unsupported_modes=("fused", "capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-3},
    ),
    OptimizerInfo(
        oo.RMSprop, "torch.optim:RMSprop",
        inputs=(
            {},
            {"lr": 1e-3},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "centered": True},
            {"weight_decay": 0.1, "centered": True, "momentum": 0.1},
            {"weight_decay": 0.1, "centered": True, "momentum": 0.1, "maximize": True},
            {"lr": torch.tensor(0.001), "momentum": 0.5},
        ),
        group_overrides={"lr": 0.003, "alpha": 0.9},
        errors=(
            ErrorInput({"lr": -1.0}),
            ErrorInput({"lr": 1e-2, "momentum": -1.0}),
            ErrorInput({"alpha": -0.1}),
            ErrorInput({"eps": -1e-8}),
            ErrorInput({"weight_decay": -0.1}),
        ),
        explain=(
            _same({"lr": 0.01}, RMSPROP),
            _same({"lr": 0.01, "weight_decay": 0.1, "maximize": True}, maximized(RMSPROP) | L2),
            _same({"lr": 0.01, "centered": True}, RMSPROP - {"avg"} | {"grad_avg", "avg_centered"}),
            _same({"lr": 0.01, "momentum": 0.5}, RMSPROP | {"momentum_buffer"}),
            _same({"lr": 0.01, "centered": True, "momentum": 0.5},
                  _terms("grad", "square_avg", "grad_avg", "avg_centered", "momentum_buffer", "update")),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-3},
    ),
    OptimizerInfo(
        oo.Adagrad, "torch.optim:Adagrad",
        inputs=(
            {},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": 0.1},
            {"initial_accumulator_value": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1},
            {"lr": torch.tensor(0.05), "lr_decay": 0.01},
        ),
        group_overrides={"lr": 0.05, "lr_decay": 0.01},
        errors=(
            ErrorInput({"lr": 1e-2, "lr_decay": -0.5}),
            ErrorInput({"initial_accumulator_value": -1.0}),
            ErrorInput({"eps": -1.0}),
            ErrorInput({"weight_decay": -0.1}),
        ),
        explain=(
            _same({"lr": 0.1}, ADAGRAD),
            _same({"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}, ADAGRAD | L2),
            _same({"lr": 0.1, "maximize": True}, maximized(ADAGRAD)),
        ),
        unsupported_modes=("fused", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-2},
    ),
    OptimizerInfo(
        oo.NAdam, "torch.optim:NAdam",
        inputs=(
            {},
            {"lr": 1e-3},
            {"momentum_decay": 6e-3},
            {"weight_decay": 0.1, "momentum_decay": 6e-3},
            {"weight_decay": 0.1, "momentum_decay": 6e-3, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": torch.tensor(0.01)},
        ),
        group_overrides={"lr": 0.01, "momentum_decay": 0.01},
        errors=(
            ErrorInput({"lr": 1e-2, "betas": (1.0, 0.0)}),
            ErrorInput({"lr": 1e-2, "momentum_decay": -0.2}),
            ErrorInput({"betas": (0.9, 1.5)}),
        ),
        explain=(
            _same({"lr": 0.01}, NADAM),
            _same({"lr": 0.01, "weight_decay": 0.1}, NADAM | L2),
            _same({"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
                  maximized(NADAM) | DECOUPLED),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 2e-3},
    ),
    OptimizerInfo(
        oo.RAdam, "torch.optim:RAdam",
        inputs=(
            {},
            {"lr": 2e-3},
            {"eps": 1e-6},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": torch.tensor(0.01)},
        ),
        group_overrides={"lr": 0.01, "betas": (0.8, 0.99)},
        errors=(
            ErrorInput({"lr": 1e-2, "betas": (1.0, 0.0)}),
            ErrorInput({"lr": 1e-2, "weight_decay": -1}),
            ErrorInput({"eps": -1.0}),
        ),
        explain=(
            ExplainCase({"lr": 0.01}, RADAM_EARLY, RADAM_LATE),
            ExplainCase({"lr": 0.01, "weight_decay": 0.1}, RADAM_EARLY | L2, RADAM_LATE | L2),
            ExplainCase({"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
                        maximized(RADAM_EARLY) | DECOUPLED, maximized(RADAM_LATE) | DECOUPLED),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-3},
    ),
    OptimizerInfo(
        oo.Adamax, "torch.optim:Adamax",
        inputs=(
            {},
            {"lr": 0.1},
            {"weight_decay": 0.1},
            {"maximize": True},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": torch.tensor(0.01), "weight_decay": 0.1},
        ),
        group_overrides={"lr": 0.01, "betas": (0.8, 0.99)},
        errors=(
            ErrorInput({"lr": 1e-2, "betas": (0.0, 1.0)}),
            ErrorInput({"lr": -1.0}),
            ErrorInput({"eps": -1e-8}),
            ErrorInput({"weight_decay": -0.1}),
            ErrorInput(_TENSOR_LR),
        ),
        explain=(
            _same({"lr": 0.1}, ADAMAX),
            _same({"lr": 0.1, "weight_decay": 0.1, "maximize": True}, maximized(ADAMAX) | L2),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 2e-3},
    ),
    OptimizerInfo(
        oo.Adadelta, "torch.optim:Adadelta",
        inputs=(
            {},
            {"lr": 0.01},
            {"weight_decay": 0.1},
            {"maximize": True},
            {"weight_decay": 0.1, "maximize": True},
            {"rho": 0.95, "weight_decay": 0.9},
            {"lr": torch.tensor(0.5)},
        ),
        group_overrides={"lr": 0.5, "rho": 0.8},
        errors=(
            ErrorInput({"lr": 1e-2, "rho": 1.1}),
            ErrorInput({"rho": -0.1}),
            ErrorInput({"lr": -1.0}),
            ErrorInput({"eps": -1e-6}),
            ErrorInput({"weight_decay": -0.1}),
            ErrorInput(_TENSOR_LR),
        ),
        explain=(
            _same({"lr": 1.0}, ADADELTA),
            _same({"lr": 1.0, "weight_decay": 0.1, "maximize": True}, maximized(ADADELTA) | L2),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1.0},
    ),
    OptimizerInfo(
        oo.Rprop, "torch.optim:Rprop",
        inputs=(
            {},
            {"lr": 2e-4},
            {"etas": (0.5, 1.5)},
            {"step_sizes": (2e-6, 100)},
            {"maximize": True},
            {"lr": torch.tensor(0.001)},
            {"lr": 0.1, "step_sizes": (1e-3, 0.2)},
        ),
        group_overrides={"lr": 0.001, "etas": (0.3, 1.1)},
        errors=(
            ErrorInput({"lr": 1e-2, "etas": (1.0, 0.5)}),
            ErrorInput({"etas": (0.5, 1.0)}),
            ErrorInput({"etas": (0.0, 1.2)}),
            ErrorInput({"lr": -1.0}),
            ErrorInput(_TENSOR_LR),
        ),
        explain=(
            _same({"lr": 0.01}, RPROP),
            _same({"lr": 0.01, "maximize": True}, maximized(RPROP)),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-2},
    ),
    OptimizerInfo(
        oo.ASGD, "torch.optim:ASGD",
        inputs=(
            {},
            {"lambd": 0.1},
            {"lr": 0.02},
            {"t0": 100},
            {"maximize": True},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "maximize": True},
            {"lr": 0.05, "t0": 10, "lambd": 0.01},
            {"lr": torch.tensor(0.01), "t0": 5},
        ),
        group_overrides={"lr": 0.03, "t0": 3, "alpha": 0.5},
        errors=(
            ErrorInput({"lr": 1e-2, "weight_decay": -0.5}),
            ErrorInput({"lr": -1.0}),
            ErrorInput(_TENSOR_LR),
        ),
        explain=(
            # averaging starts after t0 steps: μ_t = 1/(t - t0) < 1 from t = t0 + 2 on
            ExplainCase({"lr": 0.01, "t0": 3}, ASGD_EARLY, ASGD_AVERAGING),
            ExplainCase({"lr": 0.01, "t0": 3, "weight_decay": 0.1, "maximize": True},
                        maximized(ASGD_EARLY) | L2, maximized(ASGD_AVERAGING) | L2),
        ),
        unsupported_modes=("capturable", "differentiable"),
        supports_complex=True,
        bench={"lr": 1e-2},
    ),
    OptimizerInfo(
        oo.Adafactor, "torch.optim:Adafactor",
        inputs=(
            {},
            {"weight_decay": 0.1, "lr": 0.01},
            {"weight_decay": 0.1, "maximize": True},
            {"beta2_decay": -1.0},
            {"d": 1.5},
            {"eps": (1e-30, 1e-3), "lr": 0.05},
            {"lr": torch.tensor(0.02)},
        ),
        group_overrides={"lr": 0.03, "d": 2.0},
        errors=(
            ErrorInput({"eps": (-1e-30, 1e-3)}),
            ErrorInput({"eps": (None, -1e-3)}),
            ErrorInput({"d": 0.0}),
            ErrorInput({"beta2_decay": 0.8}),
            ErrorInput({"lr": -1.0}),
            ErrorInput({"weight_decay": -0.1}),
            ErrorInput(_TENSOR_LR),
            ErrorInput({}, params=_matrix(2, 3, complex_=True), on_step=True),
        ),
        explain=(
            # parameter 0 is a vector (full V̂), parameter 2 a matrix (factored R, C): see the explain tests
            _same({"lr": 0.01}, ADAFACTOR_VECTOR),
            _same({"lr": 0.01, "weight_decay": 0.1, "maximize": True}, maximized(ADAFACTOR_VECTOR) | DECOUPLED),
            _same({"lr": 0.01, "beta2_decay": -0.5}, ADAFACTOR_MATRIX, param=2),
        ),
        terms_by_shape=True,
        bench={"lr": 1e-2},
    ),
    OptimizerInfo(
        oo.Muon, "torch.optim:Muon",
        inputs=(
            {},
            {"lr": 0.01},
            {"lr": torch.tensor(0.001)},
            {"weight_decay": 0.2},
            {"momentum": 0.8},
            {"ns_steps": 6},
            {"ns_coefficients": (3.4, -4.7, 2.0)},
            {"nesterov": False, "lr": 0.02},
            {"adjust_lr_fn": "match_rms_adamw", "lr": 0.005},
        ),
        group_overrides={"lr": 0.005, "momentum": 0.9},
        errors=(
            ErrorInput({}, params=_matrix(2, 3, 4)),
            ErrorInput({"adjust_lr_fn": "arbitrary"}, params=_matrix(2, 3)),
            ErrorInput({}, params=_matrix(2, 3, complex_=True), on_step=True),
            ErrorInput({"lr": -1.0}, params=_matrix(2, 3)),
            ErrorInput({"momentum": -0.5}, params=_matrix(2, 3)),
            ErrorInput({"weight_decay": -0.1}, params=_matrix(2, 3)),
            ErrorInput(_TENSOR_LR, params=_matrix(2, 3)),
        ),
        explain=(
            _same({"lr": 0.02}, MUON),
            _same({"lr": 0.02, "nesterov": False, "weight_decay": 0.0},
                  MUON - {"direction_nesterov", "decay"} | {"direction_heavy_ball"}),
            _same({"lr": 0.02, "adjust_lr_fn": "match_rms_adamw"},
                  MUON - {"adjusted_lr"} | {"adjusted_lr_match_rms"}),
        ),
        params_kind="matrices",
        bench={"lr": 0.02},
    ),
    OptimizerInfo(
        oo.LBFGS, "torch.optim:LBFGS",
        inputs=(
            {},
            {"lr": 0.01},
            {"lr": torch.tensor(0.001)},
            {"tolerance_grad": 1e-6},
            {"line_search_fn": "strong_wolfe"},
            # beyond torch's list: a short history that fills and shifts, and the labs' one-iteration steps
            {"history_size": 3, "max_iter": 6, "line_search_fn": "strong_wolfe"},
            {"max_iter": 1, "max_eval": 25, "history_size": 10, "line_search_fn": "strong_wolfe"},
        ),
        group_overrides={},
        errors=(
            ErrorInput({"lr": -1.0}),
            ErrorInput(_TENSOR_LR),
            ErrorInput({}, params=lambda: [{"params": [torch.zeros(2, requires_grad=True)]},
                                           {"params": [torch.zeros(3, requires_grad=True)]}]),
        ),
        explain=(
            # one iteration per step, so that the update is t_k d_k of the recorded iteration
            _same({"max_iter": 1}, LBFGS),
            _same({"max_iter": 1, "max_eval": 10, "history_size": 3, "line_search_fn": "strong_wolfe"}, LBFGS),
        ),
        steps=6,  # each step is up to 20 iterations (max_iter)
        single_group=True,
        needs_closure=True,
        refuses_sparse=False,
        same_terms_per_param=False,
        bench={"lr": 1.0},
    ),
    OptimizerInfo(
        oo.Lion, "lion_pytorch:Lion",
        inputs=(
            {},
            {"lr": 1e-3},
            {"lr": 1e-3, "weight_decay": 0.1},
            {"lr": 3e-4, "betas": (0.95, 0.98)},
            {"lr": 1e-3, "weight_decay": 0.5, "decoupled_weight_decay": True},
        ),
        group_overrides={"lr": 2e-3, "betas": (0.8, 0.9)},
        errors=(
            ErrorInput({"lr": -1e-4}, message="Invalid learning rate: -0.0001"),
            ErrorInput({"betas": (1.0, 0.99)}, message="Invalid beta parameter at index 0: 1.0"),
            ErrorInput({"betas": (0.9, -0.1)}, message="Invalid beta parameter at index 1: -0.1"),
            ErrorInput({"weight_decay": -1.0}, message="Invalid weight_decay value: -1.0"),
            ErrorInput({}, params=_matrix(2, 3, complex_=True), on_step=True, error=RuntimeError,
                       message="Lion does not support complex parameters"),
        ),
        explain=(
            _same({"lr": 0.01}, LION),
            _same({"lr": 0.01, "weight_decay": 0.1, "maximize": True}, maximized(LION) | DECOUPLED),
            _same({"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}, LION | {"decay_decoupled"}),
        ),
        steps=60,
        omitted_args=("use_triton",),
        extra_args=("maximize",),
        bench={"lr": 1e-4},
    ),
    OptimizerInfo(
        oo.AdaBelief, "pytorch_optimizer:AdaBelief",
        inputs=(
            {},
            {"lr": 1e-2},
            {"lr": 1e-2, "weight_decay": 0.1},
            {"lr": 1e-2, "weight_decay": 0.1, "weight_decouple": False},
            {"lr": 1e-2, "weight_decay": 0.1, "fixed_decay": True},
            {"lr": 1e-2, "rectify": True},
            {"lr": 1e-2, "rectify": True, "degenerated_to_sgd": False},
            {"lr": 1e-2, "rectify": True, "n_sma_threshold": 4, "weight_decay": 0.1},
            {"lr": 1e-2, "ams_bound": True},
            {"lr": 1e-2, "ams_bound": True, "rectify": True, "weight_decay": 0.1, "weight_decouple": False},
            {"lr": 1e-2, "maximize": True, "weight_decay": 0.1, "weight_decouple": False},
            {"lr": 1e-2, "eps": 1e-8, "foreach": False},
        ),
        group_overrides={"lr": 0.02, "betas": (0.8, 0.99)},
        errors=(
            ErrorInput({"lr": -1e-3}, message="Invalid learning rate: -0.001"),
            ErrorInput({"betas": (0.9, 1.0)}, message="Invalid beta parameter at index 1: 1.0"),
            ErrorInput({"eps": -1.0}, message="Invalid epsilon value: -1.0"),
            ErrorInput({"weight_decay": -0.1}, message="Invalid weight_decay value: -0.1"),
            ErrorInput({}, params=_matrix(2, 3, complex_=True), on_step=True, error=RuntimeError,
                       message="AdaBelief does not support complex parameters"),
        ),
        explain=(
            _same({"lr": 0.01}, ADABELIEF),
            _same({"lr": 0.01, "weight_decay": 0.1}, ADABELIEF | DECOUPLED),
            _same({"lr": 0.01, "weight_decay": 0.1, "fixed_decay": True, "ams_bound": True},
                  ADABELIEF | {"decay_fixed", "s_max"}),
            _same({"lr": 0.01, "weight_decay": 0.1, "weight_decouple": False, "maximize": True},
                  maximized(ADABELIEF) | L2),
            ExplainCase({"lr": 0.01, "rectify": True}, ADABELIEF_EARLY, ADABELIEF_LATE),
            ExplainCase({"lr": 0.01, "rectify": True, "degenerated_to_sgd": False},
                        ADABELIEF_EARLY - {"step_size"}, ADABELIEF_LATE),
        ),
        steps=60,
        # pytorch-optimizer counts steps per param group, optlab per parameter (torch's convention)
        state_dict_with_reference=False,
        omitted_args=("kwargs",),
        bench={"lr": 1e-3},
    ),
    OptimizerInfo(
        oo.AdamWScheduleFree, "schedulefree:AdamWScheduleFree",
        inputs=(
            {},
            {"lr": 0.01},
            {"lr": 0.01, "weight_decay": 0.1},
            {"lr": 0.02, "warmup_steps": 10},
            {"lr": 0.01, "r": 1.0, "weight_lr_power": 1.0},
            {"lr": 0.005, "betas": (0.95, 0.99), "warmup_steps": 5, "weight_decay": 0.05},
            {"lr": 0.01, "foreach": False},
        ),
        group_overrides={"lr": 0.004, "betas": (0.8, 0.99)},
        errors=(
            ErrorInput({"lr": -1.0}, message="Invalid learning rate: -1.0"),
            ErrorInput({"betas": (1.0, 0.999)}, message="Invalid beta parameter at index 0: 1.0"),
            ErrorInput({"betas": (0.0, 0.999)}, message="Invalid beta parameter at index 0: 0.0"),
            ErrorInput({"eps": -1e-8}, message="Invalid epsilon value: -1e-08"),
            ErrorInput({"weight_decay": -0.1}, message="Invalid weight_decay value: -0.1"),
            ErrorInput({"warmup_steps": -1}, message="Invalid warmup_steps value: -1"),
            # step() before train(): the parameters hold x, not y
            ErrorInput({}, params=_matrix(2, 3), on_step=True, error=RuntimeError, message=EVAL_MODE_ERROR),
        ),
        explain=(
            _same({"lr": 0.01}, SCHEDULE_FREE),
            _same({"lr": 0.01, "weight_decay": 0.1, "warmup_steps": 4, "maximize": True},
                  maximized(SCHEDULE_FREE) | {"g_hat_l2"}),
        ),
        prepare=_train,
        steps=60,
        extra_args=("maximize",),
        bench={"lr": 2.5e-3},
    ),
)

#: Class name -> its entry.
DB: dict[str, OptimizerInfo] = {info.name: info for info in INFOS}

#: The entries whose reference is a torch.optim class.
TORCH_INFOS = tuple(info for info in INFOS if info.torch_reference)
