"""The Lion lesson against lion-pytorch (the reference package) and the sign rule by hand."""

import numpy as np
import pytest
import torch
from lion_pytorch import Lion as ReferenceLion

from optlab.lessons import lion_sign as lesson
from optlab.surfaces import get_surface


@pytest.mark.parametrize(("surface", "params", "lr", "beta1"), [
    ("quadratic", {"kappa": 100.0}, 0.05, 0.9),
    ("rosenbrock", {}, 0.01, 0.5),
    ("booth", {}, 0.1, 0.0),
])
def test_surface_run_equals_lion_pytorch_and_every_step_is_lr(surface, params, lr, beta1):
    out = lesson.sign_run(surface, lr, 60, beta1=beta1, surface_params=params)
    f = get_surface(surface, **params)
    p = torch.tensor(f.start, dtype=torch.float64, requires_grad=True)
    ref = ReferenceLion([p], lr=lr, betas=(beta1, 0.99))
    path = [p.detach().clone()]
    for _ in range(60):
        ref.zero_grad()
        f(p).backward()
        ref.step()
        path.append(p.detach().clone())
    np.testing.assert_allclose(out["path"], torch.stack(path).numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["ratios"], 1.0, rtol=1e-9)  # |Δθ_i| = lr, every coordinate, every step
    assert out["ratios"].shape == (60, 2) and len(out["losses"]) == 60


def test_in_the_net_every_lion_step_is_lr_and_adam_steps_spread():
    ratios = lesson.net_step_ratios(1e-3, steps=10)
    net, _, _ = lesson.small_net()
    n = sum(p.numel() for p in net.parameters())
    assert len(ratios["Lion"]) == len(ratios["Adam"]) == n == 4 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert lesson.share_at_exactly_lr(ratios["Lion"]) == 1.0
    assert lesson.share_at_exactly_lr(ratios["Adam"]) < 0.5
    assert ratios["Adam"].std() > 0.05


def test_the_net_ratios_equal_lion_pytorch_on_the_same_net():
    ratios = lesson.net_step_ratios(1e-2, steps=5, seed=3)
    net, x, y = lesson.small_net(3)
    ref = ReferenceLion(net.parameters(), lr=1e-2)
    for _ in range(5):
        before = torch.cat([p.detach().reshape(-1).clone() for p in net.parameters()])
        ref.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        ref.step()
    after = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    np.testing.assert_allclose(ratios["Lion"], ((after - before).abs() / 1e-2).numpy(), rtol=1e-12)


@pytest.mark.parametrize(("ratios", "share"), [
    ([1.0, 1.0, 1.0, 1.0], 1.0),
    ([1.0, 0.5, 1.0 + 1e-12, 0.0], 0.5),
    ([0.9, 1.1], 0.0),
])
def test_share_at_exactly_lr(ratios, share):
    assert lesson.share_at_exactly_lr(np.array(ratios)) == share
