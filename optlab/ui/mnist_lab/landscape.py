"""The MNIST Lab's landscape view: the network's loss on a plane through trained weights, with the runs' weight
trajectories, computed in the background by the training service and shared per configuration."""

from __future__ import annotations

import json

import streamlit as st

from optlab.i18n import N_, current_language, t, translator
from optlab.mnist.config import TrainConfig
from optlab.mnist.landscape import GRID, N_EVAL, PLANES, LandscapeComputation
from optlab.mnist.train import default_device
from optlab.plots.landscape import landscape_figure
from optlab.ui import training_job as jobs_ui


def _key(config: TrainConfig, plane: str, centre: int, data_key) -> str:
    return json.dumps([config.to_json(), plane, centre, list(data_key), GRID, N_EVAL])


@st.cache_resource(max_entries=16, show_spinner=False)
def _figure(key: str, language: str, _land):
    land = _land
    return landscape_figure(land.plane, land.alphas, land.betas, land.loss, land.centre_loss, land.labels,
                            land.paths, land.path_steps, land.shares, land.labels[land.centre_run])


def landscape_view(config: TrainConfig | None, digits, data_key) -> None:
    """Pick the plane and the run at its centre; the computation trains the settings again (the same numbers)
    with snapshots, then measures the loss on a {GRID}×{GRID} grid."""
    if config is None or digits is None or data_key is None:
        st.caption(t("Choose valid settings and load the digits first."))
        return
    c1, c2 = st.columns([3, 2])
    tr = translator()  # format_func may run after this script run, outside the session's language
    plane = c1.radio(t("Plane"), tuple(PLANES), key="mnist_land_plane", format_func=lambda k: tr(PLANES[k]),
                     horizontal=True)
    labels = [s.name for s in config.runs]
    if st.session_state.get("mnist_land_centre", 0) >= len(labels):
        st.session_state["mnist_land_centre"] = 0
    centre = c2.selectbox(t("Centre: the trained weights of"), range(len(labels)), format_func=lambda i: labels[i],
                          key="mnist_land_centre")
    key = _key(config, plane, centre, data_key)
    total = config.total_steps(digits.n_train) + GRID * GRID

    def build():
        return LandscapeComputation(digits, config, plane, centre, device=default_device())

    st.button(t("Compute the landscape"), key="mnist_land_start", on_click=jobs_ui.compute,
              args=("landscape", key, build, total))
    st.caption(t("Li et al., “Visualizing the Loss Landscape of Neural Nets” (NeurIPS 2018). The settings are "
                 "trained again with weights saved along the way (the same numbers as the run), then the loss on "
                 "{n} training digits is measured on a {g}×{g} grid. PCA plane: the two principal directions of "
                 "the runs' weights around the centre; a path lies off the plane, so the loss under it is the "
                 "plane's, not the path's. Random plane: two filter-normalised Gaussian directions, with no path "
                 "(it would be about a point).", n=N_EVAL, g=GRID))
    land = jobs_ui.compute_shown("landscape", key, N_("Landscape… {k} of {n}"),
                                 N_("The landscape did not finish; compute it again."))
    if land is None:
        return
    st.plotly_chart(_figure(key, current_language(), land), key="mnist_landscape")
    st.caption(t("Loss of the trained weights at the centre: {loss} (the grid's middle point: {mid}).",
                 loss=f"{land.centre_loss:.4f}", mid=f"{land.loss[GRID // 2][GRID // 2]:.4f}"))
