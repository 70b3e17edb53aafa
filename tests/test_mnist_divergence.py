"""A run that diverges is reported (which run, at which step, why), stops there, and the others go on to the end.

The diverging setting is the one from the issue: an MLP 512×3, batch 8, SGD + momentum with lr 10 and μ 0.999.
"""

import io
import math

import numpy as np
import pytest
import torch

from optlab.mnist.checkpoint import load_checkpoint, save_checkpoint
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.events import DivergedEvent
from optlab.mnist.history import History
from optlab.mnist.inspect_state import layer_state_stats
from optlab.mnist.train import Trainer, loss_divergence
from optlab.plots.training import curves_figure, state_histograms_figure

pytestmark = pytest.mark.usefixtures("one_thread")

WILD = RunSpec.of("momentum", "wild", lr=10.0, momentum=0.999)
TAME = RunSpec.of("adam", "tame", lr=1e-3)


def config(*runs, **kw) -> TrainConfig:
    base = dict(runs=runs, width=512, depth=3, batch_size=8, epochs=1)
    return TrainConfig(**(base | kw))


def count_steps(trainer: Trainer) -> list[int]:
    """How many times each run's optimizer really stepped (torch's step post-hooks)."""
    counts = [0] * len(trainer.runs)
    for i, r in enumerate(trainer.runs):
        r.optimizer.register_step_post_hook(lambda *_, i=i: counts.__setitem__(i, counts[i] + 1))
    return counts


@pytest.fixture(scope="module")
def wild_and_tame(small):
    t = Trainer(small, config(WILD, TAME), device="cpu")
    steps = count_steps(t)
    events = []
    assert t.run(listener=events.append)  # no exception, and the tame run reached the last step
    return t, steps, events


def test_the_diverging_run_is_named_with_its_step_and_reason(wild_and_tame):
    t, _, events = wild_and_tame
    step, reason = t.diverged[0]
    assert t.diverged[1] is None
    assert reason in ("loss became NaN", "loss became infinite")
    assert [e for e in events if isinstance(e, DivergedEvent)] == [DivergedEvent(0, step, reason)]
    h = t.history
    assert h.diverged[0] == {"step": step, "reason": reason} and h.diverged[1] is None
    assert h.divergence(0) == f"{reason} at step {step}" and h.divergence(1) is None
    loss = h.loss[0]
    assert all(math.isfinite(v) for v in loss[: step - 1]), "the steps before it trained normally"
    assert not math.isfinite(loss[step - 1]), "the named step is the first with a non-finite loss"
    assert all(math.isnan(v) for v in loss[step:]), "after it the run records nothing"


def test_the_diverged_run_stops_and_the_other_goes_on(wild_and_tame, small):
    t, steps, _ = wild_and_tame
    step, _ = t.diverged[0]
    # it stops at the live update that saw the divergence (every log_every steps), far before the end
    assert step <= steps[0] < step + t.config.log_every <= t.total_steps
    assert steps[1] == t.total_steps == 100
    h = t.history
    assert all(math.isfinite(v) for v in h.loss[1]) and h.test_acc[1][-1] > 0.5
    # the diverged run's accuracy is not reported as chance level: it is NaN after the divergence
    later = [a for s, a in zip(h.eval_step, h.test_acc[0], strict=True) if s >= step]
    assert later and all(math.isnan(a) for a in later)
    assert h.done and not h.all_diverged


def test_state_histograms_of_a_diverged_run_describe_its_nan(wild_and_tame):
    t, _, _ = wild_and_tame
    run = t.runs[0]
    stats = layer_state_stats(run.model, run.optimizer, "momentum_buffer")
    assert len(stats) == 8  # 4 layers, weight and bias
    assert sum(s["nan"] + s["inf"] for s in stats) > 0
    fig = state_histograms_figure(stats, "momentum_buffer")
    assert any("not shown" in a.text for a in fig.layout.annotations)
    log_stats = layer_state_stats(run.model, run.optimizer, "momentum_buffer", log10=True)
    assert len(log_stats) == 8


