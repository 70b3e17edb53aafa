"""Class codes, teacher keys, student tokens and display names: generated, hashed, compared and checked.

What it leaves out: the database (``optlab.classroom.store``).

- A class code is six characters from an alphabet without look-alikes (no 0/O, 1/I/L, no U/V pair), so a
  student can copy it from a projector; typing it in lower case or with a space or dash still reads.
- A teacher key (and a student's token) is ``secrets.token_urlsafe(24)``: 192 random bits
  (https://docs.python.org/3/library/secrets.html). Only its SHA-256 is stored; a secret this random needs no
  slow password hash, and two hashes are compared with ``hmac.compare_digest`` (constant time).
- A display name is 1 to 24 characters of letters (any script), digits, spaces and ``- _ . '``, after Unicode
  NFKC normalisation; nothing else is asked of a student.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from optlab.i18n import t

from .errors import ClassroomError

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"  # 29 symbols: no 0 O 1 I L U V
CODE_LENGTH = 6  # 29⁶ ≈ 5.9e8 codes
SECRET_BYTES = 24  # token_urlsafe(24): 32 characters, 192 bits
NAME_MAX = 24
NAME_PUNCTUATION = " -_.'"
LESSON_ID_LENGTH = 8
LESSON_ALPHABET = "23456789abcdefghjkmnpqrstwxyz"
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_class_code() -> str:
    """A fresh class code, e.g. ``"K7QM2T"``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_lesson_id() -> str:
    """A fresh lesson id for a short link, e.g. ``"q8mz3kta"`` (lower case: it is typed into an address bar)."""
    return "".join(secrets.choice(LESSON_ALPHABET) for _ in range(LESSON_ID_LENGTH))


def new_secret() -> str:
    """A teacher key or a student token: 32 URL-safe characters."""
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest that is stored in place of the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: object, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``; the comparison takes the same time wherever they differ."""
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def read_class_code(text: object) -> str:
    """The class code a student typed, normalised (``" k7qm-2t "`` -> ``"K7QM2T"``), or a refusal."""
    if not isinstance(text, str):
        raise ClassroomError(t("A class code is {n} letters and digits, like K7QM2T.", n=CODE_LENGTH))
    code = re.sub(r"[\s-]+", "", text).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise ClassroomError(
            t("“{code}” is not a class code: a code is {n} letters and digits, like K7QM2T.",
              code=text.strip()[:20], n=CODE_LENGTH))
    return code


def read_lesson_id(text: object) -> str:
    """A lesson id from a link, or a refusal (a built-in lesson's id is a short lower-case word with dashes)."""
    if isinstance(text, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]{2,39}", text.strip()):
        return text.strip()
    shown = text.strip()[:20] if isinstance(text, str) else ""
    raise ClassroomError(t("“{id}” is not a lesson id: a lesson link ends in ?lesson= and 8 letters and digits.",
                           id=shown))


def read_display_name(text: object) -> str:
    """A student's display name, normalised (NFKC, spaces collapsed), or a refusal that says what is allowed."""
    allowed = t("Use 1 to {n} letters, digits, spaces and - _ . '", n=NAME_MAX)
    if not isinstance(text, str):
        raise ClassroomError(t("Type a display name. {allowed}.", allowed=allowed))
    for c in text:
        if unicodedata.category(c)[0] == "C":  # control and invisible format characters (new lines, zero widths)
            raise ClassroomError(t("A name cannot contain invisible characters. {allowed}.", allowed=allowed))
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    if not name:
        raise ClassroomError(t("Type a display name. {allowed}.", allowed=allowed))
    if len(name) > NAME_MAX:
        raise ClassroomError(t("That name is {n} characters long. {allowed}.", n=len(name), allowed=allowed))
    for c in name:
        if c in NAME_PUNCTUATION:
            continue
        if unicodedata.category(c)[0] not in "LN":  # letters and numbers of any script, nothing else
            raise ClassroomError(t("A name cannot contain “{c}”. {allowed}.", c=c if c.isprintable() else "?",
                                   allowed=allowed))
    return name
