"""Every lesson page's setup as fields (``optlab.fields``): what its link keeps, in the widgets' own ranges.

Each field's ``state`` is the session key of the page's widget, so a link's values go straight into the widgets
the page draws; ``PAGES`` maps a page's key (its URL path in lower case, for ``active_constraints``) to its
fields, ``URL_PATHS`` a page's file-name number to its URL path.
A field's range is the widget's: where a widget offers a few values (a select slider) the field is a choice of
exactly those. Leaves out what the settings mean (the lesson modules) and the widgets (the pages).
"""

from __future__ import annotations

from collections.abc import Sequence

from optlab import theory
from optlab.config.app import APP_KEYS
from optlab.fields import Field, Fields
from optlab.i18n import N_
from optlab.lessons import momentum_theory, narrated_step
from optlab.registry import REGISTRY
from optlab.schedules import SCHEDULES
from optlab.surfaces import SURFACES

#: Each widget's label as its page shows it (widget session key -> message id), so a teacher's list of what to
#: lock or hide reads as the page does.
LABELS = {
    "anat_lr": N_("lr"), "anat_momentum": N_("momentum"), "anat_head_lr": N_("lr of the new group"),
    "zg_calls": N_("backward() calls without zero_grad"), "zg_lr": N_("lr"), "zg_k": N_("micro-batches k"),
    "zg_size": N_("micro-batch size"), "zg_max_iter": N_("L-BFGS max_iter"),
    "lr_start": N_("lr at the start"), "lr_new": N_("lr after the switch"), "lr_switch": N_("switch at step"),
    "lr_total": N_("total steps"), "lr_schedule": N_("apply a schedule to the run"),
    "wd_lr": N_("lr"), "wd_wd": N_("weight_decay"), "wd_steps": N_("steps"),
    "pl_features_lr": N_("features lr"), "pl_head_lr": N_("classifier lr (the default)"),
    "pl_wd": N_("weight_decay for matrices"),
    "mom_mu": N_("momentum μ"), "mom_dampening": N_("dampening τ"), "mom_kappa": N_("condition number κ"),
    "ema_noise": N_("gradient noise σ"), "ema_decay": N_("decay d"), "ema_tau": N_("warm-up τ (updates)"),
    "ema_slope": N_("slope c (growth per step)"), "ema_lag_decay": N_("decay d on the ramp"),
    "fail_steps": N_("steps"), "fail_lr": N_("lr"), "fail_y0": N_("start y (x = 1)"),
    "wm_kappa": N_("condition number κ = λₙ/λ₁"), "wm_alpha": N_("learning rate α"),
    "wm_beta": N_("momentum β"), "wm_phase_beta": N_("momentum β"),
    "nar_surface": N_("surface"), "nar_kappa": N_("condition number κ"), "nar_steps": N_("steps to record"),
    "nar_opt": N_("optimizer"), "nar_t": N_("step t"), "nar_stage": N_("show up to"),
    "nar_zoom": N_("zoom in on this step"),
    "lion_lr": N_("learning rate"), "lion_beta1": N_("β₁ (interpolation)"), "lion_steps": N_("steps"),
    "lion_net_lr": N_("learning rate of both runs"), "af_noise": N_("noise"),
    "sf_lr": N_("learning rate"), "sf_beta1": N_("β₁ (interpolation)"), "sf_noise": N_("gradient noise"),
    "sf_steps": N_("steps"),
}


def number(key: str, state: str, default: float, lo: float, hi: float, kind: str = "float",
           view: bool = False) -> Field:
    """A slider or number input's value, in the widget's range."""
    return Field(key, kind, default, min=lo, max=hi, state=state, what=key, view=view,
                 label=LABELS.get(state, ""))


def pick(key: str, state: str, default: object, choices: Sequence[object]) -> Field:
    """A select slider's, selectbox's or radio's value: one of the values the widget offers."""
    return Field(key, "choice", default, choices=tuple(choices), state=state, what=key,
                 label=LABELS.get(state, ""))


def lesson_fields(*fields: Field) -> Fields:
    return Fields(fields, app_keys=APP_KEYS)


