"""The Surface Lab's export: every run as CSV or JSON, headed by the experiment (its link) that produced them."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from optlab.config.surface_lab import LabConfig, export_header
from optlab.i18n import t
from optlab.surfaces import Surface
from optlab.trace import Trace, traces_to_csv, traces_to_json
from optlab.ui.surface_lab.state import full_runs


def export_text(cfg: LabConfig, surface: Surface, traces: Sequence[Trace], kind: str) -> str:
    """The CSV or JSON file of every run, headed by the experiment that produced them (surface, formula and
    window, start, steps, noise and seed, every run's settings, and the page's link), so the file alone
    reproduces it: ``optlab.ui.urlstate.read_export`` reads the experiment back."""
    start = cfg.start if cfg.start is not None else surface.start
    header = {"surface_name": surface.name, **export_header(cfg, start)}
    if kind == "csv":
        return traces_to_csv(traces, header)
    return traces_to_json(full_runs(cfg, list(traces)), header)  # with every run's optimizer state


def export_buttons(cfg: LabConfig, surface: Surface, traces: Sequence[Trace]) -> None:
    """CSV and JSON of every run with its experiment; the text is built only when a button is clicked."""
    c1, c2 = st.columns(2)
    c1.download_button(t("Trajectories as CSV"), data=lambda: export_text(cfg, surface, traces, "csv"),
                       file_name="optlab_runs.csv", mime="text/csv", key="sl_csv", on_click="ignore")
    c2.download_button(t("Trajectories as JSON"), data=lambda: export_text(cfg, surface, traces, "json"),
                       file_name="optlab_runs.json", mime="application/json", key="sl_json", on_click="ignore")
