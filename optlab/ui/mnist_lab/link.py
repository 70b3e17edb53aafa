"""The MNIST Lab's link: read once per session into the widgets, written back after every full run, through the
field declarations of optlab.config.mnist_lab (a bad or forged link gets notices and the defaults)."""

from __future__ import annotations

import streamlit as st

from optlab.config.mnist_lab import FIELDS, decode, encode
from optlab.mnist.config import TrainConfig
from optlab.mnist.muon_recipe import RECIPE_HYPERS
from optlab.ui import fields as ui_fields
from optlab.ui.constraints import active_constraints
from optlab.ui.widgets import set_log_float, set_optimizer_values, set_schedule_values

LOADED = "mnist_link_loaded"
NOTES = "mnist_link_notes"
LR_SEEDED = "mnist_lr_seeded"  # (column, optimizer) pairs whose learning rate is set (see panels._first_draw)
_PLAIN = ("m", "w", "d", "c", "seed", "ep", "b", "acc", "wdm", "wd", "nb", "head", "ema", "emad", "lrs", "lrf", "n",
          "v", "lp")


def load_once() -> None:
    """On a session's first run: the link's values into the widgets' session state, its notices kept to show."""
    ss = st.session_state
    if ss.get(LOADED):
        return
    ss[LOADED] = True
    values, notes = decode(ui_fields.read_link(), active_constraints("mnist_lab"))
    ss[NOTES] = notes
    given = set(ui_fields.read_link())
    if not given & FIELDS.keys - {"lang", "lesson", "class", "present"}:
        return  # a plain visit: the page's own first values
    for key in _PLAIN:
        if FIELDS[key].applies_to(values):
            ss[FIELDS.session_key(key)] = ui_fields.widget_value(FIELDS[key], FIELDS[key].fit(values[key]))
    set_schedule_values("mnist", values["sch"], dict(values["schp"]))
    seeded = ss.setdefault(LR_SEEDED, set())
    for i in range(values["n"]):
        opt, pairs, how = values[f"o{i + 1}"]
        flat = dict(pairs)
        set_optimizer_values(f"mnist_run{i}", opt, {k: v for k, v in flat.items() if k not in _recipe_names()})
        seeded.add((i, opt))  # the link's learning rate is the one to show, not the MNIST default
        if opt == "muon":
            for h in RECIPE_HYPERS:
                set_log_float(h, f"mnist_run{i}_muon_{h.name}", flat.get(h.name, h.default))
        ss[f"mnist_run{i}_lr_change"] = how


def _recipe_names() -> set[str]:
    return {h.name for h in RECIPE_HYPERS}


def notices() -> list[str]:
    """What the link had that could not be used (shown on the run that read it)."""
    return st.session_state.pop(NOTES, [])


def values_of(config: TrainConfig, view: str, plane: str) -> dict:
    """The link values of a configuration and the open view."""
    schedule_params = tuple(sorted(config.schedule_params))
    return {
        "m": config.model, "w": config.width, "d": config.depth, "c": config.channels, "seed": config.seed,
        "ep": config.epochs, "b": config.batch_size, "acc": config.accum_steps, "sch": config.schedule,
        "schp": schedule_params, "wdm": config.wd_mode, "wd": config.weight_decay, "nb": config.no_decay_bias,
        "head": config.head_lr_mult, "ema": config.ema_decay is not None,
        "emad": config.ema_decay if config.ema_decay is not None else 0.99, "lrs": config.lr_change_step,
        "lrf": config.lr_change_factor, "n": len(config.runs), "v": view, "lp": plane,
        **{f"o{i + 1}": (r.optimizer, tuple(sorted(r.hparams)), r.lr_change) for i, r in enumerate(config.runs)},
    }


def write(config: TrainConfig | None) -> None:
    """The address bar holds the page's whole setup and its open view (nothing when the settings are invalid)."""
    if config is None:
        return
    ss = st.session_state
    ui_fields.write_link(encode(values_of(config, ss.get("mnist_view", "curves"), ss.get("mnist_land_plane", "pca"))))


__all__ = ["load_once", "notices", "values_of", "write"]
