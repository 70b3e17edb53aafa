"""The MNIST Lab's diagnostics views: per-layer gradient norms and update/weight ratios (live), the confusion
matrix of a finished run, the learning-rate range test, a mid-run lr change, and a saved run laid under the
curves. Numbers come from optlab.mnist; heavy work goes to the training service (no threads here)."""

from __future__ import annotations

import hashlib
import json
import math

import streamlit as st

from optlab.i18n import N_, current_language, t, translator
from optlab.mnist.checkpoint import CheckpointError, read_checkpoint
from optlab.mnist.config import SETTINGS, TrainConfig
from optlab.mnist.diagnostics import HEALTHY_RATIO, confusion_matrix
from optlab.mnist.history import History
from optlab.mnist.lr_range import RULE, LrRangeComputation
from optlab.mnist.train import default_device
from optlab.plots.diagnostics import confusion_figure, layers_figure, range_test_figure
from optlab.ui import training_job as jobs_ui
from optlab.ui.text import literal
from optlab.ui.widgets import set_optimizer_values

SAVED_KEY = "mnist_saved_run"  # (file digest, History) of the saved run laid under the curves
SAVED_NOTE = "mnist_saved_note"
RANGE_STEPS = 100
LR_CHANGES = {"edit": N_("edit param_groups (keeps the momentum)"),
              "rebuild": N_("build a new optimizer (its state starts from zero)")}


# --- per-layer diagnostics ---------------------------------------------------------------------------------------

@st.cache_resource(max_entries=64, show_spinner=False)
def _layers(job_id: int, moment: tuple, r: int, language: str, _history: History):
    return layers_figure(_history, r)


def layer_summary(history: History, r: int) -> str:
    """The latest update/weight ratio of each weight tensor, against the rule of thumb."""
    if not history.update_ratio or not history.update_ratio[r]:
        return ""
    last = history.update_ratio[r][-1]
    parts = []
    for name, ratio in zip(history.param_names, last, strict=True):
        if name.endswith(".bias") or not math.isfinite(ratio):
            continue
        verdict = (t("about right") if HEALTHY_RATIO / 10 <= ratio <= HEALTHY_RATIO * 10
                   else t("small: the lr may be too low") if ratio < HEALTHY_RATIO / 10
                   else t("large: the lr may be too high"))
        parts.append(f"`{name}` {ratio:.1e} ({verdict})")
    return t("Latest update/weight ratio, step {step}: {parts}. Rule of thumb: about 1e-3 (Karpathy, CS231n).",
             step=history.diag_step[-1], parts=" · ".join(parts))


def layers_view(view: jobs_ui.JobView, moment: tuple) -> None:
    """Gradient norm and update/weight ratio per layer of one run, live while it trains."""
    history = view.history
    if history is None or not history.diag_step:
        st.caption(t("The per-layer numbers appear with the first live update."))
        return
    labels = history.labels
    r = st.selectbox(t("Run"), range(len(labels)), format_func=lambda i: labels[i], key="mnist_diag_run")
    st.plotly_chart(_layers(view.job_id, moment, r, current_language(), history), key="mnist_layers")
    st.caption(layer_summary(history, r))


# --- confusion matrix ----------------------------------------------------------------------------------------------

def confusion_view(trainer, predictions) -> None:
    """Counts of true digit against predicted digit on the test set, for one finished run."""
    if trainer is None:
        st.caption(t("Finish or stop a run to see its confusion matrix."))
        return
    labels = trainer.labels
    r = st.selectbox(t("Run"), range(len(labels)), format_func=lambda i: labels[i], key="mnist_confusion_run")
    preds = predictions(r)
    m = confusion_matrix(preds, trainer.data.y_test)
    total = int(m.sum())
    right = int(m.trace())
    st.plotly_chart(confusion_figure(m.numpy()), key="mnist_confusion")
    off = m.clone()
    off.fill_diagonal_(0)
    worst = int(off.argmax())
    truth, guess = divmod(worst, 10)
    st.caption(t("{right} of {total} test digits right ({acc}); the most common mistake: {truth} read as {guess} "
                 "({n} times).", right=right, total=total, acc=f"{right / max(1, total):.1%}", truth=truth,
                 guess=guess, n=int(off[truth, guess])))


# --- the learning-rate range test -------------------------------------------------------------------------------

def _range_key(config: TrainConfig, r: int, data_key) -> str:
    return json.dumps([config.to_json(), r, list(data_key), RANGE_STEPS])


def _use_lr(r: int, opt: str, lr: float) -> None:
    set_optimizer_values(f"mnist_run{r}", opt, {"lr": lr})


