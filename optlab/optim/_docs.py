r"""Each optimizer's algorithm as LaTeX pseudo-code, written once (docstrings and pages reuse it; no code here).

The pseudo-code follows PyTorch's documentation and its notation: :math:`\gamma` is the learning rate,
:math:`\lambda` the weight decay, :math:`g_t` the gradient at step :math:`t`, :math:`\theta_t` the parameters.
Render a value with KaTeX/MathJax (``st.latex`` accepts it as is).
"""

_RULE = r"\rule{110mm}{0.4pt}"

_GRAD = (
    r"&\hspace{5mm}\textbf{if} \: \textit{maximize}: g_t \leftarrow -\nabla_{\theta} f_t(\theta_{t-1})"
    r" \: \textbf{else} \: g_t \leftarrow \nabla_{\theta} f_t(\theta_{t-1}) \\"
)

_L2 = r"&\hspace{5mm}\textbf{if} \: \lambda \neq 0: \: g_t \leftarrow g_t + \lambda \theta_{t-1} \\"

_DECAY_EITHER = (
    r"&\hspace{5mm}\textbf{if} \: \lambda \neq 0: \\"
    "\n"
    r"&\hspace{10mm}\textbf{if} \: \textit{decoupled\_weight\_decay}: \:"
    r" \theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1} \\"
    "\n"
    r"&\hspace{10mm}\textbf{else}: \: g_t \leftarrow g_t + \lambda \theta_{t-1} \\"
)


def _algorithm(inputs: str, initialize: str, body: str) -> str:
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


SGD = _algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (weight decay)}, \mu \text{ (momentum)},"
    r" \tau \text{ (dampening)}, \textit{nesterov}, \textit{maximize}",
    "",
    "\n".join([
        _GRAD,
        _L2,
        r"&\hspace{5mm}\textbf{if} \: \mu \neq 0: \\",
        r"&\hspace{10mm}\textbf{if} \: t > 1: \: b_t \leftarrow \mu b_{t-1} + (1 - \tau) g_t"
        r" \: \textbf{else}: \: b_t \leftarrow g_t \\",
        r"&\hspace{10mm}\textbf{if} \: \textit{nesterov}: \: g_t \leftarrow g_t + \mu b_t"
        r" \: \textbf{else}: \: g_t \leftarrow b_t \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - \gamma g_t \\",
    ]),
)

ADAM = _algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \epsilon, \textit{amsgrad}, \textit{maximize}, \textit{decoupled\_weight\_decay}",
    r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: v_0^{max} \leftarrow 0",
    "\n".join([
        _GRAD,
        _DECAY_EITHER,
        r"&\hspace{5mm}m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\",
        r"&\hspace{5mm}v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\",
        r"&\hspace{5mm}\widehat{m_t} \leftarrow m_t / (1 - \beta_1^t) \\",
        r"&\hspace{5mm}\textbf{if} \: \textit{amsgrad}: \: v_t^{max} \leftarrow \max(v_{t-1}^{max}, v_t), \:"
        r" \widehat{v_t} \leftarrow v_t^{max} / (1 - \beta_2^t) \\",
        r"&\hspace{5mm}\textbf{else}: \: \widehat{v_t} \leftarrow v_t / (1 - \beta_2^t) \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - \gamma \widehat{m_t} / (\sqrt{\widehat{v_t}} + \epsilon) \\",
    ]),
)

ADAMW = _algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \epsilon, \textit{amsgrad}, \textit{maximize}",
    r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: v_0^{max} \leftarrow 0",
    "\n".join([
        _GRAD,
        r"&\hspace{5mm}\theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1} \\",
        r"&\hspace{5mm}m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\",
        r"&\hspace{5mm}v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\",
        r"&\hspace{5mm}\widehat{m_t} \leftarrow m_t / (1 - \beta_1^t) \\",
        r"&\hspace{5mm}\textbf{if} \: \textit{amsgrad}: \: v_t^{max} \leftarrow \max(v_{t-1}^{max}, v_t), \:"
        r" \widehat{v_t} \leftarrow v_t^{max} / (1 - \beta_2^t) \\",
        r"&\hspace{5mm}\textbf{else}: \: \widehat{v_t} \leftarrow v_t / (1 - \beta_2^t) \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - \gamma \widehat{m_t} / (\sqrt{\widehat{v_t}} + \epsilon) \\",
    ]),
)