def test_curves_of_a_diverged_run_end_with_a_cross(wild_and_tame):
    t, _, _ = wild_and_tame
    step, _ = t.diverged[0]
    fig = curves_figure(t.history)
    cross = [d for d in fig.data if d.name == "wild diverged"]
    assert len(cross) == 1 and list(cross[0].text) == [f"diverged at step {step}"]
    loss = next(d for d in fig.data if d.name == "wild" and d.xaxis == "x")
    assert np.isfinite(loss.y).all() and loss.x[-1] == (step - 1) / t.steps_per_epoch


def test_every_run_diverging_ends_the_loop(small):
    t = Trainer(small, config(WILD), device="cpu")
    assert not t.run()
    assert t.all_diverged and t.history.all_diverged and t.step < t.total_steps
    assert t.history.done and not t.history.stopped


def test_resumed_weights_of_1e38_diverge_and_are_reported(small):
    t = Trainer(small, config(TAME, TAME, width=32, depth=1, batch_size=32), device="cpu")
    calls = iter(range(1000))
    t.run(stop=lambda: next(calls) >= 5)
    blob = torch.load(io.BytesIO(save_checkpoint(t)), weights_only=True)
    for v in blob["runs"][0]["model"].values():
        v.fill_(1e38)  # finite, so the checkpoint is valid; the first forward pass overflows
    buf = io.BytesIO()
    torch.save(blob, buf)
    resumed = load_checkpoint(buf.getvalue(), small, device="cpu")
    assert resumed.run()
    assert resumed.diverged[0] is not None and resumed.diverged[0][0] == 6  # the first step after the resume
    assert resumed.diverged[1] is None and math.isfinite(resumed.history.loss[1][-1])
    stats = layer_state_stats(resumed.runs[0].model, resumed.runs[0].optimizer, "exp_avg")
    assert stats  # no exception on a state full of NaN


@pytest.mark.parametrize("extra", [
    {},
    {"schedule": "cosine", "schedule_params": (("min_fraction", 0.1),), "ema_decay": 0.9, "head_lr_mult": 3.0},
    {"schedule": "warmup", "eval_every": 7},
], ids=["constant", "cosine and EMA", "warm-up"])
def test_a_checkpoint_after_a_divergence_resumes_exactly(small, extra):
    """The diverged run is saved as it is (NaN and all), stays stopped, and the other run goes on unchanged."""
    cfg = config(WILD, TAME, epochs=2, **extra)
    full = Trainer(small, cfg, device="cpu")
    full.run()
    part = Trainer(small, cfg, device="cpu")
    calls = iter(range(1000))
    part.run(stop=lambda: next(calls) >= 60)
    assert part.diverged[0] is not None
    resumed = load_checkpoint(save_checkpoint(part), small, device="cpu")
    assert resumed.diverged == part.diverged == full.diverged
    steps = count_steps(resumed)
    assert resumed.run()
    assert steps == [0, full.total_steps - 60]
    for p, q in zip(full.runs[1].model.parameters(), resumed.runs[1].model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert resumed.history.loss[1] == full.history.loss[1]
    assert History.from_json(resumed.history.to_json()).diverged == full.history.diverged


@pytest.mark.parametrize("losses,expected", [
    ([1.0, 2.0], None),
    ([], None),
    ([1.0, math.nan, 3.0], (1, "loss became NaN")),
    ([math.inf], (0, "loss became infinite")),
    ([0.5, -math.inf, math.nan], (1, "loss became infinite")),
])
def test_loss_divergence(losses, expected):
    assert loss_divergence(losses) == expected


@pytest.mark.parametrize("values,nan,inf,finite", [
    ([math.nan] * 4, 4, 0, 0),
    ([math.inf, -math.inf, 1.0, 2.0], 0, 2, 2),
    ([3e38, 3e38, 3e38, 3e38], 0, 0, 4),  # all equal and huge: the bins still have a width
    ([math.nan, 0.0, 0.0, 0.0], 1, 0, 3),
])
def test_state_statistics_of_non_finite_values(values, nan, inf, finite):
    model = torch.nn.Linear(2, 2, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.state[model.weight]["momentum_buffer"] = torch.tensor(values).reshape(2, 2)
    for log10 in (False, True):
        (s,) = layer_state_stats(model, opt, "momentum_buffer", log10=log10)
        assert (s["nan"], s["inf"], int(s["counts"].sum())) == (nan, inf, finite)
        assert math.isnan(s["mean"]) == (finite == 0)
        state_histograms_figure([s], "momentum_buffer")
