"""Save a Trainer to bytes and resume one from uploaded bytes, checked before use; never unpickles objects.

The file is `torch.save` of a dict of tensors, numbers and strings: a zip archive (PyTorch's serialization
format: `<name>/data.pkl`, `<name>/data/<key>` per tensor storage and a few small records, all stored without
compression). An upload is checked in three rounds, each before the next one reads anything:

1. the archive itself, from its central directory alone (nothing is decompressed): how many entries, their names,
   their uncompressed sizes, their total and their compression ratios;
2. the pickle, read by `torch.load(..., weights_only=True)`, which refuses any object other than tensors and
   plain containers (https://pytorch.org/docs/stable/generated/torch.load.html), so a hostile pickle never runs;
3. the contents, against what the checkpoint's own configuration builds: every hyperparameter in the ranges the
   page's widgets allow, the scheduler's and the EMA's state, every tensor's shape, dtype and finiteness, and the
   training history's shape and types.

The batch order is a pure function of (seed, epoch), so the step count is the whole RNG position.
"""

from __future__ import annotations

import copy
import io
import math
import pickle
import re
import struct
import zipfile

import torch

from optlab.i18n import N_, t
from optlab.mnist.config import TrainConfig
from optlab.mnist.data import Digits
from optlab.mnist.history import History
from optlab.mnist.train import Trainer, build_optimizer
from optlab.registry import get_spec

FORMAT = "optlab-mnist-checkpoint"
VERSION = 1
# The largest checkpoint the page can write: 4 runs of the 512×3 MLP (932,362 float32 parameters, 3.7 MB), each
# with its weights, an EMA copy and up to three optimizer state tensors (AMSGrad; centred RMSprop with momentum):
# 4 · 5 · 3.7 MB = 75 MB, plus the history of 20 epochs of full MNIST at batch 8 (150,000 steps, about 25 MB).
MAX_BYTES = 120_000_000  # the file, and the archive's entries once unpacked, together
MAX_ENTRIES = 4_000  # a checkpoint of 4 runs of the largest network has about 250
MAX_NAME = 200  # characters of an entry's name
MAX_RATIO = 20  # uncompressed / compressed size of one entry; torch.save stores entries (ratio 1)
_KEYS = {"format", "version", "config", "n_train", "step", "history", "runs"}
_RUN_KEYS = {"model", "optimizer", "scheduler", "ema"}

GET_ONE = N_("Download a checkpoint with this page's 'Download checkpoint' button and upload that file.")


class CheckpointError(ValueError):
    """An uploaded checkpoint that cannot be used; the message says why and what a valid file is."""


def _not_a_checkpoint(what: str) -> CheckpointError:
    return CheckpointError(t("This file is not an optlab checkpoint: {what}. {advice}", what=what, advice=t(GET_ONE)))


def _cannot_resume(what: str, advice: str | None = None) -> CheckpointError:
    advice = t(GET_ONE) if advice is None else advice
    return CheckpointError(t("This checkpoint cannot be resumed: {what}. {advice}", what=what, advice=advice))


def _shown(text: str, limit: int = 60) -> str:
    """A name from the file as it may be shown: printable ASCII only (no terminal escape codes), shortened."""
    clean = "".join(c if " " <= c <= "~" else "?" for c in text)
    return f"'{clean}'" if len(clean) <= limit else f"'{clean[:limit]}…'"


def _value(v: object, limit: int = 30) -> str:
    """A value from the file as it may be shown: its repr, printable ASCII only, shortened."""
    text = "".join(c if " " <= c <= "~" else "?" for c in repr(v))
    return text if len(text) <= limit else text[:limit] + "…"


def _clause(e: Exception) -> str:
    """An error message to go after a colon: its first letter in lower case unless it starts an acronym."""
    text = str(e)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return t("{n} bytes", n=n)


# -- saving -------------------------------------------------------------------------------------------------------


