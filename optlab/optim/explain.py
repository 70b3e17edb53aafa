"""Turn an optimizer's recorded step into LaTeX lines with the numbers plugged in (pure: no Streamlit).

Leaves out the recording itself (each optimizer's ``step`` does it when ``explain`` is True).
"""

from torch import Tensor

from ._base import ExplainedOptimizer


def format_value(value: Tensor, digits: int = 4, max_elements: int = 4) -> str:
    """LaTeX for one recorded quantity: a number, a column vector (small tensors) or a shape summary."""
    flat = value.detach().reshape(-1)
    if value.dim() == 0 or flat.numel() == 1:
        return f"{flat[0].item():.{digits}g}"
    if flat.numel() <= max_elements:
        rows = r" \\ ".join(f"{x:.{digits}g}" for x in flat.tolist())
        return rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}"
    shape = r" \times ".join(str(s) for s in value.shape)
    return rf"\text{{({shape} values, mean }} {flat.double().mean().item():.{digits}g}\text{{)}}"


def render_step(
    opt: ExplainedOptimizer,
    param_index: int = 0,
    terms: tuple[str, ...] | list[str] | None = None,
    digits: int = 4,
) -> list[str]:
    """One LaTeX line per recorded term of parameter ``param_index``: ``formula = value``.

    Args:
        opt: an optlab optimizer whose last ``step()`` ran with ``explain = True``.
        param_index: position of the parameter among all groups' parameters, in order.
        terms: which terms to show, in that order (default: every recorded term, in recording order).
        digits: significant digits of each number.

    Returns:
        A list of LaTeX strings; empty when nothing was recorded for that parameter.

    Raises:
        ValueError: ``param_index`` is out of range, or a requested term was not recorded.
    """
    explanations = opt.explanations()
    if not 0 <= param_index < len(explanations):
        raise ValueError(
            f"No recorded step for parameter {param_index}: the last step recorded {len(explanations)} "
            "parameter(s); set opt.explain = True before calling step()"
        )
    recorded = explanations[param_index]
    names = list(recorded) if terms is None else list(terms)
    missing = [name for name in names if name not in recorded]
    if missing:
        raise ValueError(f"Terms not recorded this step: {missing}; recorded: {sorted(recorded)}")
    return [f"{opt.FORMULAS.get(name, name)} = {format_value(recorded[name], digits)}" for name in names]
