"""MNIST Lab page in AppTest: default render, a short run to completion, stop, a diverging run, resuming a
checkpoint like a live run, and plain messages for bad uploads and bad data folders."""

import io
import re
import time
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from optlab.jobs import reset_training_service, training_service
from optlab.mnist.checkpoint import save_checkpoint
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.train import Trainer

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_MNIST_Lab.py")


@pytest.fixture
def apps():
    """Pages opened by a test, on a training service of their own: nothing trained by one test is served from the
    cache to the next, and any job still running is cancelled when the test ends."""
    reset_training_service()
    opened: list[AppTest] = []
    yield opened
    reset_training_service()


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


# -- divergence, resume, bad uploads, bad folders (issue 11) -------------------------------------------------------


def test_a_diverging_run_is_reported_and_the_other_finishes(fresh):
    """MLP 512×3, batch 8, SGD + momentum at lr 10 and μ 0.999: that run diverges, Adam goes on to the end."""
    at = fresh()
    at.select_slider(key="mnist_width").set_value(512)
    at.select_slider(key="mnist_depth").set_value(3)
    at.select_slider(key="mnist_batch").set_value(8)
    at.slider(key="mnist_epochs").set_value(1)
    at.run()
    at.number_input(key="mnist_run0_momentum_lr").set_value(10.0)
    at.slider(key="mnist_run0_momentum_momentum").set_value(0.999)
    at.run()
    at.button(key="mnist_start").click().run()
    assert "Finished" in rerun_until(at, "Finished", 180)
    notes = [w.value for w in at.warning]
    assert any(re.search(r"SGD \\\+ momentum\*\* diverged at step \d+: loss became (NaN|infinite)\. "
                         r"It took no more steps; the other runs went on\.", w) for w in notes), notes
    scores = " ".join(m.value for m in at.markdown)
    assert re.search(r"SGD \\\+ momentum\*\*: diverged at step \d+", scores), scores
    assert re.search(r"Adam\*\*: \d+\.\d%", scores), scores
    assert any("This run diverged at step" in i.value for i in at.info)  # the inspector opens on run 1
    assert at.selectbox(key="mnist_inspect_key").value == "momentum_buffer"
    assert len(at.get("plotly_chart")) == 3


@pytest.fixture(scope="module")
def checkpoint_at_step_3(digits):
    """A checkpoint of the page's default runs on the page's data, stopped at step 3 of 20 epochs of batch 8."""
    runs = (RunSpec.of("momentum", "1. SGD + momentum", lr=0.02, momentum=0.8), RunSpec.of("adam", "2. Adam"))
    trainer = Trainer(digits, TrainConfig(runs=runs, epochs=20, batch_size=8), device="cpu")
    calls = iter(range(100))
    trainer.run(stop=lambda: next(calls) >= 3)
    return save_checkpoint(trainer), trainer.total_steps


def plain(markdown: str) -> str:
    """Text as the reader sees it: without the backslashes that keep Markdown from interpreting it."""
    return re.sub(r"\\(.)", r"\1", markdown)


