"""The Chinese catalog against the source: every marked string translated, placeholders, code and formulas kept.

The marked strings are extracted from the source with Babel's own API and optlab/i18n/babel.cfg, the same
extraction ``pybabel extract`` runs, so a string someone marks today and nobody translates fails here by name.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from optlab.i18n import LANGUAGES, LOCALE_DIR, N_, catalog, normalize, t, tn, using
from optlab.i18n.extract import marked_messages as _marked
from optlab.i18n.extract import page_heading

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "optlab" / "i18n" / "glossary.csv"
# {name} and {name:.3g} placeholders; {{ and }} are literal braces (LaTeX in a formatted message)
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")
CODE = re.compile(r"`[^`\n]+`")
MATH = re.compile(r"\$[^$\n]+\$")
TITLE = re.compile(r"(?<!\*)\*[^*\n]+\*(?!\*)")  # *A Paper's Title* stays in English


@pytest.fixture(scope="module")
def marked() -> dict[str, list[str]]:
    return _marked(ROOT)


def po_messages(language: str) -> list:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return [m for m in read_po(handle, locale=language) if m.id]


def translations(language: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translated message, each plural form paired with its singular id."""
    pairs = []
    for m in po_messages(language):
        if m.fuzzy:
            continue
        if isinstance(m.id, tuple):
            pairs += [(m.id[0], s) for s in m.string if s]
        elif m.string:
            pairs.append((m.id, m.string))
    return pairs


def other_languages() -> list[str]:
    return [lang for lang in LANGUAGES if lang != "en"]


@pytest.mark.parametrize("language", other_languages())
def test_every_marked_string_is_translated(marked, language):
    have = catalog(language)
    missing = {msgid: where for msgid, where in marked.items() if msgid not in have}
    listing = "\n".join(f"  {where[0]}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]))
    assert not missing, f"{len(missing)} marked strings have no {language} translation:\n{listing}"


def test_marked_strings_are_found_in_pages_app_and_library(marked):
    files = {where.split(":")[0] for locs in marked.values() for where in locs}
    assert "app.py" in files
    assert any(f.startswith("pages/") for f in files)
    assert any(f.startswith("optlab/plots/") for f in files)
    assert "Show the code" in marked and "Home" in marked


def test_page_titles_and_summaries_are_extracted(marked):
    import ast

    for page in sorted((ROOT / "pages").glob("*.py")):
        title, summary = page_heading(page.name, ast.get_docstring(ast.parse(page.read_text(encoding="utf-8"))))
        assert title in marked, f"{page.name}: title {title!r} is not extracted"
        if summary:
            assert summary in marked, f"{page.name}: summary {summary!r} is not extracted"


@pytest.mark.parametrize("language", other_languages())
def test_translations_keep_placeholders_code_and_formulas(language):
    problems = []
    for msgid, msgstr in translations(language):
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr)):
            problems.append(f"placeholders {PLACEHOLDER.findall(msgid)} vs {PLACEHOLDER.findall(msgstr)}: {msgid!r}")
        if (msgid.count("{{"), msgid.count("}}")) != (msgstr.count("{{"), msgstr.count("}}")):
            problems.append(f"literal braces differ: {msgid!r}")
        for kept in CODE.findall(msgid) + MATH.findall(msgid):
            if kept not in msgstr:
                problems.append(f"{kept!r} is missing from the translation of {msgid!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", other_languages())
def test_markdown_structure_is_kept(language):
    """Headings, list items, bold and line breaks: a long markdown block reads the same in both languages."""

    def shape(text: str) -> tuple:
        lines = text.split("\n")
        marks = [re.match(r"\s*(#+|\d+\.|-)\s", line) for line in lines]
        return len(lines), [m.group(1) if m else "" for m in marks], text.count("**") // 2, text.count("<br>")

    bad = [msgid for msgid, msgstr in translations(language) if shape(msgid) != shape(msgstr)]
    assert not bad, "markdown structure differs in:\n" + "\n".join(repr(b[:100]) for b in bad)


@pytest.mark.parametrize("language", other_languages())
def test_translation_formats_like_the_running_code(language):
    """Every translated message formats with the values its English id takes (no KeyError, no stray brace)."""
    for msgid, msgstr in translations(language):
        names = PLACEHOLDER.findall(msgid)
        if not names:
            continue
        values = {name: f"<{name}>" for name in names}
        try:
            msgid.format(**values)
        except (KeyError, IndexError, ValueError):
            continue  # braces of a formula or a Plotly template in a message shown as it is (no values)
        translated = msgstr.format(**values)  # a stray brace or an unknown name raises here
        assert all(f"<{name}>" in translated for name in names), msgid


