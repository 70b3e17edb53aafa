"""The Adafactor lesson: state sizes against torch.optim's real state tensors and the rows + cols count, and the
factored estimate against torch.optim.Adafactor's own row and column averages and a full moving average by hand."""

import math

import numpy as np
import pytest
import torch

from optlab.lessons import adafactor_memory as lesson


def expected_factored(shape: tuple[int, ...]) -> int:
    """rows + cols per matrix (a tensor of more dimensions: one per leading index); a vector keeps all of it."""
    if len(shape) < 2:
        return math.prod(shape)
    return math.prod(shape[:-2]) * (shape[-2] + shape[-1])


@pytest.mark.parametrize("shape", [(784, 128), (128, 10), (7,), (5, 3, 4), (64, 3, 3, 3)])
def test_state_sizes_match_torch_and_the_count(shape):
    (row,) = lesson.state_memory([shape])
    n = math.prod(shape)
    for name, cls in (("Adafactor", torch.optim.Adafactor), ("Adam", torch.optim.Adam)):
        p = torch.zeros(shape, requires_grad=True)
        opt = cls([p])
        p.grad = torch.ones(shape)
        opt.step()
        numbers = sum(v.numel() for k, v in opt.state[p].items() if k != "step")
        assert row[f"{name} state"] == numbers
    assert row["Adafactor state"] == expected_factored(shape)
    assert row["Adam state"] == 2 * n
    assert row["parameters"] == n
    assert row["Adafactor keys"] == ("variance" if len(shape) == 1 else "row_var, col_var")


def test_the_default_table_shows_the_big_saving():
    rows = {r["shape"]: r for r in lesson.state_memory()}
    big = rows["4096 × 1024"]
    assert big["Adafactor state"] == 4096 + 1024 and big["Adam state"] == 2 * 4096 * 1024


@pytest.mark.parametrize("noise", [0.0, 0.3, 1.0])
def test_factored_estimate_equals_torchs_and_full_v_is_the_moving_average(noise):
    rows, cols, steps = 6, 9, 15
    out = lesson.factored_vs_full(rows, cols, steps, noise, seed=2)
    grads = lesson.gradients(rows, cols, steps, noise, seed=2)
    p = torch.zeros(rows, cols, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.Adafactor([p], lr=0.01)
    full = torch.zeros(rows, cols, dtype=torch.float64)
    for t in range(1, steps + 1):
        p.grad = grads[t - 1].clone()
        ref.step()
        beta2_hat = 1 - t ** -0.8  # torch.optim.Adafactor, beta2_decay = -0.8
        full = beta2_hat * full + (1 - beta2_hat) * grads[t - 1] ** 2
    r, c = ref.state[p]["row_var"], ref.state[p]["col_var"]
    eps1 = torch.finfo(torch.float64).eps
    np.testing.assert_allclose(out["factored"], (r @ c / r.mean().clamp(min=eps1)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(out["full"], full.numpy(), rtol=1e-12)
    assert out["stored"] == rows + cols and out["full_size"] == rows * cols


def test_rank_one_squares_are_rebuilt_exactly_and_noise_makes_the_error_grow():
    errors = [lesson.factored_vs_full(12, 16, 30, noise)["max_relative_error"] for noise in (0.0, 0.2, 0.5, 1.0)]
    assert errors[0] < 1e-12
    assert errors == sorted(errors) and errors[-1] > 0.1
