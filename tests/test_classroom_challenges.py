"""Challenge checks against results computed by the real optimizers (optlab.trace, optlab.mnist)."""

from __future__ import annotations

import math

import pytest

from optlab.classroom import ClassroomError
from optlab.classroom.challenges import Challenge, RunResult, check, critical_lr, describe, parse
from optlab.classroom.outcome import steps_to_converge, surface_result, training_result
from optlab.surfaces import SURFACES, quadratic
from optlab.trace import RunConfig, run_traces

ROSENBROCK = SURFACES["rosenbrock"]
REACH = Challenge.of("reach", surface="rosenbrock", target=1e-4, max_steps=200, optimizers="momentum")


def run(surface, optimizer, steps=200, **hparams):
    return run_traces(surface, [RunConfig.of(optimizer, **hparams)], surface.start, steps)[0]


def test_reach_passes_for_a_tuned_momentum_run_and_says_how_far_off_otherwise():
    good = run(ROSENBROCK, "momentum", lr=5e-4, momentum=0.97)
    verdict = check(REACH, surface_result(good, "rosenbrock"))
    first = next(t for t, f in enumerate(good.losses) if f < 1e-4)
    assert verdict.passed and f"step {first}" in verdict.note and first <= 200

    close = run(ROSENBROCK, "momentum", lr=1e-3, momentum=0.95)
    best = float(min(close.losses))
    assert best > 1e-4  # an honest miss, computed
    verdict = check(REACH, surface_result(close, "rosenbrock"))
    assert not verdict.passed
    assert f"{best:.3g}" in verdict.note and f"{best / 1e-4:.3g}×" in verdict.note


def test_reach_counts_only_the_step_budget():
    long = run(ROSENBROCK, "momentum", steps=2000, lr=1e-3, momentum=0.9)
    t_hit = next((t for t, f in enumerate(long.losses) if f < 1e-4), None)
    assert t_hit is not None and t_hit > 200  # reaches it, but too late
    assert not check(REACH, surface_result(long, "rosenbrock")).passed
    late = Challenge.of("reach", surface="rosenbrock", target=1e-4, max_steps=t_hit, optimizers="momentum")
    assert check(late, surface_result(long, "rosenbrock")).passed


@pytest.mark.parametrize(("result_changes", "words"), [
    ({"optimizer": "adam"}, "asks for momentum"),
    ({"surface": "himmelblau"}, "on the rosenbrock surface"),
    ({"page": "MNIST_Lab"}, "checked on the Surface Lab page"),
])
def test_a_result_of_the_wrong_setup_is_told_so(result_changes, words):
    base = dict(page="Surface_Lab", optimizer="momentum", surface="rosenbrock", losses=(1.0, 1e-9))
    verdict = check(REACH, RunResult(**{**base, **result_changes}))
    assert not verdict.passed and words in verdict.note


def test_diverge_passes_only_when_adam_ends_higher_than_it_started():
    challenge = Challenge.of("diverge", surface="rosenbrock", optimizers="adam")
    calm = run(ROSENBROCK, "adam", lr=0.05)
    wild = run(ROSENBROCK, "adam", lr=10.0)
    assert calm.losses[-1] < calm.losses[0] and wild.losses[-1] > wild.losses[0]  # computed, not assumed
    assert not check(challenge, surface_result(calm, "rosenbrock")).passed
    assert check(challenge, surface_result(wild, "rosenbrock")).passed


def test_diverge_passes_for_a_run_the_tracer_stopped():
    q = quadratic(100)
    stopped = run(q, "sgd", lr=2.5, steps=400)
    assert stopped.diverged_at is not None
    challenge = Challenge.of("diverge", surface="quadratic", optimizers="sgd|adam")
    assert check(challenge, surface_result(stopped, "quadratic", 100.0)).passed


