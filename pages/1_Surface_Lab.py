"""Surface Lab: race up to six optimizers on a 2D loss surface, replay them, map their basins, inspect any step.

Widget keys (stable; tests and browser tests use them):

- ``sl_surface`` surface picker; ``sl_formula``, ``sl_xmin``, ``sl_xmax``, ``sl_ymin``, ``sl_ymax`` for a typed
  formula; ``sl_kappa``, ``sl_angle`` for the quadratic.
- ``sl_x0``, ``sl_y0`` start point (also set by clicking the contour); ``sl_reset_start``; ``sl_steps``;
  ``sl_noise``, ``sl_seed`` gradient noise; ``sl_nruns`` number of runs.
- run i (1 to 6): ``sl_r<i>_opt`` optimizer, ``sl_r<i>_<opt>_<hyper>`` its settings (``..._lr_log`` the log
  slider), ``sl_r<i>_sched`` and ``sl_r<i>_sched_<schedule>_<param>`` LR schedule, ``sl_r<i>_ema_on``,
  ``sl_r<i>_ema``, ``sl_r<i>_tau`` EMA shadow (see ``optlab.ui.widgets``); ``sl_r<i>_groups`` x and y as two
  param groups, ``sl_r<i>_lr_y`` (and ``sl_r<i>_lr_y_log``) the y group's lr as a multiple of the run's lr.
- figures: ``sl_view`` tabs, ``sl_contour`` (clickable), ``sl_replay`` (speed ``sl_replay_speed``), ``sl_3d``,
  ``sl_loss``, ``sl_dist``.
- basins tab: ``sl_basins_run`` which run, ``sl_basins_n`` starts per side, ``sl_basins`` the figure,
  ``sl_basins_table`` the counts per minimum.
- inspector: ``sl_insp_run``, ``sl_insp_t`` (torch's step number: 1 is the first step), ``sl_insp_prev``,
  ``sl_insp_next``.
- theory (quadratic only): ``sl_theory_gd``, ``sl_theory_mom`` ("use it"), ``sl_theory_table``.
- export: ``sl_csv``, ``sl_json``.

The whole configuration is kept in the URL (declared once as fields in ``optlab.config.surface_lab``), so a link reproduces the experiment; so is
the view, so it also opens where the teacher was looking: ``v`` the open tab (``sl_view``), ``t=<run>:<t>`` the
inspector's run and step (``sl_insp_run``, ``sl_insp_t``; an old link's ``i=<run>:<k>`` counted from 0 and still
opens the same step, t = k + 1), ``b=<run>:<side>`` the Basins tab's run and starts per side (``sl_basins_run``,
``sl_basins_n``). The view never enters the trace cache key.
"""

import streamlit as st

from optlab.i18n import t
from optlab.ui import surface_lab as lab
from optlab.ui.cache import build_surface
from optlab.ui.classroom.panel import class_panel
from optlab.ui.lesson import show_code
from optlab.ui.pages import use_app_navigation
from optlab.ui.text import literal

use_app_navigation()
st.set_page_config(page_title="Surface Lab", layout="wide")
lab.compact_top()
title, formula = st.columns([1, 3], vertical_alignment="center")
title.header(t("Surface Lab"), anchor=False)

lab.read_link_once()
cfg, problem = lab.sidebar_controls()
lab.write_link(cfg)
notes = lab.link_notes(cfg)
if notes:
    st.warning("\n\n".join(literal(n) for n in notes), icon="🔗")

if problem:
    st.error(t("{problem} Fix it in the sidebar; nothing was run.", problem=literal(problem)), icon="⚠️")
    st.stop()

surface = build_surface(cfg)
with formula:
    st.latex(rf"f(x, y) = {surface.latex}")
try:
    traces = lab.compute(cfg)
except ValueError as e:  # settings each in range that cannot run together (a one-cycle schedule over 1 step)
    st.error(t("These settings cannot run together: {error}. Change them in the sidebar; nothing was run.",
               error=literal(str(e))), icon="⚠️")
    st.stop()
lab.divergence_notices(traces)
class_panel("Surface_Lab", surface=surface, traces=traces, config=cfg)

lab.figures_and_inspector(surface, cfg, traces)

lab.curves(surface, cfg, traces)

if surface.key == "quadratic" and surface.hessian_eigs:
    st.subheader(t("Theory check: the quadratic bowl"))
    lab.theory_panel(surface, cfg, traces)

st.subheader(t("Export"))
lab.export_buttons(cfg, surface, traces)
st.caption(t("Each figure has a camera button in its toolbar for a PNG. The address bar holds the whole setup: "
             "copy it to share this experiment."))

show_code(lab.figure_tabs, lab.basins_panel, lab.compute, label=t("The code behind the figures"))
