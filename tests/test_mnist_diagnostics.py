"""Live diagnostics of the MNIST loop, each against an independent computation: per-layer gradient norms and
update/weight ratios, the confusion matrix, a mid-run lr change by editing param_groups or by a new optimizer,
and the learning-rate range test with its stated rule."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from optlab.mnist.checkpoint import load_checkpoint, save_checkpoint
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.diagnostics import confusion_matrix
from optlab.mnist.history import History
from optlab.mnist.lr_range import LrRangeComputation, lr_at, propose, smooth
from optlab.mnist.train import Trainer, batch_indices, epoch_order, predict

pytestmark = pytest.mark.usefixtures("one_thread")


MOMENTUM = (RunSpec.of("momentum", lr=0.05),)


def cfg(runs=MOMENTUM, **kw) -> TrainConfig:
    base = dict(runs=tuple(runs), width=16, epochs=1, batch_size=32, log_every=5)
    base.update(kw)
    return TrainConfig(**base)


def batch(small, config, step):
    """The batch of 1-based optimizer step `step` (first epoch)."""
    (m,) = batch_indices(epoch_order(config.seed, 0, small.n_train), step - 1, config.batch_size, 1)
    return small.x_train[m], small.y_train[m]


def test_grad_norms_and_update_ratios_equal_a_separate_computation(small):
    config = cfg(runs=(RunSpec.of("momentum", lr=0.05), RunSpec.of("adam", lr=1e-3)))
    t = Trainer(small, config, device="cpu")
    t.run(stop=lambda: t.step >= 9)
    models = [copy.deepcopy(r.model) for r in t.runs]
    t.run(stop=lambda: t.step >= 10)  # step 10 is sampled (log_every = 5)
    k = t.history.diag_step.index(10)
    assert t.history.diag_step[:3] == [1, 5, 10]
    assert t.history.param_names == ["fc1.weight", "fc1.bias", "head.weight", "head.bias"]
    x, y = batch(small, config, 10)
    for r, (model, run) in enumerate(zip(models, t.runs, strict=True)):
        F.cross_entropy(model(x), y).backward()
        want = [torch.linalg.vector_norm(p.grad).item() for p in model.parameters()]
        assert t.history.grad_norm[r][k] == pytest.approx(want, rel=1e-5)
        ratio = [torch.linalg.vector_norm(q.detach() - p.detach()).item() / torch.linalg.vector_norm(p).item()
                 for p, q in zip(model.parameters(), run.model.parameters(), strict=True)]
        assert t.history.update_ratio[r][k] == pytest.approx(ratio, rel=1e-4)


def test_diagnostics_survive_the_history_file_and_an_old_file_still_loads(small):
    t = Trainer(small, cfg(), device="cpu")
    t.run()
    again = History.from_json(t.history.to_json())
    assert again.grad_norm == t.history.grad_norm and again.diag_step == t.history.diag_step
    import json

    old = json.loads(t.history.to_json())
    for name in ("grad_norm", "update_ratio", "param_names", "diag_step", "lr_change"):
        old.pop(name)
    assert History.from_json(json.dumps(old)).grad_norm == [[]]


def test_confusion_matrix_is_a_plain_count(small):
    t = Trainer(small, cfg(), device="cpu")
    t.run()
    preds = predict(t.runs[0].model, small.x_test)
    c = confusion_matrix(preds, small.y_test)
    plain = [[0] * 10 for _ in range(10)]
    for truth, guess in zip(small.y_test.tolist(), preds.tolist(), strict=True):
        plain[truth][guess] += 1
    assert c.tolist() == plain
    assert c.trace().item() / c.sum().item() == pytest.approx(t.history.test_acc[0][-1])


def manual_sgd(small, config, steps, k, factor, rebuild):
    """torch.optim.SGD by hand: k steps, then the lr times `factor` in param_groups or in a new SGD."""
    from optlab.mnist.models import build_model

    model = build_model("mlp", config.width, config.depth, seed=config.seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for s in range(1, steps + 1):
        if s == k + 1:
            if rebuild:
                opt = torch.optim.SGD(model.parameters(), lr=0.05 * factor, momentum=0.9)
            else:
                for g in opt.param_groups:
                    g["lr"] *= factor
        x, y = batch(small, config, s)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model, opt


def test_a_mid_run_lr_change_by_param_groups_or_by_a_new_optimizer_is_torchs(small):
    runs = (RunSpec.of("momentum", "edit", lr=0.05, momentum=0.9),
            RunSpec.of("momentum", "new", lr=0.05, momentum=0.9, lr_change="rebuild"))
    config = cfg(runs=runs, lr_change_step=6, lr_change_factor=3.0)
    t = Trainer(small, config, device="cpu")
    t.run(stop=lambda: t.step >= 12)
    assert t.history.lr_change == {"step": 6, "how": ["edit", "rebuild"]}
    assert t.history.lr[0][5] == [0.05] and t.history.lr[0][6] == pytest.approx([0.15])
    assert t.history.loss[0][:7] == t.history.loss[1][:7]  # the same until the first step after the change
    assert t.history.loss[0][7] != t.history.loss[1][7]  # then the new optimizer's lost momentum shows
    for r, rebuild in ((0, False), (1, True)):
        model, opt = manual_sgd(small, config, 12, 6, 3.0, rebuild)
        for p, q in zip(t.runs[r].model.parameters(), model.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


def test_a_checkpoint_past_a_rebuild_resumes_to_the_unbroken_numbers(small):
    runs = (RunSpec.of("adam", lr=1e-3, lr_change="rebuild"), RunSpec.of("adam", lr=1e-3))
    config = cfg(runs=runs, lr_change_step=4, lr_change_factor=0.1)
    whole = Trainer(small, config, device="cpu")
    whole.run()
    part = Trainer(small, config, device="cpu")
    part.run(stop=lambda: part.step >= 9)
    resumed = load_checkpoint(save_checkpoint(part), small, "cpu")
    resumed.run()
    assert resumed.history.loss == whole.history.loss


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (dict(lr_change_step=5, schedule="cosine"), "needs the constant schedule"),
        (dict(lr_change_factor=2.0), "Multiply the learning rate by must be one of"),
        (dict(lr_change_step=-1), "must be between 0 and"),
        (dict(runs=(RunSpec.of("adam", lr_change="sideways"),)), "edit or rebuild"),
    ],
)
def test_bad_lr_change_settings_are_refused_clearly(changes, match):
    with pytest.raises(ValueError, match=match):
        cfg(**changes).validate()


def test_range_test_rule_and_smoothing():
    losses = [2.0, 1.0, 0.5, 0.4, 3.0]
    s = smooth(losses, beta=0.5)
    avg, want = 0.0, []
    for i, v in enumerate(losses):
        avg = 0.5 * avg + 0.5 * v
        want.append(avg / (1 - 0.5 ** (i + 1)))
    assert s == pytest.approx(want)
    lrs = [lr_at(i, 5, 1e-4, 1.0) for i in range(5)]
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert propose(lrs, [3.0, 2.0, 1.0, 0.5, math.nan]) == pytest.approx(1e-2)
    assert propose(lrs, [math.nan] * 5) is None


def test_range_test_equals_a_hand_loop_and_proposes_a_learning_rate_that_trains(small):
    config = cfg(runs=(RunSpec.of("sgd", lr=0.1),), epochs=3)
    job = LrRangeComputation(small, config, steps=60, lr_min=1e-4, lr_max=10.0)
    assert job.run()
    res = job.result
    from optlab.mnist.models import build_model

    model = build_model("mlp", config.width, config.depth, seed=config.seed)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    spe = config.steps_per_epoch(small.n_train)
    for i in range(len(res.losses)):
        epoch, j = divmod(i, spe)
        (m,) = batch_indices(epoch_order(config.seed, epoch, small.n_train), j, config.batch_size, 1)
        opt.param_groups[0]["lr"] = 1e-4 * (1e5) ** (i / 59)
        opt.zero_grad()
        loss = F.cross_entropy(model(small.x_train[m]), small.y_train[m])
        loss.backward()
        opt.step()
        assert res.losses[i] == pytest.approx(loss.item(), rel=1e-5)
    assert res.proposal == pytest.approx(res.lrs[min(range(len(res.smoothed)), key=res.smoothed.__getitem__)] / 10)
    t = Trainer(small, cfg(runs=(RunSpec.of("sgd", lr=res.proposal),), epochs=2), device="cpu")
    t.run()
    assert t.history.test_acc[0][-1] > 0.6
