"""Tests for optlab.ema: the decay schedule alone, then the lerp updates against hand values and torch's own EMA."""

import math

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from optlab.ema import ModelEMA, TensorEMA, ema_decay

# (updates, decay, tau, expected d) — expected values worked out by hand from d = decay·(1 − e^(−t/τ))
DECAY_CASES = [
    (0, 0.9, 0.0, 0.9),  # τ = 0: no warm-up
    (7, 0.99, 0.0, 0.99),
    (0, 0.9999, 2000.0, 0.0),  # nothing averaged yet
    (1, 0.5, 1.0, 0.5 * (1 - 1 / math.e)),  # 0.316060...
    (2000, 0.9999, 2000.0, 0.9999 * (1 - math.exp(-1))),  # one time constant: 63.2% of the way
    (10**6, 0.9999, 2000.0, 0.9999),  # fully warmed up (e^−500 underflows the difference)
]


@pytest.mark.parametrize("updates, decay, tau, expected", DECAY_CASES)
def test_ema_decay_values(updates, decay, tau, expected):
    assert ema_decay(updates, decay, tau) == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_ema_decay_literal_value():
    assert ema_decay(1, 0.5, 1.0) == pytest.approx(0.31606027941427883, rel=1e-15)


def test_warmup_curve_rises_monotonically_to_decay():
    curve = [ema_decay(t, 0.999, 50.0) for t in range(0, 2000)]
    assert curve[0] == 0.0
    assert all(a < b for a, b in zip(curve[:500], curve[1:500], strict=False))
    assert all(a <= b <= 0.999 for a, b in zip(curve, curve[1:], strict=False))
    assert curve[-1] == pytest.approx(0.999, abs=1e-12)  # e^(−40) of the way left
    # the ramp is half-way at t = τ·ln 2 (τ = 1000/ln 2 puts that at t = 1000)
    assert ema_decay(1000, 0.999, 1000 / math.log(2)) == pytest.approx(0.4995, rel=1e-12)


@pytest.mark.parametrize(
    "args, fragment",
    [((1, 1.5, 0.0), "decay"), ((1, -0.1, 0.0), "decay"), ((1, 0.9, -1.0), "tau"),
     ((1, 0.9, math.inf), "tau"), ((-1, 0.9, 1.0), "updates"), ((1, math.nan, 1.0), "decay")],
)
def test_ema_decay_rejects_bad_arguments(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        ema_decay(*args)


def test_tensor_ema_hand_values():
    ema = TensorEMA(torch.tensor([0.0, 4.0]), decay=0.5)
    # avg ← ½·avg + ½·x
    assert ema.update(torch.tensor([1.0, 0.0])).tolist() == [0.5, 2.0]
    assert ema.update(torch.tensor([1.0, 0.0])).tolist() == [0.75, 1.0]
    assert ema.update(torch.tensor([1.0, 0.0])).tolist() == [0.875, 0.5]
    assert ema.updates == 3


def test_tensor_ema_with_warmup_uses_the_schedule():
    ema = TensorEMA(torch.tensor(10.0), decay=0.9, tau=3.0)
    expected = 10.0
    for t, x in enumerate([2.0, -1.0, 5.0, 0.5], start=1):
        d = 0.9 * (1 - math.exp(-t / 3.0))
        expected = d * expected + (1 - d) * x
        assert ema.update(torch.tensor(x)).item() == pytest.approx(expected, rel=1e-6)
        assert ema.decay_now == pytest.approx(d)


@pytest.mark.parametrize("d", [0.5, 0.9, 0.99])
def test_lag_on_a_linear_ramp(d):
    """On w_t = c·t the lag obeys L_t = d·(L_{t−1} + c), so L_t = c·d·(1 − d^t)/(1 − d) → c·d/(1 − d)."""
    c = 0.25
    ema = TensorEMA(torch.tensor(0.0, dtype=torch.float64), decay=d)
    for t in range(1, 4001):
        avg = ema.update(torch.tensor(c * t, dtype=torch.float64)).item()
        if t in (1, 10, 100, 4000):
            assert c * t - avg == pytest.approx(c * d * (1 - d**t) / (1 - d), rel=1e-9)
    assert c * 4000 - avg == pytest.approx(c * d / (1 - d), rel=1e-9)
    if d == 0.99:
        assert (c * 4000 - avg) / c == pytest.approx(99.0)  # "99 steps' worth": d/(1 − d) at d = 0.99


def test_tensor_ema_batched_rows_are_independent():
    gen = torch.Generator().manual_seed(0)
    init = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    xs = torch.randn(8, 5, 2, generator=gen, dtype=torch.float64)
    batched = TensorEMA(init, decay=0.8, tau=2.0)
    singles = [TensorEMA(init[r], decay=0.8, tau=2.0) for r in range(5)]
    for x in xs:
        out = batched.update(x)
        rows = torch.stack([s.update(x[r]) for r, s in enumerate(singles)])
    assert out.shape == (5, 2)
    torch.testing.assert_close(out, rows, rtol=0, atol=0)


def test_tensor_ema_returns_copies_and_does_not_alias_its_input():
    init = torch.zeros(2)
    ema = TensorEMA(init, decay=0.5)
    init += 100  # changing the caller's tensor must not move the average
    out = ema.update(torch.ones(2))
    out += 100  # nor must changing the returned one
    assert ema.value.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="shape"):
        ema.update(torch.ones(3))


