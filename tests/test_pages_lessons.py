"""Every page renders in AppTest; every lesson page (found, not listed) shows its code and asks before it reveals;
each reacts to a widget and prints the numbers its lesson function computes.

Predict-then-reveal: what gives the answer away is absent until the reader reveals it, then stays shown.
"""

import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optlab.lessons import anatomy, ema_weights, failures, lr_schedule, per_layer, weight_decay, zero_grad
from optlab.lessons import momentum as lesson_momentum
from optlab.schedules import SCHEDULES
from optlab.ui.pages import LESSONS, page_entries

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


def labels(at: AppTest) -> set[str]:
    return {m.label for m in at.metric}


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(el.proto.spec)["layout"]["title"]["text"] for el in at.get("plotly_chart")]


def reveal(at: AppTest, key: str, guess: str | None = None) -> AppTest:
    """Answer and press Reveal, or (no guess) press "Just show me"."""
    if guess is None:
        at.button(key=f"{key}_show").click().run()
    else:
        at.radio(key=f"{key}_guess").set_value(guess).run()
        at.button(key=f"{key}_reveal").click().run()
    assert not at.exception, at.exception
    return at


def _number(name: str) -> int:
    return int(name.split("_")[0])


ALL_PAGES = sorted((p.name for p in PAGES.glob("*.py")), key=_number)
# A lesson page is a page built on a lesson module (one lesson module plus one page): each new one is found here
# and goes through every generic test below.
LESSON_PAGES = [n for n in ALL_PAGES if "from optlab.lessons import" in (PAGES / n).read_text(encoding="utf-8")]


def test_every_lesson_page_is_found_and_listed_under_lessons():
    assert len(LESSON_PAGES) >= 13  # pages 3 to 15 when this test was written; a new lesson only adds to it
    lessons = {Path(e.path).name for e in page_entries() if e.section == LESSONS}
    assert set(LESSON_PAGES) <= lessons


@pytest.mark.parametrize("name", ALL_PAGES)
def test_every_page_runs_without_an_exception(name):
    page(name)


@pytest.mark.parametrize("name", LESSON_PAGES)
def test_lesson_page_shows_code_and_has_a_docstring_summary(name):
    at = page(name)
    assert at.expander, "each lesson shows the code that produced its numbers"
    assert any("def " in c.value for c in at.code)
    source = (PAGES / name).read_text(encoding="utf-8")
    assert source.startswith('"""')
    title, sep, summary = ast.get_docstring(ast.parse(source)).splitlines()[0].partition(": ")
    assert sep and title and summary, "the first docstring line reads 'Title: what it shows.'"


@pytest.mark.parametrize("name", LESSON_PAGES)
def test_lesson_page_asks_before_it_reveals(name):
    """Each lesson has a predict-then-reveal question: a guess, Reveal (off until a guess), Just show me; after
    the reveal an answer is shown and the page still runs."""
    at = page(name)
    guesses = [r for r in at.radio if r.key and r.key.endswith("_guess")]
    assert guesses, "each lesson asks a predict-then-reveal question"
    key = guesses[0].key.removesuffix("_guess")
    assert at.button(key=f"{key}_reveal").disabled
    reveal(at, key)
    assert any(i.value.startswith("The answer is **") for i in at.info)
    assert at.button(key=f"{key}_again")


def test_anatomy_page_prints_param_groups_state_and_resume_gap():
    at = page("3_Anatomy_of_an_optimizer.py")
    assert "lr: 0.1\n" in at.code[0].value and "momentum: 0.9\n" in at.code[0].value
    at.slider(key="anat_momentum").set_value(0.5).run()
    assert not at.exception
    assert "momentum: 0.5\n" in at.code[0].value
    resume = anatomy.resume_from_state_dict(0.1, 0.5)
    assert metric(at, "max |w| gap, resumed with a fresh optimizer") == f"{resume['gap_fresh_optimizer']:.3g}"
    assert metric(at, "max |w| gap, resumed with load_state_dict") == "0"
    assert f"Train {resume['steps']} steps straight through, or stop after {resume['stopped_at']}" in texts(at)


