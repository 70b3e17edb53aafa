"""The two ways the class board says no: the input is refused, or the database cannot be reached."""

from __future__ import annotations


class ClassroomError(ValueError):
    """A refusal of what was asked (a bad code, a wrong key, a forged or oversized submission); nothing changed.

    Its message is a plain sentence for the reader: what is wrong and what a valid input is.
    """


class ClassroomUnavailable(RuntimeError):
    """The class database cannot be reached or written (down, locked, full); the rest of the app works on."""
