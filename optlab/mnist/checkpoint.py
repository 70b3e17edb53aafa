"""Save a Trainer to bytes and resume one from uploaded bytes, checked before use; never unpickles objects.

The file is `torch.save` of a dict of tensors, numbers and strings, read back with
`torch.load(..., weights_only=True)`, which refuses any pickled object other than tensors and plain containers.
The batch order is a pure function of (seed, epoch), so the step count is the whole RNG position.
"""

from __future__ import annotations

import io

import torch

from optlab.mnist.config import TrainConfig
from optlab.mnist.data import Digits
from optlab.mnist.history import History
from optlab.mnist.train import Trainer

FORMAT = "optlab-mnist-checkpoint"
VERSION = 1
MAX_BYTES = 20_000_000
_KEYS = {"format", "version", "config", "n_train", "step", "history", "runs"}
_RUN_KEYS = {"model", "optimizer", "scheduler", "ema"}


class CheckpointError(ValueError):
    """An uploaded checkpoint that cannot be used; the message says why."""


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


def read_checkpoint(data: bytes) -> dict:
    """Check size and container type, then load with weights_only=True; CheckpointError for anything else."""
    if not isinstance(data, bytes | bytearray):
        raise CheckpointError("A checkpoint must be a file's bytes")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"File too large: {len(data):,} bytes (at most {MAX_BYTES:,})")
    if data[:4] != b"PK\x03\x04":
        raise CheckpointError("Not an optlab checkpoint: expected a file saved by torch.save (a zip archive)")
    try:
        blob = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to load is the same answer to the user
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"Not a readable checkpoint (refused by the safe loader: {first[:200]})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError("Not an optlab MNIST checkpoint (format marker missing)")
    if blob.get("version") != VERSION:
        raise CheckpointError(f"Unsupported checkpoint version: {blob.get('version')!r} (expected {VERSION})")
    missing = _KEYS - set(blob)
    if missing:
        raise CheckpointError(f"Checkpoint is missing: {', '.join(sorted(missing))}")
    return blob


def _check_model(state: object, model: torch.nn.Module, i: int) -> None:
    want = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(want):
        raise CheckpointError(f"Run {i + 1}: model weights do not match the configured network (different keys)")
    for k, v in want.items():
        t = state[k]
        if not isinstance(t, torch.Tensor) or t.shape != v.shape or t.dtype != v.dtype:
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise CheckpointError(f"Run {i + 1}: {k} has shape {shape}, the network needs {tuple(v.shape)}")
        if not torch.isfinite(t).all():
            raise CheckpointError(f"Run {i + 1}: {k} holds NaN or infinite values")


def _check_optimizer(state: object, optimizer: torch.optim.Optimizer, i: int) -> None:
    if not isinstance(state, dict) or set(state) != {"state", "param_groups"}:
        raise CheckpointError(f"Run {i + 1}: optimizer state must have 'state' and 'param_groups'")
    groups = state["param_groups"]
    if not isinstance(groups, list) or len(groups) != len(optimizer.param_groups):
        raise CheckpointError(f"Run {i + 1}: optimizer has a different number of param groups")
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for g_saved, g_now in zip(groups, optimizer.param_groups, strict=True):
        if not isinstance(g_saved, dict) or len(g_saved.get("params", ())) != len(g_now["params"]):
            raise CheckpointError(f"Run {i + 1}: optimizer param groups do not match the network")
    per_param = state["state"]
    if not isinstance(per_param, dict):
        raise CheckpointError(f"Run {i + 1}: optimizer 'state' must be a dict")
    for idx, entry in per_param.items():
        if not isinstance(idx, int) or not 0 <= idx < len(params) or not isinstance(entry, dict):
            raise CheckpointError(f"Run {i + 1}: optimizer state refers to an unknown parameter {idx!r}")
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape != params[idx].shape:
                raise CheckpointError(
                    f"Run {i + 1}: optimizer state {key!r} of parameter {idx} has shape {tuple(value.shape)}, "
                    f"expected {tuple(params[idx].shape)}"
                )


def load_checkpoint(data: bytes, digits: Digits, device: torch.device | str | None = None) -> Trainer:
    """A Trainer positioned exactly where the saved one stopped; continuing it gives the uninterrupted numbers."""
    blob = read_checkpoint(data)
    try:
        config = TrainConfig.from_json(blob["config"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(str(e)) from None
    if blob["n_train"] != digits.n_train:
        raise CheckpointError(
            f"Checkpoint was trained on {blob['n_train']} digits; the data loaded now has {digits.n_train}"
        )
    try:
        trainer = Trainer(digits, config, device)
    except (ValueError, KeyError) as e:
        raise CheckpointError(f"Checkpoint configuration cannot be built: {e}") from None
    step = blob["step"]
    if not isinstance(step, int) or not 0 <= step <= trainer.total_steps:
        raise CheckpointError(f"Invalid step in checkpoint: {step!r}")
    runs = blob["runs"]
    if not isinstance(runs, list) or len(runs) != len(trainer.runs):
        raise CheckpointError("Checkpoint has a different number of runs than its configuration")
    for i, (saved, run) in enumerate(zip(runs, trainer.runs, strict=True)):
        if not isinstance(saved, dict) or set(saved) != _RUN_KEYS:
            raise CheckpointError(f"Run {i + 1}: expected keys {sorted(_RUN_KEYS)}")
        _check_model(saved["model"], run.model, i)
        _check_optimizer(saved["optimizer"], run.optimizer, i)
        if (saved["scheduler"] is None) != (run.scheduler is None) or (saved["ema"] is None) != (run.ema is None):
            raise CheckpointError(f"Run {i + 1}: scheduler or EMA state does not match the configuration")
        try:
            run.model.load_state_dict(saved["model"])
            run.optimizer.load_state_dict(saved["optimizer"])
            if run.scheduler is not None:
                run.scheduler.load_state_dict(saved["scheduler"])
            if run.ema is not None:
                run.ema.load_state_dict(saved["ema"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as e:
            raise CheckpointError(f"Run {i + 1}: state cannot be loaded ({str(e)[:200]})") from None
    try:
        trainer.history = History.from_json(blob["history"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(str(e)) from None
    trainer.step = step
    return trainer
