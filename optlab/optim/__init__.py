"""optlab.optim: torch.optim-exact optimizers that can explain their steps (torch only, no plotting).

Each class subclasses torch.optim.Optimizer, takes torch's arguments and defaults, keeps torch's state keys and
reproduces torch's single-tensor numbers; set ``opt.explain = True`` to record each step's named quantities.
"""

from ._docs import ALGORITHMS
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

#: Every optlab optimizer class, by class name.
OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam)}

__all__ = ["ALGORITHMS", "OPTIMIZERS", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam"]
