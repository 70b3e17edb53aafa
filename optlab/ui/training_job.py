"""The MNIST Lab's side of the server-wide training service: this session's ticket, its status line, shared figures.

No threads here: a page submits a run, reads a `JobView` and detaches; optlab.jobs trains, queues and shares.
"""

from __future__ import annotations

import uuid

import streamlit as st

from optlab.i18n import t, tn
from optlab.jobs import (
    DONE,
    FAILED,
    GONE,
    QUEUED,
    RUNNING,
    STOPPED,
    JobRefused,
    JobView,
    Ticket,
    training_service,
)
from optlab.mnist.config import TrainConfig
from optlab.mnist.train import Trainer
from optlab.ui.text import literal

TICKET_KEY = "mnist_ticket"
REFUSED_KEY = "mnist_refused"
SESSION_KEY = "optlab_session_id"
POLL_SECONDS = 0.5  # how often a watcher's live panel asks for news: first points show within a second


def session_id() -> str:
    """A random id for this browser session (the service's per-student limit counts by it)."""
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = uuid.uuid4().hex
    return st.session_state[SESSION_KEY]


def ticket() -> Ticket | None:
    return st.session_state.get(TICKET_KEY)


def view() -> JobView | None:
    """This session's job as it is now, or None before the first Start."""
    tk = ticket()
    return None if tk is None else training_service().status(tk)


def refused() -> str | None:
    """Why the last Start was not taken (shown once), or None."""
    return st.session_state.get(REFUSED_KEY)


def start(config: TrainConfig, data_key: tuple) -> None:
    """Button callback: follow the run of `config` (cached, shared or queued)."""
    _take(lambda sid: training_service().submit(config, data_key, sid))


def resume(trainer: Trainer, key) -> None:
    """Continue a resumed checkpoint's trainer as this session's job (identical uploads share it)."""
    _take(lambda sid: training_service().submit_trainer(trainer, sid, key=key))


def _take(submit) -> None:
    try:
        st.session_state[TICKET_KEY] = submit(session_id())
        st.session_state.pop(REFUSED_KEY, None)
    except JobRefused as e:
        st.session_state[REFUSED_KEY] = str(e)


def stop() -> None:
    """Button callback: stop watching. A job nobody watches any more is cancelled by the service."""
    tk = ticket()
    if tk is not None:
        training_service().detach(tk)


def trainer() -> Trainer | None:
    """The finished (or own stopped) run behind this session's ticket, to inspect and save; read-only."""
    tk = ticket()
    return None if tk is None else training_service().trainer(tk)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st (English; the catalog words a place in line itself)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _others(v: JobView) -> str:
    """' · 3 other students watching the same run' on a shared job."""
    n = v.watchers - 1
    if n <= 0:
        return ""
    return " · " + tn("{n} other student watching the same run", "{n} other students watching the same run", n)


def status_line(v: JobView) -> str:
    """The progress bar's text: the place in the queue, the step, or how the run ended."""
    if v.state == QUEUED:
        wait = max(1, round(v.wait_s or 0.0))
        return t("Waiting: {place} in line, about {wait} s", place=ordinal(v.position or 1), wait=wait) + _others(v)
    if v.state == RUNNING:
        return t("Training… step {k} of {n} ({s} s)", k=v.step, n=v.total_steps, s=f"{v.seconds:.1f}") + _others(v)
    if v.state == DONE and v.history is not None and v.history.all_diverged:
        return t("Every run diverged: training ended at step {k} of {n}", k=v.step, n=v.total_steps)
    if v.state == DONE:
        if v.from_cache:
            return t("Finished: {n} steps in {s} s (trained before: opened from the server's cache)",
                     n=v.total_steps, s=f"{v.seconds:.2f}")
        return t("Finished: {n} steps in {s} s", n=v.total_steps, s=f"{v.seconds:.2f}")
    if v.state == STOPPED and v.detached:
        return t("Stopped watching at step {k} of {n}; the shared run goes on for the others", k=v.step,
                 n=v.total_steps)
    if v.state == STOPPED:
        return t("Stopped at step {k} of {n}", k=v.step, n=v.total_steps)
    if v.state == FAILED:
        return v.error or t("Training failed")
    if v.state == GONE:
        return t("This run is no longer kept on the server: press Start training to train it again.")
    return t("Ready")


# --- background computations of the lab (a range test, a landscape), through the same service -------------------

def _compute_key(kind: str) -> str:
    return f"mnist_compute_{kind}"


def compute(kind: str, key, build, total_steps: int) -> None:
    """Button callback: follow computation `kind` (a range test, a landscape) for `key`: shared by everyone who
    asks for the same key, cached when done, queued behind the training runs."""
    try:
        st.session_state[_compute_key(kind)] = training_service().submit_computation(
            (kind, key), build, total_steps, session_id())
        st.session_state.pop(_compute_key(kind) + "_refused", None)
    except JobRefused as e:
        st.session_state[_compute_key(kind) + "_refused"] = str(e)


def compute_view(kind: str) -> JobView | None:
    """Computation `kind` of this session as it is now, or None before it was asked for."""
    tk = st.session_state.get(_compute_key(kind))
    return None if tk is None else training_service().status(tk)


def compute_key(kind: str):
    """The key the session's computation `kind` was asked for with, or None."""
    tk = st.session_state.get(_compute_key(kind))
    return None if tk is None else tk.key[1][1]


def compute_result(kind: str):
    """What computation `kind` computed, once it is done (None before)."""
    tk = st.session_state.get(_compute_key(kind))
    if tk is None:
        return None
    done = training_service().trainer(tk)
    return None if done is None else getattr(done, "result", None)


def compute_refused(kind: str) -> str | None:
    return st.session_state.get(_compute_key(kind) + "_refused")


def compute_shown(kind: str, key, progress: str, unfinished: str):
    """Show where computation `kind` for `key` stands (its refusal, its progress bar, its failure) and return its
    result once it is done; None while there is nothing to draw. `progress` is a message with {k} and {n} (the
    step and the total), `unfinished` what to say when it ended without a result."""
    refused = compute_refused(kind)
    if refused:
        st.warning(refused)
    view = compute_view(kind)
    if view is None or compute_key(kind) != key:
        return None
    if view.running:
        st.progress(min(1.0, view.fraction), text=t(progress, k=view.step, n=view.total_steps))
        return None
    result = compute_result(kind)
    if result is None:
        st.error(literal(view.error) if view.error else t(unfinished))
    return result
