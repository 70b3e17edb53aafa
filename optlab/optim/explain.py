"""Turn an optimizer's recorded step into LaTeX lines with the numbers plugged in (pure: no Streamlit).

Leaves out the recording itself (each optimizer's ``step`` does it when ``explain`` is True).
"""

import math
from collections.abc import Mapping

from torch import Tensor

from ._base import ExplainedOptimizer

#: How ``term_lines`` shows an entry that has no number (NaN): that part did not run for that entry.
NOT_RUN = r"\text{n/a}"


def _number(x: float, digits: int, nan: str | None) -> str:
    return nan if nan is not None and math.isnan(x) else f"{x:.{digits}g}"


def format_value(value: Tensor, digits: int = 4, max_elements: int = 4, nan: str | None = None) -> str:
    """LaTeX for one recorded quantity: a number, a column vector (small tensors) or a shape summary.

    ``nan``, when given, replaces each NaN entry of a number or a column vector (else NaN prints as ``nan``).
    """
    flat = value.detach().reshape(-1)
    if value.dim() == 0 or flat.numel() == 1:
        return _number(flat[0].item(), digits, nan)
    if flat.numel() <= max_elements:
        rows = r" \\ ".join(_number(x, digits, nan) for x in flat.tolist())
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


def term_lines(terms: Mapping[str, Tensor], formulas: Mapping[str, str], digits: int = 4) -> list[str]:
    """``formula = value`` for each term of a stacked trace at one step, in the order of ``formulas``.

    An optimizer's ``FORMULAS`` lists its terms in the order its algorithm computes them, so the lines read as
    the algorithm does. A stacked trace holds NaN where a term did not run (a step on the other branch, an axis
    whose param group has that feature off): a term that is NaN everywhere gets no line, and a NaN entry shows
    as ``NOT_RUN``. Terms without a formula get no line.
    """
    lines = []
    for name, formula in formulas.items():
        value = terms.get(name)
        if value is None or bool(value.isnan().all()):
            continue
        lines.append(f"{formula} = {format_value(value, digits, nan=NOT_RUN)}")
    return lines
