"""Shared layout of a lesson page: show the code, predict then reveal, and PyTorch-style printing of optimizer state.

The formatting functions are plain (no Streamlit) so they can be tested alone; the rest draws with Streamlit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
import torch


def format_value(value: Any) -> str:
    """One value as Python would print it, with tensors shown by their numbers (4 decimals) and shape."""
    if isinstance(value, torch.Tensor):
        if value.numel() == 1 and value.ndim == 0:
            return f"tensor({value.item():.4g})"
        return f"tensor({_rounded(value.detach().tolist())})"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _rounded(x: Any) -> Any:
    """Nested lists of floats rounded to 4 decimals, so a tensor prints on one short line."""
    return [_rounded(v) for v in x] if isinstance(x, list) else round(x, 4)


def format_param_groups(groups: Sequence[dict], class_name: str = "SGD") -> str:
    """param_groups as ``print(optimizer)`` shows them: one block per group, keys sorted, tensors left out."""
    lines = [f"{class_name} ("]
    for i, group in enumerate(groups):
        lines.append(f"Parameter Group {i}")
        for key in sorted(group):
            if key != "params":
                lines.append(f"    {key}: {format_value(group[key])}")
    lines.append(")")
    return "\n".join(lines)


def format_state_dict(state_dict: dict) -> str:
    """An optimizer's state_dict() laid out over several lines, tensors rounded, so a student can read it."""
    lines = ["{'state': {"]
    for index, entry in state_dict["state"].items():
        inner = ", ".join(f"'{k}': {format_value(v)}" for k, v in entry.items())
        lines.append(f"    {index}: {{{inner}}},")
    lines.append("  },")
    lines.append(" 'param_groups': [")
    for group in state_dict["param_groups"]:
        inner = ", ".join(f"'{k}': {format_value(v)}" for k, v in group.items())
        lines.append(f"    {{{inner}}},")
    lines.append(" ]}")
    return "\n".join(lines)


def show_code(*functions: Callable, label: str = "Show the code") -> None:
    """An expander with the source of the functions that produced what the page shows."""
    with st.expander(label):
        for fn in functions:
            st.code(inspect.getsource(fn), language="python")


def predict_then_reveal(key: str, question: str, options: Sequence[str], answer: str, explanation: str) -> None:
    """Ask first; the measured answer appears only after the reader has committed to a guess."""
    st.markdown(f"**Predict, then reveal.** {question}")
    guess = st.radio("Your guess", list(options), index=None, key=f"{key}_guess", horizontal=True)
    if st.button("Reveal", key=f"{key}_reveal", disabled=guess is None):
        st.session_state[f"{key}_revealed"] = True
    if st.session_state.get(f"{key}_revealed") and guess is not None:
        verdict = "Right." if guess == answer else f"Not quite: the answer is **{answer}**."
        st.info(f"{verdict} {explanation}")