def save_checkpoint(trainer: Trainer) -> bytes:
    """Model, optimizer, scheduler and EMA state of every run, the position and the curves so far."""
    blob = {
        "format": FORMAT,
        "version": VERSION,
        "config": trainer.config.to_json(),
        "n_train": trainer.data.n_train,
        "step": trainer.step,
        "history": trainer.history.to_json(),
        "runs": [
            {
                "model": {k: v.detach().cpu() for k, v in r.model.state_dict().items()},
                "optimizer": _to_cpu(r.optimizer.state_dict()),
                "scheduler": r.scheduler.state_dict() if r.scheduler is not None else None,
                "ema": _to_cpu(r.ema.state_dict()) if r.ema is not None else None,
            }
            for r in trainer.runs
        ],
    }
    buf = io.BytesIO()
    torch.save(blob, buf)
    return buf.getvalue()


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


# -- round 1: the archive, from its central directory ---------------------------------------------------------------

# The records torch.save writes next to data.pkl (torch/serialization.py, _save); data/<key> holds one storage.
_RECORDS = {"data.pkl", ".format_version", ".storage_alignment", "byteorder", "version", ".data/serialization_id"}
_STORAGE = re.compile(r"data/[0-9]{1,9}")
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def _entry_count(data: bytes) -> int:
    """The number of entries the end-of-central-directory record announces (PKWARE APPNOTE.TXT 4.3.16), read
    before zipfile builds one object per entry; 0xFFFF means the count is in the ZIP64 record (4.3.14)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if end < 0 or len(data) < end + 22:
        raise _not_a_checkpoint(t("it is not a complete zip archive (its table of contents is missing)"))
    (count,) = struct.unpack_from("<H", data, end + 10)  # total number of entries in the central directory
    if count != 0xFFFF:
        return count
    locator = end - 20  # ZIP64 end of central directory locator, just before the end record (4.3.15)
    if locator < 0 or data[locator : locator + 4] != b"PK\x06\x07":
        raise _not_a_checkpoint(t("it is not a complete zip archive (its table of contents is missing)"))
    (offset,) = struct.unpack_from("<Q", data, locator + 8)
    if offset > len(data) - 56 or data[offset : offset + 4] != b"PK\x06\x06":
        raise _not_a_checkpoint(t("it is not a complete zip archive (its table of contents is missing)"))
    (count,) = struct.unpack_from("<Q", data, offset + 32)
    return count


def inspect_archive(data: bytes) -> None:
    """Refuse an archive that is not what torch.save writes, or that would unpack to too much, before anything
    is decompressed: only the central directory is read (names, sizes, methods), in milliseconds."""
    count = _entry_count(data)
    if count > MAX_ENTRIES:
        raise _not_a_checkpoint(t("it is an archive of {count} entries; a checkpoint has at most {most}",
                                   count=f"{count:,}", most=f"{MAX_ENTRIES:,}"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error):
        raise _not_a_checkpoint(t("it is not a zip archive written by torch.save (it is damaged or of another "
                                  "kind)")) from None
    if len(infos) > MAX_ENTRIES:
        raise _not_a_checkpoint(t("it is an archive of {count} entries; a checkpoint has at most {most}",
                                  count=f"{len(infos):,}", most=f"{MAX_ENTRIES:,}"))
    prefixes = {i.filename.split("/", 1)[0] for i in infos}
    if len(prefixes) != 1 or not _PREFIX.fullmatch(next(iter(prefixes), "")):
        raise _not_a_checkpoint(t("its entries are not in the one folder torch.save puts them in"))
    prefix = prefixes.pop()
    total = 0
    seen = set()
    for info in infos:
        name = info.filename
        inner = name[len(prefix) + 1 :]
        if len(name) > MAX_NAME or name in seen or not (inner in _RECORDS or _STORAGE.fullmatch(inner)):
            raise _not_a_checkpoint(t("it holds an entry {name}, which torch.save never writes "
                                      "(a TorchScript program or another kind of archive?)", name=_shown(name)))
        seen.add(name)
        if info.flag_bits & 0x1:
            raise _not_a_checkpoint(t("its entry {name} is encrypted", name=_shown(name)))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _not_a_checkpoint(t("its entry {name} is compressed in a way torch.save never uses",
                                      name=_shown(name)))
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise _not_a_checkpoint(t("its entry {name} is damaged (its two recorded sizes differ)", name=_shown(name)))
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1_000_000:
            raise _not_a_checkpoint(t(
                "its entry {name} would unpack from {packed} to {unpacked}, {ratio} times its size; "
                "torch.save stores entries uncompressed", name=_shown(name), packed=_size(info.compress_size),
                unpacked=_size(info.file_size), ratio=f"{info.file_size // max(info.compress_size, 1):,}",
            ))
        total += info.file_size
        if total > MAX_BYTES:
            raise _not_a_checkpoint(t("it would unpack to more than {most}, the most a checkpoint may hold",
                                      most=_size(MAX_BYTES)))
    if f"{prefix}/data.pkl" not in seen:
        raise _not_a_checkpoint(t("it has no data.pkl entry, which every file saved by torch.save has"))


# -- round 2: the pickle, by torch's safe loader ----------------------------------------------------------------


def read_checkpoint(data: bytes) -> dict:
    """Check the archive, then load it with weights_only=True; CheckpointError with a plain message otherwise."""
    if not isinstance(data, bytes | bytearray):
        raise CheckpointError(t("A checkpoint must be a file's bytes. {advice}", advice=t(GET_ONE)))
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise _not_a_checkpoint(t("it is {size}, and a checkpoint is at most {most}", size=_size(len(data)),
                                  most=_size(MAX_BYTES)))
    if data[:4] != b"PK\x03\x04":
        raise _not_a_checkpoint(t("it is not a zip archive saved by torch.save"))
    inspect_archive(data)
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "GLOBAL" not in str(e) and "global" not in str(e):  # not a refused object: a damaged pickle
            raise _not_a_checkpoint(t("it is damaged or incomplete, so torch.load cannot read it")) from None
        raise _not_a_checkpoint(t(
            "it holds Python objects other than tensors, numbers and text, and such objects are never loaded "
            "here, because loading them can run any code"
        )) from None
    except Exception:  # noqa: BLE001 - torch's reader fails in many ways on a damaged file; the answer is one
        raise _not_a_checkpoint(t("it is damaged or incomplete, so torch.load cannot read it")) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise _not_a_checkpoint(t("it was saved by torch.save, but not by this page (its format marker is missing)"))
    version = blob.get("version")
    if type(version) is not int or version != VERSION:
        raise _not_a_checkpoint(t("it is of format version {version}, and this page reads version {known}",
                                  version=_value(version, 20), known=VERSION))
    missing, extra = sorted(_KEYS - set(blob)), sorted(map(str, set(blob) - _KEYS))
    if missing:
        raise _cannot_resume(t("it lacks the entries {names}", names=", ".join(missing)))
    if extra:
        raise _cannot_resume(t("it has entries a checkpoint never has: {names}",
                               names=", ".join(_shown(k, 30) for k in extra)))
    return blob


# -- round 3: the contents, against what the configuration builds --------------------------------------------------


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_tensors(saved: object, want: dict[str, torch.Tensor], what: str, finite: bool) -> None:
    """saved must hold exactly want's keys, each a tensor of the same shape and dtype (finite unless told)."""
    if not isinstance(saved, dict) or set(saved) != set(want):
        raise _cannot_resume(t("{what} do not match the configured network (different entries)", what=what))
    for k, v in want.items():
        tensor = saved[k]
        if not isinstance(tensor, torch.Tensor) or tensor.shape != v.shape or tensor.dtype != v.dtype:
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise _cannot_resume(t("{what}: {key} has shape {shape}, and the network needs {needed}", what=what, key=k,
                                   shape=shape, needed=tuple(v.shape)))
        if finite and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise _cannot_resume(t("{what}: {key} holds NaN or infinite values", what=what, key=k))


