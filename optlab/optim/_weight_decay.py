"""Weight decay as a small strategy: L2 (added to the gradient) or decoupled (shrinks the weights directly).

Shared by SGD, Adam/AdamW, RMSprop, Adagrad, NAdam and RAdam; each keeps torch's operation order.
"""

from torch import Tensor


def l2(grad: Tensor, param: Tensor, weight_decay) -> Tensor:
    """L2 penalty folded into the gradient; returns a new tensor (the raw ``.grad`` is left alone)."""
    # g_t <- g_t + λ θ_{t-1}
    return grad.add(param, alpha=weight_decay)


def decoupled(param: Tensor, lr, weight_decay) -> None:
    """Decoupled weight decay (Loshchilov and Hutter, AdamW): shrink θ in place, the gradient is untouched."""
    # θ_{t-1} <- θ_{t-1} - γ λ θ_{t-1} = (1 - γ λ) θ_{t-1}
    param.mul_(1 - lr * weight_decay)


def apply(param: Tensor, grad: Tensor, lr, weight_decay, is_decoupled: bool, terms: dict | None) -> Tensor:
    """Apply either strategy (nothing when λ = 0) and return the gradient the moments should see.

    When ``terms`` is a dict (explaining), the decoupled shrink is recorded as ``decay`` = θ after − θ before.
    """
    if weight_decay == 0:
        return grad
    if is_decoupled:
        before = param.clone() if terms is not None else None
        decoupled(param, lr, weight_decay)
        if terms is not None:
            terms["decay"] = param - before
        return grad
    return l2(grad, param, weight_decay)