def upload(at: AppTest, data: bytes, name: str = "run.pt") -> AppTest:
    at.file_uploader(key="mnist_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_resume_looks_and_behaves_like_a_live_run(fresh, checkpoint_at_step_3):
    data, total = checkpoint_at_step_3
    at = upload(fresh(), data)
    assert [s.value for s in at.success] == [f"Resumed at step 3 of {total}."]
    # drawn after the resume, in the same run: the buttons and the progress of a live run
    assert not at.button(key="mnist_stop").disabled and at.button(key="mnist_start").disabled
    assert re.match(rf"Training… step \d+ of {total}", status(at)), status(at)
    assert at.get("plotly_chart"), "the curves so far are drawn at once"
    # the widgets show the resumed run's settings, not the ones the page had before
    assert (at.slider(key="mnist_epochs").value, at.select_slider(key="mnist_batch").value) == (20, 8)
    assert [at.selectbox(key=f"mnist_run{i}_opt").value for i in range(2)] == ["momentum", "adam"]
    assert at.number_input(key="mnist_run0_momentum_lr").value == 0.02
    assert at.slider(key="mnist_run0_momentum_momentum").value == 0.8
    at.button(key="mnist_stop").click().run()
    assert "Stopped at step" in rerun_until(at, "Stopped", 30)
    assert not at.button(key="mnist_start").disabled and at.button(key="mnist_stop").disabled


def test_uploading_again_while_training_asks_to_stop_first(fresh, checkpoint_at_step_3):
    data, _ = checkpoint_at_step_3
    at = upload(fresh(), data)
    at.file_uploader(key="mnist_upload").set_value(None).run()
    at = upload(at, data)
    assert any("press Stop, then upload the checkpoint again" in w.value for w in at.warning)
    assert not at.button(key="mnist_stop").disabled


def hostile(name: str) -> bytes:
    if name == "random bytes":
        return b"\x00\x01garbage" * 10
    if name == "a zip bomb":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, z.open("archive/data.pkl", "w") as f:
            for _ in range(50):
                f.write(bytes(1 << 20))
        return buf.getvalue()
    buf = io.BytesIO()
    torch.save({"payload": Exploit()}, buf)
    return buf.getvalue()


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("name,phrase", [
    ("random bytes", "not a zip archive saved by torch.save."),
    ("a zip bomb", "would unpack from"),
    ("a malicious pickle", "such objects are never loaded here"),
])
def test_a_bad_upload_is_refused_in_plain_words(fresh, name, phrase):
    at = upload(fresh(), hostile(name))
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("This file is not an optlab checkpoint: "), errors
    assert phrase in errors[0] and "Download a checkpoint with this page" in errors[0]
    assert "mnist_ticket" not in at.session_state
    assert not at.button(key="mnist_start").disabled


@pytest.mark.parametrize("folder,phrase", [
    ("x" * 5000, "is 5,000 characters long"),
    ("/tmp/" + "y" * 300, "a part of 300 characters"),
])
def test_a_folder_name_too_long_gets_a_plain_message(fresh, folder, phrase):
    at = fresh()
    at.radio(key="mnist_source").set_value("idx").run()
    at.text_input(key="mnist_folder").set_value(folder).run()
    assert not at.exception
    errors = [plain(e.value) for e in at.error]
    assert any(phrase in e and "Type the path of a folder" in e for e in errors), errors
    assert at.button(key="mnist_start").disabled


# -- the server's training service (issue 10) ----------------------------------------------------------------------


def small_run(at: AppTest, epochs: int = 1, seed: int = 0) -> AppTest:
    at.select_slider(key="mnist_width").set_value(16)
    at.slider(key="mnist_epochs").set_value(epochs)
    at.number_input(key="mnist_seed").set_value(seed)
    return at.run()


def test_students_on_the_same_settings_watch_one_shared_job(fresh):
    a, b = small_run(fresh(), epochs=20), small_run(fresh(), epochs=20)
    a.button(key="mnist_start").click().run()
    b.button(key="mnist_start").click().run()
    assert "1 other student watching the same run" in status(b), status(b)
    assert "1 other student watching the same run" in rerun_until(a, "other student")
    assert a.session_state["mnist_ticket"].key == b.session_state["mnist_ticket"].key
    assert training_service().counts()["running"] + training_service().counts()["queued"] == 1
    b.button(key="mnist_stop").click().run()  # Stop on a shared job: b leaves, the run goes on for a
    assert re.match(r"Stopped watching at step \d+ of \d+; the shared run goes on for the others", status(b))
    assert not b.button(key="mnist_start").disabled
    a.run()
    assert status(a).startswith("Training…") and "other student" not in status(a), status(a)
    a.button(key="mnist_stop").click().run()  # the last watcher stops: the job is cancelled
    assert "Stopped at step" in rerun_until(a, "Stopped", 30)
    assert training_service().counts()["running"] == 0


def test_a_run_another_student_finished_opens_at_once_from_the_cache(fresh):
    a = small_run(fresh())
    a.button(key="mnist_start").click().run()
    assert "Finished" in rerun_until(a, "Finished")
    b = small_run(fresh())
    b.button(key="mnist_start").click().run()  # no polling needed: the result is there on the click
    assert "Finished" in status(b) and "opened from the server's cache" in status(b)
    assert len(b.get("plotly_chart")) == 3 and b.get("download_button")


def test_a_queued_run_shows_its_place_in_line(fresh, monkeypatch):
    monkeypatch.setenv("OPTLAB_TRAIN_WORKERS", "1")
    reset_training_service()
    a, b = small_run(fresh(), epochs=20, seed=1), small_run(fresh(), epochs=1, seed=2)
    a.button(key="mnist_start").click().run()
    b.button(key="mnist_start").click().run()
    assert re.fullmatch(r"Waiting: 1st in line, about \d+ s", status(b)), status(b)
    assert not b.button(key="mnist_stop").disabled  # leaving the queue is a Stop too
    a.button(key="mnist_stop").click().run()
    assert "Finished" in rerun_until(b, "Finished")


def test_an_optimizer_picked_in_a_column_starts_at_the_mnist_learning_rate_and_keeps_a_set_one(fresh):
    from optlab.mnist.config import MNIST_LR

    at = fresh()
    assert at.number_input(key="mnist_run0_momentum_lr").value == MNIST_LR["momentum"]
    at.selectbox(key="mnist_run0_opt").set_value("nadam").run()
    assert at.number_input(key="mnist_run0_nadam_lr").value == MNIST_LR["nadam"]
    at.number_input(key="mnist_run0_nadam_lr").set_value(0.004).run()
    at.selectbox(key="mnist_run0_opt").set_value("momentum").run()
    at.selectbox(key="mnist_run0_opt").set_value("nadam").run()
    assert at.number_input(key="mnist_run0_nadam_lr").value == 0.004  # the student's value, not the default again
    # only the optimizers shown hold keys: each key costs every number input and slider of every rerun
    assert len([k for k in at.session_state if k.startswith("mnist_run")]) < 40


def test_muon_shows_its_adamw_part_and_the_param_groups_name_both_optimizers(fresh):
    at = fresh()
    at.selectbox(key="mnist_run0_opt").set_value("muon").run()
    assert at.number_input(key="mnist_run0_muon_lr").value == 0.02
    assert at.number_input(key="mnist_run0_muon_adamw_lr").value == 1e-3
    groups = next(c.value for c in at.code if "MuonWithAuxAdamW" in c.value)
    assert "optimizer: Muon" in groups and "optimizer: AdamW" in groups
    assert not at.exception and not at.error


def open_with(apps, **params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    apps.append(at)
    return at


def test_a_link_opens_its_setup_and_view_and_the_page_writes_it_back(apps):
    at = open_with(apps, m="cnn", c="16", ep="2", n="3", o1="muon:adamw_lr=0.002,lr=0.03;rebuild",
                   o3="lion:lr=0.0003", v="layers")
    assert at.selectbox(key="mnist_model").value == "cnn"
    assert at.select_slider(key="mnist_channels").value == 16
    assert at.slider(key="mnist_n_runs").value == 3
    assert at.selectbox(key="mnist_run0_opt").value == "muon"
    assert at.number_input(key="mnist_run0_muon_lr").value == 0.03
    assert at.number_input(key="mnist_run0_muon_adamw_lr").value == 0.002
    assert at.radio(key="mnist_run0_lr_change").value == "rebuild"
    assert at.selectbox(key="mnist_run2_opt").value == "lion"
    assert not at.warning
    link = {k: at.query_params[k] for k in at.query_params}
    assert link["o1"] in ("muon:adamw_lr=0.002,lr=0.03;rebuild", ["muon:adamw_lr=0.002,lr=0.03;rebuild"])
    assert str(link["v"]).strip("[]'") == "layers" and str(link["m"]).strip("[]'") == "cnn"


def test_a_forged_link_gets_notices_and_the_defaults(apps):
    at = open_with(apps, m="evil", ep="1e9", o1="os.system:lr=1", v="../x")
    notes = " ".join(w.value for w in at.warning)
    assert "unknown value" in notes and "unknown optimizer" in notes and "outside" in notes
    assert at.selectbox(key="mnist_model").value == "mlp"
    assert at.selectbox(key="mnist_run0_opt").value == "momentum"
    assert at.slider(key="mnist_epochs").value == 20
    assert not at.error


def test_the_layers_view_shows_live_numbers_and_the_confusion_matrix_counts_the_test_set(fresh):
    at = fresh()
    at.select_slider(key="mnist_width").set_value(16)
    at.slider(key="mnist_epochs").set_value(1)
    at.run()
    at.button(key="mnist_start").click().run()
    rerun_until(at, "Finished")
    at.segmented_control(key="mnist_view").set_value("layers").run()
    assert any("update/weight ratio" in c.value for c in at.caption)
    at.segmented_control(key="mnist_view").set_value("confusion").run()
    assert any(re.search(r"\d+ of 1000 test digits right", c.value) for c in at.caption)
    assert not at.exception


def test_the_range_test_proposes_a_learning_rate_that_a_click_puts_in_place(fresh):
    at = fresh()
    at.select_slider(key="mnist_width").set_value(16)
    at.segmented_control(key="mnist_view").set_value("range").run()
    at.button(key="mnist_range_start").click().run()
    end = time.monotonic() + 60
    while not any("Proposed learning rate" in m.value for m in at.markdown) and time.monotonic() < end:
        time.sleep(0.3)  # AppTest does not run fragments on a timer: rerun until the test is done
        at.run()
    proposal = next(m.value for m in at.markdown if "Proposed learning rate" in m.value)
    lr = float(re.search(r"\*\*([0-9.e-]+)\*\*\.", proposal).group(1))
    at.button(key="mnist_range_use").click().run()
    assert at.number_input(key="mnist_run0_momentum_lr").value == pytest.approx(lr)


def test_the_landscape_view_computes_in_the_background_and_labels_its_axes(fresh):
    at = fresh()
    at.select_slider(key="mnist_width").set_value(16)
    at.slider(key="mnist_epochs").set_value(1)
    at.segmented_control(key="mnist_view").set_value("landscape").run()
    at.button(key="mnist_land_start").click().run()
    end = time.monotonic() + 90
    while not any("Loss of the trained weights at the centre" in c.value for c in at.caption) \
            and time.monotonic() < end:
        time.sleep(0.3)
        at.run()
    note = next(c.value for c in at.caption if "Loss of the trained weights at the centre" in c.value)
    centre, mid = re.findall(r"(\d+\.\d{4})", note)
    assert centre == mid  # the slice's middle point is the trained model itself
    assert not at.exception
