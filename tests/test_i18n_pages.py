"""Every page rendered with ?lang=zh: no exception, and Chinese for at least 95% of its visible prose pieces.

A prose piece is one thing a reader reads: a title, header, markdown block, caption, notice, widget label or help,
option name, tab or expander label, metric label. Code, formulas, numbers and names (SGD, Adam, PyTorch, ...) are
not prose: a piece counts only if something else is left once they are taken out. Lesson pages are also rendered
with every predict-then-reveal answer shown, so the answers and what they reveal count too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "pages").glob("*.py"), key=lambda p: int(re.match(r"\d+", p.name).group()))
SCRIPTS = [ROOT / "app.py", *PAGES]
MIN_SHARE = 0.95
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Names that read the same in both languages: optimizers, libraries, data sets, authors, file formats.
NAMES = {
    "SGD", "Adam", "AdamW", "AMSGrad", "Nesterov", "NAdam", "RAdam", "Adamax", "Adadelta", "Adagrad", "RMSprop",
    "Rprop", "ASGD", "Adafactor", "Muon", "MatrixMuon", "Lion", "AdaBelief", "AdamWScheduleFree", "ScheduleFree",
    "L-BFGS", "LBFGS", "PyTorch", "torch", "optlab", "MNIST", "EMA", "MLP", "CNN", "CSV", "JSON", "PNG", "URL",
    "Goh", "Distill", "Reddi", "Kale", "Kumar", "ICLR", "Rosenbrock", "Booth", "Himmelblau", "Beale", "Rastrigin",
    "Ackley", "StepLR", "OneCycleLR", "LinearLR", "LambdaLR", "CosineAnnealingLR", "SequentialLR", "Nan", "NaN",
    "Inf", "True", "False", "None", "Jordan", "Hessian", "English", "Goldstein", "Price", "Newton", "Schulz", "Wolfe",
}
TEXT_KINDS = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
LABEL_KINDS = ("slider", "select_slider", "number_input", "selectbox", "radio", "checkbox", "toggle", "button",
               "text_input", "text_area", "multiselect", "button_group", "metric", "expander", "tabs",
               "download_button", "date_input", "color_picker", "page_link")
OPTION_KINDS = ("selectbox", "radio", "multiselect", "button_group", "select_slider")


def prose(text: str) -> bool:
    """Whether ``text`` has words to translate once code, formulas, links, numbers and names are taken out."""
    rest = re.sub(r"```.*?```|`[^`]*`", " ", text, flags=re.S)
    rest = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", rest, flags=re.S)
    rest = re.sub(r"https?://\S+|:material/\w+:", " ", rest)
    rest = re.sub(r"[A-Za-z_]\w*(?:[._]\w+)+(?:\(\))?", " ", rest)  # identifiers: set_to_none, optimizer.state
    if CJK.search(rest):
        return True
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", rest) if w not in NAMES and len(w) >= 3]
    return bool(words)


def pieces(at: AppTest) -> list[str]:
    """Every visible prose piece of the page as it stands, in the order the kinds are listed."""
    found: list[str] = []
    for kind in TEXT_KINDS:
        found += [str(e.value) for e in getattr(at, kind)]
    for kind in LABEL_KINDS:
        for e in getattr(at, kind):
            found.append(str(getattr(e, "label", "") or ""))
            help_text = getattr(getattr(e, "proto", None), "help", "")
            if help_text:
                found.append(help_text)
    for kind in OPTION_KINDS:
        for e in getattr(at, kind):
            found += [str(o) for o in getattr(e, "options", [])]
    return [p for p in found if p and prose(p)]


def render(script: Path, lang: str | None, revealed: tuple[str, ...] = ()) -> AppTest:
    """The page after its first run, with the predict-then-reveal questions ``revealed`` already answered.

    A question's answer shows once ``st.session_state[f"{key}_revealed"]`` is set (optlab.ui.lesson), as
    "Just show me" sets it; setting it before the run leaves the widgets as a reader finds them.
    """
    at = AppTest.from_file(str(script), default_timeout=120)
    if lang is not None:
        at.query_params["lang"] = lang
    for key in revealed:
        at.session_state[f"{key}_revealed"] = True
    return at.run()


def questions(at: AppTest) -> tuple[str, ...]:
    """The keys of the page's predict-then-reveal questions (their "Just show me" buttons are ``<key>_show``)."""
    return tuple(str(b.key)[: -len("_show")] for b in at.button if str(b.key or "").endswith("_show"))


def in_page_order(node, out: list[str]) -> list[str]:
    """The body text of every element and widget label under ``node``, top to bottom.

    Code blocks, headings and page links are left out: a heading names the subject, the prose below introduces it.
    A widget's label comes with its help text, which is where a short label's identifier is explained.
    """
    if getattr(node, "type", "") not in ("code", "title", "header", "subheader", "page_link"):
        for attr in ("label", "value"):
            try:
                value = getattr(node, attr)
            except Exception:  # a widget whose value needs a session (AppTest raises for some)
                continue
            if isinstance(value, str) and value:
                help_text = getattr(getattr(node, "proto", None), "help", "") if attr == "label" else ""
                out.append(f"{value} {help_text}" if help_text else value)  # a label with its help, one piece
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for key in sorted(children):
            in_page_order(children[key], out)
    return out


# The terms: where the Chinese names a torch concept, its identifier stands beside it the first time.
IDENTIFIED = [("学习率", "lr"), ("动量", "momentum"), ("参数组", "param_groups"), ("权重衰减", "weight_decay"),
              ("指数移动平均", "EMA"), ("偏差修正", "bias correction"), ("解耦权重衰减", "decoupled weight decay"),
              ("学习率调度器", "lr_scheduler")]


def test_prose_rule():
    assert prose("The learning rate") and prose("学习率") and prose("学习率 lr")
    assert not prose("`param_groups`") and not prose("$\\mathrm{lr} = 0.1$") and not prose("0.1234")
    assert not prose("SGD") and not prose("Adam + L2") and not prose("μ = 0.9") and not prose("lr")
    assert not prose("4. set_to_none") and not prose("optimizer.param_groups") and prose("optimizer.state after it")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_page_in_chinese(script):
    at = render(script, "zh")
    assert not at.exception, [e.value for e in at.exception]
    seen = pieces(at)
    if questions(at):
        answered = render(script, "zh", questions(at))
        assert not answered.exception, [e.value for e in answered.exception]
        seen += [p for p in pieces(answered) if p not in seen]
    english = [p for p in seen if not CJK.search(p)]
    share = 1 - len(english) / max(len(seen), 1)
    assert seen, f"{script.name}: no prose found"
    assert share >= MIN_SHARE, (f"{script.name}: {share:.0%} of {len(seen)} prose pieces are Chinese; in English:\n"
                                + "\n".join(f"  {p[:120]!r}" for p in english))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_identifier_beside_the_term_the_first_time(script):
    at = render(script, "zh")
    texts = in_page_order(at._tree, [])
    missing = []
    for term, identifier in IDENTIFIED:
        first = next((text for text in texts if term in text), None)
        if first is not None and identifier not in first:
            missing.append(f"{term} without {identifier}: {first[:100]!r}")
    assert not missing, f"{script.name}:\n" + "\n".join(missing)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_page_in_english_has_no_chinese(script):
    at = render(script, None)
    assert not at.exception, [e.value for e in at.exception]
    # The language switch names each language in its own words ("中文"): that option is the one exception.
    chinese = [p for p in pieces(at) if CJK.search(p) and p != "中文"]
    assert not chinese, f"{script.name} shows Chinese without ?lang=zh: {chinese[:5]}"
