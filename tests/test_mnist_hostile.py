"""Every hostile or broken checkpoint is refused with plain guidance, before it is used, quickly and in little memory.

One table: (case, builder of the file's bytes from a genuine checkpoint, a phrase the message must hold). Every
message must also say what a valid file is, end with a full stop and show none of torch's or Python's internals.
Archive-level cases (zip bombs, too many entries, foreign archives) must be refused in milliseconds, before
anything is decompressed, with a small peak of Python memory. (The size limit of the file itself is tested in
tests/test_mnist_checkpoint.py with a lowered limit, so that no test allocates 120 MB.)
"""

import functools
import io
import json
import math
import os
import struct
import time
import tracemalloc
import warnings
import zipfile

import pytest
import torch

from optlab.mnist import checkpoint as ckpt
from optlab.mnist.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

CONFIG = TrainConfig(
    runs=(RunSpec.of("momentum", lr=0.05), RunSpec.of("adam", lr=1e-3)),
    width=32, epochs=2, batch_size=32, accum_steps=2, schedule="cosine", ema_decay=0.9, ema_tau=5.0,
    head_lr_mult=3.0, no_decay_bias=True, weight_decay=0.01, wd_mode="decoupled", log_every=4,
)
FORBIDDEN = ("PytorchStreamReader", "miniz", "inline_container", "EOFError", "Traceback", "weights_only",
             "UnpicklingError", "\x1b", "site-packages")


@pytest.fixture(scope="module")
def saved(small) -> bytes:
    t = Trainer(small, CONFIG, device="cpu")
    calls = iter(range(10_000))
    t.run(stop=lambda: next(calls) >= 9)
    return save_checkpoint(t)


# -- builders -----------------------------------------------------------------------------------------------------


def torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def edited(saved: bytes, edit) -> bytes:
    blob = torch.load(io.BytesIO(saved), weights_only=True)
    edit(blob)
    return torch_bytes(blob)


def edit_json(key: str, edit):
    """Edit the JSON text of the checkpoint's config or history."""
    def apply(blob):
        d = json.loads(blob[key])
        edit(d)
        blob[key] = json.dumps(d)
    return apply


