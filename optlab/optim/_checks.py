"""Constructor checks shared by the optimizers, each raising torch.optim's exact ValueError message (no math here).

Each check is written as torch writes it, so the same values pass or fail: ``not 0.0 <= x`` refuses NaN, while
SGD's ``x < 0.0`` lets NaN through (``refuse_nan=False``).
"""

from torch import Tensor


def _is_negative(value, refuse_nan: bool) -> bool:
    """torch's two forms of "x must not be negative": ``not 0.0 <= x`` (NaN fails) or ``x < 0.0`` (NaN passes)."""
    return not 0.0 <= value if refuse_nan else value < 0.0


def check_lr(lr, *, refuse_nan: bool = True) -> None:
    """The learning rate γ: a Tensor γ holds one element, and γ ≥ 0 (``Invalid learning rate: ...``)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if _is_negative(lr, refuse_nan):
        raise ValueError(f"Invalid learning rate: {lr}")


def check_non_negative(name: str, value, *, refuse_nan: bool = True) -> None:
    """A hyperparameter that must be ≥ 0, named as torch names it (``Invalid {name} value: ...``).

    ``name`` is ``"epsilon"`` for ``eps``, else the argument's own name (``"weight_decay"``, ``"momentum"``, ...).
    """
    if _is_negative(value, refuse_nan):
        raise ValueError(f"Invalid {name} value: {value}")


def check_betas(betas) -> None:
    """The two decay rates of a moving-average pair: 0 ≤ β1 < 1 and 0 ≤ β2 < 1."""
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
