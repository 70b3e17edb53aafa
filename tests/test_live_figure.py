"""The live figure's data: the contour picture, the path encoding and the payload."""

import json
import struct
import zlib

import numpy as np
import pytest

from optlab.plots.live import arrows_entry, decode_path, encode_path, live_payload, starts_entry, sweep_entry
from optlab.plots.raster import UNDEFINED_RGB, contour_rgb, data_uri, png_bytes
from optlab.surfaces import get_surface
from optlab.sweep import run_start_sweep, run_sweep, start_grid, sweep_values
from optlab.trace import RunConfig, run_traces

BOUNDS = ((-2.0, 2.0), (-1.0, 3.0))


def _read_png(data: bytes) -> np.ndarray:
    """A minimal PNG reader for 8-bit RGB, filter 0 (what png_bytes writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert (depth, ctype) == (8, 2)
            size = (h, w)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    h, w = size
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 3 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 3)


def test_png_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_read_png(png_bytes(rgb)), rgb)
    assert data_uri(b"x").startswith("data:image/png;base64,")


def test_contour_picture_orientation_lines_and_undefined_pixels():
    s = get_surface("quadratic", kappa=1.0)
    xs, ys, Z = s.grid(81)
    Z = Z.copy()
    Z[0, 0] = np.nan  # bottom-left corner (smallest x and y) undefined
    rgb = contour_rgb(Z, log=False)
    assert rgb.shape == (81, 81, 3)
    assert tuple(rgb[-1, 0]) == UNDEFINED_RGB  # picture rows run from the top: bottom-left is the last row
    centre = rgb[40, 40].astype(int).sum()
    corner = rgb[5, 75].astype(int).sum()
    assert centre > corner  # pale at the minimum, darker higher up
    # level lines: along the middle row, some pixels are darker than both neighbours' band colour
    row = rgb[40].astype(int).sum(axis=1)
    assert (np.diff(np.sign(np.diff(row))) > 0).any()


@pytest.mark.parametrize("n", [1, 5, 400, 1000])
def test_path_encoding_round_trip_within_a_tiny_step(n):
    rng = np.random.default_rng(n)
    pts = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1, 3, n)])
    back = decode_path(encode_path(pts, BOUNDS, max_points=10_000), BOUNDS)
    np.testing.assert_allclose(back, pts, atol=3 * 4 / 65535)


def test_path_encoding_thins_keeps_the_ends_and_drops_non_finite():
    pts = np.column_stack([np.linspace(-2, 2, 1001), np.linspace(-1, 3, 1001)])
    pts[500] = np.nan
    back = decode_path(encode_path(pts, BOUNDS, max_points=50), BOUNDS)
    assert len(back) <= 50
    np.testing.assert_allclose(back[0], pts[0], atol=1e-3)
    np.testing.assert_allclose(back[-1], pts[-1], atol=1e-3)
    far = decode_path(encode_path(np.array([[1e9, -1e9]]), BOUNDS), BOUNDS)
    np.testing.assert_allclose(far[0], [2 + 4, -1 - 4])  # clamped one window outside


def test_payload_is_json_and_small():
    s = get_surface("rosenbrock")
    configs = [RunConfig.of("sgd", label="1 · SGD", lr=1e-3), RunConfig.of("adam", label="2 · Adam", lr=0.05)]
    traces = run_traces(s, configs, s.start, 300)
    sw = run_sweep(s, configs[1], "lr", sweep_values("adam", "lr"), s.start, 300)
    grid = start_grid(s.bounds, 9)
    starts = starts_entry({i: run_start_sweep(s, c, grid, 300) for i, c in enumerate(configs)}, s.bounds)
    payload = live_payload(
        image=data_uri(png_bytes(contour_rgb(s.grid(200)[2], s.log_levels, s.min_value))),
        bounds=s.bounds, traces=traces, minima=s.minima, start=s.start,
        sweep=sweep_entry(sw, 1, "2 · Adam: learning rate", "lr", 0.05, True, s.bounds), starts=starts,
        arrows=arrows_entry(s.start, {"gradient": [1.0, 0.0], "update": [0.0, 0.0]}, "#123456"))
    text = json.dumps(payload, allow_nan=False)
    assert len(text) < 250_000
    sweep = payload["sweep"]
    assert sweep["value"] == 0.05 and len(sweep["paths"]) == len(sweep["values"]) == 49
    ratio = sweep["values"][sweep["current"]] / 0.05
    assert 1 / 1.2 < ratio < 1.2  # the slider starts at the member nearest the run's lr
    assert len(payload["starts"]["starts"]) == 81 and set(payload["starts"]["runs"]) == {"0", "1"}
    assert [v["name"] for v in payload["arrows"]["vectors"]] == ["gradient"]  # the zero update is skipped
    # a member draws the path its own run draws
    k = 30
    member = decode_path(sweep["paths"][k], s.bounds)
    own = run_traces(s, [RunConfig.of("adam", lr=sweep["values"][k])], s.start, 300)[0]
    np.testing.assert_allclose(member[[0, -1]], own.points[[0, -1]], atol=1e-3)


def test_a_run_entry_carries_the_average_and_the_trial_evaluations_pair_by_pair():
    from types import SimpleNamespace

    from optlab.plots.live import run_entry

    pts = np.array([[-1.0, 2.0], [-0.5, 1.5], [0.0, 1.0]])
    tr = SimpleNamespace(label="L-BFGS", points=pts, diverged_at=None, ema_points=None,
                         average_points=pts * 0.5,
                         closure_points=np.array([pts[0], [1.0, 0.0], [0.5, 2.5], pts[1], [1.5, -0.5]]),
                         closure_steps=np.array([1, 1, 1, 2, 2]))
    entry = run_entry(tr, 0, BOUNDS)
    np.testing.assert_allclose(decode_path(entry["average"], BOUNDS), pts * 0.5, atol=1e-3)
    np.testing.assert_allclose(decode_path(entry["evals"]["from"], BOUNDS), [pts[0], pts[0], pts[1]], atol=1e-3)
    np.testing.assert_allclose(decode_path(entry["evals"]["to"], BOUNDS), [[1.0, 0.0], [0.5, 2.5], [1.5, -0.5]],
                               atol=1e-3)
    plain = run_entry(SimpleNamespace(label="SGD", points=pts, diverged_at=None, ema_points=None), 1, BOUNDS)
    assert "average" not in plain and "evals" not in plain