def zip_of(entries: dict[str, bytes], method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


@functools.cache
def deflate_bomb(megabytes: int = 300) -> bytes:
    """A torch-like archive whose data.pkl deflates from `megabytes` MB of zeros to ~1/1000 of that, written by
    streaming 1 MB at a time, so building it needs little memory."""
    buf = io.BytesIO()
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/version", "3")
        with z.open("archive/data.pkl", "w") as f:
            for _ in range(megabytes):
                f.write(chunk)
    return buf.getvalue()


def central_headers(data: bytes):
    """Offsets of the central-directory file headers (PKWARE APPNOTE 4.3.12) in a zip file's bytes."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        yield at
        at = data.find(b"PK\x01\x02", at + 4)


def patched(data: bytes, field_offset: int, fmt: str, value: int, name: bytes) -> bytes:
    """Overwrite one field of the central-directory header of entry `name`."""
    out = bytearray(data)
    for at in central_headers(data):
        (n,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + n] == name:
            struct.pack_into(fmt, out, at + field_offset, value)
    return bytes(out)


def understated_bomb() -> bytes:
    """The bomb, with its central directory claiming data.pkl unpacks to 100 bytes (uncompressed size: offset 24)."""
    return patched(deflate_bomb(), 24, "<I", 100, b"archive/data.pkl")


def encrypted(saved: bytes) -> bytes:
    """The genuine checkpoint with the 'encrypted' flag (bit 0 of the flags at offset 8) set on data.pkl."""
    name = next(i.filename for i in zipfile.ZipFile(io.BytesIO(saved)).infolist() if i.filename.endswith("data.pkl"))
    flags = zipfile.ZipFile(io.BytesIO(saved)).getinfo(name).flag_bits
    return patched(saved, 8, "<H", flags | 1, name.encode())


def shortened_storage(saved: bytes) -> bytes:
    """The genuine checkpoint with its largest tensor record cut to 16 bytes: the pickle claims more than is there."""
    z = zipfile.ZipFile(io.BytesIO(saved))
    largest = max(z.infolist(), key=lambda i: i.file_size if "/data/" in i.filename else -1).filename
    return zip_of({i.filename: z.read(i.filename)[:16] if i.filename == largest else z.read(i.filename)
                   for i in z.infolist()})


def many_entries(n: int = 5000) -> bytes:
    return zip_of({f"archive/data/{k}": b"" for k in range(n)} | {"archive/data.pkl": b""})


def torchscript() -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # torch.jit is deprecated, and files of it still exist
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), buf)
    return buf.getvalue()


class Exploit:
    def __reduce__(self):
        return (os.system, ("true",))


def opt_group(run: int, **values):
    def apply(blob):
        blob["runs"][run]["optimizer"]["param_groups"][0].update(values)
    return apply


def opt_state(run: int, param: int, key: str, fill):
    def apply(blob):
        blob["runs"][run]["optimizer"]["state"][param][key].fill_(fill)
    return apply


NAN = float("nan")

# (case, builder of the bytes from a genuine checkpoint, phrase, archive-level: refused before torch.load)
CASES = [
    # the file is not a zip archive at all
    ("not bytes", lambda s: "text", "must be a file's bytes", True),
    ("empty file", lambda s: b"", "not a zip archive saved by torch.save", True),
    ("random bytes", lambda s: b"\x00\x01garbage" * 10, "not a zip archive saved by torch.save", True),
    ("a bare pickle", lambda s: b"\x80\x04K\x01.", "not a zip archive saved by torch.save", True),
    ("first half of a checkpoint", lambda s: s[: len(s) // 2], "not a complete zip archive", True),
    # zip archives that torch.save never writes
    ("zip but not torch", lambda s: zip_of({"hello.txt": b"not a checkpoint"}), "torch.save never writes", True),
    ("a TorchScript program", lambda s: torchscript(), "torch.save never writes", True),
    ("an entry outside the folder", lambda s: zip_of({"archive/data.pkl": b"", "../evil": b""}),
     "the one folder torch.save puts them in", True),
    ("terminal escape codes in a name", lambda s: zip_of({"archive/data.pkl": b"", "archive/\x1b[31mred": b""}),
     "torch.save never writes", True),
    ("no data.pkl", lambda s: zip_of({"archive/version": b"3"}), "no data.pkl entry", True),
    ("encrypted entry", encrypted, "is encrypted", True),
    ("300 MB deflated into 300 KB", lambda s: deflate_bomb(), "to 314.6 MB, 1,0", True),
    ("many small bombs, 135 MB in all",
     lambda s: zip_of({f"archive/data/{k}": bytes(900_000) for k in range(150)} | {"archive/data.pkl": b""},
                      zipfile.ZIP_DEFLATED), "would unpack to more than 120.0 MB", True),
    ("5,000 entries", lambda s: many_entries(), "5,001 entries; a checkpoint has at most 4,000", True),
    # archives that pass the table of contents but not torch's reader or its safe unpickler
    ("bomb whose table of contents understates it", lambda s: understated_bomb(), "damaged or incomplete", False),
    ("a tensor larger than its record", shortened_storage, "damaged or incomplete", False),
    ("malicious pickle", lambda s: torch_bytes({"format": ckpt.FORMAT, "payload": Exploit()}),
     "such objects are never loaded here", False),
    # torch.save files that are not this page's checkpoints
    ("a bare tensor", lambda s: torch_bytes(torch.zeros(3)), "not by this page", False),
    ("wrong version", lambda s: edited(s, lambda b: b.update(version=99)), "format version 99", False),
    ("version True", lambda s: edited(s, lambda b: b.update(version=True)), "format version True", False),
    ("missing key", lambda s: edited(s, lambda b: b.pop("runs")), "lacks the entries runs", False),
    ("extra key", lambda s: edited(s, lambda b: b.update(extra=1)), "entries a checkpoint never has", False),
    # the configuration
    ("config of 100,000 brackets", lambda s: edited(s, lambda b: b.update(config="[" * 100_000)),
     "nested 100,000 levels deep", False),
    ("config not JSON", lambda s: edited(s, lambda b: b.update(config="{'epochs': 3")), "not valid JSON", False),
    ("config missing settings", lambda s: edited(s, lambda b: b.update(config='{"epochs": 3}')), "lacks", False),
    ("config epochs 50", lambda s: edited(s, edit_json("config", lambda d: d.update(epochs=50))),
     "epochs must be between 1 and 20; got 50", False),
    ("config width True", lambda s: edited(s, edit_json("config", lambda d: d.update(width=True))),
     "hidden width must be a whole number, got True", False),
    ("config head lr 7", lambda s: edited(s, edit_json("config", lambda d: d.update(head_lr_mult=7.0))),
     "last-layer lr × must be one of 0.1, 0.3, 1, 3, 10; got 7.0", False),
    ("config unknown optimizer", lambda s: edited(s, lambda b: b.update(config=b["config"].replace('"adam"',
                                                                                             '"adamx"'))),
     "unknown optimizer 'adamx'", False),
    ("config momentum 5", lambda s: edited(s, lambda b: b.update(config=b["config"].replace('"lr", 0.05',
                                                                                      '"momentum", 5'))),
     "momentum=5 is outside the allowed range [0, 0.999]", False),
    # the history
    ("history of 100,000 brackets", lambda s: edited(s, lambda b: b.update(history="{" * 100_000)),
     "nested 100,000 levels deep", False),
    ("history labels = 5", lambda s: edited(s, edit_json("history", lambda d: d.update(labels=5))),
     "labels must be a list of names", False),
    ("history loss too short", lambda s: edited(s, edit_json("history", lambda d: d["loss"][0].pop())),
     "loss must hold 9 numbers", False),
    ("history loss of text", lambda s: edited(s, edit_json("history", lambda d: d["loss"][1].__setitem__(0, "x"))),
     "loss must hold", False),
    ("history steps renumbered", lambda s: edited(s, edit_json("history", lambda d: d["step"].reverse())),
     "numbered 1, 2, 3", False),
    ("history done = 1", lambda s: edited(s, edit_json("history", lambda d: d.update(done=1))),
     "done must be true or false", False),
    # position
    ("step True", lambda s: edited(s, lambda b: b.update(step=True)), "its step True is not a whole number", False),
    ("step 10**6", lambda s: edited(s, lambda b: b.update(step=10**6)), "between 0 and 26", False),
    ("n_train True", lambda s: edited(s, lambda b: b.update(n_train=True)), "is not a count", False),
    ("too few runs", lambda s: edited(s, lambda b: b["runs"].pop()), "different number of runs", False),
    # weights
    ("wrong shape", lambda s: edited(s, lambda b: b["runs"][0]["model"].update({"head.bias": torch.zeros(11)})),
     "head.bias has shape (11,)", False),
    ("missing weight", lambda s: edited(s, lambda b: b["runs"][1]["model"].pop("fc1.weight")),
     "different entries", False),
    ("NaN weight", lambda s: edited(s, lambda b: b["runs"][0]["model"]["head.bias"].fill_(NAN)),
     "head.bias holds NaN or infinite values", False),
    # optimizer hyperparameters: the registry's ranges, then the configuration's values
    ("optimizer momentum 5", lambda s: edited(s, opt_group(0, momentum=5.0)),
     "momentum=5 is outside the allowed range [0, 0.999]", False),
    ("optimizer lr -1", lambda s: edited(s, opt_group(0, lr=-1.0)), "its learning rate is -1.0", False),
    ("optimizer lr NaN", lambda s: edited(s, opt_group(1, lr=NAN)), "its learning rate is nan", False),
    ("optimizer lr off its schedule", lambda s: edited(s, opt_group(0, lr=0.001)),
     "not the one its schedule gives", False),
    ("optimizer betas changed", lambda s: edited(s, opt_group(1, betas=(0.5, 0.999))),
     "betas is (0.5, 0.999), but its configuration gives (0.9, 0.999)", False),
    ("optimizer nesterov 1", lambda s: edited(s, opt_group(0, nesterov=1)), "nesterov is 1", False),
    ("optimizer group missing a key", lambda s: edited(
        s, lambda b: b["runs"][0]["optimizer"]["param_groups"][0].pop("momentum")), "settings are not", False),
    # optimizer state
    ("optimizer state shape",
     lambda s: edited(s, lambda b: b["runs"][1]["optimizer"]["state"][0].update(exp_avg=torch.zeros(2, 2))),
     "'exp_avg' of parameter 0 has shape (2, 2)", False),
    ("NaN momentum buffer", lambda s: edited(s, opt_state(0, 0, "momentum_buffer", NAN)),
     "'momentum_buffer' of parameter 0 holds NaN", False),
    ("negative exp_avg_sq", lambda s: edited(s, opt_state(1, 2, "exp_avg_sq", -1.0)), "negative values", False),
    ("Adam step off", lambda s: edited(s, opt_state(1, 0, "step", 3.0)), "'step' of parameter 0 is 3", False),
    ("optimizer state for a 9th parameter",
     lambda s: edited(s, lambda b: b["runs"][1]["optimizer"]["state"].update({99: {}})), "unknown parameter 99",
     False),
    ("optimizer state missing", lambda s: edited(s, lambda b: b["runs"][1]["optimizer"]["state"].clear()),
     "does not cover", False),
    # scheduler
    ("scheduler {}", lambda s: edited(s, lambda b: b["runs"][0].update(scheduler={})),
     "scheduler state is not the one its schedule has", False),
    ("scheduler None", lambda s: edited(s, lambda b: b["runs"][0].update(scheduler=None)),
     "scheduler state is not the one", False),
    ("scheduler base lr changed", lambda s: edited(s, lambda b: b["runs"][0]["scheduler"]["base_lrs"].__setitem__(0, 1.0)),
     "its scheduler has 1.0 where its configuration gives 0.05", False),
    ("scheduler with an extra entry", lambda s: edited(s, lambda b: b["runs"][0]["scheduler"].update(T_max=3)),
     "scheduler state is not the one its schedule has", False),
    ("scheduler last_epoch True", lambda s: edited(s, lambda b: b["runs"][0]["scheduler"].update(last_epoch=True)),
     "scheduler's last_epoch is True", False),
    ("scheduler behind", lambda s: edited(s, lambda b: b["runs"][0]["scheduler"].update(last_epoch=2)),
     "has taken 2 steps", False),
    ("scheduler lr NaN", lambda s: edited(s, lambda b: b["runs"][1]["scheduler"].update(_last_lr=[NAN] * 3)),
     "_last_lr is [nan", False),
    # EMA
    ("NaN EMA weight", lambda s: edited(s, lambda b: b["runs"][1]["ema"]["module"]["fc1.bias"].fill_(NAN)),
     "EMA weights: fc1.bias holds NaN", False),
    ("EMA decay NaN", lambda s: edited(s, lambda b: b["runs"][0]["ema"].update(decay=NAN)),
     "its EMA decay is nan", False),
    ("EMA updates True", lambda s: edited(s, lambda b: b["runs"][0]["ema"].update(updates=True)),
     "its EMA has True updates", False),
    ("EMA missing", lambda s: edited(s, lambda b: b["runs"][0].update(ema=None)), "EMA state must have", False),
]


@pytest.mark.parametrize("name,make,phrase,archive", CASES, ids=[c[0] for c in CASES])
def test_hostile_checkpoint_is_refused_with_guidance(small, saved, name, make, phrase, archive):
    data = make(saved)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(data, small, device="cpu")
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert phrase in message, message
    assert message.startswith(("This file is not an optlab checkpoint: ", "This checkpoint cannot be resumed: ",
                               "A checkpoint must be")), message
    assert "Download a checkpoint with this page's 'Download checkpoint' button" in message, message
    assert message.endswith("."), message
    assert not any(word in message for word in FORBIDDEN), message
    assert message.isprintable(), message
    if archive:  # refused from the table of contents: nothing was decompressed or unpickled
        assert seconds < 0.25, f"{name}: refused after {seconds:.3f} s"
        extra = len(data) if isinstance(data, bytes) else 0  # read_checkpoint keeps one copy of the file
        assert peak < 2 * extra + 3_000_000, f"{name}: peak Python memory {peak:,} bytes"


def test_the_table_is_honest_a_genuine_checkpoint_loads(small, saved):
    """The builders change one thing each: unchanged, the same file resumes."""
    t = load_checkpoint(saved, small, device="cpu")
    assert t.step == 9
    assert load_checkpoint(edited(saved, lambda b: None), small, device="cpu").step == 9


def test_the_bomb_really_unpacks_to_300_mb():
    """The archive case is not vacuous: the central directory tells the truth about the entry."""
    info = zipfile.ZipFile(io.BytesIO(deflate_bomb())).getinfo("archive/data.pkl")
    assert info.file_size == 300 << 20 and info.compress_size < 400_000


def test_archive_check_reads_no_entry(monkeypatch):
    """inspect_archive never opens an entry: only the central directory."""
    bomb = deflate_bomb()  # built first: writing an archive opens its entries
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or None)
    with pytest.raises(CheckpointError):
        ckpt.inspect_archive(bomb)
    assert opened == []


def test_refusal_is_fast_in_milliseconds():
    bomb = deflate_bomb()
    t0 = time.perf_counter()
    for _ in range(20):
        with pytest.raises(CheckpointError):
            ckpt.read_checkpoint(bomb)
    assert (time.perf_counter() - t0) / 20 < 0.02


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_learning_rate_is_refused(small, saved, value):
    with pytest.raises(CheckpointError, match="its learning rate is"):
        load_checkpoint(edited(saved, opt_group(0, lr=value)), small, device="cpu")
