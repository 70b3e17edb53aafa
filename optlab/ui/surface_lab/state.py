"""The Surface Lab's session state: the configuration and view between the link, the widgets and the page.

Each setting's session key comes from its field (``optlab.config.surface_lab``, through ``optlab.ui.fields``);
the view (open tab, inspected step, basins run and grid) is remembered apart from the widgets, because a hidden
tab's widgets are not drawn. Every widget key starts with ``sl_`` (the page module lists them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from optlab.config.surface_lab import (
    CONFIG_FIELDS,
    LR_Y,
    VIEW_FIELDS,
    VIEWS,
    LabConfig,
    LabView,
    decode,
    decode_view,
    encode,
    encode_view,
)
from optlab.expr import FormulaError
from optlab.i18n import N_, t
from optlab.trace import Trace
from optlab.ui import fields as ui_fields
from optlab.ui.cache import build_surface, cached_traces
from optlab.ui.constraints import active_constraints
from optlab.ui.link_probe import probe
from optlab.ui.widgets import set_log_float, set_optimizer_values, set_schedule_values

SS = st.session_state
PAGE = "surface_lab"  # the page's name for the lesson seam (optlab.ui.constraints)
TAB_LABELS = {"contour": N_("Contour"), "replay": N_("Replay"), "3d": N_("3D"), "basins": N_("Basins")}
LINK_READ = "_sl_link_read"  # session flag: the URL was read into the widgets once
NOTES = "_sl_notes"
VIEW = "_sl_view_state"  # the LabView last shown; outlives the widgets of a tab that is not open
NOTES_FOR = "_sl_notes_for"  # the configuration the link's notes are about; once it changes, they are gone
LINK_PROBE = "sl_link_probe"
RESEND = "_sl_resend"  # (runs left, widget keys): the link's values are sent to the browser again, see below
RESEND_RUNS = 3
WINDOW_KEYS = (("xr", ("sl_xmin", "sl_xmax")), ("yr", ("sl_ymin", "sl_ymax")))  # a pair field, two number fields
START_KEYS = ("sl_x0", "sl_y0")


def constraints():
    """What the open lesson (if any) locks and hides on this page."""
    return active_constraints(PAGE)


def tab_label(view: str) -> str:
    return t(TAB_LABELS[view])


def default_start(cfg: LabConfig) -> tuple[float, float]:
    try:
        s = build_surface(cfg).start
    except FormulaError:
        (x0, x1), (y0, y1) = cfg.window
        s = ((x0 + x1) / 2, (y0 + y1) / 2)
    return float(s[0]), float(s[1])


def load_config(cfg: LabConfig) -> None:
    """Put ``cfg`` into the widgets' session state (before they are drawn, or from a callback)."""
    values = cfg.values()
    ui_fields.load(CONFIG_FIELDS, values)  # every field with a widget of its own, by its declaration
    for key, (lo, hi) in WINDOW_KEYS:
        SS[lo], SS[hi] = values[key]
    SS[START_KEYS[0]], SS[START_KEYS[1]] = cfg.start if cfg.start is not None else default_start(cfg)
    SS.sl_nruns = len(cfg.runs)
    for i, run in enumerate(cfg.runs, start=1):
        set_optimizer_values(f"sl_r{i}", run.optimizer, dict(run.hparams))
        set_schedule_values(f"sl_r{i}", run.schedule, dict(run.schedule_params))
        SS[f"sl_r{i}_ema_on"] = run.ema_decay is not None
        SS[f"sl_r{i}_ema"] = run.ema_decay if run.ema_decay is not None else 0.9
        SS[f"sl_r{i}_tau"] = float(run.ema_tau)
        SS[f"sl_r{i}_groups"] = run.lr_y_factor is not None
        set_log_float(LR_Y, f"sl_r{i}_lr_y", 1.0 if run.lr_y_factor is None else run.lr_y_factor)


def load_view(view: LabView) -> None:
    """Put ``view`` into the tab, inspector and basins widgets' session state, and remember it."""
    SS[VIEW] = view
    SS.sl_view = tab_label(view.tab)
    SS.sl_insp_run, SS.sl_insp_t = view.insp_run, view.insp_t
    SS.sl_basins_run, SS.sl_basins_n = view.basins_run, view.basins_n


def current_view() -> LabView:
    return SS.get(VIEW) or LabView()


