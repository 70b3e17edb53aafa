"""optlab.ui.text.literal: user text is escaped for Markdown without losing a character.

How a browser then shows it is checked for real in tests/e2e/test_surface_lab_more.py.
"""

import re

import pytest

from optlab.ui.text import literal

CASES = [
    "unknown function '__import__' at column 1",
    "![x](http://example.com/a.png) and [link](http://example.com)",
    "*bold* `code` $x^2$ # heading | table ~strike~ <b>html</b>",
    r"back\slash 1.5 - 2 + 3: done!",
]
SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:")


@pytest.mark.parametrize("text", CASES)
def test_every_special_character_is_escaped_and_nothing_is_lost(text):
    escaped = literal(text)
    assert re.sub(r"\\(.)", r"\1", escaped) == text  # unescaping gives the text back
    i = 0
    while i < len(escaped):  # and no special character stands unescaped
        if escaped[i] == "\\":
            assert escaped[i + 1] in SPECIAL
            i += 2
            continue
        assert escaped[i] not in SPECIAL, (escaped, i)
        i += 1


def test_plain_words_are_untouched():
    assert literal("plain words 42") == "plain words 42"
    assert literal(ValueError("a_b")) == r"a\_b"
