"""JSON text from an uploaded file, read with limits on its size and nesting depth checked before parsing.

`json.loads` recurses once per nested bracket, so 100,000 brackets raise RecursionError; the depth is measured
first, in one vectorised pass, and too deep a text is refused with a plain message. What it leaves out: a schema
(the callers check the shape of what comes back).
"""

from __future__ import annotations

import json

import numpy as np

from optlab.i18n import t

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN, _CLOSE = (ord("["), ord("{")), (ord("]"), ord("}"))


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ ] and { } outside string literals, as json.loads would meet it.

    UTF-8 never uses the bytes of ASCII quotes, brackets or backslashes inside a multi-byte character, so the
    scan runs on bytes. A quote ends a string unless an odd run of backslashes precedes it (RFC 8259, section 7).
    Outside a string a backslash is invalid JSON: the parser stops there, so what the scan says after it does not
    matter. The depth of every prefix the parser reads is therefore at most what is returned.
    """
    b = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    special = np.flatnonzero((b == _QUOTE) | (b == _BACKSLASH) | np.isin(b, _OPEN + _CLOSE))
    if special.size == 0:
        return 0
    ch = b[special]
    # run of backslashes ending just before each special byte: consecutive positions that are backslashes
    is_bs = ch == _BACKSLASH
    idx = np.arange(special.size)
    adjacent = np.r_[False, np.diff(special) == 1]  # the special byte before this one is the text byte before it
    continues = is_bs & adjacent & np.r_[False, is_bs[:-1]]  # a backslash right after a backslash
    run_start = np.maximum.accumulate(np.where(continues, 0, idx))
    run_len = np.where(is_bs, idx - run_start + 1, 0)  # backslashes in the run up to and including this byte
    before = np.r_[0, run_len[:-1]]  # length of the backslash run ending at the previous special byte
    escaped = adjacent & (before % 2 == 1)
    quote = (ch == _QUOTE) & ~escaped
    in_string = (np.cumsum(quote) % 2 == 1) & ~quote  # bytes between an opening and its closing quote
    delta = np.isin(ch, _OPEN).astype(np.int64) - np.isin(ch, _CLOSE).astype(np.int64)
    delta[in_string | quote] = 0
    return int(max(0, np.cumsum(delta).max()))


def loads(text: object, what: str, max_chars: int, max_depth: int):
    """json.loads(text) after checking it is a str of at most max_chars characters nested at most max_depth deep.

    `what` names the text in messages, already translated (t("The training configuration")). ValueError with a plain message otherwise.
    """
    if not isinstance(text, str):
        raise ValueError(t("{what} is not text", what=what))
    if len(text) > max_chars:
        raise ValueError(t("{what} is {n} characters long; at most {most} are read", what=what, n=f"{len(text):,}",
                            most=f"{max_chars:,}"))
    depth = nesting_depth(text)
    if depth > max_depth:
        raise ValueError(t("{what} is nested {depth} levels deep; a valid one is at most {most} deep", what=what,
                            depth=f"{depth:,}", most=max_depth))
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, over-long integers
        raise ValueError(t("{what} is not valid JSON text", what=what)) from None