def test_anatomy_page_hides_the_state_counts_until_revealed():
    at = page("3_Anatomy_of_an_optimizer.py")
    assert "entries before step()" not in labels(at) and "Each entry, after the step" not in texts(at)
    assert at.button(key="anat_state_reveal").disabled  # nothing to check before a guess
    reveal(at, "anat_state", "0")
    assert any(i.value.startswith("Right.") for i in at.info)
    state = anatomy.state_before_and_after_step(0.1, 0.9)
    assert metric(at, "entries before step()") == str(state["entries_before"]) == "0"
    assert metric(at, "entries after step()") == str(state["entries_after"]) == "2"
    assert "Each entry, after the step, holds: `momentum_buffer`." in texts(at)
    at.slider(key="anat_momentum").set_value(0.5).run()  # any later rerun keeps the answer shown
    assert "entries after step()" in labels(at)


def test_a_wrong_guess_is_corrected_and_ask_again_hides_the_answer():
    at = page("3_Anatomy_of_an_optimizer.py")
    reveal(at, "anat_state", "2")
    assert any(i.value.startswith("Not quite: the answer is **0**.") for i in at.info)
    at.button(key="anat_state_again").click().run()
    assert not at.exception
    assert "entries before step()" not in labels(at) and not at.info
    assert at.radio(key="anat_state_guess").value is None


def test_zero_grad_page_prints_piled_up_gradients_and_final_weights():
    at = page("4_zero_grad_backward_step.py")
    at.slider(key="zg_calls").set_value(3).run()
    assert "after call 3: w.grad = 9" in texts(at) and "after call 4" not in texts(at)
    at.slider(key="zg_lr").set_value(0.2).run()
    runs = zero_grad.run_with_and_without_zero_grad(0.2, 40)
    assert "w over the steps" not in chart_titles(at)
    assert f"**{runs['without zero_grad'][-1]:.4g}** without" not in texts(at)
    reveal(at, "zg_skip", "no, it overshoots and swings")
    assert any(i.value.startswith("Right.") for i in at.info)
    assert "w over the steps" in chart_titles(at)
    assert f"**{runs['without zero_grad'][-1]:.4g}** without" in texts(at)
    late = max(abs(w) for w in runs["without zero_grad"][20:])
    assert f"$|w|$ still reaches **{late:.3g}**" in texts(at)
    closure = zero_grad.closure_calls(5)
    assert f"called the closure **{closure['closure_calls']}** times" in texts(at)
    acc = at.dataframe[0].value
    expected = zero_grad.accumulation_equals_big_batch(4, 8)
    assert acc["weight"].tolist() == ["w[0]", "w[1]", "w[2]"]
    assert acc["one batch of 4·8 = 32"].tolist() == pytest.approx(expected["big_batch"])


def test_weight_decay_page_prints_the_one_step_numbers():
    at = page("6_Weight_decay.py")
    table = at.dataframe[0].value
    for wd in (0.0, 1.0):
        expected = str([round(v, 6) for v in weight_decay.one_sgd_step(wd)["w_after"]])
        assert table.loc[table["weight_decay"] == wd, "w after"].item() == expected
    at.select_slider(key="wd_wd").set_value(1.0).run()
    assert not at.exception
    assert len(at.dataframe) == 1 and not chart_titles(at)  # the Adam runs wait for the reveal
    reveal(at, "wd_adam")
    out = weight_decay.decay_under_adam(0.01, 1.0, 200)
    assert at.info[0].value.startswith("The answer is **the quiet one**.")
    assert out["shrink"]["Adam + L2"][1] > out["shrink"]["Adam + L2"][0]
    finals = at.dataframe[1].value
    assert finals.loc[finals["run"] == "AdamW", "quiet weight"].item() == pytest.approx(out["final"]["AdamW"][1])
    assert chart_titles(at) == ["How much decay lowered each weight after 200 steps"]


def test_per_layer_page_prints_measured_lrs():
    at = page("7_Per_layer_learning_rates.py")
    at.select_slider(key="pl_features_lr").set_value(1e-2).run()
    table = at.dataframe[0].value
    expected = per_layer.fine_tune_step(1e-2, 0.1)
    assert table["measured lr"].tolist() == pytest.approx([r["measured lr"] for r in expected])
    assert per_layer.same_parameter_twice() not in texts(at)
    reveal(at, "pl_twice", "torch refuses")
    assert per_layer.same_parameter_twice() in texts(at)