# Optimizer state entries that are sums or averages of squared gradients (torch.optim docs, each algorithm's
# pseudo-code: v_t, the square average, the state sum), so never negative.
_NONNEGATIVE = {"exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum"}


def _probe_state(run, config: TrainConfig, step: int) -> dict:
    """The per-parameter state this run's optimizer keeps at `step`: that of a fresh copy, after one step with
    zero gradients when step > 0 (Adagrad keeps state from its construction, the others from their first step)."""
    model = copy.deepcopy(run.model)
    optimizer = build_optimizer(run.spec, model, config)
    if step > 0:
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        optimizer.step()
    return optimizer.state_dict()["state"]


def _check_group_value(i: int, g: int, key: str, saved: object, built: object, spec) -> None:
    """One param_group entry: in the registry's range when it is a knob, then equal to what the config builds."""
    where = t("run {n}, param group {g}", n=i + 1, g=g)
    if key == "betas" and isinstance(saved, list | tuple) and len(saved) == 2:
        knobs = list(zip(("beta1", "beta2"), saved, strict=True))
    else:
        knobs = [(key, saved)]
    for name, value in knobs:
        if name in spec.names():
            try:
                spec.hyper(name).check(value)
            except ValueError as e:
                raise _cannot_resume(t("{where}: {problem}", where=where, problem=e)) from None
    same_type = type(saved) is type(built) or (
        isinstance(saved, int | float) and isinstance(built, int | float)
        and not isinstance(saved, bool) and not isinstance(built, bool)
    )
    if isinstance(saved, list | tuple) and isinstance(built, list | tuple):
        same_type = len(saved) == len(built)
    if not same_type or saved != built:
        raise _cannot_resume(t("{where}: {key} is {saved}, but its configuration gives {built}", where=where, key=key,
                               saved=_value(saved, 30), built=_value(built, 30)))


