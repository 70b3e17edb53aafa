"""Only what is seen is built: the Surface Lab builds the figure of the open tab and no other."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.ui import ahead, surface_lab

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Surface_Lab.py")
BUILDERS = ("replay_figure", "surface3d_figure", "basins_figure", "live_contour")


@pytest.fixture
def calls(monkeypatch) -> dict[str, int]:
    """How often the page called each view's builder (the builders still run)."""
    counts = dict.fromkeys(BUILDERS, 0)
    for name in BUILDERS:
        real = getattr(surface_lab.figures, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            counts[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(surface_lab.figures, name, spy)
    return counts


@pytest.mark.parametrize("view, built", [("contour", "live_contour"), ("replay", "replay_figure"),
                                         ("3d", "surface3d_figure"), ("basins", "basins_figure")])
def test_only_the_open_tabs_figure_is_built(calls, view, built):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"n": "30", "v": view})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert calls[built] >= 1
    assert all(n == 0 for name, n in calls.items() if name != built), calls
    ahead.wait(60)


def test_the_curves_are_built_once_per_configuration_and_served_from_the_figure_store():
    from optlab.ui import cache

    cache.FIGURES.clear()
    before, live_before = cache.FIGURES.kinds["loss"] + cache.FIGURES.kinds["distance"], cache.FIGURES.kinds["live"]
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"n": "31"})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    ahead.wait(60)
    at.run()  # the sweeps are in: the live figure with them
    curves = lambda: cache.FIGURES.kinds["loss"] + cache.FIGURES.kinds["distance"] - before  # noqa: E731
    built, live = curves(), cache.FIGURES.kinds["live"]
    assert built == 2 and live > live_before  # the loss and the distance curves of this configuration, the live figure
    at.run()  # a rerun of the same configuration, and a second session on it, build nothing
    again = AppTest.from_file(PAGE, default_timeout=60)
    again.query_params.update({"n": "31"})
    again.run()
    assert not again.exception
    assert (curves(), cache.FIGURES.kinds["live"]) == (built, live)
    at.slider(key="sl_steps").set_value(32).run()  # a new configuration: its loss and distance curves, once
    assert curves() == built + 2
    ahead.wait(60)
