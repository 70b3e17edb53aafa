"""The seam through which a page learns what a class lesson fixes: ``active_constraints(page_key)``.

A page asks once per run and hands the answer to ``optlab.ui.fields`` (widgets: a locked field is drawn greyed
with its value, a hidden one not at all) and to its link decoder (a locked key's link value that differs is put
back, with a notice). With no lesson open there are no constraints. The lesson a link names (``?lesson=<id>``,
declared in ``optlab.config.app``) is read here once lessons can be prepared.
"""

from __future__ import annotations

from optlab.fields import NO_CONSTRAINTS, Constraints


def active_constraints(page_key: str) -> Constraints:
    """What the open lesson locks and hides on the page ``page_key`` (``"surface_lab"``, ``"mnist_lab"``, ...).

    No lesson is open: nothing is locked or hidden.
    """
    del page_key  # every page is free while no lesson is open
    return NO_CONSTRAINTS