ANATOMY = lesson_fields(number("lr", "anat_lr", 0.1, 1e-4, 1.0), number("mu", "anat_momentum", 0.9, 0.0, 0.99),
                        number("head", "anat_head_lr", 0.01, 1e-5, 1.0))
ZERO_GRAD = lesson_fields(number("calls", "zg_calls", 4, 1, 8, "int"), number("lr", "zg_lr", 0.1, 0.01, 0.5),
                          number("k", "zg_k", 4, 1, 8, "int"), number("size", "zg_size", 8, 1, 32, "int"),
                          number("iters", "zg_max_iter", 5, 1, 20, "int"))
_SCHEDULE_LABELS = tuple(s.label for s in SCHEDULES.values())
LR_SCHEDULE = lesson_fields(pick("lr", "lr_start", 0.05, (0.01, 0.02, 0.05, 0.1)),
                            pick("new", "lr_new", 0.01, (0.005, 0.01, 0.02, 0.05)),
                            number("at", "lr_switch", 10, 1, 40, "int"), number("steps", "lr_total", 100, 20, 200, "int"),
                            pick("sched", "lr_schedule", _SCHEDULE_LABELS[-1], _SCHEDULE_LABELS))
WEIGHT_DECAY = lesson_fields(pick("lr", "wd_lr", 0.01, (0.001, 0.003, 0.01, 0.03)),
                             pick("wd", "wd_wd", 0.1, (0.01, 0.03, 0.1, 0.3, 1.0)),
                             number("steps", "wd_steps", 200, 50, 500, "int"))
PER_LAYER = lesson_fields(pick("feat", "pl_features_lr", 1e-3, (0.0, 1e-4, 1e-3, 1e-2, 0.1)),
                          pick("head", "pl_head_lr", 0.1, (1e-3, 1e-2, 0.1, 0.5)),
                          pick("wd", "pl_wd", 1e-2, (0.0, 1e-4, 1e-2, 0.1)))
MOMENTUM = lesson_fields(number("mu", "mom_mu", 0.9, 0.05, 0.99), number("tau", "mom_dampening", 0.0, 0.0, 0.9),
                         pick("kappa", "mom_kappa", 100.0, (10.0, 30.0, 100.0, 300.0, 1000.0)))
EMA = lesson_fields(number("noise", "ema_noise", 1.0, 0.0, 3.0), pick("d", "ema_decay", 0.95, (0.5, 0.8, 0.9, 0.95, 0.98, 0.99)),
                    number("tau", "ema_tau", 0.0, 0.0, 50.0), number("slope", "ema_slope", 1.0, 0.1, 5.0),
                    pick("lagd", "ema_lag_decay", 0.99, (0.5, 0.9, 0.95, 0.99)))
FAILURES = lesson_fields(number("C", "fail_C", 3.0, 2.5, 6.0), pick("steps", "fail_steps", 3000, (1000, 3000, 10000)),
                         pick("lr", "fail_lr", 0.01, (0.001, 0.01, 0.1)),
                         pick("y0", "fail_y0", 1e-3, (0.0, 1e-6, 1e-3, 0.1)))
_ALPHA, _BETA, _ = theory.momentum_optimal(*momentum_theory.bowl(100.0).hessian_eigs)
WHY_MOMENTUM = lesson_fields(pick("kappa", "wm_kappa", 100.0, momentum_theory.KAPPAS),
                             number("alpha", "wm_alpha", _ALPHA, 0.001, momentum_theory.ALPHA_MAX),
                             number("beta", "wm_beta", _BETA, 0.0, momentum_theory.BETA_MAX),
                             number("phase", "wm_phase_beta", _BETA, 0.0, momentum_theory.BETA_MAX))


