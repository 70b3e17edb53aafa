"""MNIST Lab page in AppTest: default render, a short run to completion, stop, and a clear message for bad data."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_MNIST_Lab.py")


@pytest.fixture
def apps():
    """Pages opened by a test; any training thread they started is stopped when the test ends."""
    opened: list[AppTest] = []
    yield opened
    for at in opened:
        job = at.session_state["mnist_job"] if "mnist_job" in at.session_state else None
        if job is not None:
            job.stop()
            job.join(timeout=30)


@pytest.fixture
def fresh(apps):
    def open_page() -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        apps.append(at)
        return at

    return open_page


def status(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def rerun_until(at: AppTest, word: str, seconds: float = 60) -> str:
    """AppTest does not run fragments on a timer: rerun the page until the status line says `word`."""
    end = time.monotonic() + seconds
    while word not in status(at) and time.monotonic() < end:
        time.sleep(0.2)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return status(at)


def test_default_render(fresh):
    at = fresh()
    assert at.title[0].value == "MNIST Lab"
    assert [s.value for s in at.selectbox if s.key and s.key.endswith("_opt")] == ["momentum", "adam"]
    assert not at.button(key="mnist_start").disabled and at.button(key="mnist_stop").disabled
    assert not at.error
    assert any("param_groups" in e.label for e in at.expander)


def test_short_run_to_completion_shows_curves_and_inspector(fresh):
    at = fresh()
    at.select_slider(key="mnist_width").set_value(16)
    at.slider(key="mnist_epochs").set_value(1)
    at.checkbox(key="mnist_ema").check()
    at.run()
    at.button(key="mnist_start").click().run()
    assert "Finished" in rerun_until(at, "Finished")
    assert len(at.get("plotly_chart")) == 3  # curves, state histograms, test digits
    assert at.selectbox(key="mnist_inspect_key").options  # optimizer-state keys, e.g. momentum_buffer
    assert "%" in " ".join(m.value for m in at.markdown)
    assert at.get("download_button")


def test_stop_ends_a_run_early(fresh):
    at = fresh()
    at.slider(key="mnist_epochs").set_value(20)
    at.run()
    at.button(key="mnist_start").click().run()
    assert not at.button(key="mnist_stop").disabled
    at.button(key="mnist_stop").click().run()
    text = rerun_until(at, "Stopped", 30)
    assert "Stopped at step" in text


@pytest.mark.parametrize("accum", [2, 4])
def test_accumulation_check_is_shown(fresh, accum):
    at = fresh()
    at.select_slider(key="mnist_accum").set_value(accum).run()
    assert any("float rounding only" in i.value for i in at.info)


def test_missing_idx_folder_gives_a_clear_message(fresh, tmp_path):
    at = fresh()
    at.radio(key="mnist_source").set_value("idx").run()
    at.text_input(key="mnist_folder").set_value(str(tmp_path / "nope")).run()
    assert not at.exception
    assert any("not found" in e.value for e in at.error)
    assert at.button(key="mnist_start").disabled