def remember_view(**changes: Any) -> None:
    """Record what the page now shows (``LabView`` fields) and put it into the URL's view keys at once."""
    view = replace(current_view(), **changes)
    if view == current_view():
        return
    SS[VIEW] = view
    want = encode_view(view)
    for key in VIEW_FIELDS.view_keys():  # the view's keys only (i: old links' step, dropped once read)
        if key in want and st.query_params.get(key) != want[key]:
            st.query_params[key] = want[key]
        elif key not in want and key in st.query_params:
            del st.query_params[key]


def read_link_once() -> list[str]:
    """On a session's first run, load the configuration and view the URL describes; return notes on fixes."""
    if not SS.get(LINK_READ):
        SS[LINK_READ] = True
        params = ui_fields.read_link()
        cfg, notes = decode(params, constraints())
        view, view_notes = decode_view(params, cfg)
        notes = notes + view_notes
        if notes:
            notes = [t("Parts of the link could not be used; they were reset to defaults:"), *notes]
        load_config(cfg)
        load_view(view)
        SS[NOTES] = notes
        SS[NOTES_FOR] = None  # the first configuration the sidebar builds from it
        SS[RESEND] = (RESEND_RUNS, [k for k in SS if str(k).startswith("sl_")])  # no widget is drawn yet
    else:
        _resend_link_values()
    return SS.get(NOTES, [])


def _resend_link_values() -> None:
    """Send the link's widget values to the browser again on the session's next few runs.

    A value set through session state reaches the browser once, with the run that set it. When another run
    follows at once (a component reporting in, background results), a widget whose code the browser was still
    loading (the selectbox is fetched on first use) mounts with that newer run's message, which no longer carries
    the value, and shows its default: the sidebar read "Rosenbrock" while the page ran the link's Booth.
    Writing each value back unchanged, before its widget is drawn, makes the run send it again. A value the
    student has changed meanwhile is written back as changed, so nothing they did is undone.
    """
    runs, keys = SS.get(RESEND) or (0, [])
    if runs <= 0:
        return
    SS[RESEND] = (runs - 1, keys)
    for key in keys:
        if key in SS:
            SS[key] = SS[key]


def _link_dropped(note: str) -> None:
    SS[NOTES] = [note]
    SS[NOTES_FOR] = None


def link_notes(cfg: LabConfig) -> list[str]:
    """The notes on what the link could not give, for as long as the settings are those it opened.

    Once a setting changes the notes are about an experiment no longer shown, so they go for good. Also mounts
    the probe that notices a link Streamlit dropped whole (``optlab.ui.link_probe``).
    """
    probe(LINK_PROBE, _link_dropped)
    notes = SS.get(NOTES, [])
    if notes and SS.get(NOTES_FOR) is None:
        SS[NOTES_FOR] = cfg
    elif notes and SS[NOTES_FOR] != cfg:
        SS[NOTES], notes = [], []
    return notes


def write_link(cfg: LabConfig) -> None:
    """Keep the URL equal to the configuration and view, so copying the address bar shares what is shown (the
    app-wide keys, language and lesson, stay)."""
    ui_fields.write_link(encode(cfg, current_view()))


def inspected_run(cfg: LabConfig) -> int:
    """The run the step inspector shows (0-based): its widget's value, else the view's, else the first."""
    for run in (SS.get("sl_insp_run"), current_view().insp_run):
        if isinstance(run, int) and run in range(len(cfg.runs)):
            return run
    return 0


def compute(cfg: LabConfig) -> list[Trace]:
    """The runs of ``cfg`` from the shared cache; the inspected run with its optimizer state and terms."""
    return cached_traces(cfg.to_json(), full=(inspected_run(cfg),))


def full_run(cfg: LabConfig, traces: list[Trace], i: int) -> Trace:
    """Run ``i`` with its optimizer state and explained terms: ``traces[i]`` if it has them, else computed
    (once per server) from the shared cache."""
    return traces[i] if traces[i].full else cached_traces(cfg.to_json(), full=(i,))[i]


def full_runs(cfg: LabConfig, traces: list[Trace]) -> list[Trace]:
    """Every run with its optimizer state and terms (the JSON export holds them)."""
    return list(traces) if all(tr.full for tr in traces) else cached_traces(cfg.to_json())


__all__ = ["VIEWS", "compute", "current_view", "full_run", "full_runs", "inspected_run", "load_config", "load_view", "read_link_once", "remember_view",
           "write_link", "link_notes", "constraints", "default_start"]
