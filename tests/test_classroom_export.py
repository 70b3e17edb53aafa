"""The standalone HTML export: one file that parses, carries plotly.js inline, its runs, the sweep slider's
paths (each equal to its own independent run) and the replay frames, and the task text."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from optlab.surfaces import SURFACES
from optlab.trace import RunConfig, run_traces
from optlab.ui.classroom.export import SWEEP_VALUES, export_html, lr_values

ROSENBROCK = SURFACES["rosenbrock"]


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._attrs: dict | None = None
        self.task = ""
        self._in_task = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._attrs, self._data = dict(attrs), []
        if dict(attrs).get("id") == "optlab-task":
            self._in_task = True

    def handle_data(self, data):
        if self._attrs is not None:
            self._data.append(data)
        elif self._in_task:
            self.task += data

    def handle_endtag(self, tag):
        if tag == "script" and self._attrs is not None:
            self.scripts.append((self._attrs, "".join(self._data)))
            self._attrs = None
        if tag == "div":
            self._in_task = False


@pytest.fixture(scope="module")
def exported():
    traces = run_traces(ROSENBROCK, [RunConfig.of("adam", lr=0.05), RunConfig.of("momentum", lr=1e-3)],
                        ROSENBROCK.start, 120)
    text = export_html(ROSENBROCK, traces, None, "Rosenbrock race", "Which one reaches (1, 1) first?\n<b>no tags</b>")
    return traces, text


def json_args(text: str, call: str) -> list:
    """The JSON arguments after ``call`` (e.g. ``Plotly.newPlot(``) in the inline script, read one by one."""
    match = re.search(re.escape(call) + r"\s*[\"']optlab-figure[\"'],\s*", text)
    assert match, f"no {call} in the file"
    decoder, at, out = json.JSONDecoder(), match.end(), []
    while text[at] in "[{":
        value, at = decoder.raw_decode(text, at)
        out.append(value)
        at = re.compile(r"\s*,?\s*").match(text, at).end()
    return out


def figure_json(text: str) -> dict:
    """The figure Plotly.newPlot receives (data, layout, config), read out of the inline script."""
    data, layout, *_ = json_args(text, "Plotly.newPlot(")
    return {"data": data, "layout": layout}


def frames_json(text: str) -> list:
    return json_args(text, "Plotly.addFrames(")[0]


def test_the_file_parses_and_holds_everything_without_the_network(exported):
    traces, text = exported
    parser = Collect()
    parser.feed(text)
    assert not any("src" in attrs for attrs, _ in parser.scripts)  # nothing is loaded from elsewhere
    assert any(len(body) > 1_000_000 and "plotly" in body.lower() for _, body in parser.scripts)  # plotly.js inline
    (data,) = [json.loads(body) for attrs, body in parser.scripts if attrs.get("id") == "optlab-data"]
    assert data["title"] == "Rosenbrock race" and data["task"].startswith("Which one")
    for run, tr in zip(data["runs"], traces, strict=True):
        assert run["label"] == tr.label
        np.testing.assert_allclose(run["points"], tr.points, atol=1e-6)
    assert "Which one reaches (1, 1) first?" in parser.task
    assert "<b>no tags</b>" in parser.task and "&lt;b&gt;no tags&lt;/b&gt;" in text  # shown as text, not markup


def test_the_slider_switches_between_independently_computed_runs(exported):
    traces, text = exported
    fig = figure_json(text)
    (slider,) = fig["layout"]["sliders"]
    assert len(slider["steps"]) == SWEEP_VALUES
    values = lr_values(0.05, "adam")
    for k in (0, 4, SWEEP_VALUES - 1):  # each step's path is the run at that lr, computed on its own
        step = slider["steps"][k]
        alone = run_traces(ROSENBROCK, [RunConfig.of("adam", lr=float(values[k]))], ROSENBROCK.start, 120)[0]
        x = np.array([np.nan if v is None else v for v in step["args"][0]["x"][0]], dtype=float)
        n = len(alone.points)
        np.testing.assert_allclose(x[:n], alone.points[:, 0], atol=1e-6)
        assert np.isnan(x[n:]).all()
    assert slider["steps"][SWEEP_VALUES // 2]["label"] == f"{0.05:.3g}"


def test_the_replay_frames_grow_the_paths_to_the_end(exported):
    traces, text = exported
    frames = frames_json(text)
    assert 2 <= len(frames) <= 60
    last = frames[-1]["data"]
    for frame_run, tr in zip(last, traces, strict=True):
        np.testing.assert_allclose(frame_run["x"], tr.points[:, 0], atol=1e-6)
    assert len(frames[0]["data"][0]["x"]) == 1