def bold_runs_that_do_not_work(text: str) -> list[str]:
    """The ``**`` runs CommonMark cannot read as bold, with a character either side.

    An opening run must be left-flanking and a closing one right-flanking
    (https://spec.commonmark.org/0.31.2/#left-flanking-delimiter-run): "以及**权重（EMA）**究竟" keeps its stars,
    since the closing run follows a full-width parenthesis (punctuation) and precedes a letter.
    """

    def punct(c: str | None) -> bool:
        return c is not None and unicodedata.category(c)[0] in "PS"

    def space(c: str | None) -> bool:
        return c is None or c.isspace()

    bad = []
    for k, match in enumerate(re.finditer(r"\*\*", text)):
        p = text[match.start() - 1] if match.start() else None
        n = text[match.end()] if match.end() < len(text) else None
        if k % 2 == 0:
            ok = not space(n) and (not punct(n) or space(p) or punct(p))
        else:
            ok = not space(p) and (not punct(p) or space(n) or punct(n))
        if not ok:
            bad.append(text[max(match.start() - 6, 0): match.end() + 6])
    return bad


def test_bold_rule():
    assert [b[-4:] for b in bold_runs_that_do_not_work("以及**权重（EMA）**究竟")] == ["**究竟"]
    assert bold_runs_that_do_not_work("以及**权重的指数移动平均** EMA 究竟") == []
    assert bold_runs_that_do_not_work("答案是 **{answer}**。") == []


@pytest.mark.parametrize("language", other_languages())
def test_bold_reads_as_bold(language):
    bad = [f"{b!r} in {msgstr[:60]!r}" for msgid, msgstr in translations(language)
           if not bold_runs_that_do_not_work(msgid)  # "** ^" in a list of operators is no bold to begin with
           for b in bold_runs_that_do_not_work(msgstr)]
    assert not bad, "bold that CommonMark shows as stars:\n" + "\n".join(bad)


def glossary_rows() -> list[dict[str, str]]:
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_glossary_is_a_table_of_term_chinese_identifier():
    rows = glossary_rows()
    assert rows and set(rows[0]) == {"english", "chinese", "identifier", "note"}
    terms = [r["english"].lower() for r in rows]
    assert len(terms) == len(set(terms)), "each English term once"
    assert all(r["english"] and r["chinese"] for r in rows)
    assert all(re.search(r"[\u4e00-\u9fff]", r["chinese"]) for r in rows)


# The terms the issue fixes: wherever the English says it, the Chinese uses the glossary's word.
FIXED_TERMS = ["learning rate", "momentum", "param group", "weight decay", "gradient accumulation",
               "bias correction", "decoupled weight decay", "heavy ball", "critically damped", "under-damped",
               "over-damped", "condition number", "dampening"]


@pytest.mark.parametrize("term", FIXED_TERMS)
def test_translations_use_the_glossary_word(term):
    row = next(r for r in glossary_rows() if r["english"] == term)
    words = [w.strip() for w in row["chinese"].split("/")]
    prose = re.compile(rf"(?<![`\w]){re.escape(term)}s?(?![`\w])", re.IGNORECASE)
    off = [(msgid, msgstr) for msgid, msgstr in translations("zh")
           if prose.search(TITLE.sub("", CODE.sub("", msgid))) and not any(w in msgstr for w in words)]
    assert not off, f"'{term}' is not {words} in:\n" + "\n".join(f"{a!r} -> {b!r}" for a, b in off)


@pytest.mark.parametrize(
    ("asked", "expected"),
    [("zh", "zh"), ("ZH", "zh"), ("zh-CN", "zh"), ("zh_TW", "zh"), (" zh ", "zh"), ("en", "en"), ("en-US", "en"),
     ("de", "en"), ("", "en"), ("xx-zh", "en"), ("../zh", "en"), ("zh\x00", "en"), ("<script>", "en"),
     ("z" * 10_000, "en"), (None, "en"), (3, "en"), (["zh"], "en")],
)
def test_normalize_falls_back_to_english(asked, expected):
    assert normalize(asked) == expected


def test_t_translates_fills_placeholders_and_falls_back_to_the_english_id():
    with using("zh"):
        assert t("Home") == catalog("zh")["Home"] != "Home"
        assert t("step length after {n} steps", n=1_000) == catalog("zh")["step length after {n} steps"].format(n=1000)
        assert t("a sentence nobody marked") == "a sentence nobody marked"
    with using("en"):
        assert t("Home") == "Home"
        assert t("step length after {n} steps", n=5) == "step length after 5 steps"


def test_numbers_read_the_same_in_both_languages():
    for language in LANGUAGES:
        with using(language):
            assert "0.0012" in t("step length after {n} steps", n=f"{0.00123:.2g}")
            assert "1,000" in t("{k} micro-batches, each loss / {k}", k=f"{1000:,}")


def test_plurals_follow_each_language():
    with using("en"):
        assert tn("about {n} step", "about {n} steps", 1) == "about 1 step"
        assert tn("about {n} step", "about {n} steps", 10) == "about 10 steps"
    with using("zh"):
        assert tn("about {n} step", "about {n} steps", 10) == catalog("zh")["about {n} step"][0].format(n=10)


def test_n_marks_without_translating():
    with using("zh"):
        assert N_("Home") == "Home"
