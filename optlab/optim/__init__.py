"""optlab.optim: torch.optim-exact optimizers that can explain their steps (torch only, no plotting).

Each class subclasses torch.optim.Optimizer, takes torch's arguments and defaults, keeps torch's state keys and
reproduces torch's single-tensor numbers; set ``opt.explain = True`` to record each step's named quantities.
``Lion``, ``AdaBelief`` and ``AdamWScheduleFree``, which torch does not have, reproduce a reference package's
numbers instead (lion-pytorch, pytorch-optimizer, schedulefree). ``MatrixMuon`` and
``AdamWScheduleFreeTraining`` are the forms the labs run: Muon for parameters of any shape, schedule-free AdamW
already in train mode.
"""

from .adabelief import AdaBelief
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .lion import Lion
from .muon import MatrixMuon, Muon
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .schedule_free import AdamWScheduleFree, AdamWScheduleFreeTraining
from .sgd import SGD

#: Every optlab optimizer class, by class name (the lab forms MatrixMuon and AdamWScheduleFreeTraining aside).
OPTIMIZERS = {
    cls.__name__: cls
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD, Adafactor, Muon,
                LBFGS, Lion, AdaBelief, AdamWScheduleFree)
}

#: Algorithm name (the lower-case class name) -> its LaTeX pseudo-code.
ALGORITHMS = {name.lower(): cls.ALGORITHM_LATEX for name, cls in OPTIMIZERS.items()}

__all__ = [
    "ALGORITHMS", "OPTIMIZERS", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax",
    "Adadelta", "Rprop", "ASGD", "Adafactor", "Muon", "MatrixMuon", "LBFGS", "Lion", "AdaBelief", "AdamWScheduleFree",
    "AdamWScheduleFreeTraining",
]
