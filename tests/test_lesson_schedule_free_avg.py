"""The schedule-free lesson against the schedulefree package: z, y and x step by step, and the averaging weights."""

import numpy as np
import pytest
import torch
from schedulefree import AdamWScheduleFree as Reference

from optlab.lessons import schedule_free_avg as lesson
from optlab.surfaces import get_surface


@pytest.mark.parametrize(("lr", "beta1", "noise"), [(0.2, 0.9, 1.0), (0.05, 0.5, 0.0), (0.5, 0.1, 2.0)])
def test_the_three_sequences_equal_the_reference_package(lr, beta1, noise):
    steps = 40
    run = lesson.three_sequences(lr, beta1, steps, noise, kappa=10.0, seed=4)
    f = get_surface("quadratic", kappa=10.0)
    gen = torch.Generator().manual_seed(4)
    p = torch.tensor(f.start, dtype=torch.float64, requires_grad=True)
    ref = Reference([p], lr=lr, betas=(beta1, 0.999))
    ref.train()
    for t in range(1, steps + 1):
        ref.zero_grad()
        f(p).backward()
        p.grad.add_(noise * torch.randn(2, generator=gen, dtype=torch.float64))
        ref.step()
        np.testing.assert_allclose(run["paths"]["y"][t], p.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run["paths"]["z"][t], ref.state[p]["z"].numpy(), rtol=1e-12, atol=1e-14)
        ref.eval()  # the parameters now hold x
        np.testing.assert_allclose(run["paths"]["x"][t], p.detach().numpy(), rtol=1e-10, atol=1e-12)
        ref.train()
    y, z, x = (run["paths"][k][1:] for k in ("y", "z", "x"))
    np.testing.assert_allclose(y, (1 - beta1) * z + beta1 * x, rtol=1e-9, atol=1e-12)


def test_without_warm_up_x_is_the_plain_mean_of_the_zs():
    run = lesson.three_sequences(0.1, 0.9, 30, 0.5)
    np.testing.assert_allclose(run["weights"], 1.0 / np.arange(1, 31), rtol=1e-12)  # c_t = 1/t
    z = run["paths"]["z"]
    np.testing.assert_allclose(run["paths"]["x"][1:], np.cumsum(z[1:], axis=0) / np.arange(1, 31)[:, None],
                               rtol=1e-9, atol=1e-12)


def test_on_a_noisy_bowl_the_average_ends_lowest():
    run = lesson.three_sequences(0.2, 0.9, 300, 1.0)
    settled = lesson.final_losses(run)
    f = get_surface("quadratic", kappa=10.0)
    for k in lesson.SEQUENCES:
        with torch.no_grad():
            by_hand = np.mean([f(torch.from_numpy(q)).item() for q in run["paths"][k][-20:]])
        assert settled[k] == pytest.approx(by_hand, rel=1e-12)
    assert settled["x"] < settled["y"] < settled["z"]