def test_critical_lr_matches_where_real_gradient_descent_stops_converging():
    q = quadratic(100)
    limit = critical_lr(100.0)
    assert limit == pytest.approx(2.0 / max(q.hessian_eigs))
    below = run(q, "sgd", steps=400, lr=0.97 * limit)
    above = run(q, "sgd", steps=400, lr=1.03 * limit)
    assert below.losses[-1] < below.losses[0]  # converges just below the limit
    assert above.diverged_at is not None or above.losses[-1] > above.losses[0]  # and not just above it
    challenge = Challenge.of("critical_lr", kappa=100.0, tolerance=0.02)
    at = run(q, "sgd", steps=50, lr=1.01 * limit)
    assert check(challenge, surface_result(at, "quadratic", 100.0)).passed
    verdict = check(challenge, surface_result(below, "quadratic", 100.0))
    assert not verdict.passed and "3.0% below" in verdict.note
    verdict = check(challenge, surface_result(above, "quadratic", 100.0))
    assert not verdict.passed and "3.0% above" in verdict.note
    other = run(quadratic(10), "sgd", steps=10, lr=limit)
    assert not check(challenge, surface_result(other, "quadratic", 10.0)).passed


def test_steps_to_converge_is_the_first_step_within_tolerance():
    tr = run(quadratic(10), "sgd", steps=300, lr=0.5)
    t = steps_to_converge(tr.losses, 0.0, 1e-6)
    assert t is not None and tr.losses[t] <= 1e-6 and all(f > 1e-6 for f in tr.losses[:t])
    assert steps_to_converge(tr.losses, None) is None


@pytest.mark.slow
def test_accuracy_checks_a_real_training_run(small, one_thread):
    from optlab.mnist.config import RunSpec, TrainConfig
    from optlab.mnist.history import History
    from optlab.mnist.train import Trainer

    config = TrainConfig(runs=(RunSpec.of("adam", "Adam", lr=0.003),), epochs=1)
    history = History()
    Trainer(small, config).run(history)
    result = training_result(history, 0, "adam")
    acc = history.test_acc[0][-1]
    assert result.epochs == pytest.approx(1.0) and result.accuracy == pytest.approx(acc)
    low = Challenge.of("accuracy", target=math.floor(acc * 100) / 100 - 0.01, max_epochs=1)
    high = Challenge.of("accuracy", target=min(1.0, acc + 0.05), max_epochs=2)
    assert check(low, result).passed
    verdict = check(high, result)
    assert not verdict.passed and f"{100 * acc:.2f}%" in verdict.note
    tight = Challenge.of("accuracy", target=0.0, max_epochs=1)
    assert not check(tight, RunResult(page="MNIST_Lab", optimizer="adam", accuracy=acc, epochs=2.0)).passed


BAD_CHALLENGES = [
    ({"kind": "teleport"}, "A challenge is one of"),
    ("reach", "A challenge is one of"),
    ({"kind": "reach", "surface": "rosenbrock", "target": "1e-4", "max_steps": 200, "optimizers": "sgd"}, "target"),
    ({"kind": "reach", "surface": "rosenbrock", "target": float("nan"), "max_steps": 200, "optimizers": "sgd"},
     "target"),
    ({"kind": "reach", "surface": "rosenbrock", "target": 1e-4, "max_steps": 2.5, "optimizers": "sgd"}, "max_steps"),
    ({"kind": "reach", "surface": "rosenbrock", "target": 1e-4, "max_steps": 10**9, "optimizers": "sgd"},
     "max_steps"),
    ({"kind": "reach", "surface": "x" * 500, "target": 1e-4, "max_steps": 200, "optimizers": "sgd"}, "surface"),
    ({"kind": "critical_lr", "kappa": 100, "tolerance": 0.02, "evil": 1}, "no setting evil"),
    ({"kind": "accuracy", "target": 1.5, "max_epochs": 2}, "target"),
    ({"kind": "accuracy", "target": True, "max_epochs": 2}, "target"),
]


@pytest.mark.parametrize(("data", "words"), BAD_CHALLENGES)
def test_forged_challenges_are_refused_with_a_reason(data, words):
    with pytest.raises(ClassroomError, match=words):
        parse(data)


def test_every_kind_describes_itself_and_round_trips():
    for challenge in (REACH, Challenge.of("diverge", surface="rosenbrock", optimizers="adam"),
                      Challenge.of("critical_lr", kappa=100.0, tolerance=0.02),
                      Challenge.of("accuracy", target=0.95, max_epochs=2)):
        assert parse(challenge.to_dict()) == challenge
        assert describe(challenge)