def range_view(config: TrainConfig | None, digits, data_key) -> None:
    """Smith's range test for one optimizer of the current settings, with its proposal and a button to use it."""
    if config is None or digits is None or data_key is None:
        st.caption(t("Choose valid settings and load the digits first."))
        return
    labels = [s.name for s in config.runs]
    r = st.selectbox(t("Optimizer"), range(len(labels)), format_func=lambda i: labels[i], key="mnist_range_run")
    key = _range_key(config, r, data_key)
    st.button(t("Run the range test"), key="mnist_range_start", on_click=jobs_ui.compute,
              args=("range", key, lambda: LrRangeComputation(digits, config, r, steps=RANGE_STEPS,
                                                             device=default_device()), RANGE_STEPS))
    st.caption(t("From the initial weights, the learning rate grows geometrically from 1e-5 to 10 over {n} steps "
                 "while the loss is watched (Smith, 2017); it stops once the smoothed loss passes 4 times its "
                 "lowest; {rule}.", n=RANGE_STEPS, rule=t(RULE)))
    res = jobs_ui.compute_shown("range", key, N_("Range test… step {k} of {n}"),
                                N_("The range test did not finish; run it again."))
    if res is None:
        return
    st.plotly_chart(range_test_figure(res.lrs, res.losses, res.smoothed, res.proposal), key="mnist_range_fig")
    if res.proposal is None:
        st.warning(t("No step gave a finite loss, so there is no proposal."))
        return
    spec = config.runs[r]
    st.markdown(t("Proposed learning rate for **{label}**: **{lr}**.", label=literal(spec.name),
                  lr=f"{res.proposal:.3g}"))
    st.button(t("Use {lr} for optimizer {n}", lr=f"{res.proposal:.3g}", n=r + 1), key="mnist_range_use",
              on_click=_use_lr, args=(r, spec.optimizer, float(f"{res.proposal:.3g}")))


# --- the mid-run lr change ----------------------------------------------------------------------------------------

def lr_change_controls(n_runs: int) -> tuple[int, float, list[str]]:
    """After which step the lr changes (0: never), by which factor, and how each run makes the change."""
    with st.expander(t("Change the learning rate mid-run (param_groups or a new optimizer)")):
        st.caption(t("torch.optim reads each group's lr at every step: editing `param_groups` changes it in place "
                     "and keeps the momentum; a new optimizer at the new lr starts its momentum and moments from "
                     "zero. Pick the same optimizer in two columns, one way each, and watch the curves part. "
                     "Needs the constant schedule."))
        s = SETTINGS["lr_change_step"]
        if "mnist_lr_change_step" not in st.session_state:
            st.session_state["mnist_lr_change_step"] = s.default
        step = int(st.number_input(t(s.label), s.min, s.max, key="mnist_lr_change_step", step=10))
        f = SETTINGS["lr_change_factor"]
        if "mnist_lr_change_factor" not in st.session_state:
            st.session_state["mnist_lr_change_factor"] = f.default
        factor = st.select_slider(t(f.label), f.options, key="mnist_lr_change_factor")
        cols = st.columns(n_runs)
        how, tr = [], translator()  # format_func may run after this script run, outside the session's language
        for i, col in enumerate(cols):
            key = f"mnist_run{i}_lr_change"
            if key not in st.session_state:
                st.session_state[key] = "edit"
            how.append(col.radio(t("Optimizer {n}", n=i + 1), tuple(LR_CHANGES), key=key,
                                 format_func=lambda k: tr(LR_CHANGES[k])))
    return step, float(factor), how


# --- a saved run under the curves ---------------------------------------------------------------------------------

def read_saved(name: str, data: bytes) -> History:
    """The curves of a checkpoint (.pt, through the checkpoint's safe loader) or of exported curves (.json);
    ValueError (CheckpointError is one) with a plain message otherwise."""
    if name.lower().endswith(".pt"):
        return History.from_json(read_checkpoint(data)["history"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(t("The curves file is not text: export it with Download curves (.json)")) from None
    return History.from_json(text)


def _saved_uploaded() -> None:
    upload = st.session_state.get("mnist_saved_upload")
    st.session_state.pop(SAVED_NOTE, None)
    if upload is None:
        st.session_state.pop(SAVED_KEY, None)
        return
    data = upload.getvalue()
    try:
        history = read_saved(upload.name, data)
    except (ValueError, CheckpointError) as e:
        st.session_state.pop(SAVED_KEY, None)
        st.session_state[SAVED_NOTE] = str(e)
        return
    st.session_state[SAVED_KEY] = (hashlib.sha256(data).hexdigest()[:16], history)


def saved_run() -> tuple[str, History] | None:
    return st.session_state.get(SAVED_KEY)


def saved_run_controls() -> None:
    """Upload a saved run (its checkpoint or its exported curves) to draw under the new run's curves."""
    st.file_uploader(t("Lay a saved run under the curves (.pt checkpoint or .json curves)"), type=["pt", "json"],
                     key="mnist_saved_upload", on_change=_saved_uploaded)
    note = st.session_state.get(SAVED_NOTE)
    if note:
        st.error(literal(note))
    saved = saved_run()
    if saved is not None:
        history = saved[1]
        st.caption(t("Drawn grey and dotted: {labels} ({steps} steps).", labels=", ".join(history.labels),
                     steps=len(history.step)))
