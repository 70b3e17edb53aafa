"""The Surface Lab's panels (Streamlit; no math), one module each; the page wires them together.

- ``state``: the configuration and view between the link, the widgets and the page (session state).
- ``controls``: the sidebar, each setting drawn from its field (``optlab.config.surface_lab``).
- ``figures``: the live contour, replay, 3D view, basins and curves; only the open tab is built.
- ``inspector``: one step's numbers, ``param_groups``, ``state`` and equations.
- ``theory``: the quadratic's optimal step sizes and predicted vs measured rates.
- ``export``: CSV and JSON of every run with the experiment that produced them.
"""

from optlab.ui.surface_lab import controls, export, figures, inspector, state, theory
from optlab.ui.surface_lab.controls import sidebar_controls, window_problem
from optlab.ui.surface_lab.export import export_buttons, export_text
from optlab.ui.surface_lab.figures import (
    basins_panel,
    curves,
    divergence_notices,
    figure_tabs,
    figures_and_inspector,
    live_contour,
)
from optlab.ui.surface_lab.inspector import inspector_arrows, inspector_controls, inspector_panel
from optlab.ui.surface_lab.state import (
    compute,
    link_notes,
    load_config,
    load_view,
    read_link_once,
    remember_view,
    write_link,
)
from optlab.ui.surface_lab.theory import theory_panel

__all__ = [
    "basins_panel", "compact_top", "compute", "controls", "curves", "divergence_notices", "export",
    "export_buttons", "export_text", "figure_tabs", "figures", "figures_and_inspector", "inspector",
    "inspector_arrows", "inspector_controls", "inspector_panel", "link_notes", "live_contour", "load_config",
    "load_view", "read_link_once", "remember_view", "sidebar_controls", "state", "theory", "theory_panel", "window_problem",
    "write_link",
]


def compact_top() -> None:
    """Less empty space above the page's first row, so that the whole figure fits a 1280x720 projector; a long
    equation in the narrow inspector column scrolls sideways instead of running out of it."""
    import streamlit as st

    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem}"
            ".katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:2px}</style>")