def test_learning_rate_page_prints_the_steps_after_the_switch_and_final_losses():
    at = page("5_Learning_rate_during_training.py")
    at.slider(key="lr_switch").set_value(20).run()
    assert not at.exception
    label = "step length right after the switch, edit in place"
    assert label not in labels(at) and not any(t.startswith("SGD (momentum") for t in chart_titles(at))
    reveal(at, "lr_rebuild", "edit in place")
    assert any(i.value.startswith("Right.") for i in at.info)
    runs = lr_schedule.change_lr_midway(0.05, 0.01, 0.9, 20, 60)
    kept = float(((runs["edit in place"][21] - runs["edit in place"][20]) ** 2).sum() ** 0.5)
    assert metric(at, label) == f"{kept:.4f}"
    at.selectbox(key="lr_schedule").set_value(SCHEDULES["cosine"].label).run()
    assert not at.exception
    assert label in labels(at)  # still revealed after another widget changed
    run = lr_schedule.scheduled_run("cosine", 0.05, 0.9, 100)
    assert metric(at, f"final loss, {SCHEDULES['cosine'].label}") == f"{run['losses'][-1]:.3g}"


def test_momentum_page_prints_buffers_and_the_theory_table():
    at = page("8_Momentum_and_Nesterov.py")
    at.slider(key="mom_dampening").set_value(0.5).run()
    assert not at.exception
    buffers = at.dataframe[0].value
    expected = lesson_momentum.buffer_vs_formula([1.0, 2.0, -1.0, 0.5, 3.0, 0.0], 0.9, 0.5)
    assert buffers["buffer from torch"].tolist() == pytest.approx(expected["torch"].tolist())
    assert metric(at, "step length after 200 steps") == "1.0000"  # 0.1 / (1 - 0.9)
    assert metric(at, r"$\mathrm{lr}/(1 - \mu)$ (dashed line)") == f"{0.1 / (1 - 0.9):.4f}"
    table = at.dataframe[-1].value
    rows = lesson_momentum.theory_vs_measured(100.0, 300)
    assert table["measured rate"].tolist() == pytest.approx([r["measured rate"] for r in rows])
    assert table["predicted rate"].tolist()[1] == pytest.approx(0.818182, abs=1e-6)


def test_momentum_page_hides_the_oscillation_paths_until_revealed():
    at = page("8_Momentum_and_Nesterov.py")
    title = "SGD, lr = 0.5, on the quadratic with κ = 10"
    assert title not in chart_titles(at) and len(at.dataframe) == 2
    distances = {m: float(np.linalg.norm(lesson_momentum.run_on_quadratic(10.0, 0.5, m, 60)[-1]))
                 for m in (0.0, 0.5, 0.95)}
    best = f"μ = {min(distances, key=distances.get):g}"
    reveal(at, "mom_osc", best)
    assert any(i.value.startswith("Right.") for i in at.info)
    assert title in chart_titles(at)
    assert len(at.dataframe) == 3
    table = at.dataframe[1].value
    assert table["distance to the minimum after 60 steps"].tolist() == pytest.approx(list(distances.values()))


EMA_LAG = r"expected lag $c\,d/(1 - d)$"


def test_ema_page_prints_expected_and_measured_lag():
    at = page("9_EMA_of_weights.py")
    run = ema_weights.shadow_path(0.1, 1.0, 0.95, 0.0, 300)
    assert metric(at, "SGD weights") == f"{run['raw_distance']:.4f}"
    assert metric(at, "EMA of the weights") == f"{run['ema_distance']:.4f}"
    assert EMA_LAG not in labels(at)
    reveal(at, "ema_lag", "about 99 steps")
    assert any(i.value.startswith("Right.") for i in at.info)
    assert metric(at, EMA_LAG) == "99.0000"  # d/(1 − d): 99 steps' worth at d = 0.99
    assert metric(at, "measured lag after 5000 steps") == f"{ema_weights.lag_on_a_ramp(1.0, 0.99, 5000):.4f}"
    at.select_slider(key="ema_lag_decay").set_value(0.9).run()
    assert metric(at, EMA_LAG) == "9.0000"
    assert metric(at, "measured lag after 5000 steps") == "9.0000"


