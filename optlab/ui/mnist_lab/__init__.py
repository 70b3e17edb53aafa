"""The MNIST Lab's Streamlit panels, one module per part: settings and the job (panels), live diagnostics,
the network's loss landscape; the page calls them in order. No training and no threads here."""

from optlab.ui.mnist_lab import link
from optlab.ui.mnist_lab.panels import (
    POLL_SECONDS,
    accumulation_panel,
    checkpoint_panel,
    config_controls,
    controls_row,
    data_controls,
    divergence_notices,
    get_view,
    inspect_panel,
    live_panel,
    loss_gap_note,
    param_groups_panel,
    resume_uploaded,
    start_job,
)

__all__ = [
    "POLL_SECONDS", "accumulation_panel", "checkpoint_panel", "config_controls", "controls_row", "data_controls",
    "divergence_notices", "get_view", "link", "inspect_panel", "live_panel", "loss_gap_note", "param_groups_panel",
    "resume_uploaded", "start_job",
]
