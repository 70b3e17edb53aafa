"""Checkpoints: a resumed run equals an uninterrupted one, and bad uploads are refused without running code."""

import io
import os
import pickle
import zipfile

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
    with pytest.raises(CheckpointError, match="safe loader"):
        read_checkpoint(buf.getvalue())
    with pytest.raises(CheckpointError, match="zip archive"):
        read_checkpoint(pickle.dumps(Exploit(marker)))  # a bare pickle
    assert not marker.exists()
    # the same bytes really would run code through an unsafe loader: the test is not vacuous
    pickle.loads(pickle.dumps(Exploit(marker)))
    assert marker.exists()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a checkpoint")
    return buf.getvalue()


def torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def edited(saved: bytes, edit) -> bytes:
    blob = torch.load(io.BytesIO(saved), weights_only=True)
    edit(blob)
    return torch_bytes(blob)


BAD = [
    ("not bytes", lambda s: "text", "file's bytes"),
    ("random bytes", lambda s: b"\x00\x01garbage" * 10, "zip archive"),
    ("zip but not torch", lambda s: zip_bytes(), "safe loader"),
    ("a bare tensor", lambda s: torch_bytes(torch.zeros(3)), "format marker"),
    ("wrong version", lambda s: edited(s, lambda b: b.update(version=99)), "version"),
    ("missing key", lambda s: edited(s, lambda b: b.pop("runs")), "missing: runs"),
    ("bad config", lambda s: edited(s, lambda b: b.update(config='{"epochs": 3}')), "configuration"),
    ("unknown optimizer", lambda s: edited(s, lambda b: b.update(config=b["config"].replace('"adam"', '"adamx"'))),
     "cannot be built"),
    ("wrong shape", lambda s: edited(s, lambda b: b["runs"][0]["model"].update({"head.bias": torch.zeros(11)})),
     r"head.bias has shape \(11,\)"),
    ("missing weight", lambda s: edited(s, lambda b: b["runs"][1]["model"].pop("fc1.weight")), "different keys"),
    ("nan weight", lambda s: edited(s, lambda b: b["runs"][0]["model"]["head.bias"].fill_(float("nan"))), "NaN"),
    ("optimizer state shape",
     lambda s: edited(s, lambda b: b["runs"][1]["optimizer"]["state"][0].update(exp_avg=torch.zeros(2, 2))),
     "exp_avg"),
    ("too few runs", lambda s: edited(s, lambda b: b["runs"].pop()), "number of runs"),
    ("bad step", lambda s: edited(s, lambda b: b.update(step=10**6)), "Invalid step"),
]


@pytest.mark.parametrize("name,make,match", BAD, ids=[b[0] for b in BAD])
def test_bad_uploads_get_clear_messages(small, saved, name, make, match):
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(make(saved), small)


def test_too_big_is_refused_before_loading(small, saved, monkeypatch):
    monkeypatch.setattr(ckpt, "MAX_BYTES", 1000)
    with pytest.raises(CheckpointError, match="too large"):
        load_checkpoint(saved, small)