def test_tensor_ema_of_integers_averages_in_float():
    ema = TensorEMA(torch.tensor([0, 0]), decay=0.5)
    assert ema.update(torch.tensor([1, 3])).tolist() == [0.5, 1.5]


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))


def _train_step(model: nn.Module, seed: int) -> None:
    model.train()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 3, generator=gen)
    model.zero_grad()
    model(x).pow(2).mean().backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad


def test_model_ema_copy_is_frozen_and_separate():
    model = _model()
    ema = ModelEMA(model, decay=0.9, tau=0)
    assert ema.module is not model and not ema.module.training and model.training
    assert all(not p.requires_grad for p in ema.module.parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert ema.updates == 0


def test_model_ema_update_by_hand():
    model = _model()
    ema = ModelEMA(model, decay=0.9, tau=5.0)
    before = {k: v.clone() for k, v in ema.module.state_dict().items()}
    _train_step(model, seed=1)
    ema.update(model)
    d = 0.9 * (1 - math.exp(-1 / 5.0))
    assert ema.decay_now == pytest.approx(d)
    after, now = ema.module.state_dict(), model.state_dict()
    for k, v in after.items():
        if v.is_floating_point():
            torch.testing.assert_close(v, d * before[k] + (1 - d) * now[k])
        else:
            assert torch.equal(v, now[k])  # counts are copied, not averaged
    assert now["1.num_batches_tracked"].item() == 1
    assert after["1.num_batches_tracked"].item() == 1
    # the running mean is a float buffer, so it is averaged (and it did change in training)
    assert not torch.equal(after["1.running_mean"], now["1.running_mean"])


def test_model_ema_matches_torch_averaged_model():
    model = _model()
    ours = ModelEMA(model, decay=0.8, tau=0)
    theirs = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True)
    theirs.update_parameters(model)  # torch's first call copies the model, as our constructor does
    for step in range(6):
        _train_step(model, seed=step)
        ours.update(model)
        theirs.update_parameters(model)
    for (k, a), b in zip(ours.module.state_dict().items(), theirs.module.state_dict().values(), strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, msg=k)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(9))
    theirs.eval()
    torch.testing.assert_close(ours.module(x), theirs(x))


def test_model_ema_state_dict_round_trip():
    model = _model()
    ema = ModelEMA(model, decay=0.95, tau=3.0)
    for step in range(3):
        _train_step(model, seed=step)
        ema.update(model)
    state = ema.state_dict()
    assert state["updates"] == 3
    restored = ModelEMA(_model(seed=1), decay=0.5, tau=0)
    restored.load_state_dict(state)
    assert (restored.updates, restored.decay, restored.tau) == (3, 0.95, 3.0)
    _train_step(model, seed=7)
    ema.update(model)
    restored.update(model)
    for a, b in zip(ema.module.state_dict().values(), restored.module.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "change, fragment",
    [({"updates": -1}, "updates"), ({"updates": 1.5}, "updates"), ({"decay": 2.0}, "decay")],
)
def test_model_ema_load_refuses_bad_state(change, fragment):
    ema = ModelEMA(_model(), decay=0.9, tau=0)
    state = {**ema.state_dict(), **change}
    with pytest.raises(ValueError, match=fragment):
        ema.load_state_dict(state)
    state = ema.state_dict()
    del state["tau"]
    with pytest.raises(ValueError, match="tau"):
        ema.load_state_dict(state)


def test_model_ema_refuses_a_different_model():
    ema = ModelEMA(_model(), decay=0.9)
    with pytest.raises(ValueError, match="does not match"):
        ema.update(nn.Linear(3, 1))


def test_model_ema_warmup_tracks_the_model_closely_at_first():
    model = _model()
    ema = ModelEMA(model, decay=0.9999, tau=2000)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    d = 0.9999 * (1 - math.exp(-1 / 2000))  # about 5e-4: the average jumps almost all the way
    assert d < 1e-3
    w = model.state_dict()["0.weight"]
    torch.testing.assert_close(ema.module.state_dict()["0.weight"], w - d * 1.0)
