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


def test_the_jobs_someone_waits_for_run_first_longest_waiting_first(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(ahead, "clock", lambda: now[0])
    order, running, gate = [], threading.Event(), threading.Event()

    def compute(key):
        order.append(key)
        if key == "busy":
            running.set()
            gate.wait(10)
        return key

    ahead.get_or_start("busy", compute)  # holds the thread while the others queue
    assert running.wait(10)
    for t, key in enumerate(["left", "a", "b"], start=1):
        now[0] = float(t)
        ahead.get_or_start(key, compute)
    now[0] = 50.0  # "b" and "a" are still asked for by their pages; nobody asks for "left" any more
    ahead.get_or_start("b", compute)
    ahead.get_or_start("a", compute)
    gate.set()
    assert ahead.wait(10)
    assert order == ["busy", "a", "b", "left"]  # "a" has waited since t=1, "b" since t=2; "left" last


def test_a_job_nobody_asks_for_any_more_is_dropped_and_queued_again_if_wanted(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(ahead, "clock", lambda: now[0])
    calls, running, gate = [], threading.Event(), threading.Event()

    def compute(key):
        calls.append(key)
        if key == "busy":
            running.set()
            gate.wait(10)
        return key

    ahead.get_or_start("busy", compute)
    assert running.wait(10)
    ahead.get_or_start("abandoned", compute)
    now[0] = ahead.STALE_S + 1
    dropped = ahead.dropped()
    gate.set()
    assert ahead.wait(10)
    assert calls == ["busy"] and ahead.dropped() == dropped + 1
    assert ahead.get_or_start("abandoned", compute) is None  # wanted again: queued again
    assert ahead.wait(10) and ahead.get_or_start("abandoned", compute) == "abandoned"