def _optimizer_fields(prefix: str) -> tuple[Field, ...]:
    """The narrated step's optimizer and each optimizer's knobs (applying only while it is picked), in the
    registry's ranges; a knob's link key is ``<optimizer>_<knob>`` (letters, digits and _, as a class lesson's
    keys must be)."""
    fields = [pick("opt", f"{prefix}_opt", "adam", tuple(REGISTRY))]
    for key, spec in REGISTRY.items():
        for h in spec.hypers:
            kind = "bool" if h.kind == "bool" else "float"
            fields.append(Field(f"{key}_{h.name}", kind, h.default, min=h.min, max=h.max, log=h.log,
                                label=h.label, widget="log" if h.log else "", state=f"{prefix}_{key}_{h.name}",
                                what=f"{spec.label} {h.name}", applies=lambda v, key=key: v.get("opt") == key))
    return tuple(fields)


#: The condition numbers the narrated step offers for the quadratic (inside the catalog's range of κ).
NARRATED_KAPPAS = (1.0, 3.0, 10.0, 30.0, 100.0)
NARRATED = lesson_fields(
    pick("s", "nar_surface", "quadratic", tuple(SURFACES)),
    Field("kappa", "choice", 10.0, choices=NARRATED_KAPPAS, state="nar_kappa", what="kappa",
          label=LABELS["nar_kappa"],
          applies=lambda v: v.get("s") == "quadratic"),
    number("n", "nar_steps", 40, 5, narrated_step.MAX_STEPS, "int"),
    *_optimizer_fields("nar"),
    number("t", "nar_t", 1, 1, narrated_step.MAX_STEPS, "int", view=True),
    number("stage", "nar_stage", 3, 0, len(narrated_step.ROLES) - 1, "int", view=True),
    Field("zoom", "bool", False, state="nar_zoom", what="zoom", view=True, label=LABELS["nar_zoom"]),
)
LION = lesson_fields(pick("lr", "lion_lr", 0.05, (0.005, 0.01, 0.02, 0.05, 0.1)),
                     number("b1", "lion_beta1", 0.9, 0.0, 0.99), number("steps", "lion_steps", 120, 10, 300, "int"),
                     pick("netlr", "lion_net_lr", 1e-3, (1e-4, 1e-3, 1e-2)))
ADAFACTOR = lesson_fields(number("noise", "af_noise", 0.0, 0.0, 1.0))
_SF_BETA1 = REGISTRY["schedule_free"].hyper("beta1")
SCHEDULE_FREE = lesson_fields(pick("lr", "sf_lr", 0.2, (0.02, 0.05, 0.1, 0.2, 0.5)),
                              number("b1", "sf_beta1", 0.9, _SF_BETA1.min, 0.99),
                              number("noise", "sf_noise", 1.0, 0.0, 2.0), number("steps", "sf_steps", 300, 50, 500, "int"))

#: A lesson page's file-name number -> its URL path (the file name without the number), as the app's
#: navigation, the class panel and a lesson's ``page`` name it.
URL_PATHS: dict[int, str] = {
    3: "Anatomy_of_an_optimizer", 4: "zero_grad_backward_step", 5: "Learning_rate_during_training",
    6: "Weight_decay", 7: "Per_layer_learning_rates", 8: "Momentum_and_Nesterov", 9: "EMA_of_weights",
    10: "Failure_gallery", 11: "Why_momentum_works", 12: "Narrated_step", 13: "Lions_sign_update",
    14: "Adafactors_factored_second_moment", 15: "Schedule_free_averaging",
}
_FIELDS: dict[int, Fields] = {
    3: ANATOMY, 4: ZERO_GRAD, 5: LR_SCHEDULE, 6: WEIGHT_DECAY, 7: PER_LAYER, 8: MOMENTUM, 9: EMA,
    10: FAILURES, 11: WHY_MOMENTUM, 12: NARRATED, 13: LION, 14: ADAFACTOR, 15: SCHEDULE_FREE,
}


def page_key(number: int) -> str:
    """The key ``active_constraints`` and a lesson's locks name lesson page ``number`` by: its URL path in
    lower case (``"weight_decay"``)."""
    return URL_PATHS[number].lower()


#: Page key -> its fields (``optlab.ui.classroom.lesson.page_fields`` looks them up to lock and hide settings).
PAGES: dict[str, Fields] = {page_key(n): _FIELDS[n] for n in URL_PATHS}
