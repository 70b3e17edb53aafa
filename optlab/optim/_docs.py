r"""The shared parts of every optimizer's pseudo-code and term table (no code here beyond string building).

Each optimizer file writes one term table, ``TERMS``: the named quantities its step records, each a :class:`Term`
(the symbol it defines and the expression it equals). The inspector reads ``Term.formula`` (``m_t = ...``, through
the class's ``FORMULAS``) and the pseudo-code reads ``Term.assign`` (``m_t \leftarrow ...``), so a line of math is
written once. This module holds the terms several algorithms share (the gradient, weight decay, Adam's two
moments, the step that was applied) and the frame of PyTorch's documented pseudo-code
(https://pytorch.org/docs/stable/optim.html, e.g. torch.optim.Adam), in its notation: :math:`\gamma` is the
learning rate, :math:`\lambda` the weight decay, :math:`g_t` the gradient at step :math:`t`, :math:`\theta_t`
the parameters. Render a value with KaTeX/MathJax (``st.latex`` accepts it as is).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One explained quantity: its name in ``explanations()``, the symbol it defines and what that equals.

    ``rhs`` empty: the term is an expression with no symbol of its own (``1-\beta_1^t``). ``in_place``: the
    term overwrites its symbol (``g_t \\leftarrow g_t + \\lambda\theta_{t-1}``), so the inspector writes an arrow.
    """

    name: str
    lhs: str
    rhs: str = ""
    in_place: bool = False

    @property
    def formula(self) -> str:
        r"""The inspector's line: ``lhs = rhs`` (``lhs \leftarrow rhs`` for a term computed in place)."""
        if not self.rhs:
            return self.lhs
        return self.assign if self.in_place else f"{self.lhs} = {self.rhs}"

    @property
    def assign(self) -> str:
        r"""The pseudo-code's line: ``lhs \leftarrow rhs``."""
        return rf"{self.lhs} \leftarrow {self.rhs}" if self.rhs else self.lhs


def formulas(terms: tuple[Term, ...]) -> dict[str, str]:
    """Term name -> its formula, in table order (the order the step records them)."""
    return {term.name: term.formula for term in terms}


# The terms several optimizers record.
GRAD = Term("grad", "g_t", r"\nabla_\theta f_t(\theta_{t-1})")
GRAD_MAXIMIZE = Term("grad_maximize", "g_t", r"-\nabla_\theta f_t(\theta_{t-1})")
L2 = Term("grad_l2", "g_t", r"g_t + \lambda\theta_{t-1}", in_place=True)
DECAY = Term("decay", r"\Delta^{decay}\theta_t", r"-\gamma\lambda\theta_{t-1}")
#: Adam's first and second moments (Kingma and Ba 2015, Algorithm 1), shared by its family.
M = Term("m", "m_t", r"\beta_1 m_{t-1} + (1-\beta_1) g_t")
V = Term("v", "v_t", r"\beta_2 v_{t-1} + (1-\beta_2) g_t^2")
BIAS_CORRECTION1 = Term("bias_correction1", r"1-\beta_1^t")
BIAS_CORRECTION2 = Term("bias_correction2", r"1-\beta_2^t")
#: The change the step made to θ, whatever its parts.
UPDATE = Term("update", r"\Delta\theta_t", r"\theta_t - \theta_{t-1}")
#: The gradient line every pseudo-code starts with (maximize: climb, i.e. descend along −∇f).
GRAD_TERMS = (GRAD, GRAD_MAXIMIZE)


def theta_line(update: Term) -> str:
    r"""The pseudo-code's step from an update term ``\Delta\theta_t = u``: ``\theta_t \leftarrow \theta_{t-1} + u``."""
    rhs = update.rhs if update.rhs.startswith("-") else f"+ {update.rhs}"
    return rf"\theta_t \leftarrow \theta_{{t-1}} {rhs}"


def line(text: str, indent: int = 1) -> str:
    """One line of the pseudo-code body, indented ``indent`` levels below the loop."""
    return rf"&\hspace{{{5 * indent}mm}}{text} \\"


_RULE = r"\rule{110mm}{0.4pt}"

GRAD_LINE = line(
    rf"\textbf{{if}} \: \textit{{maximize}}: {GRAD_MAXIMIZE.assign} \: \textbf{{else}} \: {GRAD.assign}"
)

L2_LINE = line(rf"\textbf{{if}} \: \lambda \neq 0: \: {L2.assign}")

DECAY_EITHER_LINES = "\n".join([
    line(r"\textbf{if} \: \lambda \neq 0:"),
    line(r"\textbf{if} \: \textit{decoupled\_weight\_decay}: \:"
         r" \theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1}", 2),
    line(rf"\textbf{{else}}: \: {L2.assign}", 2),
])


def algorithm(inputs: str, initialize: str, body: str) -> str:
    """Wrap the lines of one algorithm in PyTorch's ``aligned`` frame."""
    lines = [
        r"\begin{aligned}",
        rf"&{_RULE} \\",
        rf"&\textbf{{input}}: {inputs} \\",
    ]
    if initialize:
        lines.append(rf"&\textbf{{initialize}}: {initialize} \\")
    lines += [
        rf"&{_RULE} \\",
        r"&\textbf{for} \: t = 1 \: \textbf{to} \: \ldots \: \textbf{do} \\",
        body.strip(),
        rf"&{_RULE} \\",
        r"&\textbf{return} \: \theta_t \\",
        rf"&{_RULE}",
        r"\end{aligned}",
    ]
    return "\n".join(lines)


def with_algorithm(doc: str, latex: str) -> str:
    """Insert ``latex`` as a ``.. math::`` block after the first paragraph of a docstring."""
    head, sep, rest = doc.partition("\n\n")
    block = "\n".join("       " + line for line in latex.splitlines())
    return f"{head}\n\n    .. math::\n{block}\n{sep}{rest}"