def _check_optimizer(state: object, run, config: TrainConfig, i: int, step: int, diverged: bool) -> None:
    optimizer = run.optimizer
    spec = get_spec(run.spec.optimizer)
    if not isinstance(state, dict) or set(state) != {"state", "param_groups"}:
        raise _cannot_resume(t("run {n}: its optimizer state must have 'state' and 'param_groups'", n=i + 1))
    built = optimizer.state_dict()
    groups = state["param_groups"]
    if not isinstance(groups, list) or len(groups) != len(built["param_groups"]):
        raise _cannot_resume(t("run {n}: its optimizer has a different number of param groups", n=i + 1))
    for g, (saved, now) in enumerate(zip(groups, built["param_groups"], strict=True)):
        if not isinstance(saved, dict) or set(saved) != set(now):
            raise _cannot_resume(t("run {n}, param group {g}: its settings are not the ones {optimizer} has",
                                   n=i + 1, g=g, optimizer=spec.label))
        if saved["params"] != now["params"]:
            raise _cannot_resume(t("run {n}, param group {g}: it does not hold the network's parameters", n=i + 1, g=g))
        lr = saved["lr"]
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) or lr < 0:
            raise _cannot_resume(t("run {n}, param group {g}: its learning rate is {lr}; "
                                   "a learning rate is a finite number of at least 0", n=i + 1, g=g,
                                   lr=_value(lr, 30)))
        for key, value in saved.items():
            if key not in ("params", "lr"):  # lr moves with the schedule: checked against the scheduler
                _check_group_value(i, g, key, value, now[key], spec)
        if run.scheduler is None:
            _check_group_value(i, g, "lr", lr, now["lr"], spec)
    per_param = state["state"]
    if not isinstance(per_param, dict):
        raise _cannot_resume(t("run {n}: its optimizer 'state' must be a dict", n=i + 1))
    probe = _probe_state(run, config, step)
    for idx, entry in per_param.items():
        if not _is_int(idx) or idx not in probe or not isinstance(entry, dict):
            raise _cannot_resume(t("run {n}: its optimizer state refers to an unknown parameter {index}", n=i + 1,
                                   index=_value(idx, 20)))
    if not diverged and set(per_param) != set(probe):
        raise _cannot_resume(t("run {n}: its optimizer state does not cover the network's parameters", n=i + 1))
    for idx, entry in per_param.items():
        want = probe[idx]
        if set(entry) != set(want):
            raise _cannot_resume(t("run {n}: the optimizer state of parameter {index} has entries {entries}; "
                                   "{optimizer} keeps {kept}", n=i + 1, index=idx,
                                   entries=sorted(map(str, entry))[:6], optimizer=spec.label, kept=sorted(want)))
        for key, value in entry.items():
            model = want[key]
            if not isinstance(model, torch.Tensor):
                if type(value) is not type(model):
                    raise _cannot_resume(t("run {n}: optimizer state {key} of parameter {index} is of the wrong kind",
                                           n=i + 1, key=repr(key), index=idx))
                continue
            if not isinstance(value, torch.Tensor) or value.dtype != model.dtype or value.shape != model.shape:
                shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise _cannot_resume(t("run {n}: optimizer state {key} of parameter {index} has shape {shape}, "
                                       "expected {needed}", n=i + 1, key=repr(key), index=idx, shape=shape,
                                       needed=tuple(model.shape)))
            if diverged:
                continue  # a diverged run stays stopped: its state may hold NaN and is only shown
            if not torch.isfinite(value).all():
                raise _cannot_resume(t("run {n}: optimizer state {key} of parameter {index} holds NaN or infinite values",
                                       n=i + 1, key=repr(key), index=idx))
            if key in _NONNEGATIVE and (value < 0).any():
                raise _cannot_resume(t("run {n}: optimizer state {key} of parameter {index} holds negative values, "
                                       "and it is an average of squares", n=i + 1, key=repr(key), index=idx))
            if key == "step" and value.item() != step:
                raise _cannot_resume(t("run {n}: optimizer state 'step' of parameter {index} is {value}, and the "
                                       "checkpoint is at step {step}", n=i + 1, index=idx,
                                       value=f"{value.item():g}", step=step))


