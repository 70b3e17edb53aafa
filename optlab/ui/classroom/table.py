"""The class board's table of results: one row per submission, numbers kept as numbers, a dash where one is missing.

The numeric columns stay numeric (pandas' nullable ``Float64``, and ``Int64`` for the step count), so sorting a
column in the browser orders by value and the column formats apply; ``st.dataframe(..., placeholder=MISSING)``
shows a missing value (a run that reported no loss, no accuracy or never converged) as a dash instead of "None".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from optlab.classroom.store import SubmissionOut
from optlab.i18n import t

MISSING = "—"
PASSED, FAILED = "✅", "❌"


def submissions_frame(submissions: Sequence[SubmissionOut], names: Mapping[str, str], url) -> pd.DataFrame:
    """The newest submission first; ``names`` maps a student's name to the one shown, ``url(s)`` opens ``s``."""
    rows = list(reversed(submissions))
    challenge = [None if s.challenge_passed is None else PASSED if s.challenge_passed else FAILED for s in rows]
    return pd.DataFrame({
        t("name"): [names.get(s.name, s.name) for s in rows],
        t("run"): [s.label for s in rows],
        t("final loss"): pd.array([s.final_loss for s in rows], dtype="Float64"),
        t("steps to converge"): pd.array([s.steps_to_converge for s in rows], dtype="Int64"),
        t("accuracy"): pd.array([None if s.accuracy is None else 100 * s.accuracy for s in rows], dtype="Float64"),
        t("challenge"): challenge,
        t("note"): [s.challenge_note for s in rows],
        t("sent"): [s.created_at.strftime("%H:%M:%S") for s in rows],
        t("open"): [url(s) for s in rows],
    })

