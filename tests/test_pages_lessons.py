"""Every lesson page renders in AppTest, reacts to a widget, and prints the numbers its lesson function computes."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.lessons import anatomy, ema_weights, failures, lr_schedule, per_layer, weight_decay, zero_grad
from optlab.lessons import momentum as lesson_momentum
from optlab.schedules import SCHEDULES

PAGES = Path(__file__).resolve().parents[1] / "pages"


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page printed as text: markdown, code blocks and metrics."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.code]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(parts)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


LESSON_PAGES = sorted((p.name for p in PAGES.glob("*.py") if 3 <= int(p.name.split("_")[0]) <= 10),
                      key=lambda n: int(n.split("_")[0]))


def test_all_eight_lessons_have_a_page():
    assert [int(n.split("_")[0]) for n in LESSON_PAGES] == list(range(3, 11))


@pytest.mark.parametrize("name", LESSON_PAGES)
def test_lesson_page_shows_code_and_has_a_docstring_summary(name):
    at = page(name)
    assert at.expander, "each lesson shows the code that produced its numbers"
    assert any("def " in c.value for c in at.code)
    assert (PAGES / name).read_text(encoding="utf-8").startswith('"""')


def test_anatomy_page_prints_param_groups_state_and_resume_gap():
    at = page("3_Anatomy_of_an_optimizer.py")
    assert metric(at, "entries before step()") == "0"
    assert metric(at, "entries after step()") == "2"
    assert "lr: 0.1\n" in at.code[0].value and "momentum: 0.9\n" in at.code[0].value
    at.slider(key="anat_momentum").set_value(0.5).run()
    assert not at.exception
    assert "momentum: 0.5\n" in at.code[0].value
    gap = anatomy.resume_from_state_dict(0.1, 0.5)["gap_fresh_optimizer"]
    assert metric(at, "max |w| gap, resumed with a fresh optimizer") == f"{gap:.3g}"
    assert metric(at, "max |w| gap, resumed with load_state_dict") == "0"


def test_anatomy_page_predict_then_reveal():
    at = page("3_Anatomy_of_an_optimizer.py")
    at.radio(key="anat_state_guess").set_value("0").run()
    at.button(key="anat_state_reveal").click().run()
    assert any(i.value.startswith("Right.") for i in at.info)


def test_zero_grad_page_prints_piled_up_gradients_and_final_weights():
    at = page("4_zero_grad_backward_step.py")
    at.slider(key="zg_calls").set_value(3).run()
    assert "after call 3: w.grad = 9" in texts(at) and "after call 4" not in texts(at)
    at.slider(key="zg_lr").set_value(0.2).run()
    runs = zero_grad.run_with_and_without_zero_grad(0.2, 40)
    assert f"**{runs['without zero_grad'][-1]:.4g}** without" in texts(at)
    closure = zero_grad.closure_calls(5)
    assert f"called the closure **{closure['closure_calls']}** times" in texts(at)


def test_weight_decay_page_prints_the_one_step_numbers():
    at = page("6_Weight_decay.py")
    table = at.dataframe[0].value
    for wd in (0.0, 1.0):
        expected = str([round(v, 6) for v in weight_decay.one_sgd_step(wd)["w_after"]])
        assert table.loc[table["weight_decay"] == wd, "w after"].item() == expected
    at.select_slider(key="wd_wd").set_value(1.0).run()
    assert not at.exception
    finals = at.dataframe[1].value
    expected = weight_decay.decay_under_adam(0.01, 1.0, 200)["final"]["AdamW"]
    assert finals.loc[finals["run"] == "AdamW", "quiet weight"].item() == pytest.approx(expected[1])


def test_per_layer_page_prints_measured_lrs():
    at = page("7_Per_layer_learning_rates.py")
    at.select_slider(key="pl_features_lr").set_value(1e-2).run()
    table = at.dataframe[0].value
    expected = per_layer.fine_tune_step(1e-2, 0.1)
    assert table["measured lr"].tolist() == pytest.approx([r["measured lr"] for r in expected])
    assert per_layer.same_parameter_twice() in texts(at)


def test_learning_rate_page_prints_the_steps_after_the_switch_and_final_losses():
    at = page("5_Learning_rate_during_training.py")
    at.slider(key="lr_switch").set_value(20).run()
    assert not at.exception
    runs = lr_schedule.change_lr_midway(0.05, 0.01, 0.9, 20, 60)
    kept = float(((runs["edit in place"][21] - runs["edit in place"][20]) ** 2).sum() ** 0.5)
    assert metric(at, "first step after the switch, edit in place") == f"{kept:.4f}"
    at.selectbox(key="lr_schedule").set_value(SCHEDULES["cosine"].label).run()
    assert not at.exception
    run = lr_schedule.scheduled_run("cosine", 0.05, 0.9, 100)
    assert metric(at, f"final loss, {SCHEDULES['cosine'].label}") == f"{run['losses'][-1]:.3g}"


def test_momentum_page_prints_buffers_and_the_theory_table():
    at = page("8_Momentum_and_Nesterov.py")
    at.slider(key="mom_dampening").set_value(0.5).run()
    assert not at.exception
    buffers = at.dataframe[0].value
    expected = lesson_momentum.buffer_vs_formula([1.0, 2.0, -1.0, 0.5, 3.0, 0.0], 0.9, 0.5)
    assert buffers["buffer from torch"].tolist() == pytest.approx(expected["torch"].tolist())
    assert metric(at, "step after 200 steps (dashed line: lr/(1 − μ))") == "1.0000"  # 0.1 / (1 - 0.9)
    table = at.dataframe[-1].value
    rows = lesson_momentum.theory_vs_measured(100.0, 300)
    assert table["measured rate"].tolist() == pytest.approx([r["measured rate"] for r in rows])
    assert table["predicted rate"].tolist()[1] == pytest.approx(0.818182, abs=1e-6)


def test_ema_page_prints_expected_and_measured_lag():
    at = page("9_EMA_of_weights.py")
    assert metric(at, "expected lag c·d/(1 − d)") == "99.0000"  # REFERENCE.md: 99 steps' worth at d = 0.99
    assert metric(at, "measured lag after 5000 steps") == f"{ema_weights.lag_on_a_ramp(1.0, 0.99, 5000):.4f}"
    at.select_slider(key="ema_lag_decay").set_value(0.9).run()
    assert metric(at, "expected lag c·d/(1 − d)") == "9.0000"
    assert metric(at, "measured lag after 5000 steps") == "9.0000"
    run = ema_weights.shadow_path(0.1, 1.0, 0.95, 0.0, 300)
    assert metric(at, "mean distance to the minimum, EMA (last 150 steps)") == f"{run['ema_distance']:.4f}"


def test_failure_gallery_prints_adam_amsgrad_and_the_first_step_ratio():
    at = page("10_Failure_gallery.py")
    assert float(metric(at, "Adam ends at")) > 0.99
    assert float(metric(at, "AMSGrad ends at")) < -0.99
    assert metric(at, "expected ratio (1 − β₁)/√(1 − β₂)") == "3.1623"
    assert metric(at, "measured ratio, x coordinate") == "3.1623"
    at.select_slider(key="fail_y0").set_value(0.1).run()
    assert not at.exception
    escape = at.dataframe[-1].value
    expected = failures.saddle_escape(0.01, 0.1)
    assert escape["steps to escape"].tolist() == [r["steps to escape"] for r in expected]
    at.radio(key="fail_ams_guess").set_value("near +1, the worst point").run()
    at.button(key="fail_ams_reveal").click().run()
    assert any(i.value.startswith("Right.") for i in at.info)