# Scheduler entries that change as it steps (torch.optim.lr_scheduler.LRScheduler and SequentialLR state_dict);
# every other entry is fixed by the configuration and must equal what it builds.
_MOVING_SCHEDULER = {"last_epoch", "_step_count", "_last_lr", "_is_initial", "_get_lr_called_within_step"}


def _same_structure(saved: object, built: object, where: str, n_groups: int, total: int) -> None:
    """saved has built's keys and types all the way down, equal fixed values and plausible moving ones."""
    if isinstance(built, dict):
        if not isinstance(saved, dict) or set(saved) != set(built):
            raise _cannot_resume(t("{where}: its scheduler state is not the one its schedule has", where=where))
        for k, b in built.items():
            if k in _MOVING_SCHEDULER:
                _check_moving(k, saved[k], where, n_groups, total)
            else:
                _same_structure(saved[k], b, where, n_groups, total)
    elif isinstance(built, list | tuple):
        if not isinstance(saved, list | tuple) or len(saved) != len(built):
            raise _cannot_resume(t("{where}: its scheduler state is not the one its schedule has", where=where))
        for s, b in zip(saved, built, strict=True):
            _same_structure(s, b, where, n_groups, total)
    elif type(saved) is not type(built) or saved != built:
        raise _cannot_resume(t("{where}: its scheduler has {saved} where its configuration gives {built}",
                               where=where, saved=_value(saved, 30), built=_value(built, 30)))


