"""Weight decay as a small strategy: L2 (added to the gradient) or decoupled (shrinks the weights directly).

Shared by SGD, Adam/AdamW, RMSprop, Adagrad, NAdam, RAdam and the others that decay this way; each keeps torch's
operation order. Each records its term (``grad_l2`` or ``decay``, see ``_docs.L2`` and ``_docs.DECAY``) through
the optimizer's ``note`` where it computes it.
"""

from torch import Tensor

from ._base import real_view
from ._docs import DECAY, L2


def add_l2(opt, grad: Tensor, param: Tensor, weight_decay) -> Tensor:
    """g_t + λθ_{t-1} (a new tensor; ``.grad`` is left alone), recorded as ``grad_l2``."""
    # g_t <- g_t + λ θ_{t-1}
    grad = grad.add(param, alpha=weight_decay)
    opt.note(L2.name, real_view(grad))
    return grad


def shrink(opt, param: Tensor, lr, weight_decay) -> None:
    """Decoupled decay in place, recorded as ``decay``: the change Δ^decay θ_t = -γλθ_{t-1} it made to θ."""
    before = param.clone() if opt.explaining else None
    # θ_{t-1} <- θ_{t-1} - γ λ θ_{t-1} = (1 - γ λ) θ_{t-1}
    param.mul_(1 - lr * weight_decay)
    if before is not None:
        opt.note(DECAY.name, real_view(param - before))


def either(opt, param: Tensor, grad: Tensor, lr, weight_decay, is_decoupled: bool) -> Tensor:
    """Apply either strategy (nothing when λ = 0) and return the gradient the moments should see."""
    if weight_decay == 0:
        return grad
    if is_decoupled:
        shrink(opt, param, lr, weight_decay)
        return grad
    return add_l2(opt, grad, param, weight_decay)
