"""The Surface Lab's shared cache: per-run traces, sweeps and start grids are the page's own runs, computed once."""

from dataclasses import replace

import numpy as np
import pytest

from optlab.sweep import sweep_values
from optlab.ui.cache import (
    compute_run,
    compute_starts,
    compute_sweep,
    compute_traces,
    run_json,
    starts_json,
    sweep_json,
)
from optlab.ui.urlstate import LabConfig, SurfaceRun

CFG = LabConfig(surface="quadratic", params=(("kappa", 50.0),), steps=40, noise=0.2, seed=5,
                runs=(replace(SurfaceRun.of("sgd", lr=0.01), lr_y_factor=30.0), SurfaceRun.of("adam", lr=0.05),
                      SurfaceRun.of("momentum", lr=0.01, momentum=0.9)))


def _with(cfg: LabConfig, i: int, **values) -> LabConfig:
    run = cfg.runs[i]
    hparams = tuple((k, values.get(k, v)) for k, v in run.hparams)
    return replace(cfg, runs=tuple(replace(r, hparams=hparams) if j == i else r for j, r in enumerate(cfg.runs)))


def _same(points: np.ndarray, trace_points: np.ndarray) -> None:
    np.testing.assert_allclose(points[:len(trace_points)], trace_points, rtol=1e-12, atol=1e-12)
    assert np.isnan(points[len(trace_points):]).all()


def test_runs_cached_one_by_one_equal_the_runs_computed_together():
    together = compute_traces(CFG.to_json())
    for i, tr in enumerate(together):
        alone = compute_run(run_json(CFG, i))
        assert alone.label == tr.label
        np.testing.assert_allclose(alone.points, tr.points, rtol=1e-12, atol=1e-12)


def test_a_run_key_ignores_the_other_runs():
    other = _with(CFG, 1, lr=0.3)
    assert run_json(other, 0) == run_json(CFG, 0) and run_json(other, 1) != run_json(CFG, 1)


@pytest.mark.parametrize("i, knob, members", [(0, "lr", (0, 20, 35, 48)), (1, "beta1", (0, 12, 24)),
                                              (2, "momentum", (3, 20))])
def test_sweep_members_are_the_pages_own_runs(i, knob, members):
    """Including a run with two param groups whose y lr is capped at the top of its range."""
    sweep = compute_sweep(sweep_json(CFG, i, knob))
    values = sweep_values(CFG.runs[i].optimizer, knob)
    np.testing.assert_array_equal(sweep.values, values)
    for k in members:
        single = compute_run(run_json(_with(CFG, i, **{knob: float(values[k])}), i))
        _same(sweep.points[k], single.points)


def test_a_sweep_key_does_not_change_along_the_sweep():
    assert sweep_json(_with(CFG, 0, lr=0.2), 0, "lr") == sweep_json(CFG, 0, "lr")
    assert sweep_json(_with(CFG, 0, lr=0.2), 0, "lr") != sweep_json(CFG, 1, "lr")


def test_start_grid_members_are_the_pages_own_runs_from_those_starts():
    sweep = compute_starts(starts_json(CFG, 2), 3)
    for k in (0, 4, 8):
        start = tuple(float(v) for v in sweep.values[k])
        single = compute_run(run_json(replace(CFG, start=start), 2))
        _same(sweep.points[k], single.points)
    assert starts_json(replace(CFG, start=(1.0, 1.0)), 2) == starts_json(CFG, 2)  # the start is not in the key


def test_runs_that_differ_in_any_setting_get_different_labels():
    from optlab.ui.cache import run_label

    runs = [SurfaceRun.of("momentum", lr=0.01, momentum=0.9), SurfaceRun.of("momentum", lr=0.01, momentum=0.9,
                                                                       dampening=0.5),
            SurfaceRun.of("adam", lr=0.05), SurfaceRun.of("adam", lr=0.05, beta1=0.8), SurfaceRun.of("adam", lr=0.05,
                                                                                          weight_decay=0.01),
            SurfaceRun.of("sgd", lr=0.01), SurfaceRun.of("sgd", lr=0.01, maximize=True)]
    labels = [run_label(1, r) for r in runs]
    assert len(set(labels)) == len(labels), labels
    assert labels[0] == "1 · SGD + momentum lr=0.01 μ=0.9"
    assert labels[1] == "1 · SGD + momentum lr=0.01 μ=0.9 dampening=0.5"
    assert labels[3] == "1 · Adam lr=0.05 β₁=0.8" and labels[4] == "1 · Adam lr=0.05 wd=0.01"
    assert labels[6] == "1 · SGD lr=0.01 maximize"