def _check_moving(key: str, value: object, where: str, n_groups: int, total: int) -> None:
    if key in ("_is_initial", "_get_lr_called_within_step"):
        ok = isinstance(value, bool)
    elif key == "_last_lr":
        ok = isinstance(value, list) and len(value) == n_groups and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in value)
    else:  # last_epoch, _step_count: whole numbers within the run
        ok = _is_int(value) and 0 <= value <= total + 1
    if not ok:
        raise _cannot_resume(t("{where}: its scheduler's {key} is {value}, which no run of its schedule reaches",
                               where=where, key=key, value=_value(value, 30)))


def _check_scheduler(saved: object, run, i: int, step: int, total: int, diverged: bool) -> None:
    if run.scheduler is None:
        if saved is not None:
            raise _cannot_resume(t("run {n}: it has a scheduler state, and its configuration has no schedule", n=i + 1))
        return
    where = t("run {n}", n=i + 1)
    groups = run.optimizer.param_groups
    _same_structure(saved, run.scheduler.state_dict(), where, len(groups), total)
    if not (saved["last_epoch"] == step or (diverged and saved["last_epoch"] <= step)):  # a diverged run stopped
        raise _cannot_resume(t("{where}: its scheduler has taken {taken} steps, and the checkpoint is at step {step}",
                               where=where, taken=saved["last_epoch"], step=step))


def _check_lrs(state: dict, scheduler_state: dict | None, i: int) -> None:
    """With a schedule, each group's lr is the scheduler's latest, and at most the group's peak lr."""
    if scheduler_state is None:
        return
    for g, (group, last) in enumerate(zip(state["param_groups"], scheduler_state["_last_lr"], strict=True)):
        peak = max(group.get("initial_lr", 0.0), group.get("max_lr", 0.0))
        if group["lr"] != last or group["lr"] > peak * (1 + 1e-9):
            raise _cannot_resume(t("run {n}, param group {g}: its learning rate {lr} is not the one its schedule "
                                   "gives (at most {peak})", n=i + 1, g=g, lr=f"{group['lr']:g}",
                                   peak=f"{peak:g}"))


