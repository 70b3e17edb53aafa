"""The Surface Lab's link: its codec, declared once as fields in ``optlab.config.surface_lab`` (pure: no Streamlit).

This module only names that codec where the pages and tests have always found it; every key, range and default
is declared there (see its docstring for the table of link keys).
"""

from optlab.config.surface_lab import (
    ANGLE_RANGE,
    BASINS_SIDE,
    BASINS_SIDES,
    CONFIG_FIELDS,
    CUSTOM,
    EMA_DECAY_RANGE,
    EMA_TAU_RANGE,
    EXPORT_FORMAT,
    KAPPA,
    KAPPA_RANGE,
    KNOWN_KEYS,
    LR_Y,
    LR_Y_FACTOR_RANGE,
    MAX_FORMULA,
    MAX_RUNS,
    MAX_STEPS,
    NOISE_RANGE,
    SEED_RANGE,
    VIEW_FIELDS,
    VIEWS,
    WINDOW_LIMIT,
    LabConfig,
    LabView,
    SurfaceRun,
    check,
    decode,
    decode_view,
    default_runs,
    encode,
    encode_view,
    export_header,
    read_export,
)

__all__ = [
    "ANGLE_RANGE", "BASINS_SIDE", "BASINS_SIDES", "CONFIG_FIELDS", "CUSTOM", "EMA_DECAY_RANGE", "EMA_TAU_RANGE",
    "EXPORT_FORMAT", "KAPPA", "KAPPA_RANGE", "KNOWN_KEYS", "LR_Y", "LR_Y_FACTOR_RANGE", "MAX_FORMULA", "MAX_RUNS",
    "MAX_STEPS", "NOISE_RANGE", "SEED_RANGE", "VIEW_FIELDS", "VIEWS", "WINDOW_LIMIT", "LabConfig", "LabView",
    "SurfaceRun", "check", "decode", "decode_view", "default_runs", "encode", "encode_view", "export_header",
    "read_export",
]
