"""Knobs on a closed range (momentum, β) take exact typed values, and slider and number always agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.ui.urlstate import decode

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Surface_Lab.py")


def open_page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(query)
    return at.run()


@pytest.mark.parametrize("typed", [0.9, 0.99, 0.9999 - 0.0009, 0.12345])
def test_a_typed_momentum_is_the_runs_exact_value(typed):
    at = open_page({"n": "20", "r1": "momentum,lr:0.001"})
    at.number_input(key="sl_r1_momentum_momentum_typed").set_value(typed).run()
    assert not at.exception
    assert at.slider(key="sl_r1_momentum_momentum").value == pytest.approx(typed, abs=0)
    cfg, notes = decode(dict(at.query_params))
    assert notes == [] and dict(cfg.runs[0].hparams)["momentum"] == typed


def test_the_slider_moves_in_readable_steps_and_the_number_follows():
    at = open_page({"n": "20", "r1": "adam"})
    slider = at.slider(key="sl_r1_adam_beta1")
    assert slider.step == pytest.approx(0.001)
    slider.set_value(0.901).run()
    assert at.number_input(key="sl_r1_adam_beta1_typed").value == pytest.approx(0.901)
    assert dict(decode(dict(at.query_params))[0].runs[0].hparams)["beta1"] == pytest.approx(0.901)


def test_a_typed_value_outside_the_range_is_moved_to_its_end_with_a_note():
    at = open_page({"n": "20", "r1": "momentum"})
    at.number_input(key="sl_r1_momentum_momentum_typed").set_value(1.7).run()
    assert not at.exception
    assert at.slider(key="sl_r1_momentum_momentum").value == pytest.approx(0.999)
    assert at.number_input(key="sl_r1_momentum_momentum_typed").value == pytest.approx(0.999)
    assert any("0.999" in w.value for w in at.warning)
