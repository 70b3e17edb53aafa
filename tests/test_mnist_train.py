"""The MNIST training loop: it learns, it is deterministic, runs share weights and batches, accumulation and
decoupled decay mean what they say, and optlab's Adam matches a plain torch.optim.Adam loop."""

import pytest
import torch
import torch.nn.functional as F

from optlab.mnist.accumulation import accumulation_gap
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.events import DoneEvent, EvalEvent, StartEvent, StepsEvent
from optlab.mnist.groups import param_groups
from optlab.mnist.models import build_model
from optlab.mnist.train import Trainer, epoch_order, evaluate

# one torch thread for the whole module; `digits` and `small` come from conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def cfg(**kw) -> TrainConfig:
    base = dict(runs=(RunSpec.of("adam", lr=1e-3),), width=32, epochs=2, batch_size=32)
    base.update(kw)
    return TrainConfig(**base)


def params(trainer, r=0):
    return [p.detach().clone() for p in trainer.runs[r].model.parameters()]


def test_training_lowers_the_loss_and_learns(small):
    t = Trainer(small, cfg(epochs=3), device="cpu")
    assert t.run()
    loss = t.history.loss[0]
    k = t.steps_per_epoch
    assert sum(loss[-k:]) / k < 0.5 * sum(loss[:k]) / k
    assert t.history.test_acc[0][0] < 0.3 < 0.75 < t.history.test_acc[0][-1]


def test_deterministic_for_a_seed_and_different_for_another(small):
    a, b, c = (Trainer(small, cfg(seed=s), device="cpu") for s in (3, 3, 4))
    for t in (a, b, c):
        t.run()
    assert a.history.to_json() == b.history.to_json()
    assert all(torch.equal(p, q) for p, q in zip(params(a), params(b), strict=True))
    assert a.history.loss != c.history.loss


def test_runs_share_initial_weights_and_batch_order(small):
    # the same optimizer in two slots must give the very same numbers
    spec = RunSpec.of("momentum", lr=0.05)
    t = Trainer(small, cfg(runs=(spec, spec, RunSpec.of("adam", lr=1e-3))), device="cpu")
    first = [params(t, r) for r in range(3)]
    assert all(torch.equal(p, q) for p, q in zip(first[0], first[2], strict=True))
    t.run()
    assert t.history.loss[0] == t.history.loss[1]
    assert t.history.loss[0] != t.history.loss[2]


def test_epoch_order_is_a_permutation_fixed_by_seed_and_epoch():
    a = epoch_order(0, 1, 50)
    assert sorted(a.tolist()) == list(range(50))
    assert torch.equal(a, epoch_order(0, 1, 50))
    assert not torch.equal(a, epoch_order(0, 2, 50)) and not torch.equal(a, epoch_order(1, 1, 50))


def test_events_come_in_order(small):
    events = []
    t = Trainer(small, cfg(epochs=1, log_every=5), device="cpu")
    t.run(listener=events.append)
    assert isinstance(events[0], StartEvent) and isinstance(events[1], EvalEvent) and isinstance(events[-1], DoneEvent)
    steps = [e for e in events if isinstance(e, StepsEvent)]
    assert steps[0].first_step == 1 and steps[-1].last_step == t.total_steps == 25
    assert [len(e.loss[0]) for e in steps] == [5] * 5
    assert events[-1].stopped is False


def test_stop_ends_before_the_next_step(small):
    t = Trainer(small, cfg(), device="cpu")
    calls = iter(range(1000))
    assert not t.run(stop=lambda: next(calls) >= 7)
    assert t.step == 7 and t.history.stopped and len(t.history.loss[0]) == 7


@pytest.mark.parametrize("k", [2, 3, 4])
def test_accumulation_gap_is_rounding_only(small, k):
    model = build_model("mlp", 32, 1, seed=0)
    gap = accumulation_gap(model, small.x_train[:48], small.y_train[:48], k)
    assert gap < 1e-6


