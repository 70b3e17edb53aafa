"""The seam through which a page learns what a class lesson fixes: ``active_constraints(page_key)``.

A page asks once per run and hands the answer to ``optlab.ui.fields`` (widgets: a locked field is drawn greyed
with its value, a hidden one not at all) and to its link decoder (a locked key's link value that differs is put
back, with a notice). The lesson is the one the link names (``?lesson=<id>``, declared in ``optlab.config.app``),
read by ``optlab.ui.classroom.lesson``; with no lesson open, or a lesson made for another page, there are no
constraints.
"""

from __future__ import annotations

from optlab.fields import NO_CONSTRAINTS, Constraints
from optlab.ui.classroom.lesson import constraints_of, open_lesson


def active_constraints(page_key: str) -> Constraints:
    """What the open lesson locks and hides on the page ``page_key`` (``"surface_lab"``, ``"mnist_lab"``, ...)."""
    opened = open_lesson()
    if opened is None:
        return NO_CONSTRAINTS
    return constraints_of(opened[1], page_key)
