"""The contour of a surface as a PNG picture: filled log-scaled bands with their level lines.

A picture, not a Plotly contour trace, because the live figure redraws its paths while a knob is dragged: a
background image costs nothing to keep, while a contour trace is recomputed by the browser on every redraw.
Same colours and levels as ``optlab.plots.surface`` (``levels``, ``CONTOUR_SCALE``, ``N_LEVELS``). NumPy and the
standard library only (zlib for the PNG).
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

from optlab.plots.surface import CONTOUR_SCALE, N_LEVELS, levels

#: colour of a pixel where f is not finite (outside a typed formula's domain)
UNDEFINED_RGB = (200, 200, 200)
#: level lines are the band colour darkened by this factor
LINE_SHADE = 0.72


def _colormap(u: np.ndarray) -> np.ndarray:
    """u in [0, 1] -> RGB (..., 3) uint8, linear between the stops of ``CONTOUR_SCALE``."""
    stops = np.array([s for s, _ in CONTOUR_SCALE])
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in CONTOUR_SCALE], dtype=np.float64)
    out = np.stack([np.interp(u, stops, rgb[:, k]) for k in range(3)], axis=-1)
    return out.round().astype(np.uint8)


def contour_rgb(Z: np.ndarray, log: bool, f_min: float | None = None, n_levels: int = N_LEVELS) -> np.ndarray:
    """``Z[i, j] = f(x_j, y_i)`` (rows follow y upwards) -> an RGB image (rows from the top, y downwards).

    Each pixel takes the colour of its band (as a filled contour does); a pixel whose band differs from its
    right or lower neighbour lies on a level line and is drawn darker.
    """
    lev = levels(Z, log, f_min)
    z = np.asarray(lev.z, dtype=np.float64)
    finite = np.isfinite(z)
    if finite.any():
        lo, hi = float(z[finite].min()), float(z[finite].max())
    else:
        lo, hi = 0.0, 1.0
    size = (hi - lo) / n_levels or 1.0
    band = np.where(finite, np.floor((np.where(finite, z, lo) - lo) / size), -1).clip(-1, n_levels - 1)
    rgb = _colormap((band + 0.5) / n_levels).astype(np.float64)
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    rgb[edge] *= LINE_SHADE
    rgb[~finite] = UNDEFINED_RGB
    return rgb.round().astype(np.uint8)[::-1]  # first row of the picture = largest y


def png_bytes(rgb: np.ndarray) -> bytes:
    """A (H, W, 3) uint8 array as a PNG file (8-bit truecolour, no filter: the bands compress well anyway)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = np.zeros((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 1:] = rgb.reshape(h, 3 * w)  # each scanline starts with filter type 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
            + chunk(b"IEND", b""))


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