def test_accumulation_trains_like_the_large_batch(small):
    sgd = (RunSpec.of("sgd", lr=0.1),)
    big = Trainer(small, cfg(runs=sgd, batch_size=64, accum_steps=1, epochs=1), device="cpu")
    acc = Trainer(small, cfg(runs=sgd, batch_size=16, accum_steps=4, epochs=1), device="cpu")
    assert big.total_steps == acc.total_steps == 13
    big.run()
    acc.run()
    for p, q in zip(params(big), params(acc), strict=True):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4)
    assert big.history.loss[0] == pytest.approx(acc.history.loss[0], abs=1e-5)
    # and it is not trivially so: a batch of 16 without accumulation ends elsewhere
    small_batch = Trainer(small, cfg(runs=sgd, batch_size=16, epochs=1), device="cpu")
    small_batch.run()
    assert max((p - q).abs().max().item() for p, q in zip(params(big), params(small_batch), strict=True)) > 1e-3


def test_decoupled_decay_on_adam_is_torch_adamw(small):
    t = Trainer(small, cfg(epochs=1, weight_decay=0.1, wd_mode="decoupled"), device="cpu")
    t.run()
    model = build_model("mlp", 32, 1, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    for i in range(t.total_steps):
        idx = epoch_order(0, 0, small.n_train)[i * 32 : (i + 1) * 32]
        opt.zero_grad()
        F.cross_entropy(model(small.x_train[idx]), small.y_train[idx]).backward()
        opt.step()
    for p, q in zip(params(t), model.parameters(), strict=True):
        torch.testing.assert_close(p, q.detach(), atol=1e-6, rtol=1e-5)


GROUP_CASES = [
    # (head_lr_mult, no_decay_bias, wd, mode) -> [(name, overrides)]
    ((1.0, False, 0.0, "optimizer"), [("all", {})]),
    ((1.0, True, 0.0, "optimizer"), [("weights", {}), ("biases", {"weight_decay": 0.0})]),
    ((10.0, False, 0.0, "optimizer"), [("body", {}), ("head", {"lr": 0.1})]),
    ((1.0, True, 0.01, "l2"), [("weights", {"weight_decay": 0.01}), ("biases", {"weight_decay": 0.0})]),
    ((1.0, False, 0.01, "decoupled"), [("all", {"weight_decay": 0.0, "decoupled_wd": 0.01})]),
]


@pytest.mark.parametrize("args,expected", GROUP_CASES)
def test_param_groups(args, expected):
    model = build_model("mlp", 8, 1)
    groups = param_groups(model, 0.01, *args)
    got = [(g["name"], {k: v for k, v in g.items() if k not in ("params", "name")}) for g in groups]
    assert got == expected
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_ema_has_its_own_accuracy_curve(small):
    t = Trainer(small, cfg(ema_decay=0.9, ema_tau=0.0), device="cpu")
    t.run()
    assert len(t.history.ema_acc[0]) == len(t.history.test_acc[0]) == 3
    ema, model = t.runs[0].ema.module, t.runs[0].model
    assert t.history.ema_acc[0][-1] == evaluate(ema, small.x_test, small.y_test)[0]
    assert any(not torch.equal(p, q) for p, q in zip(ema.parameters(), model.parameters(), strict=True))


@pytest.mark.parametrize("bad,match", [
    (dict(runs=()), "Between 1 and 4"),
    (dict(batch_size=0), "Batch size must be one of 8, 16, 32, 64, 128, 256, 512; got 0"),
    (dict(epochs=0), "Epochs must be between 1 and 20; got 0"),
    (dict(epochs=2.0), "Epochs must be a whole number, got 2.0"),
    (dict(width=True), "Hidden width must be a whole number, got True"),
    (dict(wd_mode="l3"), "Weight decay must be one of optimizer, l2, decoupled; got 'l3'"),
    (dict(weight_decay=True), "Weight decay λ must be a finite number, got True"),
    (dict(ema_decay=1.0), "EMA decay must be one of 0.9, 0.95, 0.99, 0.995, 0.999; got 1.0"),
    (dict(ema_decay=float("nan")), "EMA decay must be a finite number, got nan"),
    (dict(model="rnn"), "Model must be one of mlp, cnn; got 'rnn'"),
    (dict(no_decay_bias=1), "No weight decay on biases must be true or false, got 1"),
    (dict(seed=-1), "Seed must be between 0 and 2,147,483,647; got -1"),
    (dict(schedule="cosine", schedule_params=(("min_fraction", True),)), "must be a number between 0 and 1; got True"),
    (dict(schedule="cosine", schedule_params=(("gamma", 0.5),)), "has no parameter 'gamma'"),
    (dict(runs=(RunSpec.of("momentum", momentum=5.0),)), "momentum=5 is outside the allowed range [0, 0.999]"),
    (dict(runs=(RunSpec.of("adam", lr=True),)), "lr must be a number, got True"),
    (dict(runs=(RunSpec.of("adam", impl="jax"),)), "unknown implementation 'jax'"),
])
def test_bad_configs_are_refused_clearly(small, bad, match):
    with pytest.raises(ValueError) as caught:
        Trainer(small, cfg(**bad), device="cpu")
    assert match in str(caught.value)


def test_optlab_adam_matches_a_plain_torch_loop(digits):
    """Same split, seed and model: optlab's Adam(lr=1e-3) ends with exactly torch.optim.Adam's accuracy."""
    config = TrainConfig(runs=(RunSpec.of("adam", lr=1e-3),), epochs=3, batch_size=64)
    t = Trainer(digits, config, device="cpu")
    t.run()
    # a plain PyTorch loop, written out
    model = build_model("mlp", 128, 1, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(3):
        order = epoch_order(0, epoch, digits.n_train)
        for idx in order.split(64):
            opt.zero_grad()
            F.cross_entropy(model(digits.x_train[idx]), digits.y_train[idx]).backward()
            opt.step()
    acc, _ = evaluate(model, digits.x_test, digits.y_test)
    assert t.history.test_acc[0][-1] == acc
    assert 0.85 < acc < 0.97


@pytest.mark.parametrize("schedule,params", [
    ("cosine", (("min_fraction", 0.5),)),
    ("warmup_cosine", (("min_fraction", 0.5), ("start_factor", 0.1), ("warmup_fraction", 0.2))),
])
@pytest.mark.parametrize("head", [0.1, 10.0])
def test_last_layer_lr_groups_end_at_their_own_cosine_floor(small, schedule, params, head):
    """Body at lr, head at lr·head: a cosine floor of half the lr ends each group at half its own lr."""
    lr = 0.01
    t = Trainer(small, cfg(runs=(RunSpec.of("sgd", lr=lr),), epochs=1, head_lr_mult=head, schedule=schedule,
                           schedule_params=params), device="cpu")
    names = [g["name"] for g in t.runs[0].optimizer.param_groups]
    assert names == ["body", "head"]
    t.run()
    last = t.history.lr[0][-1]  # the lr each group used on the last step
    assert last == pytest.approx([0.5 * lr, 0.5 * lr * head], rel=1e-9)
    assert t.history.lr[0][0][1] / t.history.lr[0][0][0] == pytest.approx(head)


def test_schedule_free_is_evaluated_at_its_average_and_trains_on(digits):
    """eval() before the test set, train() after: the evaluated weights are x, training goes on from y."""
    import dataclasses

    config = dataclasses.replace(TrainConfig(), runs=(RunSpec.of("schedule_free", "SF", lr=2.5e-3),), epochs=1)
    trainer = Trainer(digits, config, "cpu")
    seen = []
    trainer.run(listener=lambda e: seen.append(e))
    run = trainer.runs[0]
    acc_train_point = evaluate(run.model, digits.x_test, digits.y_test)[0]
    run.optimizer.eval()
    acc_average = evaluate(run.model, digits.x_test, digits.y_test)[0]
    run.optimizer.train()
    last = [e for e in seen if isinstance(e, EvalEvent)][-1]
    assert acc_average != acc_train_point  # the two points really differ, so the check below means something
    assert last.test_acc[0] == pytest.approx(acc_average)  # what the page shows is the average's accuracy
    assert evaluate(run.model, digits.x_test, digits.y_test)[0] == pytest.approx(acc_train_point)  # put back
