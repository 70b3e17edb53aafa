"""MNIST lab figures: downsampling keeps the curve's mean, figures hold what they should, mistakes are red."""

import numpy as np
import pytest

from optlab.mnist.history import History
from optlab.plots.training import curves_figure, digits_figure, downsample, state_histograms_figure


@pytest.mark.parametrize("n,max_points", [(10, 300), (1000, 100), (1001, 7)])
def test_downsample(n, max_points):
    x = np.arange(n, dtype=float)
    y = np.sin(x)
    xs, ys = downsample(x, y, max_points)
    assert len(xs) == min(n, max_points)
    assert xs[0] <= xs[-1] and np.all(np.diff(xs) > 0)
    if n > max_points:  # equal-size buckets of a mean-preserving average
        assert abs(ys.mean() - y.mean()) < 0.05


def history(n_runs=2, steps=50, ema=True) -> History:
    rng = np.random.default_rng(0)
    return History(
        labels=[f"run {r}" for r in range(n_runs)], total_steps=steps, steps_per_epoch=10,
        step=list(range(1, steps + 1)),
        loss=[list(rng.random(steps) + 0.1) for _ in range(n_runs)],
        lr=[[[0.1, 0.3]] * steps for _ in range(n_runs)],
        norm_step=[10, 20, 30, 40, 50], weight_norm=[[1, 2, 3, 4, 5] for _ in range(n_runs)],
        eval_step=[0, 10, 20], test_acc=[[0.1, 0.8, 0.9] for _ in range(n_runs)],
        test_loss=[[2.3, 0.5, 0.3] for _ in range(n_runs)],
        ema_acc=[[0.1, 0.7, 0.85] if ema else [] for _ in range(n_runs)],
    )


@pytest.mark.parametrize("n_runs,ema,expected", [(1, False, 6), (2, True, 14), (4, False, 24)])
def test_curves_figure_traces(n_runs, ema, expected):
    # per run: loss, test loss, accuracy, (EMA accuracy), lr of group 0, lr of group 1 (it differs), weight norm
    fig = curves_figure(history(n_runs, ema=ema))
    assert len(fig.data) == expected
    assert fig.data[1].x.tolist() == [0.0, 1.0, 2.0]  # eval steps shown in epochs
    assert fig.data[1].y == (2.3, 0.5, 0.3)  # the test loss has its own panel
    assert fig.layout.yaxis4.type == "log"  # the learning rate on a log axis


def test_a_saved_run_is_laid_under_the_new_one_in_grey():
    new, saved = history(1, ema=False), history(2, ema=False)
    fig = curves_figure(new, saved=saved)
    assert len(fig.data) == 6 + 12
    assert [d.name for d in fig.data[:1]] == ["saved: run 0"] and fig.data[0].line.color == "#7f7f7f"
    assert fig.data[-1].line.color != "#7f7f7f"


def test_the_total_gradient_norm_is_the_root_of_the_summed_squares():
    h = history(1, ema=False)
    h.param_names, h.diag_step = ["a", "b"], [1, 10]
    h.grad_norm, h.update_ratio = [[[3.0, 4.0], [5.0, 12.0]]], [[[1e-3, 2e-3], [1e-3, 1e-3]]]
    fig = curves_figure(h)
    assert list(fig.data[-1].y) == pytest.approx([5.0, 13.0])


def test_diagnostic_figures_hold_their_numbers():
    from optlab.plots.diagnostics import confusion_figure, layers_figure, range_test_figure

    h = history(1, ema=False)
    h.param_names, h.diag_step = ["fc1.weight", "fc1.bias"], [1, 10]
    h.grad_norm, h.update_ratio = [[[3.0, 4.0], [5.0, 12.0]]], [[[1e-3, 2e-3], [1e-4, 1e-2]]]
    fig = layers_figure(h, 0)
    assert [list(d.y) for d in fig.data] == [[3.0, 5.0], [1e-3, 1e-4], [4.0, 12.0], [2e-3, 1e-2]]
    m = np.arange(100).reshape(10, 10)
    assert confusion_figure(m).data[0].z.tolist() == m.tolist()
    fig = range_test_figure([1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0], [2.0, 1.5, 2.0], 1e-3)
    assert fig.layout.xaxis.type == "log" and list(fig.data[1].y) == [2.0, 1.5, 2.0]


def test_digits_figure_marks_mistakes():
    images = np.zeros((3, 28, 28))
    fig = digits_figure(images, labels=np.array([1, 2, 3]), preds=np.array([1, 5, 3]), cols=2)
    text = fig.data[1]
    assert list(text.text) == ["1", "5 (is 2)", "3"]
    assert list(text.textfont.color) == ["#2ca02c", "#d62728", "#2ca02c"]
    assert fig.data[0].z.shape == (2 * 36, 2 * 28)


def test_state_histograms_figure():
    counts, edges = np.histogram(np.arange(10), bins=5)
    stats = [{"name": n, "counts": counts, "edges": edges, "log10": False} for n in ("fc1.weight", "head.bias")]
    fig = state_histograms_figure(stats, "exp_avg")
    assert len(fig.data) == 2 and fig.data[0].y.tolist() == counts.tolist()
