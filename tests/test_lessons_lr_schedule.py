"""The lesson on the learning rate during training: in-place edits vs a new optimizer, and torch's schedulers."""

import numpy as np
import pytest
import torch

from optlab.lessons import lr_schedule

# ---- the learning rate during training -----------------------------------------------------------------------


@pytest.mark.parametrize(("lr", "new_lr", "switch_at"), [(0.05, 0.01, 10), (0.1, 0.02, 5)])
def test_rebuilding_the_optimizer_loses_momentum(lr, new_lr, switch_at):
    runs = lr_schedule.change_lr_midway(lr, new_lr, 0.9, switch_at, 30)
    kept, rebuilt = runs["edit in place"], runs["new optimizer"]
    np.testing.assert_array_equal(kept[: switch_at + 1], rebuilt[: switch_at + 1])
    # the rebuilt run continues exactly like a fresh torch SGD started where the switch happened
    p = torch.tensor(rebuilt[switch_at], dtype=torch.float32, requires_grad=True)
    opt = torch.optim.SGD([p], lr=new_lr, momentum=0.9)
    for t in range(switch_at, 30):
        opt.zero_grad()
        lr_schedule.bowl(p).backward()
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), rebuilt[t + 1], rtol=1e-5, atol=1e-6)
    # its first step is plain gradient descent, new_lr * g; the edited run's step also carries the old buffer
    x, y = rebuilt[switch_at]
    plain = new_lr * np.hypot(x, 10 * y)  # |grad| of (x^2 + 10 y^2) / 2
    step = lambda path: np.linalg.norm(path[switch_at + 1] - path[switch_at])
    assert step(rebuilt) == pytest.approx(plain, rel=1e-5)
    assert abs(step(kept) - plain) > 0.1 * plain


def test_at_the_pages_defaults_the_kept_momentum_takes_the_larger_step():
    runs = lr_schedule.change_lr_midway(0.05, 0.01, 0.9, 10, 60)
    step = lambda path: np.linalg.norm(path[11] - path[10])
    assert step(runs["edit in place"]) > 2 * step(runs["new optimizer"])


def test_constant_schedule_keeps_lr():
    run = lr_schedule.scheduled_run("constant", 0.05, 0.9, 20)
    np.testing.assert_array_equal(run["lrs"], np.full(20, 0.05))
    assert run["losses"][-1] < run["losses"][0]


@pytest.mark.parametrize("key", ["step", "exponential", "cosine", "onecycle", "warmup", "warmup_cosine"])
def test_scheduled_run_uses_the_lr_curve_of_its_schedule(key):
    run = lr_schedule.scheduled_run(key, 0.05, 0.9, 40)
    curves = lr_schedule.schedule_curves(0.05, 40)
    np.testing.assert_allclose(run["lrs"], curves[key], rtol=1e-12)
    assert not np.allclose(run["lrs"], 0.05), "a schedule changes the lr"
