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


def _run_lr(at: AppTest, i: int) -> float:
    return dict(decode(dict(at.query_params))[0].runs[i - 1].hparams)["lr"]


def test_defaults_work_on_the_surface_shown():
    """A new surface, a newly picked optimizer and a new run all start at the rate tuned for that surface."""
    from optlab.presets import RUN_ORDER, TUNED_LR

    at = open_page({"n": "20"})
    runs = decode(dict(at.query_params))[0].runs
    assert [r.optimizer for r in runs] == ["sgd", "momentum", "adam"]
    assert [_run_lr(at, i) for i in (1, 2, 3)] == [TUNED_LR["rosenbrock"][k] for k in ("sgd", "momentum", "adam")]
    at.selectbox(key="sl_surface").set_value("himmelblau").run()
    assert [_run_lr(at, i) for i in (1, 2, 3)] == [TUNED_LR["himmelblau"][k] for k in ("sgd", "momentum", "adam")]
    at.selectbox(key="sl_r1_opt").set_value("nesterov").run()
    assert _run_lr(at, 1) == TUNED_LR["himmelblau"]["nesterov"]
    at.number_input(key="sl_nruns").set_value(4).run()
    assert not at.exception
    fourth = decode(dict(at.query_params))[0].runs[3]
    assert fourth.optimizer == RUN_ORDER[3] and _run_lr(at, 4) == TUNED_LR["himmelblau"][RUN_ORDER[3]]
    assert not any(w.value and "diverged" in w.value for w in at.warning)
