"""Checkpoints: a resumed run equals an uninterrupted one, and bad uploads are refused without running code.

The table of hostile and broken files is tests/test_mnist_hostile.py."""

import io
import os
import pickle

import pytest
import torch

from optlab.mnist import checkpoint as ckpt
from optlab.mnist.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.data import Digits
from optlab.mnist.train import Trainer

# one torch thread for the whole module; `digits` and `small` come from conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


CONFIG = TrainConfig(
    runs=(RunSpec.of("momentum", lr=0.05), RunSpec.of("adam", lr=1e-3)),
    width=32, epochs=2, batch_size=32, accum_steps=2, schedule="cosine", ema_decay=0.9, ema_tau=5.0,
    head_lr_mult=3.0, no_decay_bias=True, weight_decay=0.01, wd_mode="decoupled", log_every=4,
)


@pytest.fixture(scope="module")
def saved(small) -> bytes:
    t = Trainer(small, CONFIG, device="cpu")
    calls = iter(range(10_000))
    t.run(stop=lambda: next(calls) >= 9)  # stop mid-epoch, between two live updates
    assert t.step == 9
    return save_checkpoint(t)


def test_resumed_run_equals_uninterrupted(small, saved):
    full = Trainer(small, CONFIG, device="cpu")
    full.run()
    resumed = load_checkpoint(saved, small, device="cpu")
    assert resumed.step == 9
    assert resumed.run()
    for a, b in zip(full.runs, resumed.runs, strict=True):
        for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
            assert torch.equal(p, q)
        for p, q in zip(a.ema.module.parameters(), b.ema.module.parameters(), strict=True):
            assert torch.equal(p, q)
        sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        for i in sa["state"]:
            for k in sa["state"][i]:
                assert torch.equal(sa["state"][i][k], sb["state"][i][k])
        assert a.scheduler.state_dict() == b.scheduler.state_dict()
    ha, hb = full.history, resumed.history
    assert ha.loss == hb.loss and ha.lr == hb.lr and ha.test_acc == hb.test_acc and ha.ema_acc == hb.ema_acc
    assert ha.weight_norm == hb.weight_norm and ha.done and hb.done and not hb.stopped


def test_resume_on_other_data_is_refused(small, saved):
    other = Digits("other", small.x_train[:100], small.y_train[:100], small.x_test, small.y_test)
    with pytest.raises(CheckpointError, match="trained on 800 digits"):
        load_checkpoint(saved, other)


class Exploit:
    """Unpickling this would create a file: the test checks the file never appears."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_malicious_pickle_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"format": ckpt.FORMAT, "payload": Exploit(marker)}, buf)  # a real torch zip with a bad pickle
    with pytest.raises(CheckpointError, match="such objects are never loaded here"):
        read_checkpoint(buf.getvalue())
    with pytest.raises(CheckpointError, match="not a zip archive"):
        read_checkpoint(pickle.dumps(Exploit(marker)))  # a bare pickle
    assert not marker.exists()
    # the same bytes really would run code through an unsafe loader: the test is not vacuous
    pickle.loads(pickle.dumps(Exploit(marker)))
    assert marker.exists()


def test_too_big_is_refused_before_loading(small, saved, monkeypatch):
    monkeypatch.setattr(ckpt, "MAX_BYTES", 1000)
    with pytest.raises(CheckpointError, match="a checkpoint is at most 1.0 KB"):
        load_checkpoint(saved, small)


def test_the_largest_checkpoint_the_page_can_write_resumes(small):
    """4 runs of the widest, deepest MLP with an EMA and the optimizers that keep the most state fit the limit."""
    from optlab.mnist.config import SETTINGS

    heavy = (RunSpec.of("amsgrad", lr=1e-3), RunSpec.of("rmsprop", lr=1e-3, momentum=0.9, centered=True),
             RunSpec.of("amsgrad", lr=2e-3), RunSpec.of("rmsprop", lr=2e-3, momentum=0.5, centered=True))
    config = TrainConfig(runs=heavy, width=max(SETTINGS["width"].options), depth=max(SETTINGS["depth"].options),
                         batch_size=min(SETTINGS["batch_size"].options), ema_decay=0.9, epochs=1)
    t = Trainer(small, config, device="cpu")
    calls = iter(range(10))
    t.run(stop=lambda: next(calls) >= 2)
    data = save_checkpoint(t)
    assert len(data) > 60_000_000  # it is large: the limit is not met by accident
    assert load_checkpoint(data, small, device="cpu").step == 2