RMSPROP = _algorithm(
    r"\alpha \text{ (alpha)}, \gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \mu \text{ (momentum)}, \textit{centered}, \epsilon, \textit{maximize}",
    r"v_0 \leftarrow 0, \: b_0 \leftarrow 0, \: g^{ave}_0 \leftarrow 0",
    "\n".join([
        _GRAD,
        _L2,
        r"&\hspace{5mm}v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\",
        r"&\hspace{5mm}\tilde{v_t} \leftarrow v_t \\",
        r"&\hspace{5mm}\textbf{if} \: \textit{centered}: \: g^{ave}_t \leftarrow \alpha g^{ave}_{t-1}"
        r" + (1 - \alpha) g_t, \: \tilde{v_t} \leftarrow \tilde{v_t} - (g^{ave}_t)^2 \\",
        r"&\hspace{5mm}\textbf{if} \: \mu > 0: \: b_t \leftarrow \mu b_{t-1} + g_t / (\sqrt{\tilde{v_t}} + \epsilon),"
        r" \: \theta_t \leftarrow \theta_{t-1} - \gamma b_t \\",
        r"&\hspace{5mm}\textbf{else}: \: \theta_t \leftarrow \theta_{t-1} - \gamma g_t / (\sqrt{\tilde{v_t}} + \epsilon) \\",
    ]),
)

ADAGRAD = _algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \tau \text{ (initial accumulator value)}, \eta \text{ (lr decay)}, \epsilon, \textit{maximize}",
    r"state\_sum_0 \leftarrow \tau",
    "\n".join([
        _GRAD,
        r"&\hspace{5mm}\tilde{\gamma} \leftarrow \gamma / (1 + (t - 1) \eta) \\",
        _L2,
        r"&\hspace{5mm}state\_sum_t \leftarrow state\_sum_{t-1} + g_t^2 \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - \tilde{\gamma} g_t / (\sqrt{state\_sum_t} + \epsilon) \\",
    ]),
)

NADAM = _algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \psi \text{ (momentum decay)}, \epsilon, \textit{decoupled\_weight\_decay}, \textit{maximize}",
    r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: \textstyle\prod_{i=1}^{0} \mu_i = 1",
    "\n".join([
        _GRAD,
        _DECAY_EITHER,
        r"&\hspace{5mm}\mu_t \leftarrow \beta_1 (1 - \tfrac{1}{2} 0.96^{t \psi}), \:"
        r" \mu_{t+1} \leftarrow \beta_1 (1 - \tfrac{1}{2} 0.96^{(t+1) \psi}) \\",
        r"&\hspace{5mm}m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\",
        r"&\hspace{5mm}v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\",
        r"&\hspace{5mm}\widehat{m_t} \leftarrow \mu_{t+1} m_t / (1 - \textstyle\prod_{i=1}^{t+1} \mu_i)"
        r" + (1 - \mu_t) g_t / (1 - \textstyle\prod_{i=1}^{t} \mu_i) \\",
        r"&\hspace{5mm}\widehat{v_t} \leftarrow v_t / (1 - \beta_2^t) \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - \gamma \widehat{m_t} / (\sqrt{\widehat{v_t}} + \epsilon) \\",
    ]),
)

RADAM = _algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \epsilon, \textit{decoupled\_weight\_decay}, \textit{maximize}",
    r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: \rho_\infty \leftarrow 2 / (1 - \beta_2) - 1",
    "\n".join([
        _GRAD,
        _DECAY_EITHER,
        r"&\hspace{5mm}m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\",
        r"&\hspace{5mm}v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\",
        r"&\hspace{5mm}\widehat{m_t} \leftarrow m_t / (1 - \beta_1^t) \\",
        r"&\hspace{5mm}\rho_t \leftarrow \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t) \\",
        r"&\hspace{5mm}\textbf{if} \: \rho_t > 5: \\",
        r"&\hspace{10mm}l_t \leftarrow \sqrt{1 - \beta_2^t} / (\sqrt{v_t} + \epsilon) \\",
        r"&\hspace{10mm}r_t \leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}"
        r"{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\",
        r"&\hspace{10mm}\theta_t \leftarrow \theta_{t-1} - \gamma \widehat{m_t} r_t l_t \\",
        r"&\hspace{5mm}\textbf{else}: \: \theta_t \leftarrow \theta_{t-1} - \gamma \widehat{m_t} \\",
    ]),
)

#: Algorithm name (the lower-case class name) -> its LaTeX pseudo-code.
ALGORITHMS: dict[str, str] = {
    "sgd": SGD,
    "adam": ADAM,
    "adamw": ADAMW,
    "rmsprop": RMSPROP,
    "adagrad": ADAGRAD,
    "nadam": NADAM,
    "radam": RADAM,
}


def with_algorithm(doc: str, latex: str) -> str:
    """Insert ``latex`` as a ``.. math::`` block after the first paragraph of a docstring."""
    head, sep, rest = doc.partition("\n\n")
    block = "\n".join("       " + line for line in latex.splitlines())
    return f"{head}\n\n    .. math::\n{block}\n{sep}{rest}"