def test_failure_gallery_hides_where_adam_ends_until_revealed():
    at = page("10_Failure_gallery.py")
    assert "Adam ends at" not in labels(at) and not chart_titles(at)
    reveal(at, "fail_ams", "near +1, the worst point")
    assert any(i.value.startswith("Right.") for i in at.info)
    ams = failures.amsgrad_counterexample(3.0, 0.1, 3000)
    assert metric(at, "Adam ends at") == f"{ams['adam'][-1]:.4f}" and float(metric(at, "Adam ends at")) > 0.99
    assert metric(at, "AMSGrad ends at") == f"{ams['amsgrad'][-1]:.4f}"
    assert float(metric(at, "AMSGrad ends at")) < -0.99
    assert chart_titles(at) == ["x after each step (dashed: the best point)"]
    at.select_slider(key="fail_y0").set_value(0.1).run()
    assert "Adam ends at" in labels(at)  # the answer stays shown across reruns


def test_failure_gallery_prints_the_first_step_ratio_and_saddle_table_without_none():
    at = page("10_Failure_gallery.py")
    assert metric(at, r"expected ratio $(1 - \beta_1)/\sqrt{1 - \beta_2}$") == "3.1623"
    assert metric(at, "measured ratio, x coordinate") == "3.1623"
    for y0 in (0.1, 0.0):
        at.select_slider(key="fail_y0").set_value(y0).run()
        assert not at.exception
        escape = at.dataframe[-1].value
        expected = failures.saddle_escape(0.01, y0)
        shown = ["never (in 500 steps)" if r["steps to escape"] is None else str(r["steps to escape"])
                 for r in expected]
        assert [str(v) for v in escape["steps to escape"]] == shown
        column = escape["expected, ln(1/|y₀|) / ln(1 + 2·lr)"].tolist()
        sgd = expected[0]["expected"]
        assert column == ["never" if sgd == math.inf else str(sgd), "—", "—"]
    for table in at.dataframe:
        assert not table.value.isna().any().any()
        assert "None" not in table.value.astype(str).to_numpy()


# What a formula looks like when it leaks out of math: LaTeX braces, commands, or a one-letter base with a
# subscript (b_t, W_ema, λ_max). Names like zero_grad or n_tensors have a longer base and pass.
RAW_MATH = re.compile(r"_\{|\^\{|\\[A-Za-z]|\b\w_\w{1,3}\b")
CODE_SPAN = re.compile(r"`[^`]*`")
MATH_SPAN = re.compile(r"\$[^$]+\$")


def reveal_everything(at: AppTest) -> AppTest:
    """Press every "Just show me", so the answers' prose is on the page too."""
    while shows := [b for b in at.button if b.key and b.key.endswith("_show")]:
        shows[0].click().run()
        assert not at.exception, at.exception
    return at


def prose(at: AppTest) -> list[str]:
    """Text that Streamlit renders as Markdown (where $...$ is math): markdown, headers, info, captions, labels."""
    parts = [e.value for kind in ("markdown", "title", "subheader", "info", "caption") for e in at.get(kind)]
    return parts + [m.label for m in at.metric]


def plain_labels(at: AppTest) -> list[str]:
    """Text that cannot render math: Plotly titles, axis titles and legend names, and table headers."""
    out = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec["layout"]
        out += [layout.get(k, {}).get("title", {}).get("text", "") for k in ("xaxis", "yaxis")]
        out += [layout.get("title", {}).get("text", "")] + [t.get("name", "") for t in spec["data"]]
    for table in at.dataframe:
        config = json.loads(table.proto.columns or "{}")
        out += [config.get(str(c), {}).get("label", str(c)) for c in table.value.columns]
    return out


@pytest.mark.parametrize("name", LESSON_PAGES)
def test_lesson_formulas_render_as_math_and_nothing_else_does(name):
    at = reveal_everything(page(name))
    for text in prose(at):
        no_code = CODE_SPAN.sub("", text)
        assert no_code.count("$") % 2 == 0, f"an unpaired $ in: {text}"
        outside_math = MATH_SPAN.sub("", no_code)
        assert not RAW_MATH.search(outside_math), f"a formula outside $...$ in: {text}"
    for latex in at.latex:
        assert latex.value.count("{") == latex.value.count("}"), latex.value
    for label in plain_labels(at):
        assert not RAW_MATH.search(label) and "$" not in label, f"LaTeX in a label that cannot render it: {label}"
