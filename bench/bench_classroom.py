"""A class on one server: N students at once through Streamlit's own websocket protocol, no browser.

Starts the app on a free loopback port (a fresh server: the first sessions of a class race each other), then
drives --students sessions (default 40) whose starts spread over --spread seconds. Each student opens the Surface
Lab, changes a learning rate 5 times, opens the MNIST Lab, sets one epoch, presses Start and watches until the
curves are finished (polling the live panel as the browser does). Most students use the teacher's settings; every
--odd-every-th student (default 10th) uses its own learning rates and its own MNIST seed. By default a student
clicks again as soon as the page has answered; --think S waits 0.5-1.5 × S seconds before each click instead.

Prints, from one run: p50/p95/max latency per interaction kind, errors shown, exceptions (tracebacks on a page),
sessions unfinished, the server's RSS before/peak/after and its CPU seconds (which a busy shared machine inflates
far less than latency), the computations the server did against the distinct configurations the students asked
for, and the same scenario for one student alone on a fresh server. The server runs through serve_counted.py,
which counts each optlab.ui.cache computation; the training service counts its jobs; both go to the server's
OPTLAB_STATS_FILE.

Bounded: at most --students sessions (≤ 200), each interaction times out after 120 s, the whole class after
--timeout seconds; the servers are stopped at the end. Loopback only.

    .venv/bin/python bench/bench_classroom.py                 # 40 students, then the one-student baseline
    .venv/bin/python bench/bench_classroom.py --students 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stclient import ProtocolError, RunResult, StreamlitSession  # noqa: E402

MAX_STUDENTS = 200
SERVER_START_S = 120
LR_LABEL = "learning rate (type a value)"  # the first run's learning rate on the Surface Lab
TEACHER_LRS = [0.002, 0.005, 0.01, 0.02, 0.05]  # the five values the class types, in order
EPOCHS_LABEL, START_LABEL = "Epochs", "Start training"
STEP_RE = re.compile(r"step (\d+) of (\d+)")
KINDS = ["open_home", "open_surface", "set_lr", "open_mnist", "set_epochs", "start", "poll"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Resident memory of a process (VmHWM: its peak so far), from /proc/<pid>/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used, from /proc/<pid>/stat (fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class Server:
    """`streamlit run app.py` on a free loopback port, with a stats file; stopped on exit."""

    def __init__(self, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.TemporaryDirectory(prefix="optlab-bench-")
        self.stats_file = Path(self.dir.name) / "stats.json"
        self.log = open(Path(self.dir.name) / "server.log", "w+")  # noqa: SIM115 - closed in stop()
        env = os.environ | {"OPTLAB_STATS_FILE": str(self.stats_file)} | (extra_env or {})
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "serve_counted.py"), "run", "app.py", "--server.headless", "true", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_healthy(self) -> None:
        end = time.monotonic() + SERVER_START_S
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /_stcore/health within {SERVER_START_S} s")

    def stats(self) -> dict[str, int]:
        try:
            return json.loads(self.stats_file.read_text())
        except (OSError, ValueError):
            return {}

    def log_text(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.dir.cleanup()


@dataclass
class Record:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    unfinished: int = 0
    first_curve: list[float] = field(default_factory=list)  # Start click -> a curve with points on the page
    finished_curves: list[float] = field(default_factory=list)  # Start click -> the finished curves
    surface_configs: set = field(default_factory=set)
    mnist_configs: set = field(default_factory=set)

    think: float = 0.0  # mean seconds a student waits before each interaction after the first
    rng: random.Random = field(default_factory=lambda: random.Random(1))

    async def pause(self) -> None:
        if self.think:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    def add(self, kind: str, result: RunResult, who: int) -> RunResult:
        self.latencies[kind].append(result.seconds)
        self.exceptions += [f"student {who}, {kind}: {e}" for e in result.exceptions]
        self.errors += [f"student {who}, {kind}: {e}" for e in result.errors]
        if result.status not in ("finished", "fragment_finished"):
            self.errors.append(f"student {who}, {kind}: script ended as {result.status}")
        return result


def plan(i: int, odd_every: int) -> tuple[list[float], int]:
    """Student i's five learning rates and MNIST seed: the teacher's, or (every odd_every-th) its own."""
    if odd_every and i % odd_every == odd_every - 1:
        return [round(v * (1 + 0.1 * (i + 1)), 6) for v in TEACHER_LRS], 100 + i
    return TEACHER_LRS, 0


def progress_step(result: RunResult) -> tuple[int, bool, str | None]:
    """(steps shown, finished, failure text) from a live-panel run."""
    step, done, failure = 0, False, None
    for text in result.progress + result.texts:
        m = STEP_RE.search(text)
        if m:
            step = max(step, int(m.group(1)))
        if text.startswith("Finished"):
            done = True
        if "Training failed" in text:
            failure = text
    return step, done, failure


async def student(i: int, base: str, delay: float, rec: Record, odd_every: int, train_timeout: float,
                  surface: bool = True) -> None:
    await asyncio.sleep(delay)
    lrs, seed = plan(i, odd_every)
    s = StreamlitSession(base)
    try:
        await s.connect()
        # The class's link opens the home page first: a sub page opened as a session's first run reloads the tab
        # into the app's navigation (optlab.ui.pages.use_app_navigation), which a browser follows and this client
        # does not.
        rec.add("open_home", await s.open(""), i)
        if surface:
            await rec.pause()
            rec.add("open_surface", await s.open("Surface_Lab"), i)
            rec.surface_configs.add(("default",))
            for lr in lrs:
                await rec.pause()
                rec.add("set_lr", await s.set(LR_LABEL, lr), i)
                rec.surface_configs.add(("lr", lr))  # the other settings stay the teacher's
        await rec.pause()
        rec.add("open_mnist", await s.open("MNIST_Lab"), i)
        await rec.pause()
        rec.add("set_epochs", await s.set(EPOCHS_LABEL, 1), i)
        if seed:
            await rec.pause()
            rec.add("set_seed", await s.set("Seed", seed), i)
        await rec.pause()
        rec.mnist_configs.add(seed)
        t0 = time.perf_counter()
        result = rec.add("start", await s.click(START_LABEL), i)
        step, done, failure = progress_step(result)
        first_seen = False
        while not done and failure is None:
            if step > 0 and not first_seen:
                rec.first_curve.append(time.perf_counter() - t0)
                first_seen = True
            if time.perf_counter() - t0 > train_timeout:
                raise ProtocolError(f"training not finished after {train_timeout:.0f} s (last step {step})")
            result = await s.poll()
            if result is None:  # no timer: the panel is final, or training never started
                result = rec.add("rerun", await s.rerun(), i)
                step, done, failure = progress_step(result)
                if not done and failure is None and not s.auto_reruns:
                    raise ProtocolError(f"the MNIST Lab shows no running job after Start: {result.progress}")
                continue
            rec.add("poll", result, i)
            step, done, failure = progress_step(result)
        if failure is not None:
            rec.errors.append(f"student {i}: {failure}")
            rec.unfinished += 1
            return
        if not first_seen:
            rec.first_curve.append(time.perf_counter() - t0)
        rec.finished_curves.append(time.perf_counter() - t0)
    except (ProtocolError, OSError) as e:
        rec.errors.append(f"student {i}: {e}")
        rec.unfinished += 1
    finally:
        await s.close()


async def classroom(base: str, n: int, spread: float, odd_every: int, timeout: float, rec: Record,
                    surface: bool = True) -> None:
    rng = random.Random(0)
    delays = sorted(rng.uniform(0, spread) for _ in range(n)) if n > 1 else [0.0]
    tasks = [asyncio.create_task(student(i, base, delays[i], rec, odd_every, timeout, surface)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in pending:
        t.cancel()
    rec.unfinished += len(pending)
    if pending:
        rec.errors.append(f"{len(pending)} sessions still running after {timeout:.0f} s: cancelled")
        await asyncio.gather(*pending, return_exceptions=True)


def percentile(values: list[float], q: float) -> float:
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q  # linear interpolation between closest ranks
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def ms(x: float) -> str:
    return "     -" if x != x else f"{1000 * x:6.0f}"


def run_class(n: int, spread: float, odd_every: int, timeout: float, surface: bool = True,
              think: float = 0.0) -> tuple[Record, dict]:
    server = Server()
    try:
        server.wait_healthy()
        pid = server.proc.pid
        before = rss_mb(pid)
        cpu_before = cpu_seconds(pid)
        rec = Record(think=think)
        samples = []

        async def sample_rss():
            while True:
                samples.append(rss_mb(pid))
                await asyncio.sleep(0.2)

        async def main():
            sampler = asyncio.create_task(sample_rss())
            t0 = time.perf_counter()
            await classroom(server.base, n, spread, odd_every, timeout, rec, surface)
            wall = time.perf_counter() - t0
            sampler.cancel()
            return wall

        wall = asyncio.run(main())
        time.sleep(2.0)  # let the sessions' disconnects settle
        memory = {"before": before, "peak": max([rss_mb(pid, "VmHWM")] + samples), "after": rss_mb(pid),
                  "wall": wall, "stats": server.stats(), "cpu": cpu_seconds(pid) - cpu_before}
        log = server.log_text()
        memory["server_tracebacks"] = log.count("Traceback (most recent call last)")
        return rec, memory
    finally:
        server.stop()


def summary_rows(rec: Record) -> list[tuple[str, list[float]]]:
    rows = [(k, rec.latencies[k]) for k in KINDS + sorted(set(rec.latencies) - set(KINDS)) if rec.latencies[k]]
    waits = [x for k, v in rec.latencies.items() for x in v]
    return rows + [("all interactions", waits), ("Start → first curve", rec.first_curve),
                   ("Start → finished curves", rec.finished_curves)]


def print_class(title: str, n: int, rec: Record, info: dict) -> None:
    print(f"\n{title}")
    print(f"{'interaction':26} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for name, xs in summary_rows(rec):
        print(f"{name:26} {len(xs):5d} {ms(percentile(xs, 0.5)):>7} {ms(percentile(xs, 0.95)):>7} "
              f"{ms(max(xs) if xs else float('nan')):>7}")
    print(f"errors shown: {len(rec.errors)}   exceptions on pages: {len(rec.exceptions)}   "
          f"server-log tracebacks: {info['server_tracebacks']}   sessions unfinished: {rec.unfinished} of {n}   "
          f"wall {info['wall']:.1f} s")
    for line in (rec.exceptions + rec.errors)[:8]:
        print(f"  {line[:220]}")
    print(f"server RSS: before {info['before']:.0f} MB, peak {info['peak']:.0f} MB, after {info['after']:.0f} MB")
    n_runs = sum(len(v) for v in rec.latencies.values())
    print(f"server CPU: {info['cpu']:.1f} s for the class ({1000 * info['cpu'] / max(1, n_runs):.0f} ms per script "
          f"run, training included): a measure the other load on the machine does not inflate much")
    st = info["stats"]
    computed = {k.removeprefix("compute.compute_"): v for k, v in sorted(st.items()) if k.startswith("compute.")}
    print(f"Surface Lab computations: {', '.join(f'{k} {v}' for k, v in computed.items()) or 'none counted'} "
          f"for {len(rec.surface_configs)} distinct Surface Lab configurations")
    print(f"training jobs: {st.get('train_jobs_started', 0)} for {len(rec.mnist_configs)} distinct configurations "
          f"({st.get('train_shared', 0)} joined a running job, {st.get('train_cache_hits', 0)} from the cache, "
          f"{st.get('train_refused', 0)} refused, {st.get('train_jobs_failed', 0)} failed)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--spread", type=float, default=5.0, help="seconds over which the students' starts spread")
    ap.add_argument("--odd-every", type=int, default=10, help="every k-th student uses its own settings (0: none)")
    ap.add_argument("--timeout", type=float, default=480.0, help="seconds for the whole class")
    ap.add_argument("--no-baseline", action="store_true", help="skip the one-student run on a fresh server")
    ap.add_argument("--mnist-only", action="store_true", help="leave out the Surface Lab part of the scenario")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean seconds a student waits between interactions (0: click after click)")
    args = ap.parse_args()
    if not 1 <= args.students <= MAX_STUDENTS:
        ap.error(f"--students must be from 1 to {MAX_STUDENTS}, got {args.students}")
    if not 0 <= args.spread <= 120 or not 10 <= args.timeout <= 1800 or args.odd_every < 0 or not 0 <= args.think <= 60:
        ap.error("--spread must be 0-120 s, --timeout 10-1800 s, --think 0-60 s, --odd-every 0 or more")
    print(f"classroom benchmark: {args.students} students, starts spread over {args.spread:g} s, "
          f"{args.think:g} s to think between clicks; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    surface = not args.mnist_only
    rec, info = run_class(args.students, args.spread, args.odd_every, args.timeout, surface, args.think)
    print_class(f"{args.students} students on one fresh server", args.students, rec, info)
    if args.students > 1 and not args.no_baseline:
        rec1, info1 = run_class(1, 0.0, 0, args.timeout, surface, args.think)
        print_class("one student alone on a fresh server (baseline)", 1, rec1, info1)
        all1 = [x for v in rec1.latencies.values() for x in v]
        all_n = [x for v in rec.latencies.values() for x in v]
        print(f"\nclass vs alone, all interactions: p50 {ms(percentile(all_n, .5)).strip()} ms vs "
              f"{ms(percentile(all1, .5)).strip()} ms; p95 {ms(percentile(all_n, .95)).strip()} ms vs "
              f"{ms(percentile(all1, .95)).strip()} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