def test_the_run_store_computes_missing_runs_together_once_and_waits_for_running_ones(monkeypatch):
    import threading

    from optlab.ui import cache

    store = cache.RunStore(max_entries=4)
    calls: list[list[str]] = []
    gate = threading.Event()
    real = cache.compute_runs

    def counting(keys, full=None):
        calls.append(list(keys))
        gate.wait(10)
        return real(keys, full)

    monkeypatch.setattr(cache, "compute_runs", counting)
    keys = [run_json(CFG, i) for i in range(3)]
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("a", store.get(keys)))
    first.start()
    while not calls:  # the first page is computing all three runs in one call
        threading.Event().wait(0.01)
    second = threading.Thread(target=lambda: results.setdefault("b", store.get(keys[1:])))
    second.start()
    gate.set()
    first.join(30)
    second.join(30)
    assert calls == [keys]  # one computation for both pages, the three runs together
    assert [t.label for t in results["b"]] == [t.label for t in results["a"][1:]]
    together = compute_traces(CFG.to_json())
    for a, b in zip(results["a"], together, strict=True):
        np.testing.assert_allclose(a.points, b.points, rtol=1e-12, atol=1e-12)
    store.get([run_json(replace(CFG, steps=5), i) for i in range(3)])  # three more: the oldest two are evicted
    calls.clear()
    store.get(keys)
    assert calls == [keys[:2]]  # only the evicted ones are computed again


# --- light records: the runs nobody inspects record what the figures draw, the inspected one everything -------

LIGHT = LabConfig(surface="rosenbrock", steps=60, noise=0.1, seed=3,
                  runs=(SurfaceRun.of("adam", lr=0.05), SurfaceRun.of("momentum", lr=0.001, momentum=0.9),
                        replace(SurfaceRun.of("rmsprop", lr=0.01), lr_y_factor=3.0),
                        SurfaceRun.of("sgd", lr=0.3)))  # the last one diverges


@pytest.mark.parametrize("inspected", [0, 2])
def test_light_runs_computed_together_equal_full_single_runs(inspected):
    from optlab.ui.cache import compute_runs

    keys = [run_json(LIGHT, i) for i in range(len(LIGHT.runs))]
    together = compute_runs(keys, full={keys[inspected]})
    assert [tr.full for tr in together] == [i == inspected for i in range(len(keys))]
    for i, tr in enumerate(together):
        alone = compute_run(keys[i])  # fully recorded, on its own
        assert alone.full and alone.diverged_at == tr.diverged_at and alone.reason == tr.reason
        for name in ("points", "losses", "grads", "updates", "lrs"):
            np.testing.assert_allclose(getattr(tr, name), getattr(alone, name), rtol=1e-12, atol=1e-12)
        assert tr.hyper.keys() == alone.hyper.keys()
        if i == inspected:
            assert tr.state.keys() == alone.state.keys() and tr.explain.keys() == alone.explain.keys()
            for key in tr.explain:
                np.testing.assert_allclose(tr.explain[key], alone.explain[key], rtol=1e-12, atol=1e-12)
        else:
            assert tr.state == {} and tr.explain == {}
    assert together[3].diverged_at is not None


def test_the_store_computes_an_inspected_run_in_full_once_and_keeps_the_others_light(monkeypatch):
    from optlab.ui import cache

    calls = []
    real = cache.compute_runs

    def counting(keys, full=None):
        calls.append((len(keys), None if full is None else len(set(full) & set(keys))))
        return real(keys, full)

    monkeypatch.setattr(cache, "compute_runs", counting)
    store = cache.RunStore()
    keys = [run_json(LIGHT, i) for i in range(len(LIGHT.runs))]
    first = store.get(keys, full=keys[:1])
    assert calls == [(4, 1)] and [tr.full for tr in first] == [True, False, False, False]
    assert store.get(keys) == first and calls == [(4, 1)]  # a light request: everything is there
    second = store.get(keys, full=keys[2:3])  # the student inspects run 3: that run alone, in full
    assert calls == [(4, 1), (1, 1)] and second[2].full and second[0] is first[0]
    np.testing.assert_allclose(second[2].points, first[2].points, rtol=1e-12, atol=1e-12)
    assert store.get(keys, full=keys[2:3])[2] is second[2] and len(calls) == 2  # once
