"""The language switch in AppTest: ?lang= on any page, the sidebar switch, links that keep the language, and
navigation that keeps it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from optlab.i18n import catalog
from optlab.ui.language import LANG_PARAM, SESSION_KEY, SWITCH_KEY

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
LESSON = "pages/3_Anatomy_of_an_optimizer.py"
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = catalog("zh")


def run(script: str = APP, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(script if script.startswith("/") else str(ROOT / script), default_timeout=60)
    if lang is not None:
        at.query_params[LANG_PARAM] = lang
    return at.run()


def home_text(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [s.value for s in at.subheader] + [p.label for p in at.page_link])


def link_langs(at: AppTest) -> list[list[str]]:
    return [parse_qs(p.proto.query_string).get(LANG_PARAM, []) for p in at.page_link]


def test_lang_zh_shows_chinese_and_every_link_keeps_it():
    at = run(lang="zh")
    assert not at.exception
    assert at.markdown[0].value.strip() == ZH[next(k for k in ZH if k.startswith("\nSee what"))].strip()
    assert [s.value for s in at.subheader] == [ZH["Labs"], ZH["Lessons"]]
    assert all(CJK.search(p.label) for p in at.page_link)
    assert link_langs(at) == [["zh"]] * len(at.page_link)
    assert at.query_params[LANG_PARAM] == "zh"
    assert at.session_state[SESSION_KEY] == "zh"
    assert at.button_group(key=SWITCH_KEY).value == "zh"


@pytest.mark.parametrize("lang", ["en", None])
def test_lang_en_or_none_shows_english_and_links_carry_nothing(lang):
    at = run(lang=lang)
    assert not at.exception
    assert not CJK.search(home_text(at))
    assert link_langs(at) == [[]] * len(at.page_link)
    assert at.button_group(key=SWITCH_KEY).value == "en"


@pytest.mark.parametrize("lang", ["xx", "", "de-DE", "zh\x00", "<script>alert(1)</script>", "z" * 2000, "../zh"])
def test_malformed_lang_falls_back_to_english_without_an_error(lang):
    at = run(lang=lang)
    assert not at.exception and not at.error
    assert not CJK.search(home_text(at))
    assert LANG_PARAM not in at.query_params, "the address bar drops a lang it cannot use"


@pytest.mark.parametrize("lang", ["zh-CN", "ZH", "zh_TW"])
def test_regional_chinese_codes_choose_chinese_and_the_link_reads_zh(lang):
    at = run(lang=lang)
    assert at.session_state[SESSION_KEY] == "zh"
    assert at.query_params[LANG_PARAM] == "zh"


def test_sidebar_switch_changes_the_language_both_ways():
    at = run()
    at.button_group(key=SWITCH_KEY).set_value("zh").run()
    assert not at.exception
    assert at.subheader[0].value == ZH["Labs"]
    assert at.query_params[LANG_PARAM] == "zh"
    assert link_langs(at) == [["zh"]] * len(at.page_link)
    at.button_group(key=SWITCH_KEY).set_value("en").run()
    assert at.subheader[0].value == "Labs"
    assert LANG_PARAM not in at.query_params
    assert link_langs(at) == [[]] * len(at.page_link)


def test_language_survives_navigation_between_pages():
    """Streamlit drops a page's query parameters when another page opens; the session still knows the language.

    The next page runs in the same session with an address that has no ``lang``: it shows Chinese and writes the
    language back into the address bar, so copying it shares the Chinese page.
    """
    home = run(lang="zh")
    at = AppTest.from_file(str(ROOT / LESSON), default_timeout=60)
    at.session_state[SESSION_KEY] = home.session_state[SESSION_KEY]
    at.run()
    assert not at.exception
    assert at.title[0].value == ZH["Anatomy of an optimizer"]
    assert at.query_params[LANG_PARAM] == "zh"


@pytest.mark.parametrize(("lang", "title"), [("zh", ZH["Anatomy of an optimizer"]), ("en", "Anatomy of an optimizer"),
                                             (None, "Anatomy of an optimizer"), ("klingon", "Anatomy of an optimizer")])
def test_a_lesson_link_opens_in_its_language(lang, title):
    """A page opened straight from a link (no app.py run first) reads ?lang= itself."""
    at = run(LESSON, lang)
    assert not at.exception
    assert at.title[0].value == title


def test_the_session_is_the_source_where_app_py_does_not_run():
    """A fragment rerun runs neither app.py nor the page top: the language comes from the session alone."""

    def fragment_app():
        import streamlit as st

        from optlab.i18n import t
        from optlab.ui.language import SESSION_KEY

        st.session_state.setdefault(SESSION_KEY, "zh")
        st.markdown(t("Home"))

    at = AppTest.from_function(fragment_app, default_timeout=30).run()
    assert at.markdown[0].value == ZH["Home"]
