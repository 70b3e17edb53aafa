"""Work computed ahead: started once per key, answered when ready, bounded, failures kept for the asker."""

import threading

import pytest

from optlab.ui import ahead


@pytest.fixture(autouse=True)
def fresh():
    ahead.wait(30)
    ahead.clear()
    yield
    ahead.wait(30)
    ahead.clear()


def test_a_result_is_computed_once_and_returned_when_ready():
    calls, gate = [], threading.Event()

    def compute(key):
        calls.append(key)
        gate.wait(10)
        return key.upper()

    assert ahead.get_or_start("k1", compute) is None  # started, not ready
    assert ahead.get_or_start("k1", compute) is None  # still running: not started twice
    assert ahead.pending() == 1
    gate.set()
    assert ahead.wait(10)
    assert ahead.get_or_start("k1", compute) == "K1"
    assert calls == ["k1"]


def test_failures_are_raised_to_whoever_asks():
    def boom(key):
        raise ValueError(f"cannot {key}")

    assert ahead.get_or_start("bad", boom) is None
    ahead.wait(10)
    with pytest.raises(ValueError, match="cannot bad"):
        ahead.get_or_start("bad", boom)


def test_only_the_newest_results_are_kept(monkeypatch):
    monkeypatch.setattr(ahead, "MAX_ENTRIES", 3)
    for i in range(5):
        ahead.get_or_start(f"k{i}", lambda k: k)
        ahead.wait(10)
    calls = []
    assert ahead.get_or_start("k4", lambda k: calls.append(k)) == "k4"  # kept
    assert ahead.get_or_start("k0", lambda k: calls.append(k) or k) is None  # evicted: started again
    ahead.wait(10)
    assert calls == ["k0"]
