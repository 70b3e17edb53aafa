"""The server-wide MNIST training service: a bounded worker pool, a FIFO queue, shared jobs, a result cache.

A run is fixed by its configuration and its data (training is deterministic: the same `TrainConfig` on the same
digits gives the same numbers), so identical submissions share one job and every watcher reads the same live
history. The interface is four calls, safe from any thread:

    ticket = service.submit(config, data_key, session_id)   # JobRefused (a ValueError) says why it cannot run
    view = service.status(ticket)                           # JobView: state, queue position and wait, progress,
                                                            # a copy of the history, the error of a failed job
    service.detach(ticket)                                  # Stop: this watcher leaves; nobody left = cancelled
    trainer = service.trainer(ticket)                       # the finished (or own stopped) run, to inspect, save

Other heavy work of the lab (a learning-rate range test, the network's loss landscape) goes through the same pool,
queue, sharing and cache: `submit_computation(key, build, total_steps, session)` takes a `build()` that returns an
object with `run(listener, stop) -> bool`, `step`, `finished` and `nbytes` (it reports progress as
ProgressEvents); `service.trainer(ticket)` hands back the finished object, whose `result` is what it computed.

Threads never leave this module: workers run `Trainer.run` and record its events under one lock; callers only
get copies. A watcher that stops asking for `Limits.lease_s` seconds (a closed browser tab) is dropped, so a job
nobody watches any more is cancelled even when no Stop was pressed.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace

import torch

from optlab.i18n import t, tn
from optlab.jobs import stats
from optlab.jobs.cache import BoundedCache, tensor_bytes
from optlab.jobs.limits import Limits
from optlab.mnist.config import TrainConfig
from optlab.mnist.data import Digits, load_digits
from optlab.mnist.events import Event, ProgressEvent
from optlab.mnist.history import History
from optlab.mnist.train import Trainer

QUEUED, RUNNING, DONE, STOPPED, FAILED, GONE = "queued", "running", "done", "stopped", "failed", "gone"
ACTIVE = (QUEUED, RUNNING)

# Seconds per training step (one optimizer step of one optimizer) before any job has been timed: a 784-128-10 MLP
# on batches of 64 on one core of a small server. Replaced by measured rates as jobs finish.
PRIOR_SECONDS_PER_STEP = 0.005
EXPIRE_EVERY_S = 1.0  # how often stale watchers are looked for (on a submit or a status call)
DIGITS_KEPT = 2  # data sets loaded at once (the full MNIST is about 220 MB as float32)

DataKey = tuple  # (source, folder, seed) as `load_digits` takes them
_IDS = itertools.count(1)  # job and ticket ids, unique in the process (a page may key a cache on a job id)


class JobRefused(ValueError):
    """A submission the service does not take now; the message says why and what would be accepted."""


@dataclass(frozen=True)
class Ticket:
    """What a page keeps (in its session state) to follow one submission. Small, immutable, picklable."""

    id: int
    key: Hashable | None  # the sharing key of the job; None for a private job
    session: str


@dataclass(frozen=True)
class JobView:
    """What one watcher sees of its job at one moment. `history` is a copy: read it, do not change it."""

    state: str  # queued | running | done | stopped | failed | gone
    job_id: int
    version: int  # grows with every recorded event: (job_id, version) names this history exactly
    step: int
    total_steps: int
    seconds: float  # training time so far (0 while queued)
    history: History | None
    error: str | None = None
    position: int | None = None  # 1 = next to start, while queued
    wait_s: float | None = None  # estimated seconds until it starts, while queued
    watchers: int = 0  # sessions watching (more than 1: a shared job)
    from_cache: bool = False  # a finished run served from the cache
    detached: bool = False  # this watcher left (Stop) while the job went on for others

    @property
    def running(self) -> bool:
        """Queued or training: the job is not over yet."""
        return self.state in ACTIVE

    @property
    def done(self) -> bool:
        return self.state == DONE

    @property
    def stopped(self) -> bool:
        return self.state == STOPPED

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


@dataclass(eq=False)
class _Job:
    id: int
    key: Hashable | None
    build: Callable[[], Trainer]
    total_steps: int
    n_runs: int
    history: History
    state: str = QUEUED
    step: int = 0
    start_step: int = 0
    version: int = 0
    error: str | None = None
    trainer: Trainer | None = None
    t_start: float | None = None
    t_end: float | None = None
    watchers: set[int] = field(default_factory=set)
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    copy: History | None = None  # the history copy handed out for `copy_version`
    copy_version: int = -1

    def remaining_steps(self) -> int:
        """Training steps still to do: optimizer steps left × optimizers."""
        return max(0, self.total_steps - self.step) * self.n_runs


@dataclass(eq=False)
class _Watch:
    ticket: Ticket
    job: _Job | None
    seen: float
    frozen: JobView | None = None  # set when this watcher left a job that goes on for others
    from_cache: bool = False


class TrainingService:
    """The pool, the queue, the shared jobs and the cache of finished runs. See the module docstring."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        device: torch.device | str | None = None,
        loader: Callable[..., Digits] = load_digits,
        trainer_factory: Callable[[Digits, TrainConfig], Trainer] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limits = (limits if limits is not None else Limits.from_env()).validate()
        self._device = device
        self._loader = loader
        self._make_trainer = trainer_factory or (lambda digits, config: Trainer(digits, config, self._device))
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[_Job] = deque()
        self._running: list[_Job] = []
        self._live: dict[Hashable, _Job] = {}  # queued or running jobs by sharing key
        self._cache: BoundedCache[_Job] = BoundedCache(self.limits.cache_entries, self.limits.cache_bytes)
        self._watches: dict[int, _Watch] = {}
        self._ids = _IDS
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._seconds_per_step = PRIOR_SECONDS_PER_STEP
        self._last_expiry = float("-inf")
        self._data_lock = threading.Lock()
        self._digits: OrderedDict[DataKey, Digits] = OrderedDict()

    # --- data ---------------------------------------------------------------------------------------------------

    def digits(self, data_key: DataKey) -> Digits:
        """The digits for (source, folder, seed), loaded once and shared by every session (MnistDataError if bad)."""
        data_key = tuple(data_key)
        with self._data_lock:
            hit = self._digits.get(data_key)
            if hit is not None:
                self._digits.move_to_end(data_key)
                return hit
            digits = self._loader(*data_key)
            self._digits[data_key] = digits
            while len(self._digits) > DIGITS_KEPT:
                self._digits.popitem(last=False)
            return digits

    # --- the interface ------------------------------------------------------------------------------------------

    def submit(self, config: TrainConfig, data_key: DataKey, session: str) -> Ticket:
        """Follow the run of `config` on the digits of `data_key`: a finished one from the cache, a live one
        shared with its other watchers, or a new job at the end of the queue. JobRefused says why not."""
        config.validate()
        data_key = tuple(data_key)
        digits = self.digits(data_key)
        key = ("train", config.to_json(), data_key)
        return self._submit(
            key, session, lambda: self._make_trainer(digits, config), config.total_steps(digits.n_train),
            len(config.runs), History(), 0,
        )

    def submit_trainer(self, trainer: Trainer, session: str, key: Hashable | None = None) -> Ticket:
        """Continue a prepared trainer (one resumed from a checkpoint) as a job. With a key (e.g. the checkpoint's
        digest and the data) identical resumes share one job; without one the job is this session's alone."""
        return self._submit(
            None if key is None else ("resume", key), session, lambda: trainer, trainer.total_steps,
            len(trainer.runs), trainer.history.copy(), trainer.step,
        )

    def submit_computation(self, key: Hashable, build: Callable[[], object], total_steps: int,
                           session: str) -> Ticket:
        """Follow a computation (see the module docstring), shared by everyone who submits the same key."""
        return self._submit(("compute", key), session, build, total_steps, 1, History(), 0)

    def status(self, ticket: Ticket) -> JobView:
        """What the ticket's job looks like now; also tells the service this watcher is still there."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            watch = self._watches.get(ticket.id)
            if watch is None:  # expired (or from before a restart): a finished run may still be cached
                cached = self._cache.get(ticket.key) if ticket.key is not None else None
                if cached is None:
                    return JobView(GONE, 0, 0, 0, 0, 0.0, None)
                watch = self._watches[ticket.id] = _Watch(ticket, cached, now, from_cache=True)
            watch.seen = now
            if watch.frozen is not None:
                return watch.frozen
            return self._view(watch.job, watch, now)

    def detach(self, ticket: Ticket, wait_s: float = 5.0) -> JobView:
        """Stop watching. A job nobody watches any more is cancelled: taken out of the queue, or stopped before its
        next step (this waits up to wait_s for that, so the stopped run can be inspected and saved at once)."""
        ended = None
        with self._lock:
            now = self._clock()
            watch = self._watches.get(ticket.id)
            job = watch.job if watch is not None and watch.frozen is None else None
            if job is None:
                return watch.frozen if watch is not None else JobView(GONE, 0, 0, 0, 0, 0.0, None)
            if job.state in ACTIVE:
                job.watchers.discard(ticket.id)
                if job.watchers:  # others go on watching: this watcher keeps what it saw
                    view = self._view(job, watch, now)
                    watch.frozen = replace(view, state=STOPPED, detached=True, position=None, wait_s=None)
                    watch.job = None
                else:
                    self._cancel(job)
                    if job.state == RUNNING:
                        ended = job.ended
        if ended is not None:
            ended.wait(wait_s)
        return self.status(ticket)

    def trainer(self, ticket: Ticket) -> Trainer | None:
        """The trained runs behind a finished job, or behind the stopped job this watcher was the last one of.

        Shared by every watcher of that job: read it (inspect, predict, save a checkpoint), do not train it.
        """
        with self._lock:
            watch = self._watches.get(ticket.id)
            if watch is None:
                job = self._cache.get(ticket.key) if ticket.key is not None else None
            else:
                job = watch.job if watch.frozen is None else None
            if job is None or job.state not in (DONE, STOPPED) or not job.ended.is_set():
                return None
            return job.trainer

    def counts(self) -> dict[str, int | float]:
        """The service's state in numbers (for a status line or a benchmark)."""
        with self._lock:
            return {
                "workers": self.limits.workers,
                "queued": len(self._queue),
                "running": len(self._running),
                "steps_in_flight": self._steps_in_flight(),
                "watchers": len(self._watches),
                "cached": len(self._cache),
                "cache_bytes": self._cache.bytes,
                "cache_evictions": self._cache.evictions,
                "seconds_per_step": self._seconds_per_step,
            }

    def close(self, timeout: float = 10.0) -> None:
        """Cancel every job and end the worker threads (tests; a server simply exits)."""
        with self._lock:
            self._closed = True
            for job in list(self._queue) + list(self._running):
                self._cancel(job)
            self._wake.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    # --- inside -------------------------------------------------------------------------------------------------

    def _submit(self, key, session, build, total_steps, n_runs, history, start_step) -> Ticket:
        with self._lock:
            if self._closed:
                raise JobRefused(t("The training service has shut down; reload the page."))
            now = self._clock()
            self._expire(now)
            mine = [w for w in self._watches.values() if w.ticket.session == session and w.frozen is None
                    and w.job is not None and w.job.state in ACTIVE]
            if key is not None:
                for w in mine:  # pressed twice: the same ticket again
                    if w.job.key == key:
                        w.seen = now
                        return w.ticket
                cached = self._cache.get(key)
                if cached is not None:
                    stats.count("train_cache_hits")
                    return self._watch(cached, key, session, now, from_cache=True)
            if len(mine) >= self.limits.per_session:
                stats.count("train_refused")
                n = len(mine)
                raise JobRefused(
                    tn("You already have {n} training run queued or running", "You already have {n} training runs "
                       "queued or running", n) + " " + t("(at most {k} at a time for each student). Stop it, or "
                                                         "wait until it finishes, then start another.",
                                                         k=self.limits.per_session)
                )
            live = self._live.get(key) if key is not None else None
            if live is not None:
                stats.count("train_shared")
                return self._watch(live, key, session, now)
            work = max(0, total_steps - start_step) * n_runs
            limit = self.limits.max_steps
            if work > limit:
                stats.count("train_refused")
                raise JobRefused(
                    t("This run needs {work} training steps ({steps} optimizer steps × {runs}); the server takes at "
                      "most {limit} at once. Choose fewer epochs, a larger batch or fewer optimizers.",
                      work=f"{work:,}", steps=f"{total_steps - start_step:,}", limit=f"{limit:,}",
                      runs=tn("{n} optimizer", "{n} optimizers", n_runs))
                )
            in_flight = self._steps_in_flight()
            if in_flight + work > limit:
                stats.count("train_refused")
                wait = self._seconds_for(in_flight - (limit - work)) / self.limits.workers
                raise JobRefused(
                    t("The server is busy: {busy} training steps are queued or running, and this run would add "
                      "{work} (the limit is {limit}). Try again in about {wait} s, or start a smaller run.",
                      busy=f"{in_flight:,}", work=f"{work:,}", limit=f"{limit:,}", wait=max(1, round(wait)))
                )
            job = _Job(next(self._ids), key, build, total_steps, n_runs, history, step=start_step,
                       start_step=start_step)
            self._queue.append(job)
            if key is not None:
                self._live[key] = job
            stats.count("train_jobs_queued")
            self._ensure_workers()
            self._wake.notify()
            return self._watch(job, key, session, now)

    def _watch(self, job: _Job, key, session: str, now: float, from_cache: bool = False) -> Ticket:
        ticket = Ticket(next(self._ids), key, session)
        self._watches[ticket.id] = _Watch(ticket, job, now, from_cache=from_cache)
        if job.state in ACTIVE:
            job.watchers.add(ticket.id)
        return ticket

    def _cancel(self, job: _Job) -> None:
        """Called with the lock held: nobody watches `job` any more."""
        if self._live.get(job.key) is job:
            del self._live[job.key]  # a new submission of this key starts afresh
        job.cancel.set()
        if job.state == QUEUED:
            self._queue.remove(job)
            job.state = STOPPED
            job.ended.set()
        stats.count("train_cancelled")

    def _expire(self, now: float) -> None:
        """Drop watchers not heard from for lease_s; cancel the jobs they were the last watchers of."""
        if now - self._last_expiry < EXPIRE_EVERY_S:
            return
        self._last_expiry = now
        lease = self.limits.lease_s
        for wid, watch in list(self._watches.items()):
            if now - watch.seen <= lease:
                continue
            del self._watches[wid]
            job = watch.job
            if job is not None and job.state in ACTIVE and wid in job.watchers:
                job.watchers.discard(wid)
                if not job.watchers:
                    self._cancel(job)

    def _steps_in_flight(self) -> int:
        return sum(j.remaining_steps() for j in itertools.chain(self._queue, self._running) if not j.cancel.is_set())

    def _seconds_for(self, steps: int) -> float:
        return max(0, steps) * self._seconds_per_step

    def _remaining_seconds(self, job: _Job, now: float) -> float:
        """Time the running job still needs: its own measured pace once it has done some steps."""
        done = (job.step - job.start_step) * job.n_runs
        if job.t_start is not None and done > 0:
            per_step = (now - job.t_start) / done
        else:
            per_step = self._seconds_per_step
        return job.remaining_steps() * per_step

    def _queue_waits(self, now: float) -> dict[int, float]:
        """Estimated start time of every queued job: list scheduling of the queue, in order, onto the workers."""
        free = [self._remaining_seconds(j, now) for j in self._running]
        free += [0.0] * max(0, self.limits.workers - len(free))
        heapq.heapify(free)
        waits = {}
        for job in self._queue:
            start = heapq.heappop(free)
            waits[job.id] = start
            heapq.heappush(free, start + self._seconds_for(job.remaining_steps()))
        return waits

    def _view(self, job: _Job, watch: _Watch, now: float) -> JobView:
        if job.copy_version != job.version:
            job.copy, job.copy_version = job.history.copy(), job.version
        position = wait = None
        if job.state == QUEUED:
            position = next(i for i, j in enumerate(self._queue, 1) if j is job)
            wait = self._queue_waits(now)[job.id]
        if job.t_start is None:
            seconds = 0.0
        else:
            seconds = (job.t_end if job.t_end is not None else now) - job.t_start
        return JobView(
            state=job.state, job_id=job.id, version=job.version, step=job.step, total_steps=job.total_steps,
            seconds=seconds, history=job.copy, error=job.error, position=position, wait_s=wait,
            watchers=len(job.watchers), from_cache=watch.from_cache,
        )

    def _ensure_workers(self) -> None:
        while len(self._threads) < self.limits.workers:
            worker = threading.Thread(target=self._work, name=f"optlab-training-{len(self._threads) + 1}", daemon=True)
            self._threads.append(worker)
            worker.start()

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                job = self._queue.popleft()
                job.state, job.t_start = RUNNING, self._clock()
                self._running.append(job)
            self._run(job)

    def _record(self, job: _Job, event: Event) -> None:
        with self._lock:
            if isinstance(event, ProgressEvent):  # a computation's progress
                job.step = event.step
            else:
                job.history(event)
                job.step = job.history.steps_done or job.step
            job.version += 1

    def _run(self, job: _Job) -> None:
        try:
            trainer = job.build()  # initial weights come from a private generator: workers may build at once
            with self._lock:
                job.trainer = trainer
            stats.count("train_jobs_started")
            trainer.run(listener=lambda event: self._record(job, event), stop=job.cancel.is_set)
            with self._lock:
                job.t_end = self._clock()
                job.step = trainer.step
                # ended by itself (the last step, or every run diverged): the configuration's whole result
                job.state = DONE if trainer.finished or not job.cancel.is_set() else STOPPED
                done = (trainer.step - job.start_step) * job.n_runs
                if done > 0 and isinstance(trainer, Trainer):  # the pace of this run refines the next estimates
                    self._seconds_per_step = 0.5 * self._seconds_per_step + 0.5 * (job.t_end - job.t_start) / done
                if job.state == DONE and job.key is not None:
                    self._cache.put(job.key, job, _result_bytes(trainer, job.history))
                stats.count("train_jobs_done" if job.state == DONE else "train_jobs_stopped")
        except Exception as e:  # noqa: BLE001 - reported to every watcher instead of lost in a thread
            with self._lock:
                job.t_end = self._clock()
                job.state = FAILED
                job.error = f"Training failed at step {job.step} of {job.total_steps}: {_first_line(e)}"
                job.version += 1
            stats.count("train_jobs_failed")
        finally:
            with self._lock:
                self._running.remove(job)
                if self._live.get(job.key) is job:
                    del self._live[job.key]
                job.ended.set()


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _result_bytes(trainer: Trainer, history: History) -> int:
    """Memory a finished run holds: every run's weights, buffers, optimizer state and EMA copy, plus its curves.
    A computation states its own size."""
    if not isinstance(trainer, Trainer):
        return int(trainer.nbytes)
    tensors: list[torch.Tensor] = []
    for run in trainer.runs:
        tensors += list(run.model.parameters()) + list(run.model.buffers())
        for state in run.optimizer.state.values():
            tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
        if run.ema is not None:
            tensors += list(run.ema.module.parameters()) + list(run.ema.module.buffers())
    n_points = len(history.step) * (1 + 2 * len(history.labels))  # step, loss and lr per run
    return tensor_bytes(tensors) + 8 * 8 * n_points  # a float in a Python list: ~64 bytes with its box and slot