def _check_ema(saved: object, run, config: TrainConfig, i: int, step: int, diverged: bool) -> None:
    if run.ema is None:
        if saved is not None:
            raise _cannot_resume(t("run {n}: it has an EMA of the weights, and its configuration has none", n=i + 1))
        return
    if not isinstance(saved, dict) or set(saved) != {"module", "updates", "decay", "tau"}:
        raise _cannot_resume(t("run {n}: its EMA state must have module, updates, decay and tau", n=i + 1))
    _check_tensors(saved["module"], run.ema.module.state_dict(), t("run {n}: the EMA weights", n=i + 1), not diverged)
    updates = saved["updates"]
    if not _is_int(updates) or not (updates == step or (diverged and 0 <= updates <= step)):
        raise _cannot_resume(t("run {n}: its EMA has {updates} updates, and the checkpoint is at step {step}",
                               n=i + 1, updates=_value(updates, 20), step=step))
    for key, want in (("decay", config.ema_decay), ("tau", config.ema_tau)):
        v = saved[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or v != want:
            raise _cannot_resume(t("run {n}: its EMA {key} is {value}, and its configuration says {want}", n=i + 1,
                                   key=key, value=_value(v, 20), want=f"{want:g}"))


def _check_history(history: History, trainer: Trainer, step: int) -> None:
    n_groups = [len(r.optimizer.param_groups) for r in trainer.runs]
    problems = [
        (history.labels == trainer.labels, t("its curves belong to other runs than its configuration's")),
        (history.total_steps == trainer.total_steps and history.steps_per_epoch == trainer.steps_per_epoch,
         t("its curves are of a run of another length")),
        (history.steps_done == step,
         t("its curves stop at step {done}, and it is at step {step}", done=history.steps_done, step=step)),
        (all(all(len(s) == k for s in lrs) for lrs, k in zip(history.lr, n_groups, strict=True)),
         t("its learning-rate curves are for another number of param groups")),
        (all(bool(e) == (trainer.config.ema_decay is not None) for e in history.ema_acc) or not history.eval_step,
         t("its EMA curves do not match its configuration")),
    ]
    for ok, what in problems:
        if not ok:
            raise _cannot_resume(what)


def load_checkpoint(data: bytes, digits: Digits, device: torch.device | str | None = None) -> Trainer:
    """A Trainer positioned exactly where the saved one stopped; continuing it gives the uninterrupted numbers.

    CheckpointError, with a message saying what is wrong and what a valid file is, for anything else; nothing
    from the file is used before all of it has been checked.
    """
    blob = read_checkpoint(data)
    try:
        config = TrainConfig.from_json(blob["config"])
    except ValueError as e:
        raise _cannot_resume(t("its configuration is not valid: {problem}", problem=_clause(e))) from None
    n_train = blob["n_train"]
    if not _is_int(n_train) or not 0 < n_train <= 10_000_000:
        raise _cannot_resume(t("its number of training digits, {value}, is not a count", value=_value(n_train, 20)))
    if n_train != digits.n_train:
        raise _cannot_resume(t("it was trained on {saved} digits, and the data loaded now has {loaded}",
                               saved=n_train, loaded=digits.n_train),
                             t("Pick the data it was trained on in the sidebar, then upload it again."))
    try:
        trainer = Trainer(digits, config, device)
    except (ValueError, KeyError) as e:
        raise _cannot_resume(t("its configuration cannot be built: {problem}", problem=_clause(e))) from None
    step = blob["step"]
    if not _is_int(step) or not 0 <= step <= trainer.total_steps:
        raise _cannot_resume(t("its step {value} is not a whole number between 0 and {most}",
                               value=_value(step, 20), most=trainer.total_steps))
    try:
        history = History.from_json(blob["history"])
    except ValueError as e:
        raise _cannot_resume(_clause(e)) from None
    _check_history(history, trainer, step)
    if config.lr_change_step and step > config.lr_change_step:
        trainer.change_lr()  # the saved optimizers are past the mid-run change: compare with changed ones
    runs = blob["runs"]
    if not isinstance(runs, list) or len(runs) != len(trainer.runs):
        raise _cannot_resume(t("it has a different number of runs than its configuration"))
    for i, (saved, run) in enumerate(zip(runs, trainer.runs, strict=True)):
        if not isinstance(saved, dict) or set(saved) != _RUN_KEYS:
            raise _cannot_resume(t("run {n} must have exactly {keys}", n=i + 1, keys=", ".join(sorted(_RUN_KEYS))))
        diverged = history.diverged[i] is not None
        _check_tensors(saved["model"], run.model.state_dict(), t("run {n}: the model weights", n=i + 1), not diverged)
        _check_optimizer(saved["optimizer"], run, config, i, trainer.optimizer_steps(i, step), diverged)
        _check_scheduler(saved["scheduler"], run, i, step, trainer.total_steps, diverged)
        _check_lrs(saved["optimizer"], saved["scheduler"], i)
        _check_ema(saved["ema"], run, config, i, step, diverged)
    for i, (saved, run) in enumerate(zip(runs, trainer.runs, strict=True)):
        try:
            run.model.load_state_dict(saved["model"])
            run.optimizer.load_state_dict(saved["optimizer"])
            if run.scheduler is not None:
                run.scheduler.load_state_dict(saved["scheduler"])
            if run.ema is not None:
                run.ema.load_state_dict(saved["ema"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError):  # all was checked: a safety net
            raise _cannot_resume(t("the state of run {n} does not fit its configuration", n=i + 1)) from None
    trainer.history = history
    trainer.diverged = [None if d is None else (d["step"], d["reason"]) for d in history.diverged]
    trainer.step = step
    return trainer
